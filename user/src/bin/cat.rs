//! cat: copies each named file, in order, to standard output; with no
//! arguments, copies standard input.
//!
//! The copy goes through one small buffer: `read` as much as fits, `write`
//! exactly what was read, until `read` reports the end of the file (0).
//! Reading a directory this way would copy its raw entries, as in xv6.

#![no_std]
#![no_main]

use abi::fcntl::O_RDONLY;
use ulib::string::Text;
use ulib::{Args, STDIN, STDOUT, close, eprintln, open, read, write};

ulib::entry!(main);

fn main(args: Args) -> i32 {
    if args.len() < 2 {
        return match copy(STDIN) {
            Ok(()) => 0,
            Err(why) => report(why),
        };
    }
    for path in args.paths() {
        let fd = open(path, O_RDONLY);
        if fd < 0 {
            eprintln!("cat: cannot open {}", Text(path.to_bytes()));
            return 1;
        }
        let copied = copy(fd);
        close(fd);
        if let Err(why) = copied {
            return report(why);
        }
    }
    0
}

/// Copies `fd` to standard output until end of file. On failure, says
/// which side failed.
fn copy(fd: i32) -> Result<(), &'static str> {
    let mut buf = [0u8; 512];
    loop {
        let n = read(fd, &mut buf);
        if n == 0 {
            return Ok(());
        }
        let Ok(n) = usize::try_from(n) else {
            return Err("read error");
        };
        if write(STDOUT, &buf[..n]) != n as isize {
            return Err("write error");
        }
    }
}

/// Prints why a copy failed and returns the exit status for it.
fn report(why: &str) -> i32 {
    eprintln!("cat: {why}");
    1
}
