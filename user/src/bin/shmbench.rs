//! shmbench: how fast shared memory is, in CSV.
//!
//! Several measurements, each printed as rows of one CSV table:
//!
//! ```text
//! benchmark,processes,operations,seconds,rate,unit
//! tsc_calibration,1,,,2000000000.000,tsc_cycles_per_second
//! shm_cycle,4,1000,0.731,1367.989,cycles_per_second
//! memcpy_128k,1,2048,0.128,2000.000,mib_per_second
//! shm_bandwidth,2,2048,0.512,500.000,mib_per_second
//! shm_to_memcpy_bandwidth,2,,,0.250,ratio
//! pipe_bandwidth,2,512,1.000,64.000,mib_per_second
//! shm_to_pipe_bandwidth,2,,,7.813,ratio
//! channel_messages,2,40000,4.000,10000.000,messages_per_second
//! pipe_messages,2,40000,8.000,5000.000,messages_per_second
//! channel_to_pipe_messages,2,,,2.000,ratio
//! mutex_lock_unlock,2,400000,10.000,40000.000,locks_per_second
//! ```
//!
//! - `tsc_calibration`: time is measured with the time-stamp counter
//!   (`rdtsc`, one read costs nothing and never traps), which counts at a
//!   fixed rate that the kernel measured at boot (`ulib::bench::Clock`).
//! - `shm_cycle`: `processes` processes at once, each on a name of its own,
//!   each doing open, trunc (one page), map, one write, close as often as it
//!   can for a fixed number of cycles; `operations` is the total of cycles,
//!   `rate` cycles per second summed over all processes. With one process
//!   this is the cost of one cycle; with more, how well the table's lock
//!   and the page allocator let CPUs work at once.
//! - `memcpy_128k`: one process copies a 128 KiB message from one private
//!   buffer to another, `operations` times, with the routine the
//!   bandwidth rows use (`copy_from_slice`, the library's `memcpy`, `rep
//!   movsq`); `rate` is MiB per second. It is the ceiling the other rows
//!   are measured against, in the same boot on the same host: a message
//!   through shared memory is copied twice, so `shm_bandwidth` can reach at
//!   most half of it. `shm_to_memcpy_bandwidth` divides the two.
//! - `shm_bandwidth` and `pipe_bandwidth`: a producer moves `operations`
//!   messages of 128 KiB to a consumer in another process, which copies
//!   each out. Through shared memory, the producer copies each message
//!   from a private buffer into a slot of a ring of [`SLOTS`] slots, each a
//!   128 KiB object, and the consumer copies it out of the slot into a
//!   private buffer of its own and checks it: two copies, as through a
//!   pipe. A one-page object holds the handshake: two semaphores
//!   (`ulib::sync`), "free slots" (starting at [`SLOTS`]) and "messages
//!   ready". A side that finds its semaphore at 0 sleeps in `shm_wait`;
//!   a post enters the kernel only if the other side sleeps. With several
//!   slots the producer runs ahead and the consumer drains several
//!   messages per wake-up, so on one CPU the two switch once per
//!   [`SLOTS`] messages, not twice per message. Through a pipe, the same
//!   bytes go through the kernel's pipe buffer. `rate` is MiB per second
//!   of messages delivered; the ratio row divides the two.
//! - `channel_messages` and `pipe_messages`: `operations` messages of 64
//!   bytes from one process to another, through a `ulib::sync` channel in
//!   a one-page object and through a pipe; `rate` is messages per second.
//! - `mutex_lock_unlock`: two processes each take and release one
//!   `ulib::sync::Mutex` `operations / 2` times, adding one to a counter it
//!   protects, so the lock passes back and forth between them; `rate` is
//!   lock/unlock pairs per second, for both together.
//!
//! `seconds` and `rate` have three decimals, computed in integers so that
//! the figures are exact.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use ulib::bench::{Clock, Fixed, make_pipe, mib_per_second, rdtsc, row, spawn, wait_all};
use ulib::shm::{Mapping, SHM_MAXSIZE, Shm};
use ulib::sync::{Mutex, Semaphore, channel};
use ulib::{Args, PGSIZE, close, eprintln, println, read, write};

