//! shmbench: how fast shared memory is, in CSV.
//!
//! Three measurements, each printed as rows of one CSV table:
//!
//! ```text
//! benchmark,processes,operations,seconds,rate,unit
//! tsc_calibration,1,25,0.250,2000000000.000,tsc_cycles_per_second
//! shm_cycle,4,1000,0.731,1367.989,cycles_per_second
//! shm_bandwidth,2,256,0.512,64.000,mib_per_second
//! pipe_bandwidth,2,64,1.024,8.000,mib_per_second
//! shm_to_pipe_bandwidth,2,,,8.000,ratio
//! ```
//!
//! - `tsc_calibration`: time is measured with the time-stamp counter
//!   (`rdtsc`, one read costs nothing and never traps), which counts at a
//!   fixed rate that we learn by counting it over `operations` timer ticks
//!   (the kernel's clock ticks 100 times a second).
//! - `shm_cycle`: `processes` processes at once, each on a name of its own,
//!   each doing open, trunc (one page), map, one write, close as often as it
//!   can for a fixed number of cycles; `operations` is the total of cycles,
//!   `rate` cycles per second summed over all processes. With one process
//!   this is the cost of one cycle; with more, how well the table's lock
//!   and the page allocator let CPUs work at once.
//! - `shm_bandwidth` and `pipe_bandwidth`: a producer moves `operations`
//!   messages of 128 KiB to a consumer in another process, which copies
//!   each out. Through shared memory, the message goes in a 128 KiB object
//!   and a second, one-page object holds the handshake: sequence numbers
//!   `sent` and `received`, each side waiting for the other's (spinning
//!   for up to a millisecond, then sleeping a tick at a time, so that a
//!   waiter never holds up the other side for long on a single CPU).
//!   Through a pipe, the same bytes go through xv6's 512-byte pipe buffer.
//!   `rate` is MiB per second; the last row divides the two.
//!
//! `seconds` and `rate` have three decimals (fixed point: the kernel does not
//! let user programs use the FPU).

#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::arch::x86_64::_rdtsc;
use core::fmt;
use core::hint::spin_loop;

use ulib::shm::{Mapping, SHM_MAXSIZE, Shm};
use ulib::{
    Args, PGSIZE, close, eprintln, exit, fork, pipe, println, read, sleep, uptime, wait, write,
};

ulib::entry!(main);

/// Timer ticks the TSC is counted over.
const CALIBRATION_TICKS: i32 = 25;

/// Process counts of the cycle benchmark.
const CYCLE_PROCESSES: [usize; 5] = [1, 2, 4, 8, 16];

/// Open-trunc-map-write-close cycles each process does.
const CYCLES_PER_PROCESS: usize = 200;

/// Size of a message: a whole object.
const MESSAGE: usize = SHM_MAXSIZE;

/// Messages moved through shared memory.
const SHM_MESSAGES: usize = 256;

/// Messages moved through a pipe (slower, so fewer).
const PIPE_MESSAGES: usize = 64;

/// Where the handshake object keeps its sequence numbers: a cache line
/// apart, so that the two sides do not fight over one line.
const SENT: usize = 0;
const RECEIVED: usize = 64;

fn main(args: Args) -> i32 {
    if args.len() != 1 {
        eprintln!("usage: shmbench");
        return 1;
    }
    match run() {
        Ok(()) => 0,
        Err(why) => {
            eprintln!("shmbench: {why}");
            1
        }
    }
}

