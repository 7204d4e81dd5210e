//! mkdir: creates each named directory.
//!
//! The kernel makes a new directory with its two standard entries, `.`
//! (itself) and `..` (its parent), so it can be walked like any other.

#![no_std]
#![no_main]

use ulib::string::Text;
use ulib::{Args, eprintln, mkdir};

ulib::entry!(main);

fn main(args: Args) -> i32 {
    if args.len() < 2 {
        eprintln!("usage: mkdir files...");
        return 2;
    }
    for path in args.paths() {
        if mkdir(path) < 0 {
            eprintln!("mkdir: {} failed to create", Text(path.to_bytes()));
            return 1;
        }
    }
    0
}
