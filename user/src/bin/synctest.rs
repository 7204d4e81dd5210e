//! synctest: waiting on shared memory, and the locks and channel built on
//! it.
//!
//! The first checks hold `shm_wait` and `shm_wake` to their contract
//! (docs/shm.md, "Waiting on shared memory"): a word that differs returns
//! at once, waking nobody wakes nobody, a waiter in another process is
//! woken, `n` limits how many wake, bad addresses and counts are refused,
//! and a waiter that is killed, or whose object another process closes,
//! leaves nothing behind: afterwards the kernel still seats exactly
//! `NSHMWAIT` waiters at once (a leaked entry would take a seat) and not
//! one more, and the free-page count is unchanged (`no_leaks`).
//!
//! The others run `ulib::sync` under contention: processes that take a
//! [`Mutex`] many times, some sleeping while they hold it, must leave a
//! counter it protects exact (no lost wake-up would leave one asleep for
//! ever, and no missing exclusion would lose an increment); semaphores
//! pass items between processes through a bounded buffer, also when its
//! consumer is killed asleep halfway and another takes over; a channel moves
//! a stream of bytes whose every byte is checked, and 100000 small
//! messages one at a time, so that each side sleeps and wakes the other
//! tens of thousands of times. The mutex's workers are
//! separate programs (this one run again with `--mutex-worker`) that find
//! the object by name, as unrelated processes would.
//!
//! A waiter that is never woken would hang this program; the harness's
//! timeout turns that into a failure.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use abi::shm::NSHMWAIT;
use ulib::shm::{Mapping, Shm, shm_wait, shm_wake};
use ulib::sync::{Mutex, Semaphore, channel};
use ulib::testing::{Check, CheckResult, run_checks, spawn, wait_for};
use ulib::{Args, PGSIZE, eprintln, exec_args, kill, sleep, wait};

ulib::entry!(main);

/// Every check, in the order they run.
const CHECKS: &[Check] = &[
    ("wait_wrong_value_returns", wait_wrong_value_returns),
    ("wake_nobody_returns_zero", wake_nobody_returns_zero),
    (
        "waiter_woken_by_other_process",
        waiter_woken_by_other_process,
    ),
    ("wake_count_limits", wake_count_limits),
    ("wait_read_only_mapping", wait_read_only_mapping),
    ("bad_addresses_refused", bad_addresses_refused),
    ("killed_waiter_leaves_nothing", killed_waiter_leaves_nothing),
    ("closed_object_while_waiting", closed_object_while_waiting),
    ("waiter_table_full", waiter_table_full),
    ("mutex_exact_count", mutex_exact_count),
    ("semaphore_bounded_buffer", semaphore_bounded_buffer),
    (
        "semaphore_consumer_killed_mid_ring",
        semaphore_consumer_killed_mid_ring,
    ),
    ("channel_stream", channel_stream),
    ("channel_small_messages", channel_small_messages),
];

/// The first argument that makes this program a mutex worker.
const MUTEX_WORKER: &str = "--mutex-worker";

fn main(args: Args) -> i32 {
    match args.get(1) {
        None => run_checks("synctest", CHECKS),
        Some(flag) if flag == MUTEX_WORKER.as_bytes() => match mutex_worker(args) {
            Ok(()) => 0,
            Err(why) => {
                eprintln!("synctest worker: {why}");
                1
            }
        },
        Some(_) => {
            eprintln!("usage: synctest");
            2
        }
    }
}

/// A fresh object of `size` bytes called `name`, sized by us.
fn object(name: &str, size: usize) -> Result<Shm, String> {
    let mut shm = Shm::open(name).map_err(|e| format!("{name}: {e}"))?;
    shm.trunc(size).map_err(|e| format!("{name}: {e}"))?;
    Ok(shm)
}

fn mapped<'a>(shm: &'a Shm, name: &str) -> Result<Mapping<'a>, String> {
    shm.map_rw().map_err(|e| format!("{name}: {e}"))
}

/// How many ticks [`wait_for_word`] waits before it gives up: only a
/// hang-breaker, so that a process that never arrives fails the check
/// instead of hanging the program. It is far longer than any arrival takes
/// (a few ticks), because a host that starves the virtual CPUs can run a
/// child many ticks late; the check asserts that the child arrives, not
/// how soon.
const PATIENCE_TICKS: i32 = 3000;

