//! kill: asks the kernel to kill each process named by its pid.
//!
//! A killed process exits with status -1 the next time it would return to
//! user space (see `kill` in the kernel's `proc.rs`).

#![no_std]
#![no_main]

use ulib::string::{Text, atoi};
use ulib::{Args, eprintln, kill};

ulib::entry!(main);

fn main(args: Args) -> i32 {
    if args.len() < 2 {
        eprintln!("usage: kill pid...");
        return 2;
    }
    let mut status = 0;
    for pid in args.iter().skip(1) {
        if kill(atoi(pid)) < 0 {
            eprintln!("kill: cannot kill {}", Text(pid));
            status = 1;
        }
    }
    status
}
