//! The legacy programmable interval timer (the 8254 PIT): a clock to poll.
//!
//! The PIT's counters count down at 1.193182 MHz, a rate fixed by the PC's
//! design (the 14.31818 MHz crystal divided by 12): it is the one clock of
//! a PC whose rate we know without measuring it. Its channel 0 could
//! interrupt us, but this kernel takes no interrupt from it (each CPU's
//! local APIC timer ticks instead). We use channel 2, whose count we can
//! read at any moment and whose output shows on port 0x61, to time things
//! without any interrupt:
//!
//! - [`wait`]: a busy wait, for starting the other CPUs (200 µs and 10 ms
//!   between the messages) and for the in-kernel tests;
//! - [`rate_of`]: how fast another counter runs, for the two that do not
//!   say: the time-stamp counter (tsc.rs) and the local APIC's timer
//!   (lapic.rs). Both are measured once, at boot.
//!
//! ## Measuring a rate that a loaded host cannot stretch
//!
//! Under QEMU a virtual CPU is a thread of the host, and a busy host takes
//! the CPU away from it for milliseconds at a time, between any two
//! instructions. Anything timed by interrupts stretches: the interrupt
//! comes late. Timing by polling is better, but a pause can still fall
//! between reading one clock and reading the other, and one pause of 60 ms
//! in a 10 ms measurement makes it seven times too long. So [`rate_of`]
//! arranges that a pause can only make a measurement too high,
//! never too low, and then keeps the lowest:
//!
//! 1. **One measurement** counts how far the other counter advances while
//!    the PIT counts at least [`MEASURE_TICKS`] ticks (25 ms). At each end
//!    the PIT is read between two reads of the counter; the start keeps
//!    the counter's value from *before* its PIT read and the end the value
//!    from *after* its own. So the counter's span always covers the PIT's:
//!    a pause anywhere adds to the counter's span or takes from the PIT's,
//!    and the rate can only come out too high.
//! 2. **Each end** reads the PIT [`READS_PER_END`] times, and keeps the
//!    read with the least of the counter between its two sides: the one
//!    least disturbed. An undisturbed read under QEMU spans a microsecond
//!    or two, which is 1/10 000 of a measurement.
//! 3. **The wrap.** The count is 16 bits and wraps every 55 ms; the
//!    measurement polls it and adds up the steps, so it counts across a
//!    wrap. A pause longer than a whole wrap loses 65 536 ticks, which
//!    makes the rate too high, like any other pause.
//! 4. **Repeat, keep the lowest.** Errors go only upward, so the lowest
//!    measurement is the closest. Two undisturbed measurements agree to
//!    better than 0.1%, while two disturbed ones rarely do, since each is
//!    off by its own pause; so [`rate_of`] stops as soon as its two lowest
//!    measurements agree within 0.1%, after [`MAX_MEASUREMENTS`] at most,
//!    and returns the lowest.
//!
//! Locking: [`CHANNEL2`] is the channel: its guard is the only way to its
//! ports, so two CPUs cannot interleave their commands (a latch and its
//! two reads must not be split). Holding it keeps interrupts off, which a
//! busy wait does not mind.

use x86::io::{inb, outb};

use crate::spinlock::SpinLock;

/// The PIT's rate: ticks per second.
const PIT_HZ: u64 = 1_193_182;

/// Channel 2's data port, the command port, and the port whose bit 0 is
/// channel 2's gate, bit 1 the speaker (kept off) and bit 5 channel 2's
/// output.
const CHANNEL2_DATA: u16 = 0x42;
const COMMAND: u16 = 0x43;
const GATE: u16 = 0x61;
const GATE_ON: u8 = 0b01;
const SPEAKER_ON: u8 = 0b10;
const OUTPUT_HIGH: u8 = 0x20;

/// Commands: channel 2 (bits 7-6 = 10), low byte then high byte (bits 5-4
/// = 11), binary; mode 0 (interrupt on terminal count: the output goes
/// high when the count reaches zero) or mode 2 (rate generator: counts
/// down from the count over and over); and the latch (bits 5-4 = 00),
/// which freezes the count for the two reads that follow.
const MODE0: u8 = 0b1011_0000;
const MODE2: u8 = 0b1011_0100;
const LATCH: u8 = 0b1000_0000;

/// PIT ticks one measurement of [`rate_of`] lasts, at least: 25 ms.
const MEASURE_TICKS: u64 = PIT_HZ / 40;

/// Reads of the PIT at each end of a measurement (module doc, point 2).
const READS_PER_END: usize = 8;

/// Most measurements [`rate_of`] makes (point 4).
const MAX_MEASUREMENTS: usize = 12;

