//! echo: prints its arguments, separated by spaces, and a newline.
//!
//! The line is assembled first and written with a single `write`, so that
//! it arrives whole even when other processes write to the same place.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;

use ulib::{Args, STDOUT, write};

ulib::entry!(main);

fn main(args: Args) -> i32 {
    let mut line = Vec::new();
    for (i, arg) in args.iter().skip(1).enumerate() {
        if i > 0 {
            line.push(b' ');
        }
        line.extend_from_slice(arg);
    }
    line.push(b'\n');
    if write(STDOUT, &line) == line.len() as isize {
        0
    } else {
        1
    }
}