/// Waits (a tick at a time, for at most [`PATIENCE_TICKS`]) until the word
/// at `offset` of `mapping` reaches `want`.
fn wait_for_word(mapping: &Mapping<'_>, offset: usize, want: u32) -> CheckResult {
    for _ in 0..PATIENCE_TICKS {
        if mapping.load_u32(offset) >= want {
            return Ok(());
        }
        sleep(1);
    }
    Err(format!(
        "the word at {offset} stayed at {} instead of reaching {want}",
        mapping.load_u32(offset)
    ))
}

/// Where the checks keep their words: the futex word, and a count of
/// processes that are about to wait.
const WORD: usize = 0;
const ARRIVED: usize = 64;

/// Forks `count` children that each note their arrival and then wait on
/// the word (which holds 0) until woken; each exits 0 if `shm_wait`
/// returned 0. Returns their pids.
fn spawn_waiters(mapping: Mapping<'_>, count: usize) -> Result<Vec<i32>, String> {
    (0..count)
        .map(|_| {
            spawn(|| {
                mapping.add_u32(ARRIVED, 1);
                if shm_wait(mapping.address() + WORD, 0) == 0 {
                    0
                } else {
                    1
                }
            })
        })
        .collect()
}

/// Waits for `count` children; returns how many did not exit with 0.
fn reap(count: usize) -> usize {
    let mut failed = 0;
    for _ in 0..count {
        let mut status = 0;
        if wait(Some(&mut status)) < 0 || status != 0 {
            failed += 1;
        }
    }
    failed
}

/// Wakes one waiter on `address`, trying a tick at a time (it may not be
/// asleep yet, for up to [`PATIENCE_TICKS`]); returns how many were woken
/// in the end (0 or 1).
fn wake_one_eventually(address: usize) -> i32 {
    for _ in 0..PATIENCE_TICKS {
        let woken = shm_wake(address, 1);
        if woken != 0 {
            return woken;
        }
        sleep(1);
    }
    0
}

fn wait_wrong_value_returns() -> CheckResult {
    let shm = object("st-wrong", PGSIZE)?;
    let mapping = mapped(&shm, "st-wrong")?;
    mapping.store_u32(WORD, 5);
    let got = shm_wait(mapping.address() + WORD, 4);
    if got != -1 {
        return Err(format!(
            "shm_wait on a word holding 5, expecting 4, returned {got}"
        ));
    }
    Ok(())
}

fn wake_nobody_returns_zero() -> CheckResult {
    let shm = object("st-nobody", PGSIZE)?;
    let mapping = mapped(&shm, "st-nobody")?;
    match shm_wake(mapping.address() + WORD, 1) {
        0 => Ok(()),
        got => Err(format!("shm_wake with no waiter returned {got}")),
    }
}

fn waiter_woken_by_other_process() -> CheckResult {
    let shm = object("st-woken", PGSIZE)?;
    let mapping = mapped(&shm, "st-woken")?;
    spawn_waiters(mapping, 1)?;
    wait_for_word(&mapping, ARRIVED, 1)?;
    let woken = wake_one_eventually(mapping.address() + WORD);
    let failed = reap(1);
    if woken == 1 && failed == 0 {
        Ok(())
    } else {
        Err(format!(
            "shm_wake woke {woken} instead of the one waiter; {failed} waiters failed"
        ))
    }
}

fn wake_count_limits() -> CheckResult {
    let shm = object("st-count", PGSIZE)?;
    let mapping = mapped(&shm, "st-count")?;
    spawn_waiters(mapping, 3)?;
    wait_for_word(&mapping, ARRIVED, 3)?;
    // Time for the last to arrive to get into the kernel.
    sleep(10);
    let address = mapping.address() + WORD;
    let first = shm_wake(address, 2);
    let second = shm_wake(address, 5);
    let third = shm_wake(address, 5);
    let failed = reap(3);
    if (first, second, third, failed) == (2, 1, 0, 0) {
        Ok(())
    } else {
        Err(format!(
            "wakes of 2, 5, 5 with three waiters woke {first}, {second}, {third}; \
             {failed} waiters failed"
        ))
    }
}

