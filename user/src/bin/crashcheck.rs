//! crashcheck: starts `crashtest check`, for the crash test's boots.
//!
//! The kernel's command line can name the program a test boot runs
//! (`test=user:crashcheck`, tools/cmdline/test-crashcheck) but not its arguments,
//! so this launcher adds them: it becomes `crashtest check`, with the
//! seed and length `make test` uses. It prints with a plain `write`, not
//! `println!`, to stay a few blocks small on a small disk.

#![no_std]
#![no_main]

use core::ptr;

use ulib::{Args, STDERR, exec, write};

ulib::entry!(main);

fn main(_args: Args) -> i32 {
    let argv = [
        c"crashtest".as_ptr().cast(),
        c"check".as_ptr().cast(),
        ptr::null(),
    ];
    exec(c"/crashtest", &argv);
    write(STDERR, b"crashcheck: cannot exec /crashtest\n");
    1
}
