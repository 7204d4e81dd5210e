//! init: the first user process.
//!
//! The kernel starts `init` itself, with no open files. `init` has three
//! jobs:
//!
//! 1. Give every process a console. It opens the console device as file
//!    descriptors 0, 1 and 2 (standard input, output and error); every
//!    other process inherits them through `fork` and `exec`. If the file
//!    system has no `console` device file yet, `init` creates it with
//!    `mknod`.
//! 2. Start the program the system is for. Normally that is the shell, `sh`,
//!    and `init` starts a new one whenever the last one exits, so there is
//!    always a shell to type at. For a test run, the kernel passes the
//!    program and its arguments instead: argv is `["init", PROGRAM,
//!    ARGS...]`; `init` runs PROGRAM once, with argv `[PROGRAM, ARGS...]`,
//!    and when it exits, reports its status and exits with the same status
//!    (the kernel ends the run when `init` exits).
//! 3. Reap orphans: every process that outlives its parent is handed to
//!    `init`, so `init` waits in a loop and collects whatever exits, lest
//!    exited processes stay zombies for lack of a parent.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;

use abi::device::CONSOLE;
use abi::fcntl::O_RDWR;
use ulib::string::Text;
use ulib::{Args, dup, exec_args, exit, fork, mknod, open, println, sleep, wait};

ulib::entry!(main);

/// The shell: what a normal boot runs.
const SHELL: &[u8] = b"sh";

/// Ticks a failed `exec` waits before `init` tries again: one second, so a
/// missing program costs a line a second instead of a spinning CPU.
const RETRY_TICKS: i32 = 100;

fn main(args: Args) -> i32 {
    if !open_console() {
        // There is nowhere to report this, and nothing can run without a
        // console; exiting makes the kernel say that init died.
        return 1;
    }
    if args.len() > 1 {
        let command: Vec<&[u8]> = args.iter().skip(1).collect();
        run_test(&command)
    } else {
        run_shells()
    }
}

/// Opens the console as file descriptors 0, 1 and 2. Returns false if
/// there is no console to open.
fn open_console() -> bool {
    // The kernel starts us with no open files, so the first open gets
    // descriptor 0, and each dup the lowest free one after it.
    if open(c"console", O_RDWR) < 0 {
        mknod(c"console", CONSOLE, 0);
        if open(c"console", O_RDWR) < 0 {
            return false;
        }
    }
    dup(0); // standard output
    dup(0); // standard error
    true
}

/// A test run: runs `command` once, reaping orphans meanwhile, and returns
/// its exit status.
fn run_test(command: &[&[u8]]) -> i32 {
    let program = Text(command[0]);
    println!("init: starting {program}");
    let pid = start(command, 0);
    if pid < 0 {
        println!("init: fork failed");
        return 1;
    }
    let status = reap_until(pid);
    println!("init: {program} exited with status {status}");
    status
}

/// A normal boot: keeps a shell running forever.
fn run_shells() -> ! {
    loop {
        println!("init: starting sh");
        let pid = start(&[SHELL], RETRY_TICKS);
        if pid < 0 {
            println!("init: fork failed");
            sleep(RETRY_TICKS);
            continue;
        }
        reap_until(pid);
    }
}

/// Forks a child that execs `command`. If the exec fails, the child says so
/// and exits with status 1 after sleeping `delay` ticks. Returns the
/// child's pid, or -1 if fork failed.
fn start(command: &[&[u8]], delay: i32) -> i32 {
    let pid = fork();
    if pid == 0 {
        exec_args(command[0], command);
        println!("init: exec {} failed", Text(command[0]));
        // The delay is spent here, in the child, so that init itself goes
        // straight back to reaping.
        sleep(delay);
        exit(1);
    }
    pid
}

/// Reaps children (the one we started and any orphans) until `pid` exits,
/// and returns its exit status (-1 if `wait` says we have no children).
fn reap_until(pid: i32) -> i32 {
    loop {
        let mut status = 0;
        match wait(Some(&mut status)) {
            reaped if reaped == pid => return status,
            // No children at all cannot happen while `pid` lives; if the
            // kernel says so anyway, give up on `pid` rather than spin.
            reaped if reaped < 0 => {
                println!("init: wait failed");
                sleep(RETRY_TICKS);
                return -1;
            }
            // An orphan we inherited: reaping it is all we owe.
            _ => {}
        }
    }
}