/// Waiting needs only a read-only mapping. The child drops the mapping it
/// inherited and maps the object read-only, found by name.
fn wait_read_only_mapping() -> CheckResult {
    let shm = object("st-ro", PGSIZE)?;
    let mapping = mapped(&shm, "st-ro")?;
    let inherited = shm.descriptor();
    let pid = spawn(|| {
        // SAFETY: the child uses nothing of the inherited mapping again.
        unsafe { ulib::shm::shm_close(inherited) };
        let Ok(mut reader) = Shm::open("st-ro") else {
            return 2;
        };
        // SAFETY: the parent sized the object to a page.
        unsafe { reader.assume_size(PGSIZE) };
        let Ok(read_only) = reader.map_ro() else {
            return 3;
        };
        if shm_wait(read_only.address() + WORD, 0) == 0 {
            0
        } else {
            1
        }
    })?;
    let woken = wake_one_eventually(mapping.address() + WORD);
    let status = wait_for(pid)?;
    if woken == 1 && status == 0 {
        Ok(())
    } else {
        Err(format!(
            "a waiter on a read-only mapping: woken {woken}, status {status}"
        ))
    }
}

fn bad_addresses_refused() -> CheckResult {
    let shm = object("st-bad", PGSIZE)?;
    let mapping = mapped(&shm, "st-bad")?;
    let good = mapping.address();
    let on_stack = 0u32;
    let unmapped_slot = ulib::shm::slot_address(abi::shm::NSHM - 1);
    let cases: [(&str, usize); 7] = [
        ("a misaligned word", good + 1),
        ("past the object's page", good + PGSIZE),
        ("a slot this process does not map", unmapped_slot),
        ("the stack", &raw const on_stack as usize),
        ("null", 0),
        ("the kernel", abi::memlayout::KERNBASE),
        ("a non-canonical address", abi::memlayout::USER_TOP),
    ];
    for (what, address) in cases {
        if shm_wait(address, 0) != -1 {
            return Err(format!("shm_wait on {what} did not return -1"));
        }
        if shm_wake(address, 1) != -1 {
            return Err(format!("shm_wake on {what} did not return -1"));
        }
    }
    for n in [0, -1, i32::MIN] {
        if shm_wake(good, n) != -1 {
            return Err(format!("shm_wake with n = {n} did not return -1"));
        }
    }
    Ok(())
}

fn killed_waiter_leaves_nothing() -> CheckResult {
    let shm = object("st-kill", PGSIZE)?;
    let mapping = mapped(&shm, "st-kill")?;
    let pids = spawn_waiters(mapping, 1)?;
    wait_for_word(&mapping, ARRIVED, 1)?;
    sleep(5);
    kill(pids[0]);
    match wait_for(pids[0])? {
        -1 => Ok(()),
        status => Err(format!(
            "the waiter ended with {status} instead of being killed while asleep"
        )),
    }
}

/// Another process closes the object (its last descriptor but the
/// waiter's) and exits while a waiter sleeps on it; the waiter's own
/// reference keeps the word alive until it is killed.
fn closed_object_while_waiting() -> CheckResult {
    let shm = object("st-closed", PGSIZE)?;
    let mapping = mapped(&shm, "st-closed")?;
    let pids = spawn_waiters(mapping, 1)?;
    wait_for_word(&mapping, ARRIVED, 1)?;
    sleep(5);
    let closer = spawn(|| {
        let Ok(other) = Shm::open("st-closed") else {
            return 2;
        };
        if other.close().is_ok() { 0 } else { 3 }
    })?;
    let closed = wait_for(closer)?;
    drop(shm);
    sleep(2);
    kill(pids[0]);
    let waiter = wait_for(pids[0])?;
    if closed == 0 && waiter == -1 {
        Ok(())
    } else {
        Err(format!(
            "the closer ended with {closed}, the waiter with {waiter} (want 0 and -1)"
        ))
    }
}

/// `NSHMWAIT` waiters fit at once, and one more is refused: so no earlier
/// check left an entry behind.
fn waiter_table_full() -> CheckResult {
    let shm = object("st-full", PGSIZE)?;
    let mapping = mapped(&shm, "st-full")?;
    spawn_patient_waiters(mapping, NSHMWAIT)?;
    wait_for_word(&mapping, ARRIVED, NSHMWAIT as u32)?;
    let extra = extra_waiter(mapping)?;
    let address = mapping.address() + WORD;
    let woken = shm_wake(address, NSHMWAIT as i32 + 1);
    let failed = reap(NSHMWAIT);
    if extra == -1 && woken == NSHMWAIT as i32 && failed == 0 {
        Ok(())
    } else {
        Err(format!(
            "with {NSHMWAIT} waiters seated, one more got {extra} (want -1); \
             the wake woke {woken}; {failed} waiters failed"
        ))
    }
}