ulib::entry!(main);

/// Process counts of the cycle benchmark.
const CYCLE_PROCESSES: [usize; 5] = [1, 2, 4, 8, 16];

/// Open-trunc-map-write-close cycles each process does: enough that the
/// cycles, not starting and reaping the processes, fill the time (at 200,
/// eight processes at 2 CPUs ran 12 ms, and the ratio to 1 CPU moved
/// between 1.74 and 1.90 from run to run).
const CYCLES_PER_PROCESS: usize = 1000;

/// Size of a message: a whole object.
const MESSAGE: usize = SHM_MAXSIZE;

/// Messages moved through shared memory, and copies made by `memcpy_128k`:
/// enough that each run lasts tens of milliseconds (at 256, `memcpy_128k`
/// took 10 ms, and the ratio of the two rows rode on one of them).
const SHM_MESSAGES: usize = 2048;

/// Slots in the shared-memory ring, each one 128 KiB object: how far the
/// producer may run ahead of the consumer.
const SLOTS: usize = 8;

/// Messages moved through a pipe (at 64, the run took 7 ms).
const PIPE_MESSAGES: usize = 512;

/// Where the handshake object keeps its two semaphores, "free slots" and
/// "messages ready": a cache line apart, so that the two sides do not
/// fight over one line.
const FREE: usize = 0;
const READY: usize = 64;

/// Messages, and their size, for the channel and small-pipe rows. Enough
/// that a run lasts tens of milliseconds even at a million messages a
/// second: at 4000, a run took 5 to 10 ms, and one late wake-up moved the
/// rate by half.
const SMALL_MESSAGES: usize = 40_000;
const SMALL_MESSAGE: usize = 64;

/// Lock/unlock pairs each of the two processes makes. Enough that the run
/// outlasts a scheduler's time slice: at 20000 it took 3 to 15 ms, short
/// enough for Linux to run both processes on one CPU one after the other,
/// with no contention at all, in some runs and not in others.
const MUTEX_ROUNDS: usize = 200_000;

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
    let clock = Clock::from_kernel();
    clock.row();

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

    let copied = memcpy_128k()?;
    let memcpy_rate = mib_per_second(&clock, SHM_MESSAGES * MESSAGE, copied);
    row(
        "memcpy_128k",
        1,
        SHM_MESSAGES,
        Some(clock.seconds(copied)),
        memcpy_rate,
        "mib_per_second",
    );
    let shm = shm_bandwidth()?;
    let shm_rate = mib_per_second(&clock, SHM_MESSAGES * MESSAGE, shm);
    row(
        "shm_bandwidth",
        2,
        SHM_MESSAGES,
        Some(clock.seconds(shm)),
        shm_rate,
        "mib_per_second",
    );
    row(
        "shm_to_memcpy_bandwidth",
        2,
        0,
        None,
        Fixed::ratio(shm_rate.thousandths, memcpy_rate.thousandths.max(1)),
        "ratio",
    );
    let piped = pipe_bandwidth()?;
    let pipe_rate = mib_per_second(&clock, PIPE_MESSAGES * MESSAGE, piped);
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

    let channeled = channel_messages()?;
    let channel_rate = clock.rate(SMALL_MESSAGES as u128, channeled);
    row(
        "channel_messages",
        2,
        SMALL_MESSAGES,
        Some(clock.seconds(channeled)),
        channel_rate,
        "messages_per_second",
    );
    let piped_small = pipe_messages()?;
    let pipe_small_rate = clock.rate(SMALL_MESSAGES as u128, piped_small);
    row(
        "pipe_messages",
        2,
        SMALL_MESSAGES,
        Some(clock.seconds(piped_small)),
        pipe_small_rate,
        "messages_per_second",
    );
    row(
        "channel_to_pipe_messages",
        2,
        0,
        None,
        Fixed::ratio(channel_rate.thousandths, pipe_small_rate.thousandths.max(1)),
        "ratio",
    );

    let locked = mutex_lock_unlock()?;
    row(
        "mutex_lock_unlock",
        2,
        2 * MUTEX_ROUNDS,
        Some(clock.seconds(locked)),
        clock.rate(2 * MUTEX_ROUNDS as u128, locked),
        "locks_per_second",
    );
    Ok(())
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