fn run() -> Result<(), String> {
    println!("benchmark,processes,operations,seconds,rate,unit");
    let clock = Clock::calibrate();
    let calibration_seconds = Fixed::ratio(CALIBRATION_TICKS as u128, 100);
    row(
        "tsc_calibration",
        1,
        CALIBRATION_TICKS as usize,
        Some(calibration_seconds),
        Fixed::ratio(clock.hz as u128, 1),
        "tsc_cycles_per_second",
    );

    for processes in CYCLE_PROCESSES {
        let cycles = processes * CYCLES_PER_PROCESS;
        let elapsed = cycle_benchmark(processes)?;
        row(
            "shm_cycle",
            processes,
            cycles,
            Some(clock.seconds(elapsed)),
            clock.rate(cycles as u128, elapsed),
            "cycles_per_second",
        );
    }

    let shm = shm_bandwidth(&clock)?;
    let shm_rate = mib_per_second(&clock, SHM_MESSAGES, shm);
    row(
        "shm_bandwidth",
        2,
        SHM_MESSAGES,
        Some(clock.seconds(shm)),
        shm_rate,
        "mib_per_second",
    );
    let piped = pipe_bandwidth()?;
    let pipe_rate = mib_per_second(&clock, PIPE_MESSAGES, piped);
    row(
        "pipe_bandwidth",
        2,
        PIPE_MESSAGES,
        Some(clock.seconds(piped)),
        pipe_rate,
        "mib_per_second",
    );
    row(
        "shm_to_pipe_bandwidth",
        2,
        0,
        None,
        Fixed::ratio(shm_rate.thousandths, pipe_rate.thousandths.max(1)),
        "ratio",
    );
    Ok(())
}

/// Prints one CSV row. A row without `seconds` (a ratio) leaves
/// `operations` and `seconds` empty.
fn row(
    benchmark: &str,
    processes: usize,
    operations: usize,
    seconds: Option<Fixed>,
    rate: Fixed,
    unit: &str,
) {
    match seconds {
        Some(seconds) => {
            println!("{benchmark},{processes},{operations},{seconds},{rate},{unit}")
        }
        None => println!("{benchmark},{processes},,,{rate},{unit}"),
    }
}

// ---------------------------------------------------------------------------
// Time.

/// Reads the time-stamp counter.
fn rdtsc() -> u64 {
    // SAFETY: rdtsc only reads the counter, which the kernel leaves
    // readable from user mode (CR4.TSD clear); no memory is involved.
    unsafe { _rdtsc() }
}

/// The TSC's rate, learned from the timer.
struct Clock {
    /// TSC cycles per second.
    hz: u64,
}

impl Clock {
    /// Counts TSC cycles over [`CALIBRATION_TICKS`] timer ticks, starting
    /// and ending just as a tick begins.
    fn calibrate() -> Clock {
        let first = uptime();
        while uptime() == first {
            spin_loop();
        }
        let start = rdtsc();
        let end_tick = first + 1 + CALIBRATION_TICKS;
        // Sleep most of the way (politely), then watch for the last tick.
        sleep(CALIBRATION_TICKS - 1);
        while uptime() < end_tick {
            spin_loop();
        }
        let cycles = rdtsc() - start;
        Clock {
            hz: (cycles * 100 / CALIBRATION_TICKS as u64).max(1),
        }
    }

    /// `cycles` of the TSC in seconds.
    fn seconds(&self, cycles: u64) -> Fixed {
        Fixed::ratio(cycles as u128, self.hz as u128)
    }

    /// `operations` per second, done in `cycles` of the TSC.
    fn rate(&self, operations: u128, cycles: u64) -> Fixed {
        Fixed::ratio(operations * self.hz as u128, (cycles as u128).max(1))
    }
}

/// MiB per second for `messages` messages in `cycles` of the TSC.
fn mib_per_second(clock: &Clock, messages: usize, cycles: u64) -> Fixed {
    let mib = (messages * MESSAGE) as u128;
    Fixed::ratio(mib * clock.hz as u128, (cycles as u128).max(1) << 20)
}

/// A non-negative number with three decimals.
#[derive(Clone, Copy)]
struct Fixed {
    thousandths: u128,
}

impl Fixed {
    /// `numerator / denominator`, rounded down to a thousandth.
    fn ratio(numerator: u128, denominator: u128) -> Fixed {
        Fixed {
            thousandths: numerator * 1000 / denominator,
        }
    }
}