/// Where `extra_waiter`'s probe waits, and where it says how it ended.
const PROBE: usize = 128;
const PROBE_RESULT: usize = 192;
/// The probe's results: refused at once, or seated (and woken by us).
const REFUSED: u32 = 1;
const SEATED: u32 = 2;

/// Like [`spawn_waiters`], but a waiter the table refuses tries again a
/// tick later (for at most [`PATIENCE_TICKS`]). While the last waiters
/// arrive, a probe of [`extra_waiter`] may hold a seat for a moment; a
/// waiter refused then must not lose its place for good, or the table
/// never fills, and the probing goes on until its patience runs out (seen
/// at 4 CPUs on a loaded host, where that took longer than the boot may).
fn spawn_patient_waiters(mapping: Mapping<'_>, count: usize) -> Result<Vec<i32>, String> {
    (0..count)
        .map(|_| {
            spawn(|| {
                mapping.add_u32(ARRIVED, 1);
                for _ in 0..PATIENCE_TICKS {
                    if shm_wait(mapping.address() + WORD, 0) == 0 {
                        return 0;
                    }
                    sleep(1);
                }
                1
            })
        })
        .collect()
}

/// What `shm_wait` gives one waiter more than the table holds, once the
/// table is full: -1 (or 0 if the table never filled). The waiters note
/// their arrival before they sleep, so the table may not be full yet, and
/// how soon it is depends on the host. So a child probes, on a word of its
/// own: refused at once, the table is full; seated, the table had room,
/// and we wake it and probe again a tick later. No guess of how long the
/// waiters take to fall asleep, and no sleeper of ours left behind.
fn extra_waiter(mapping: Mapping<'_>) -> Result<i32, String> {
    let probe = mapping.address() + PROBE;
    for _ in 0..PATIENCE_TICKS {
        mapping.store_u32(PROBE_RESULT, 0);
        let pid = spawn(move || {
            let seated = shm_wait(probe, 0) == 0;
            mapping.store_u32(PROBE_RESULT, if seated { SEATED } else { REFUSED });
            0
        })?;
        while mapping.load_u32(PROBE_RESULT) == 0 {
            shm_wake(probe, 1);
            sleep(1);
        }
        wait_for(pid)?;
        if mapping.load_u32(PROBE_RESULT) == REFUSED {
            return Ok(-1);
        }
        sleep(1);
    }
    Ok(0)
}

// ---------------------------------------------------------------------------
// The library under contention.

/// Processes taking the mutex, and how often each.
const MUTEX_WORKERS: usize = 4;
const MUTEX_ROUNDS: usize = 400;
/// Where the mutex and the counter it protects live.
const MUTEX: usize = 0;
const COUNTER: usize = 64;

fn mutex_exact_count() -> CheckResult {
    let shm = object("st-mutex", PGSIZE)?;
    let rounds = format!("{MUTEX_ROUNDS}");
    for _ in 0..MUTEX_WORKERS {
        spawn(|| exec_args("synctest", &["synctest", MUTEX_WORKER, "st-mutex", &rounds]))?;
    }
    let failed = reap(MUTEX_WORKERS);
    let mapping = mapped(&shm, "st-mutex")?;
    let counter = mapping.load_u32(COUNTER) as usize;
    if failed == 0 && counter == MUTEX_WORKERS * MUTEX_ROUNDS {
        Ok(())
    } else {
        Err(format!(
            "{failed} workers failed; the counter is {counter}, not {}",
            MUTEX_WORKERS * MUTEX_ROUNDS
        ))
    }
}

/// `synctest --mutex-worker NAME ROUNDS`: opens NAME (sized by someone
/// else) and, ROUNDS times, takes the mutex and adds one to the counter
/// in two steps (so that without the mutex increments would be lost),
/// sleeping now and then while it holds the lock so that others must
/// wait for it in the kernel.
fn mutex_worker(args: Args) -> Result<(), String> {
    let name = args.get(2).ok_or("no name")?;
    let rounds: usize = core::str::from_utf8(args.get(3).ok_or("no count")?)
        .ok()
        .and_then(|text| text.parse().ok())
        .ok_or("bad count")?;
    let mut shm = Shm::open(name).map_err(|e| format!("open: {e}"))?;
    // SAFETY: mutex_exact_count sized the object to a page before starting
    // us.
    unsafe { shm.assume_size(PGSIZE) };
    let mapping = shm.map_rw().map_err(|e| format!("map: {e}"))?;
    let mutex = Mutex::at(&mapping, MUTEX);
    for round in 0..rounds {
        let guard = mutex.lock();
        let value = mapping.load_u32(COUNTER);
        if round % 97 == 0 {
            sleep(1);
        } else {
            for _ in 0..200 {
                core::hint::spin_loop();
            }
        }
        mapping.store_u32(COUNTER, value + 1);
        drop(guard);
    }
    Ok(())
}

