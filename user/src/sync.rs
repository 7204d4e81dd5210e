//! Blocking in shared memory: a [`Mutex`], a counting [`Semaphore`] and a
//! single-producer single-consumer byte [`channel`], built on the
//! futex-style `shm_wait` and `shm_wake` calls (docs/shm.md).
//!
//! Each lives in a few 32-bit words of a shared-memory object, at an
//! offset the cooperating processes agree on, and all-zero words are a
//! valid start: an unlocked mutex, a semaphore at 0, an empty channel. A
//! freshly sized object is zeroed, so processes that find it by name (not
//! only a parent and its children) can use these at once. They take a
//! read-write [`Mapping`] and panic on a read-only one.
//!
//! The pattern is Linux's: the state is an atomic word that processes
//! change with atomic instructions, and only a process that must wait
//! enters the kernel, with `shm_wait(word, value)`: "sleep if the word
//! still holds the value I saw". The kernel checks the word and goes to
//! sleep atomically with respect to `shm_wake`, so a waker that changes
//! the word before calling `shm_wake` can never slip between a waiter's
//! check and its sleep. When nobody waits, no call enters the kernel.
//!
//! A process that dies holding a mutex leaves it locked (these are not
//! "robust" mutexes), as a thread would in most systems.

use core::sync::atomic::{AtomicU32, Ordering};

use crate::shm::{Mapping, shm_wait, shm_wake};

/// The user address of `word`, for the system calls.
fn address(word: &AtomicU32) -> usize {
    word.as_ptr().addr()
}

// ---------------------------------------------------------------------------
// Mutex

/// The three states of a [`Mutex`]'s word.
const UNLOCKED: u32 = 0;
const LOCKED: u32 = 1;
// LAB sync: solution begins
/// Locked, and someone may be waiting: unlocking must wake one.
const CONTENDED: u32 = 2;
// LAB sync: stub
// LAB sync: end

/// A mutual-exclusion lock in one word of shared memory (the second
/// design of Drepper's "Futexes Are Tricky").
///
/// Memory ordering: taking the lock is an acquire and releasing it a
/// release on the lock word, so everything a holder wrote before
/// unlocking is visible to the next holder once it has the lock.
pub struct Mutex<'a> {
    state: &'a AtomicU32,
}

/// Holds a [`Mutex`] locked; dropping it unlocks.
pub struct MutexGuard<'m, 'a> {
    mutex: &'m Mutex<'a>,
}

impl<'a> Mutex<'a> {
    /// The mutex in the aligned word at `offset` of `mapping`.
    pub fn at(mapping: &Mapping<'a>, offset: usize) -> Mutex<'a> {
        mapping.check_writable();
        Mutex {
            state: mapping.word(offset),
        }
    }

    /// Takes the lock, sleeping while another process holds it.
    pub fn lock(&self) -> MutexGuard<'_, 'a> {
        // LAB sync: solution begins
        if self
            .state
            .compare_exchange(UNLOCKED, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            // Contended: mark it so, and sleep until we are the ones who
            // turned it from unlocked to (contended-)locked. Taking it as
            // CONTENDED rather than LOCKED may cost one needless wake-up
            // later, never a missed one.
            while self.state.swap(CONTENDED, Ordering::Acquire) != UNLOCKED {
                shm_wait(address(self.state), CONTENDED);
            }
        }
        // LAB sync: stub
        // LAB sync: end
        MutexGuard { mutex: self }
    }

    /// Takes the lock if it is free, without waiting.
    pub fn try_lock(&self) -> Option<MutexGuard<'_, 'a>> {
        self.state
            .compare_exchange(UNLOCKED, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| MutexGuard { mutex: self })
    }

    fn unlock(&self) {
        // LAB sync: solution begins
        if self.state.swap(UNLOCKED, Ordering::Release) == CONTENDED {
            shm_wake(address(self.state), 1);
        }
        // LAB sync: stub
        // self.state.store(UNLOCKED, Ordering::Release);
        // LAB sync: end
    }
}

impl Drop for MutexGuard<'_, '_> {
    fn drop(&mut self) {
        self.mutex.unlock();
    }
}

// ---------------------------------------------------------------------------
// Semaphore

/// A counting semaphore in two words of shared memory: the count, and how
/// many processes are about to sleep on it or sleep on it, not yet woken.
///
/// Memory ordering: `post` releases and a `wait` that takes the count
/// acquires, so what a process wrote before posting is visible to the one
/// whose wait it satisfied. The count and the waiter count are sequentially
/// consistent with each other: a poster that sees no waiter knows any
/// waiter still to come will see its increment and not sleep.
pub struct Semaphore<'a> {
    count: &'a AtomicU32,
    // LAB sync: solution begins
    waiters: &'a AtomicU32,
    // LAB sync: stub
    // LAB sync: end
}