/// Copies a 128 KiB message [`SHM_MESSAGES`] times from one private
/// buffer to another with `copy_from_slice`, stamping each first as the
/// producer does; returns the TSC cycles. Fails if a copy came out wrong
/// (which also keeps the compiler from dropping the copies).
fn memcpy_128k() -> Result<u64, String> {
    let mut message = vec![0x5Au8; MESSAGE];
    let mut copy: Vec<u8> = vec![0; MESSAGE];
    let start = rdtsc();
    for seq in 1..=SHM_MESSAGES {
        stamp(&mut message, seq);
        copy.copy_from_slice(&message);
        if !stamped(&copy, seq) {
            return Err(String::from("memcpy_128k: a copy came out wrong"));
        }
    }
    Ok(rdtsc() - start)
}

/// Opens, sizes and maps the ring's slots, `bench-slot-0` and on.
fn ring_slots() -> Result<Vec<Shm>, String> {
    (0..SLOTS)
        .map(|slot| mapped(&format!("bench-slot-{slot}"), MESSAGE))
        .collect()
}

/// Moves [`SHM_MESSAGES`] messages through a ring of [`SLOTS`] slots in
/// shared memory; returns the TSC cycles from the first message until the
/// consumer has taken the last. Message `seq` goes in slot `seq % SLOTS`.
fn shm_bandwidth() -> Result<u64, String> {
    let slot_shms = ring_slots()?;
    let control_shm = mapped("bench-control", PGSIZE)?;
    let slots = slot_shms
        .iter()
        .map(|shm| shm.map_rw().map_err(|e| format!("bench-slot: {e}")))
        .collect::<Result<Vec<Mapping<'_>>, String>>()?;
    let control = control_shm
        .map_rw()
        .map_err(|e| format!("bench-control: {e}"))?;
    let free = Semaphore::at(&control, FREE);
    let ready = Semaphore::at(&control, READY);
    // Every slot starts free.
    for _ in 0..SLOTS {
        free.post();
    }

    // The consumer inherits the mappings.
    spawn(|| consume_shm(&slots, control))?;

    let mut message = vec![0x5Au8; MESSAGE];
    let start = rdtsc();
    for seq in 1..=SHM_MESSAGES {
        free.wait();
        stamp(&mut message, seq);
        // SAFETY: the handshake gives us this slot: of the messages before
        // `seq`, the consumer has freed all but SLOTS - 1 (our wait took
        // one more free slot than there were messages in flight), so it has
        // finished reading message `seq - SLOTS`, the slot's last, and
        // posted `free` after that read (release, acquired by our wait). It
        // reads the slot again only after we post `ready` below for `seq`.
        // The slice dies before that post.
        unsafe { slots[seq % SLOTS].as_mut_slice() }.copy_from_slice(&message);
        ready.post();
    }
    // The consumer frees every slot once it has taken the last message.
    for _ in 0..SLOTS {
        free.wait();
    }
    let elapsed = rdtsc() - start;
    wait_all(1, "shm_bandwidth")?;
    Ok(elapsed)
}