/// Items through the bounded buffer, and its slots.
const ITEMS: u32 = 600;
const SLOTS: usize = 4;
/// The semaphores and the buffer: `empty` counts free slots, `full` filled
/// ones.
const EMPTY: usize = 0;
const FULL: usize = 8;
const BUFFER: usize = 64;

fn semaphore_bounded_buffer() -> CheckResult {
    let shm = object("st-sem", PGSIZE)?;
    let mapping = mapped(&shm, "st-sem")?;
    let empty = Semaphore::at(&mapping, EMPTY);
    for _ in 0..SLOTS {
        empty.post();
    }
    let consumer = spawn(move || {
        let full = Semaphore::at(&mapping, FULL);
        let empty = Semaphore::at(&mapping, EMPTY);
        let mut expected_sum = 0u64;
        let mut sum = 0u64;
        for i in 0..ITEMS {
            full.wait();
            let slot = i as usize % SLOTS;
            sum += u64::from(mapping.load_u32(BUFFER + 4 * slot));
            expected_sum += u64::from(i * 7 + 1);
            empty.post();
        }
        if sum == expected_sum { 0 } else { 1 }
    })?;
    let full = Semaphore::at(&mapping, FULL);
    for i in 0..ITEMS {
        empty.wait();
        let slot = i as usize % SLOTS;
        mapping.store_u32(BUFFER + 4 * slot, i * 7 + 1);
        full.post();
    }
    let status = wait_for(consumer)?;
    let left = (empty.value(), full.value());
    if status == 0 && left == (SLOTS as u32, 0) {
        Ok(())
    } else {
        Err(format!(
            "consumer status {status}; semaphores ended at {left:?}, want ({SLOTS}, 0)"
        ))
    }
}

/// Items the first consumer of [`semaphore_consumer_killed_mid_ring`]
/// takes before it is killed: more than the ring holds, so the ring has
/// wrapped.
const TAKEN_BEFORE_KILL: u32 = SLOTS as u32 + 2;
/// Where that consumer counts the items it took.
const PROGRESS: usize = 128;

/// Takes items `from..to` out of the bounded buffer, in order; `Err` with
/// the first that is wrong.
fn consume_items(mapping: &Mapping<'_>, from: u32, to: u32) -> Result<(), u32> {
    let full = Semaphore::at(mapping, FULL);
    let empty = Semaphore::at(mapping, EMPTY);
    for i in from..to {
        full.wait();
        let slot = i as usize % SLOTS;
        if mapping.load_u32(BUFFER + 4 * slot) != i * 7 + 1 {
            return Err(i);
        }
        mapping.store_u32(PROGRESS, i + 1);
        empty.post();
    }
    Ok(())
}