impl fmt::Display for Fixed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{:03}",
            self.thousandths / 1000,
            self.thousandths % 1000
        )
    }
}

// ---------------------------------------------------------------------------
// Processes.

/// Forks a child that runs `child` and exits with its result.
fn spawn(child: impl FnOnce() -> i32) -> Result<i32, String> {
    match fork() {
        0 => exit(child()),
        pid if pid < 0 => Err(String::from("fork failed")),
        pid => Ok(pid),
    }
}

/// Waits for `count` children; fails if any did not exit with 0.
fn wait_all(count: usize, what: &str) -> Result<(), String> {
    let mut failed = 0;
    for _ in 0..count {
        let mut status = 0;
        if wait(Some(&mut status)) < 0 {
            return Err(format!("{what}: a child went missing"));
        }
        if status != 0 {
            failed += 1;
        }
    }
    match failed {
        0 => Ok(()),
        _ => Err(format!("{what}: {failed} of {count} children failed")),
    }
}

/// Makes a pipe: `(read end, write end)`.
fn make_pipe() -> Result<(i32, i32), String> {
    let mut fds = [0; 2];
    match pipe(&mut fds) {
        0 => Ok((fds[0], fds[1])),
        _ => Err(String::from("pipe failed")),
    }
}

// ---------------------------------------------------------------------------
// The benchmarks.

/// Runs the cycle benchmark with `processes` processes; returns the TSC
/// cycles from the start signal until the last process has exited.
fn cycle_benchmark(processes: usize) -> Result<u64, String> {
    let (start_read, start_write) = make_pipe()?;
    for index in 0..processes {
        spawn(|| {
            close(start_write);
            // Every process waits here until the parent closes the pipe,
            // so that they all start together.
            read(start_read, &mut [0]);
            let name = format!("bench-cycle-{index}");
            for cycle in 0..CYCLES_PER_PROCESS {
                if one_cycle(&name, cycle).is_none() {
                    return 1;
                }
            }
            0
        })?;
    }
    close(start_read);
    let start = rdtsc();
    close(start_write);
    wait_all(processes, "shm_cycle")?;
    Ok(rdtsc() - start)
}

/// One open, trunc, map, write, close; `None` if a call failed.
fn one_cycle(name: &str, cycle: usize) -> Option<()> {
    let mut shm = Shm::open(name).ok()?;
    shm.trunc(PGSIZE).ok()?;
    let mapping = shm.map_rw().ok()?;
    mapping.store(cycle % PGSIZE, 1);
    shm.close().ok()
}

/// Creates and maps an object for the bandwidth benchmark.
fn mapped(name: &str, size: usize) -> Result<Shm, String> {
    let mut shm = Shm::open(name).map_err(|e| format!("{name}: {e}"))?;
    shm.trunc(size).map_err(|e| format!("{name}: {e}"))?;
    Ok(shm)
}

/// Waits until `ready()` holds: spins for up to 20 ms, then sleeps a tick
/// at a time. The spin covers the other side's copy of a message (a few
/// milliseconds under emulation), so that with two CPUs a handshake costs
/// no sleep; on a single CPU the timer takes the CPU from the spinner
/// after at most one tick, and the sleeps that follow let the other side
/// run.
fn wait_until(clock: &Clock, ready: impl Fn() -> bool) {
    let start = rdtsc();
    while !ready() {
        if rdtsc() - start < clock.hz / 50 {
            spin_loop();
        } else {
            sleep(1);
        }
    }
}

/// Stamps message `seq` into `buffer`: its first and last byte, which the
/// consumer checks.
fn stamp(buffer: &mut [u8], seq: usize) {
    buffer[0] = seq as u8;
    buffer[MESSAGE - 1] = seq as u8;
}

/// Whether `buffer` holds message `seq`.
fn stamped(buffer: &[u8], seq: usize) -> bool {
    buffer[0] == seq as u8 && buffer[MESSAGE - 1] == seq as u8
}