/// The consumer of [`shm_bandwidth`], in a child: copies each message out
/// of its slot and frees the slot. Exits with 1 if a message arrives
/// damaged.
fn consume_shm(slots: &[Mapping<'_>], control: Mapping<'_>) -> i32 {
    let free = Semaphore::at(&control, FREE);
    let ready = Semaphore::at(&control, READY);
    let mut message: Vec<u8> = vec![0; MESSAGE];
    for seq in 1..=SHM_MESSAGES {
        ready.wait();
        // SAFETY: the handshake gives us this slot: messages are ready in
        // order, and the producer posted `ready` for `seq` after writing it
        // into slot `seq % SLOTS` (release, acquired by our wait). It
        // writes the slot again only for message `seq + SLOTS`, after a
        // wait on `free` that our post below satisfies. The slice dies
        // before that post.
        message.copy_from_slice(unsafe { slots[seq % SLOTS].as_slice() });
        if !stamped(&message, seq) {
            return 1;
        }
        free.post();
    }
    0
}

/// Moves [`SMALL_MESSAGES`] messages of [`SMALL_MESSAGE`] bytes through a
/// channel in a one-page object; returns the TSC cycles until the
/// receiver has seen the end.
fn channel_messages() -> Result<u64, String> {
    let shm = mapped("bench-channel", PGSIZE)?;
    let mapping = shm.map_rw().map_err(|e| format!("bench-channel: {e}"))?;
    spawn(|| {
        let (_, receiver) = channel(&mapping);
        let mut message = [0u8; SMALL_MESSAGE];
        let mut received = 0;
        loop {
            match receiver.recv_exact(&mut message) {
                SMALL_MESSAGE => {}
                0 if received == SMALL_MESSAGES => return 0,
                _ => return 1,
            }
            if message[0] != received as u8 {
                return 2;
            }
            received += 1;
        }
    })?;
    let (sender, _) = channel(&mapping);
    let mut message = [0x5Au8; SMALL_MESSAGE];
    let start = rdtsc();
    for seq in 0..SMALL_MESSAGES {
        message[0] = seq as u8;
        sender.send(&message);
    }
    sender.close();
    wait_all(1, "channel_messages")?;
    Ok(rdtsc() - start)
}

/// The same messages through a pipe.
fn pipe_messages() -> Result<u64, String> {
    let (read_end, write_end) = make_pipe()?;
    spawn(|| {
        close(write_end);
        let mut message = [0u8; SMALL_MESSAGE];
        for seq in 0..SMALL_MESSAGES {
            let mut filled = 0;
            while filled < SMALL_MESSAGE {
                match read(read_end, &mut message[filled..]) {
                    n if n > 0 => filled += n as usize,
                    _ => return 1,
                }
            }
            if message[0] != seq as u8 {
                return 2;
            }
        }
        0
    })?;
    close(read_end);
    let mut message = [0x5Au8; SMALL_MESSAGE];
    let start = rdtsc();
    for seq in 0..SMALL_MESSAGES {
        message[0] = seq as u8;
        if write(write_end, &message) != SMALL_MESSAGE as isize {
            return Err(String::from("pipe_messages: write failed"));
        }
    }
    close(write_end);
    wait_all(1, "pipe_messages")?;
    Ok(rdtsc() - start)
}

/// Two processes taking one mutex [`MUTEX_ROUNDS`] times each; returns the
/// TSC cycles until both are done. Fails if the counter the mutex guards
/// comes out wrong.
fn mutex_lock_unlock() -> Result<u64, String> {
    const MUTEX: usize = 0;
    const COUNTER: usize = 64;
    let shm = mapped("bench-mutex", PGSIZE)?;
    let mapping = shm.map_rw().map_err(|e| format!("bench-mutex: {e}"))?;
    let (start_read, start_write) = make_pipe()?;
    let work = || {
        let mutex = Mutex::at(&mapping, MUTEX);
        for _ in 0..MUTEX_ROUNDS {
            let guard = mutex.lock();
            let value = mapping.load_u32(COUNTER);
            mapping.store_u32(COUNTER, value + 1);
            drop(guard);
        }
    };
    for _ in 0..2 {
        spawn(|| {
            close(start_write);
            read(start_read, &mut [0]);
            work();
            0
        })?;
    }
    close(start_read);
    let start = rdtsc();
    close(start_write);
    wait_all(2, "mutex_lock_unlock")?;
    let elapsed = rdtsc() - start;
    match mapping.load_u32(COUNTER) as usize {
        count if count == 2 * MUTEX_ROUNDS => Ok(elapsed),
        count => Err(format!("mutex_lock_unlock: the counter is {count}")),
    }
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
