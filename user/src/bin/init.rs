//! init: the first user process.
//!
//! The kernel starts `init` itself, and every process that outlives its
//! parent is handed to `init`, so `init` has two jobs:
//!
//! 1. Start the program the system is for. Normally that is the shell,
//!    `sh`. For a test run, the kernel passes the program and its arguments
//!    instead: argv is `["init", PROGRAM, ARGS...]`. `init` forks, and the
//!    child execs PROGRAM with argv `[PROGRAM, ARGS...]`.
//! 2. Reap orphans: loop in `wait` forever, so that no exited process stays
//!    a zombie for lack of a parent to collect it.
//!
//! In a test run, when PROGRAM exits, `init` reports its status and exits
//! with the same status; the kernel ends the run when `init` exits. In a
//! normal boot `init` never exits: if the shell cannot be started or ends,
//! `init` reports it and goes on reaping, sleeping while it has no children
//! at all (so that it does not spin in `wait`).

#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

extern crate alloc;

use alloc::vec::Vec;

use ulib::string::Text;
use ulib::{Args, exec_args, exit, fork, println, sleep, wait};

ulib::entry!(main);

/// What `init` runs when the kernel names no program.
const DEFAULT_PROGRAM: &[u8] = b"sh";

/// Ticks to sleep when there is nothing to reap: one second.
const IDLE_TICKS: i32 = 100;

fn main(args: Args) -> i32 {
    // In a test run the kernel names the program to run after our own name.
    let test_run = args.len() > 1;
    let command: Vec<&[u8]> = if test_run {
        args.iter().skip(1).collect()
    } else {
        Vec::from([DEFAULT_PROGRAM])
    };
    let program = Text(command[0]);

    println!("init: starting {program}");
    let pid = fork();
    if pid < 0 {
        println!("init: fork failed");
        return 1;
    }
    if pid == 0 {
        exec_args(command[0], &command);
        println!("init: exec {program} failed");
        exit(1);
    }

    loop {
        let mut status = 0;
        let reaped = wait(Some(&mut status));
        if reaped == pid {
            println!("init: {program} exited with status {status}");
            if test_run {
                return status;
            }
        } else if reaped < 0 {
            // No children at all. Orphans may still arrive later.
            sleep(IDLE_TICKS);
        }
        // Any other pid is an orphan we inherited: reaping it is all we owe.
    }
}
