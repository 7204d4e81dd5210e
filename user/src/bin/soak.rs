//! soak: runs `syscallfuzz`, `usertests` and `shmtest` over and over, for
//! a set time, and checks after every round that the system is back where
//! it started. `make soak` boots it (xtask/src/soak.rs); `soak [SECONDS]` runs
//! it from the shell.
//!
//! Each test program checks itself, and each ends with a `no_leaks` check
//! of its own; what a single run cannot show is a leak too small or too
//! slow to see in one run, or one that only a later run trips over: a page
//! or an inode lost now and then, a table slot that stays taken. So a
//! round runs the three programs one after the other (syscallfuzz with a
//! new seed each round, so the rounds fuzz different calls), each must
//! exit with 0, and then two counts must be what they were before the
//! first round:
//!
//! - the free pages of memory, counted as the test programs count them
//!   ([`countfree`]: a child takes every free page and reports how many);
//! - the free inodes on the disk, counted by creating empty files in a
//!   scratch directory until the kernel refuses (`ialloc` finds no free
//!   inode), then removing them and the directory. A file that a test
//!   left behind, or an inode whose last link and last reference went
//!   without the kernel freeing it, shows as one fewer.
//!
//! Between the programs' exit and the counts, orphans they left (reparented
//! to init) may still be on their way out; a count that differs is taken
//! again a few times, a little later, before it counts as a leak.
//!
//! It prints one line per round and, at the end, `PASS soak` or
//! `FAIL soak: why`, and exits with 0 only if every round passed.
//!
//! The time comes from the command line (`make soak` asks the test kernel
//! for `user:soak,SECONDS`), or else is [`DEFAULT_SECONDS`].
//! A round that starts before the time is up runs to its end, so a soak
//! lasts a little longer than asked.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::ffi::CStr;

use abi::fcntl::{O_CREATE, O_RDWR};
use ulib::testing::{countfree, reserve_heap};
use ulib::{
    Args, chdir, close, eprintln, exec_args, exit, fork, mkdir, open, println, sleep, unlink,
    uptime, wait,
};

ulib::entry!(main);

/// How long to soak without being told.
const DEFAULT_SECONDS: u64 = 600;

/// Clock ticks per second.
const TICKS_PER_SECOND: u64 = 100;

/// The programs of a round, in order.
const PROGRAMS: [&str; 3] = ["syscallfuzz", "usertests", "shmtest"];

/// The scratch directory of the inode count.
const SCRATCH: &CStr = c"/soak-inodes";

/// How often, and how many ticks apart, a count that differs is taken
/// again.
const RECOUNTS: usize = 5;
const RECOUNT_TICKS: i32 = 50;

fn main(args: Args) -> i32 {
    let seconds = args.get(1).map_or(Some(DEFAULT_SECONDS), parse);
    let Some(seconds) = seconds.filter(|_| args.len() <= 2) else {
        eprintln!("usage: soak [SECONDS]");
        return 2;
    };
    // The counts must not see this program's own heap grow.
    reserve_heap();
    let start = uptime() as u64;
    let pages = countfree();
    let inodes = count_free_inodes();
    println!("soak: {seconds} s; at the start {pages} free pages, {inodes} free inodes");
    let mut failures = Vec::new();
    let mut round = 0;
    while round == 0 || (uptime() as u64) < start + seconds * TICKS_PER_SECOND {
        round += 1;
        if let Err(why) = run_round(round, pages, inodes) {
            println!("soak: round {round}: FAIL: {why}");
            failures.push(format!("round {round}: {why}"));
        }
    }
    let elapsed = (uptime() as u64 - start) / TICKS_PER_SECOND;
    println!(
        "soak: {round} rounds in {elapsed} s, {} failed",
        failures.len()
    );
    if failures.is_empty() {
        println!("PASS soak");
        0
    } else {
        println!("FAIL soak: {}", failures.join("; "));
        1
    }
}

/// The number in `text` (surrounding white space allowed).
fn parse(text: &[u8]) -> Option<u64> {
    core::str::from_utf8(text).ok()?.trim().parse().ok()
}

/// Round `round`: runs every program, then compares the counts with the
/// start's.
fn run_round(round: u64, pages: i32, inodes: usize) -> Result<(), String> {
    let began = uptime();
    let seed = format!("{round}");
    let mut statuses = Vec::new();
    for program in PROGRAMS {
        let args: &[&str] = if program == "syscallfuzz" {
            &[program, &seed]
        } else {
            &[program]
        };
        statuses.push((program, run(args)));
    }
    let (pages_now, inodes_now) = counts_like(pages, inodes);
    let ticks = uptime() - began;
    println!(
        "soak: round {round} (syscallfuzz seed {seed}) in {} s: {}; {pages_now} free pages, \
         {inodes_now} free inodes",
        ticks / TICKS_PER_SECOND as i32,
        statuses
            .iter()
            .map(|(program, status)| format!("{program} {status}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let failed: Vec<String> = statuses
        .iter()
        .filter(|(_, status)| *status != 0)
        .map(|(program, status)| format!("{program} exited with status {status}"))
        .collect();
    if !failed.is_empty() {
        return Err(failed.join(", "));
    }
    if pages_now != pages || inodes_now != inodes {
        return Err(format!(
            "{pages_now} free pages ({pages} at the start), {inodes_now} free inodes \
             ({inodes} at the start)"
        ));
    }
    Ok(())
}

/// Runs the program `args[0]` with `args` and returns its exit status.
fn run(args: &[&str]) -> i32 {
    let pid = fork();
    if pid == 0 {
        exec_args(args[0], args);
        eprintln!("soak: exec {} failed", args[0]);
        exit(127);
    }
    if pid < 0 {
        return -1;
    }
    let mut status = 0;
    // Our only child: orphans go to init, not to us.
    if wait(Some(&mut status)) != pid {
        return -1;
    }
    status
}

/// The free pages and free inodes now, counted again (a few times, a little
/// apart) while they differ from `pages` and `inodes`.
fn counts_like(pages: i32, inodes: usize) -> (i32, usize) {
    let mut counts = (countfree(), count_free_inodes());
    for _ in 0..RECOUNTS {
        if counts == (pages, inodes) {
            break;
        }
        sleep(RECOUNT_TICKS);
        counts = (countfree(), count_free_inodes());
    }
    counts
}

/// Counts the free inodes on the disk: creates empty files in [`SCRATCH`]
/// until the kernel refuses, removes them, and counts the directory too.
/// Returns 0 if the directory cannot be made or removed.
fn count_free_inodes() -> usize {
    if mkdir(SCRATCH) != 0 || chdir(SCRATCH) != 0 {
        return 0;
    }
    let name = |i: usize| alloc::ffi::CString::new(format!("i{i}")).expect("no NUL");
    let mut created = 0;
    loop {
        let fd = open(&name(created), O_CREATE | O_RDWR);
        if fd < 0 {
            break;
        }
        close(fd);
        created += 1;
    }
    for i in 0..created {
        unlink(&name(i));
    }
    chdir(c"/");
    if unlink(SCRATCH) != 0 {
        return 0;
    }
    created + 1
}
