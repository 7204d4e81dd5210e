//! What the benchmark programs (`shmbench`, `sysbench`) share: a clock,
//! numbers with three decimals, CSV rows, and a few process helpers.
//!
//! Every benchmark prints one CSV table,
//! `benchmark,processes,operations,seconds,rate,unit`, which `make bench`
//! gathers (xtask/src/bench.rs) into `docs/performance.csv`. Time comes from the
//! time-stamp counter (`rdtsc`: one read costs nothing and never traps),
//! whose rate [`Clock::from_kernel`] asks the kernel for (`tsc_hz`). The kernel
//! measured it at boot against the PIT, by polling, so that a loaded host,
//! which delivers timer interrupts late, cannot stretch it (the kernel's
//! arch/x86_64/pit.rs tells how). Figures are computed in integers, so they
//! are exact to the last printed digit.

use alloc::format;
use alloc::string::String;
use core::arch::x86_64::_rdtsc;
use core::fmt;

use crate::{exit, fork, pipe, println, tsc_hz, wait};

/// Prints one CSV row. A row without `seconds` (a ratio) leaves
/// `operations` and `seconds` empty.
pub fn row(
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

/// Reads the time-stamp counter.
pub fn rdtsc() -> u64 {
    // SAFETY: rdtsc only reads the counter, which the kernel leaves
    // readable from user mode (CR4.TSD clear); no memory is involved.
    unsafe { _rdtsc() }
}

/// The TSC's rate, from the kernel.
pub struct Clock {
    /// TSC cycles per second.
    pub hz: u64,
}

impl Clock {
    /// The clock at the rate the kernel measured.
    pub fn from_kernel() -> Clock {
        Clock {
            hz: tsc_hz().max(1),
        }
    }

    /// Prints the clock's row, `tsc_calibration`: the rate, with neither
    /// operations nor seconds (the kernel measured it at boot).
    pub fn row(&self) {
        row(
            "tsc_calibration",
            1,
            0,
            None,
            Fixed::ratio(self.hz as u128, 1),
            "tsc_cycles_per_second",
        );
    }

    /// `cycles` of the TSC in seconds.
    pub fn seconds(&self, cycles: u64) -> Fixed {
        Fixed::ratio(cycles as u128, self.hz as u128)
    }

    /// `operations` per second, done in `cycles` of the TSC.
    pub fn rate(&self, operations: u128, cycles: u64) -> Fixed {
        Fixed::ratio(operations * self.hz as u128, (cycles as u128).max(1))
    }
}

/// MiB per second for `bytes` bytes moved in `cycles` of the TSC.
pub fn mib_per_second(clock: &Clock, bytes: usize, cycles: u64) -> Fixed {
    Fixed::ratio(
        bytes as u128 * clock.hz as u128,
        (cycles as u128).max(1) << 20,
    )
}

/// A non-negative number with three decimals.
#[derive(Clone, Copy)]
pub struct Fixed {
    pub thousandths: u128,
}

impl Fixed {
    /// `numerator / denominator`, rounded down to a thousandth.
    pub fn ratio(numerator: u128, denominator: u128) -> Fixed {
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
pub fn spawn(child: impl FnOnce() -> i32) -> Result<i32, String> {
    match fork() {
        0 => exit(child()),
        pid if pid < 0 => Err(String::from("fork failed")),
        pid => Ok(pid),
    }
}

/// Waits for `count` children; fails if any did not exit with 0.
pub fn wait_all(count: usize, what: &str) -> Result<(), String> {
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
pub fn make_pipe() -> Result<(i32, i32), String> {
    let mut fds = [0; 2];
    match pipe(&mut fds) {
        0 => Ok((fds[0], fds[1])),
        _ => Err(String::from("pipe failed")),
    }
}
