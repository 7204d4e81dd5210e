//! zombie: leaves a zombie behind for a moment.
//!
//! The child exits at once, but its parent does not `wait` for it, so for
//! as long as the parent sleeps the child stays a zombie: it has exited, yet
//! keeps its process-table slot to hold its exit status. When the parent
//! exits in turn, the child is handed to `init`, which reaps it.

#![no_std]
#![no_main]

use ulib::{Args, fork, sleep};

ulib::entry!(main);

fn main(_args: Args) -> i32 {
    if fork() > 0 {
        // Exit before the child is reaped.
        sleep(5);
    }
    0
}