/// Moves [`SHM_MESSAGES`] messages through shared memory; returns the TSC
/// cycles from the first message until the consumer has taken the last.
fn shm_bandwidth(clock: &Clock) -> Result<u64, String> {
    let data_shm = mapped("bench-data", MESSAGE)?;
    let control_shm = mapped("bench-control", PGSIZE)?;
    let data = data_shm.map_rw().map_err(|e| format!("bench-data: {e}"))?;
    let control = control_shm
        .map_rw()
        .map_err(|e| format!("bench-control: {e}"))?;

    // The consumer inherits both mappings.
    spawn(|| consume_shm(clock, data, control))?;

    let mut message = vec![0x5Au8; MESSAGE];
    let start = rdtsc();
    for seq in 1..=SHM_MESSAGES {
        wait_until(clock, || control.load_u32(RECEIVED) as usize == seq - 1);
        stamp(&mut message, seq);
        // SAFETY: the handshake gives us the data object: the consumer has
        // acknowledged message seq - 1 (acquire), and touches the data again
        // only after we publish message seq below (release). The slice dies
        // before that store.
        unsafe { data.as_mut_slice() }.copy_from_slice(&message);
        control.store_u32(SENT, seq as u32);
    }
    wait_until(clock, || {
        control.load_u32(RECEIVED) as usize == SHM_MESSAGES
    });
    let elapsed = rdtsc() - start;
    wait_all(1, "shm_bandwidth")?;
    Ok(elapsed)
}

/// The consumer of [`shm_bandwidth`], in a child: copies each message out
/// and acknowledges it. Exits with 1 if a message arrives damaged.
fn consume_shm(clock: &Clock, data: Mapping<'_>, control: Mapping<'_>) -> i32 {
    let mut message: Vec<u8> = vec![0; MESSAGE];
    for seq in 1..=SHM_MESSAGES {
        wait_until(clock, || control.load_u32(SENT) as usize == seq);
        // SAFETY: the handshake gives us the data object: the producer has
        // published message seq (acquire), and writes again only after we
        // acknowledge it below (release). The slice dies before that store.
        message.copy_from_slice(unsafe { data.as_slice() });
        if !stamped(&message, seq) {
            return 1;
        }
        control.store_u32(RECEIVED, seq as u32);
    }
    0
}

/// Moves [`PIPE_MESSAGES`] messages through a pipe; returns the TSC cycles
/// from the first byte until the consumer has acknowledged the last
/// message.
fn pipe_bandwidth() -> Result<u64, String> {
    let (data_read, data_write) = make_pipe()?;
    let (ack_read, ack_write) = make_pipe()?;
    spawn(|| {
        close(data_write);
        close(ack_read);
        let mut message = vec![0u8; MESSAGE];
        for seq in 1..=PIPE_MESSAGES {
            let mut filled = 0;
            while filled < MESSAGE {
                match read(data_read, &mut message[filled..]) {
                    n if n > 0 => filled += n as usize,
                    _ => return 1,
                }
            }
            if !stamped(&message, seq) {
                return 2;
            }
        }
        write(ack_write, &[1]);
        0
    })?;
    close(data_read);
    close(ack_write);

    let mut message = vec![0x5Au8; MESSAGE];
    let start = rdtsc();
    for seq in 1..=PIPE_MESSAGES {
        stamp(&mut message, seq);
        let mut sent = 0;
        while sent < MESSAGE {
            match write(data_write, &message[sent..]) {
                n if n > 0 => sent += n as usize,
                _ => return Err(String::from("pipe_bandwidth: write failed")),
            }
        }
    }
    let acknowledged = read(ack_read, &mut [0]) == 1;
    let elapsed = rdtsc() - start;
    close(data_write);
    close(ack_read);
    wait_all(1, "pipe_bandwidth")?;
    if !acknowledged {
        return Err(String::from("pipe_bandwidth: the consumer did not finish"));
    }
    Ok(elapsed)
}
