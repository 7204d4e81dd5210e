//! rm: removes each named directory entry.
//!
//! `unlink` removes a name; the file itself goes when it has no names left
//! and no process has it open. An empty directory can be removed this way
//! too; the kernel refuses a directory that still has entries.

#![no_std]
#![no_main]

use ulib::string::Text;
use ulib::{Args, eprintln, unlink};

ulib::entry!(main);

fn main(args: Args) -> i32 {
    if args.len() < 2 {
        eprintln!("usage: rm files...");
        return 2;
    }
    for path in args.paths() {
        if unlink(path) < 0 {
            eprintln!("rm: {} failed to delete", Text(path.to_bytes()));
            return 1;
        }
    }
    0
}
