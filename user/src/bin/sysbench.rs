//! sysbench: what the kernel's basic operations cost, in CSV.
//!
//! The same table as `shmbench` (`ulib::bench`):
//!
//! ```text
//! benchmark,processes,operations,seconds,rate,unit
//! tsc_calibration,1,,,2000000000.000,tsc_cycles_per_second
//! getpid,1,200000,0.100,2000000.000,calls_per_second
//! fork_exit_wait,1,200,0.100,2000.000,forks_per_second
//! pipe_8mib_4k_writes,2,2048,0.500,16.000,mib_per_second
//! sbrk_grow_shrink,1,2000,0.010,200000.000,pairs_per_second
//! exec,1,50,0.100,500.000,execs_per_second
//! ```
//!
//! - `tsc_calibration`: the time-stamp counter's rate, by which every
//!   other row turns cycles into seconds, as the kernel measured it at
//!   boot (`ulib::bench::Clock`).
//! - `getpid`: the cheapest system call, `operations` times: the cost of
//!   entering and leaving the kernel (`syscall`/`sysretq`).
//! - `fork_exit_wait`: a child forked, exiting at once and reaped, over and
//!   over; fork shares this program's memory copy-on-write, so each round
//!   costs the child's page tables and the few pages either process
//!   writes before the child exits.
//! - `pipe_8mib_4k_writes`: 8 MiB from one process to another through a
//!   pipe, in 4 KiB writes (`operations` is the number of writes); the
//!   reader checks the bytes.
//! - `sbrk_grow_shrink`: the heap grown by a page and shrunk back.
//! - `exec`: a child that execs this program with `--exit`, which exits at
//!   once, reaped; that is, fork + exec + exit + wait.
//!
//! Boot time is measured from the host by `make bench` (xtask/src/bench.rs).

#![no_std]
#![no_main]

extern crate alloc;

use alloc::string::String;
use alloc::vec;

use ulib::bench::{Clock, make_pipe, mib_per_second, rdtsc, row, spawn, wait_all};
use ulib::{
    Args, PGSIZE, close, eprintln, exec_args, exit, fork, getpid, println, read, sbrk, wait, write,
};

ulib::entry!(main);

/// Enough calls that the run lasts tens of milliseconds: at 20000 it
/// lasted 4 ms, and one host hiccup moved the rate by half.
const GETPIDS: usize = 200_000;
/// Forks and sbrk pairs: enough for tens of milliseconds too (at 200 and
/// 2000, the runs lasted 14 and 7 ms).
const FORKS: usize = 1000;
const PIPE_BYTES: usize = 8 << 20;
const PIPE_WRITE: usize = 4096;
const SBRKS: usize = 20_000;
const EXECS: usize = 50;

/// The argument with which `exec` runs this program again, to exit at once.
const EXIT_AT_ONCE: &[u8] = b"--exit";

fn main(args: Args) -> i32 {
    match args.get(1) {
        Some(EXIT_AT_ONCE) => return 0,
        Some(_) => {
            eprintln!("usage: sysbench");
            return 1;
        }
        None => {}
    }
    match run() {
        Ok(()) => 0,
        Err(why) => {
            eprintln!("sysbench: {why}");
            1
        }
    }
}

fn run() -> Result<(), String> {
    println!("benchmark,processes,operations,seconds,rate,unit");
    let clock = Clock::from_kernel();
    clock.row();
    let rate_row = |name: &str, processes, operations: usize, cycles: u64, unit: &str| {
        row(
            name,
            processes,
            operations,
            Some(clock.seconds(cycles)),
            clock.rate(operations as u128, cycles),
            unit,
        )
    };

    let start = rdtsc();
    for _ in 0..GETPIDS {
        core::hint::black_box(getpid());
    }
    rate_row("getpid", 1, GETPIDS, rdtsc() - start, "calls_per_second");

    let start = rdtsc();
    for _ in 0..FORKS {
        match fork() {
            0 => exit(0),
            pid if pid < 0 => return Err(String::from("fork failed")),
            _ => {
                wait(None);
            }
        }
    }
    rate_row(
        "fork_exit_wait",
        1,
        FORKS,
        rdtsc() - start,
        "forks_per_second",
    );

    let cycles = pipe_bandwidth()?;
    row(
        "pipe_8mib_4k_writes",
        2,
        PIPE_BYTES / PIPE_WRITE,
        Some(clock.seconds(cycles)),
        mib_per_second(&clock, PIPE_BYTES, cycles),
        "mib_per_second",
    );

    let start = rdtsc();
    for _ in 0..SBRKS {
        // SAFETY: the page grown here is given back at once, and nothing
        // refers to it in between.
        unsafe {
            if sbrk(PGSIZE as isize) < 0 || sbrk(-(PGSIZE as isize)) < 0 {
                return Err(String::from("sbrk failed"));
            }
        }
    }
    rate_row(
        "sbrk_grow_shrink",
        1,
        SBRKS,
        rdtsc() - start,
        "pairs_per_second",
    );

    let start = rdtsc();
    for _ in 0..EXECS {
        spawn(|| exec_args("sysbench", &["sysbench", "--exit"]))?;
        wait_all(1, "exec")?;
    }
    rate_row("exec", 1, EXECS, rdtsc() - start, "execs_per_second");
    Ok(())
}

/// The byte at `position` of the stream the pipe carries.
fn stream_byte(position: usize) -> u8 {
    (position ^ (position >> 12)) as u8
}

/// Moves [`PIPE_BYTES`] through a pipe in [`PIPE_WRITE`]-byte writes;
/// returns the TSC cycles from the first write until the reader has all.
fn pipe_bandwidth() -> Result<u64, String> {
    let (data_read, data_write) = make_pipe()?;
    let (done_read, done_write) = make_pipe()?;
    spawn(|| {
        close(data_write);
        close(done_read);
        let mut buffer = vec![0u8; PIPE_WRITE];
        let mut position = 0;
        while position < PIPE_BYTES {
            let n = read(data_read, &mut buffer);
            if n <= 0 {
                return 1;
            }
            for &byte in &buffer[..n as usize] {
                if byte != stream_byte(position) {
                    return 2;
                }
                position += 1;
            }
        }
        write(done_write, &[1]);
        0
    })?;
    close(data_read);
    close(done_write);
    let mut chunk = vec![0u8; PIPE_WRITE];
    let start = rdtsc();
    for offset in (0..PIPE_BYTES).step_by(PIPE_WRITE) {
        for (i, byte) in chunk.iter_mut().enumerate() {
            *byte = stream_byte(offset + i);
        }
        if write(data_write, &chunk) != PIPE_WRITE as isize {
            return Err(String::from("pipe write failed"));
        }
    }
    let finished = read(done_read, &mut [0]) == 1;
    let cycles = rdtsc() - start;
    close(data_write);
    close(done_read);
    wait_all(1, "pipe")?;
    if finished {
        Ok(cycles)
    } else {
        Err(String::from("the pipe's reader did not finish"))
    }
}