/// Channel 2, which only the guard of [`CHANNEL2`] reaches.
struct Channel2;

static CHANNEL2: SpinLock<Channel2> = SpinLock::new("pit", Channel2);

/// A value read between two reads of a counter, whose values on either
/// side are `before` and `after`.
pub struct Reading<T> {
    pub before: u64,
    pub value: T,
    pub after: u64,
}

/// The least disturbed of [`READS_PER_END`] calls of `read`, each between
/// two reads of `counter`: the one with the least of `counter` between its
/// two sides (module doc, point 2).
pub fn narrowest_reading<T>(
    counter: &mut impl FnMut() -> u64,
    mut read: impl FnMut() -> T,
) -> Reading<T> {
    let mut best: Option<Reading<T>> = None;
    for _ in 0..READS_PER_END {
        let before = counter();
        let value = read();
        let after = counter();
        if best
            .as_ref()
            .is_none_or(|best| after - before < best.after - best.before)
        {
            best = Some(Reading {
                before,
                value,
                after,
            });
        }
    }
    best.expect("READS_PER_END is not 0")
}

impl Channel2 {
    /// Starts the channel counting down from `count` in `mode`, with the
    /// speaker off.
    fn start(&mut self, mode: u8, count: u16) {
        let [low, high] = count.to_le_bytes();
        // SAFETY: ports 0x42, 0x43 and 0x61 are channel 2, the PIT's
        // command port and the gate, which only this module touches, and
        // the guard we hold (`&mut self`) makes this CPU the only user;
        // they control a timer, not memory.
        unsafe {
            outb(GATE, inb(GATE) & !(GATE_ON | SPEAKER_ON));
            outb(COMMAND, mode);
            outb(CHANNEL2_DATA, low);
            outb(CHANNEL2_DATA, high);
            outb(GATE, (inb(GATE) & !SPEAKER_ON) | GATE_ON);
        }
    }

    /// Busy-waits `microseconds` (at most 54 925, the longest count).
    fn wait(&mut self, microseconds: u32) {
        let count = (PIT_HZ * u64::from(microseconds) / 1_000_000).clamp(1, 0xFFFF) as u16;
        self.start(MODE0, count);
        // SAFETY: as in `start`; reading the gate port has no side effect.
        while unsafe { inb(GATE) } & OUTPUT_HIGH == 0 {
            core::hint::spin_loop();
        }
    }

    /// The count now, once `start` has set the channel going.
    fn count(&mut self) -> u16 {
        // SAFETY: as in `start`. The latch, then the low and the high
        // byte: the guard keeps anyone else's command from coming between.
        unsafe {
            outb(COMMAND, LATCH);
            let low = inb(CHANNEL2_DATA);
            let high = inb(CHANNEL2_DATA);
            u16::from_le_bytes([low, high])
        }
    }

    /// One measurement of `counter`'s rate, per second: never too low,
    /// too high if the host paused us (module doc, points 1 to 3).
    fn measure(&mut self, counter: &mut impl FnMut() -> u64) -> u64 {
        let start = narrowest_reading(counter, || self.count());
        let mut last = start.value;
        let mut ticks: u64 = 0;
        while ticks < MEASURE_TICKS {
            let now = self.count();
            // The count goes down; the wrapping difference is the steps
            // since the last poll, across a wrap too.
            ticks += u64::from(last.wrapping_sub(now));
            last = now;
        }
        let end = narrowest_reading(counter, || self.count());
        ticks += u64::from(last.wrapping_sub(end.value));
        let advanced = end.after - start.before;
        (u128::from(advanced) * u128::from(PIT_HZ) / u128::from(ticks)) as u64
    }
}

/// Busy-waits `microseconds` (at most 54 925) on channel 2.
pub fn wait(microseconds: u32) {
    CHANNEL2.lock().wait(microseconds);
}

/// How many times a second `counter` advances, measured against the PIT:
/// the lowest of the measurements, once the two lowest agree within 0.1%
/// (module doc). `counter` must only go up, and never wrap in the half
/// second this may take. Keeps interrupts off throughout.
pub fn rate_of(mut counter: impl FnMut() -> u64) -> u64 {
    let mut channel = CHANNEL2.lock();
    // Mode 2 from 0, which means 65 536: the count runs down and wraps
    // for as long as we read it.
    channel.start(MODE2, 0);
    let (mut lowest, mut second) = (u64::MAX, u64::MAX);
    for _ in 0..MAX_MEASUREMENTS {
        let rate = channel.measure(&mut counter);
        if rate < lowest {
            second = lowest;
            lowest = rate;
        } else if rate < second {
            second = rate;
        }
        if second - lowest <= lowest / 1000 {
            break;
        }
    }
    lowest.max(1)
}