impl<'a> Semaphore<'a> {
    /// The semaphore in the two aligned words at `offset` of `mapping`.
    pub fn at(mapping: &Mapping<'a>, offset: usize) -> Semaphore<'a> {
        mapping.check_writable();
        Semaphore {
            count: mapping.word(offset),
            // LAB sync: solution begins
            waiters: mapping.word(offset + 4),
            // LAB sync: stub
            // LAB sync: end
        }
    }

    /// Adds one to the count, waking a waiter if there is one.
    pub fn post(&self) {
        self.count.fetch_add(1, Ordering::SeqCst);
        // LAB sync: solution begins
        if self.waiters.load(Ordering::SeqCst) > 0 {
            // A waiter we woke waits no more: we take it off the count at
            // once, so that the posts that come before it runs (on one CPU,
            // all of a batch) do not enter the kernel for nothing.
            let woken = shm_wake(address(self.count), 1);
            if woken > 0 {
                self.waiters.fetch_sub(woken as u32, Ordering::SeqCst);
            }
        }
        // LAB sync: stub
        // LAB sync: end
    }

    /// Takes one from the count, sleeping while it is 0.
    pub fn wait(&self) {
        // LAB sync: solution begins
        while !self.try_wait() {
            self.waiters.fetch_add(1, Ordering::SeqCst);
            // Sleeps only if the count is still 0 when the kernel looks. A
            // waiter that was woken (0) was taken off the count by its
            // waker; one that was not (the count moved first) leaves it
            // itself. Either way each arrival is counted off exactly once.
            if shm_wait(address(self.count), 0) != 0 {
                self.waiters.fetch_sub(1, Ordering::SeqCst);
            }
        }
        // LAB sync: stub
        // let _ = self.try_wait();
        // LAB sync: end
    }

    /// Takes one from the count if it is above 0, without waiting.
    pub fn try_wait(&self) -> bool {
        let mut count = self.count.load(Ordering::Relaxed);
        while count > 0 {
            match self.count.compare_exchange_weak(
                count,
                count - 1,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => count = now,
            }
        }
        false
    }

    /// The count now (it may change at once).
    pub fn value(&self) -> u32 {
        self.count.load(Ordering::Relaxed)
    }
}

// ---------------------------------------------------------------------------
// Channel

/// Where a channel keeps its words in the object: the receiver's side
/// and the sender's side a cache line apart, then the bytes.
mod layout {
    /// Bytes taken so far (wrapping), written by the receiver.
    pub const HEAD: usize = 0;
    /// Bumped by the receiver after it takes bytes: the sender sleeps on it.
    pub const SPACE_BELL: usize = 4;
    /// Set by a sender about to sleep on SPACE_BELL.
    pub const SENDER_WAITING: usize = 8;
    /// Bytes put so far (wrapping), written by the sender.
    pub const TAIL: usize = 64;
    /// Bumped by the sender after it puts bytes or closes: the receiver
    /// sleeps on it.
    pub const DATA_BELL: usize = 68;
    /// Set by a receiver about to sleep on DATA_BELL.
    pub const RECEIVER_WAITING: usize = 72;
    /// Set by the sender's `close`.
    pub const CLOSED: usize = 76;
    /// The ring of bytes.
    pub const DATA: usize = 128;
}

/// The two ends of a single-producer, single-consumer byte channel that
/// fills a whole shared-memory object: a ring buffer of the largest power
/// of two that fits after its words (2 KiB in one page, 64 KiB in 128
/// KiB). One process sends, one receives; either may be any process that
/// maps the object read-write.
///
/// The sender waits only when the ring is full and the receiver only when
/// it is empty. Memory ordering: the sender stores `TAIL` with release
/// after writing the bytes, and the receiver loads it with acquire before
/// reading them (and the same for `HEAD` the other way), so each side
/// sees the other's bytes complete; the doorbell words make sleeping safe
/// (a side reads the bell, re-checks the ring, and sleeps only if the bell
/// has not rung since).
pub fn channel<'a>(mapping: &Mapping<'a>) -> (Sender<'a>, Receiver<'a>) {
    mapping.check_writable();
    let room = mapping.len() - layout::DATA;
    let capacity = 1 << room.ilog2();
    let ends = Ends {
        mapping: *mapping,
        capacity,
    };
    (Sender { ends }, Receiver { ends })
}

/// What both ends share: the mapping and the ring's size.
#[derive(Clone, Copy)]
struct Ends<'a> {
    mapping: Mapping<'a>,
    capacity: usize,
}

