//! forktest: forks until `fork` fails, then waits for every child.
//!
//! The process table has a fixed number of slots (NPROC), so `fork` must
//! eventually fail, with -1 rather than a crash. Every child exits at once;
//! the parent must then be able to reap exactly as many children as it
//! made — no fewer (a lost child) and no more (a phantom one).

#![no_std]
#![no_main]

use ulib::{Args, exit, fork, println, wait};

ulib::entry!(main);

/// More forks than the process table could ever allow.
const N: usize = 1000;

fn main(_args: Args) -> i32 {
    println!("fork test");
    let mut children = 0;
    while children < N {
        match fork() {
            0 => exit(0),
            pid if pid < 0 => break,
            _ => children += 1,
        }
    }
    if children == N {
        println!("fork claimed to work {N} times!");
        return 1;
    }
    for _ in 0..children {
        if wait(None) < 0 {
            println!("wait stopped early");
            return 1;
        }
    }
    if wait(None) != -1 {
        println!("wait got too many");
        return 1;
    }
    println!("fork test OK");
    0
}
