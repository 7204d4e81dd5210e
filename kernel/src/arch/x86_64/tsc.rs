//! The time-stamp counter (TSC) and its rate, measured once at boot.
//!
//! `rdtsc` reads a 64-bit counter that goes up at a constant rate: on
//! x86_64 CPUs of the last fifteen years ("invariant TSC") whatever the
//! CPU's speed, and under QEMU's software emulation it is the host's own
//! TSC. One read is one instruction, allowed in user mode, that never
//! traps: the best clock a benchmark can have. What the counter does not
//! tell is its rate, which turns cycles into seconds.
//!
//! The boot CPU measures the rate against the PIT, by polling, so that
//! no late interrupt can stretch it (pit.rs, `rate_of`, tells how a pause
//! of the virtual CPU can only make a measurement too high, and why the
//! lowest of several is kept). Every CPU reads a counter of the same rate:
//! the host's TSC under QEMU, the cores' invariant TSCs on hardware. The
//! boot log prints the rate (main.rs), and programs read it with the
//! `tsc_hz` system call (sysproc.rs); `ulib::bench` turns its benchmarks'
//! cycles into seconds with it. The kernel's own clock, the tick count of
//! `sleep` and `uptime`, is the time since boot by this counter
//! (`periods_since_boot`, proc.rs's `tick`).
//!
//! Why not ask CPUID? Recent Intel CPUs give the TSC's rate in leaf 0x15
//! (as a ratio to a crystal's frequency) and their base frequency in leaf
//! 0x16. But under an emulator CPUID describes the emulated CPU, not the
//! host whose counter `rdtsc` reads: QEMU's default CPU has no leaf 0x15
//! at all (its highest leaf is 0xd), and a CPU model that had one would
//! state a rate that has nothing to do with the host's. And leaf 0x16's
//! base frequency need not be the TSC's rate. A measurement is right
//! everywhere, so this kernel only measures.

use core::arch::x86_64::_rdtsc;
use core::sync::atomic::{AtomicU64, Ordering};

use super::pit;

/// TSC cycles per second, from `calibrate`; 0 until then.
static HZ: AtomicU64 = AtomicU64::new(0);

/// The TSC when `calibrate` ended: time zero of the kernel's clock
/// (`periods_since_boot`).
static START: AtomicU64 = AtomicU64::new(0);

/// Reads the time-stamp counter.
pub fn now() -> u64 {
    // SAFETY: rdtsc only reads the counter into registers; no memory is
    // involved.
    unsafe { _rdtsc() }
}

/// Measures the TSC's rate against the PIT; called once, on the boot CPU,
/// before anything asks for it.
pub fn calibrate() {
    HZ.store(pit::rate_of(now), Ordering::Relaxed);
    START.store(now(), Ordering::Relaxed);
}

/// TSC cycles per second.
pub fn hz() -> u64 {
    let hz = HZ.load(Ordering::Relaxed);
    assert!(hz != 0, "tsc: rate asked for before tsc::calibrate");
    hz
}

/// Whole periods of a `per_second` Hz clock since `calibrate`: the time
/// since boot in the unit the caller counts in (proc.rs's ticks, which
/// CPU 0 keeps).
pub fn periods_since_boot(per_second: u64) -> u64 {
    let elapsed = now().saturating_sub(START.load(Ordering::Relaxed));
    (u128::from(elapsed) * u128::from(per_second) / u128::from(hz())) as u64
}