impl<'a> Ends<'a> {
    fn word(&self, offset: usize) -> &'a AtomicU32 {
        self.mapping.word(offset)
    }

    /// Rings `bell` and wakes the other side if it said it would sleep.
    ///
    /// The flag comes down before the bell rings, and the order matters.
    /// A sleeper reads the bell, then raises its flag, then looks at the
    /// ring once more, and sleeps only while the bell still reads the same
    /// (`sleep`). So a ring that takes the flag down rings after the
    /// sleeper read the bell: the sleeper's wait either finds the bell
    /// changed or is asleep when the wake-up comes. Rung first, the bell
    /// could be counted in the sleeper's read while the flag came down a
    /// moment later, the flag the sleeper had raised for this very sleep,
    /// and the wake-up went to nobody; the next ring, finding no flag,
    /// woke no one, and both sides slept for ever (shmbench's
    /// channel_messages hung once in about 20 runs at 2 CPUs; synctest's
    /// channel_small_messages checks it).
    fn ring(&self, bell: usize, waiting: usize) {
        let was_waiting = self.word(waiting).swap(0, Ordering::SeqCst) != 0;
        self.word(bell).fetch_add(1, Ordering::SeqCst);
        if was_waiting {
            shm_wake(address(self.word(bell)), 1);
        }
    }

    /// Sleeps on `bell` unless it has rung since `seen` or `ready()` now
    /// holds. The caller read `seen` before it looked at the ring; the flag
    /// goes up after that, and `ready()` looks again (see `ring`).
    fn sleep(&self, bell: usize, waiting: usize, seen: u32, ready: impl Fn() -> bool) {
        self.word(waiting).store(1, Ordering::SeqCst);
        if !ready() {
            shm_wait(address(self.word(bell)), seen);
        }
    }
}

/// The sending end of a [`channel`].
pub struct Sender<'a> {
    ends: Ends<'a>,
}

impl Sender<'_> {
    /// Sends all of `bytes`, waiting while the ring is full.
    pub fn send(&self, bytes: &[u8]) {
        let ends = &self.ends;
        let (head, tail) = (ends.word(layout::HEAD), ends.word(layout::TAIL));
        let mut sent = 0;
        while sent < bytes.len() {
            let bell = ends.word(layout::SPACE_BELL).load(Ordering::SeqCst);
            let put = tail.load(Ordering::Relaxed);
            let used = put.wrapping_sub(head.load(Ordering::Acquire)) as usize;
            let free = ends.capacity - used;
            if free == 0 {
                let full =
                    || put.wrapping_sub(head.load(Ordering::SeqCst)) as usize == ends.capacity;
                ends.sleep(layout::SPACE_BELL, layout::SENDER_WAITING, bell, || !full());
                continue;
            }
            let n = free.min(bytes.len() - sent);
            let start = put as usize % ends.capacity;
            let first = n.min(ends.capacity - start);
            ends.mapping
                .write(layout::DATA + start, &bytes[sent..sent + first]);
            ends.mapping
                .write(layout::DATA, &bytes[sent + first..sent + n]);
            tail.store(put.wrapping_add(n as u32), Ordering::SeqCst);
            ends.ring(layout::DATA_BELL, layout::RECEIVER_WAITING);
            sent += n;
        }
    }

    /// Says nothing more will come: the receiver, once it has taken what
    /// is in the ring, gets 0 from [`Receiver::recv`].
    pub fn close(&self) {
        self.ends.word(layout::CLOSED).store(1, Ordering::SeqCst);
        self.ends.ring(layout::DATA_BELL, layout::RECEIVER_WAITING);
    }
}

/// The receiving end of a [`channel`].
pub struct Receiver<'a> {
    ends: Ends<'a>,
}

impl Receiver<'_> {
    /// Receives up to `buffer.len()` bytes, waiting while the ring is
    /// empty; returns how many, or 0 once the sender has closed and the
    /// ring is empty.
    pub fn recv(&self, buffer: &mut [u8]) -> usize {
        let ends = &self.ends;
        let (head, tail) = (ends.word(layout::HEAD), ends.word(layout::TAIL));
        loop {
            let bell = ends.word(layout::DATA_BELL).load(Ordering::SeqCst);
            let taken = head.load(Ordering::Relaxed);
            let available = tail.load(Ordering::Acquire).wrapping_sub(taken) as usize;
            if available > 0 {
                let n = available.min(buffer.len());
                let start = taken as usize % ends.capacity;
                let first = n.min(ends.capacity - start);
                ends.mapping
                    .read(layout::DATA + start, &mut buffer[..first]);
                ends.mapping.read(layout::DATA, &mut buffer[first..n]);
                head.store(taken.wrapping_add(n as u32), Ordering::SeqCst);
                ends.ring(layout::SPACE_BELL, layout::SENDER_WAITING);
                return n;
            }
            if ends.word(layout::CLOSED).load(Ordering::Acquire) != 0 {
                // The sender wrote its last bytes before closing.
                if tail.load(Ordering::Acquire) == taken {
                    return 0;
                }
                continue;
            }
            let ready = || {
                tail.load(Ordering::SeqCst) != taken
                    || ends.word(layout::CLOSED).load(Ordering::SeqCst) != 0
            };
            ends.sleep(layout::DATA_BELL, layout::RECEIVER_WAITING, bell, ready);
        }
    }

    /// Fills all of `buffer`, waiting as [`Receiver::recv`] does; returns
    /// how many bytes it holds: `buffer.len()`, or fewer (0 at a message
    /// boundary) if the sender closed first.
    pub fn recv_exact(&self, buffer: &mut [u8]) -> usize {
        let mut filled = 0;
        while filled < buffer.len() {
            match self.recv(&mut buffer[filled..]) {
                0 => break,
                n => filled += n,
            }
        }
        filled
    }
}