/// The bounded buffer's consumer is killed while it sleeps in `wait`,
/// after the ring has wrapped; a second consumer takes over and must get
/// every later item, in order. The killed waiter never takes itself off
/// the semaphore's count of waiters, so from then on every `post` enters
/// the kernel, which wakes the second consumer as it should.
fn semaphore_consumer_killed_mid_ring() -> CheckResult {
    let shm = object("st-semkill", PGSIZE)?;
    let mapping = mapped(&shm, "st-semkill")?;
    let empty = Semaphore::at(&mapping, EMPTY);
    let full = Semaphore::at(&mapping, FULL);
    for _ in 0..SLOTS {
        empty.post();
    }
    let produce = |from: u32, to: u32| {
        for i in from..to {
            empty.wait();
            let slot = i as usize % SLOTS;
            mapping.store_u32(BUFFER + 4 * slot, i * 7 + 1);
            full.post();
        }
    };
    let first = spawn(move || {
        if consume_items(&mapping, 0, TAKEN_BEFORE_KILL).is_err() {
            return 1;
        }
        // Nothing more comes until we are killed.
        Semaphore::at(&mapping, FULL).wait();
        2
    })?;
    produce(0, TAKEN_BEFORE_KILL);
    wait_for_word(&mapping, PROGRESS, TAKEN_BEFORE_KILL)?;
    sleep(5);
    kill(first);
    let killed = wait_for(first)?;
    let second = spawn(
        move || match consume_items(&mapping, TAKEN_BEFORE_KILL, ITEMS) {
            Ok(()) => 0,
            Err(_) => 1,
        },
    )?;
    produce(TAKEN_BEFORE_KILL, ITEMS);
    let status = wait_for(second)?;
    let left = (empty.value(), full.value());
    if killed == -1 && status == 0 && left == (SLOTS as u32, 0) {
        Ok(())
    } else {
        Err(format!(
            "the first consumer ended with {killed} (want -1), the second with {status} \
             (want 0); semaphores ended at {left:?}, want ({SLOTS}, 0); the second \
             consumer reached item {}",
            mapping.load_u32(PROGRESS)
        ))
    }
}

/// Bytes through the channel: many times its one-page ring.
const STREAM: usize = 40_000;

/// The byte at `position` of the stream.
fn stream_byte(position: usize) -> u8 {
    (position.wrapping_mul(31) ^ (position >> 8)) as u8
}

fn channel_stream() -> CheckResult {
    let shm = object("st-chan", PGSIZE)?;
    let mapping = mapped(&shm, "st-chan")?;
    let receiver = spawn(move || {
        let (_, receiver) = channel(&mapping);
        let mut buffer = [0u8; 700];
        let mut position = 0;
        loop {
            let n = receiver.recv(&mut buffer);
            if n == 0 {
                break;
            }
            for &byte in &buffer[..n] {
                if byte != stream_byte(position) {
                    return 1;
                }
                position += 1;
            }
        }
        if position == STREAM { 0 } else { 2 }
    })?;
    let (sender, _) = channel(&mapping);
    let stream: Vec<u8> = (0..STREAM).map(stream_byte).collect();
    // Chunks of changing sizes, some larger than the ring.
    let mut sent = 0;
    let mut size = 1;
    while sent < STREAM {
        let n = size.min(STREAM - sent);
        sender.send(&stream[sent..sent + n]);
        sent += n;
        size = (size * 3 + 1) % 5000 + 1;
    }
    sender.close();
    let status = wait_for(receiver)?;
    match status {
        0 => Ok(()),
        1 => Err(String::from("the receiver got a wrong byte")),
        2 => Err(String::from("the receiver got the wrong number of bytes")),
        status => Err(format!("the receiver ended with status {status}")),
    }
}

/// Messages for `channel_small_messages`: enough for the ring to fill and
/// drain tens of thousands of times.
const SMALL_MESSAGES: usize = 100_000;
const SMALL_MESSAGE: usize = 64;

/// shmbench's channel row as a check: 64-byte messages, sent and received
/// one at a time, so that each side sleeps and wakes the other as often as
/// the ring allows, and a receiver's ring of the space bell can fall
/// between the sender's look at the bell and its sleep. A lost wake-up
/// leaves both asleep (the harness's timeout ends it); every message is
/// checked, and the count.
fn channel_small_messages() -> CheckResult {
    let shm = object("st-small", PGSIZE)?;
    let mapping = mapped(&shm, "st-small")?;
    let receiver = spawn(move || {
        let (_, receiver) = channel(&mapping);
        let mut message = [0u8; SMALL_MESSAGE];
        let mut received = 0;
        loop {
            match receiver.recv_exact(&mut message) {
                SMALL_MESSAGE => {}
                0 if received == SMALL_MESSAGES => return 0,
                _ => return 2,
            }
            if message.iter().any(|&byte| byte != stream_byte(received)) {
                return 1;
            }
            received += 1;
        }
    })?;
    let (sender, _) = channel(&mapping);
    for seq in 0..SMALL_MESSAGES {
        sender.send(&[stream_byte(seq); SMALL_MESSAGE]);
    }
    sender.close();
    match wait_for(receiver)? {
        0 => Ok(()),
        1 => Err(String::from("the receiver got a wrong message")),
        2 => Err(String::from(
            "the receiver got the wrong number of messages",
        )),
        status => Err(format!("the receiver ended with status {status}")),
    }
}
