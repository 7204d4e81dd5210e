//! Sleep locks: locks held for a long time, by a process that may sleep
//! while holding one (waiting for the disk, say).
//!
//! A `SpinLock` keeps interrupts off and other CPUs spinning for as long as
//! it is held, which is fine for a few instructions and wrong for a disk
//! read. A `SleepLock<T>` instead puts a waiting process to sleep and lets
//! the CPU run something else. Inside, it is a flag guarded by a spin lock,
//! plus sleep/wakeup on the lock's address:
//!
//! - `lock` takes the spin lock; while the flag is set it sleeps (which
//!   releases the spin lock atomically); then it sets the flag and records
//!   the holder's pid.
//! - dropping the guard clears the flag and, if anyone waits, wakes every
//!   waiter. A lock nobody waits for is released without `wakeup`, which
//!   would take every process lock: that saves a walk of the process table
//!   on each release, and lets the inode table release the sleep lock of
//!   an inode nobody else references while holding its own spin lock (see
//!   fs.rs and "Lock order" in proc.rs).
//!
//! Interrupts are on while a sleep lock is held, so interrupt handlers must
//! never take one. Only processes can: `lock` sleeps, which needs a process.

use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};

use crate::proc::{self, WaitChannel};
use crate::spinlock::SpinLock;

struct Holder {
    locked: bool,
    /// The holder's pid, for `holding` and for debugging.
    pid: i32,
    /// How many processes sleep in `lock`, waiting for it.
    waiters: u32,
}

pub struct SleepLock<T> {
    holder: SpinLock<Holder>,
    data: UnsafeCell<T>,
}

// SAFETY: `data` is only reached through a guard, and only one guard exists
// at a time (the `locked` flag, under the spin lock, says who has it).
unsafe impl<T: Send> Sync for SleepLock<T> {}

pub struct SleepLockGuard<'a, T> {
    lock: &'a SleepLock<T>,
}

impl<T> SleepLock<T> {
    pub const fn new(name: &'static str, value: T) -> SleepLock<T> {
        SleepLock {
            holder: SpinLock::new(
                name,
                Holder {
                    locked: false,
                    pid: 0,
                    waiters: 0,
                },
            ),
            data: UnsafeCell::new(value),
        }
    }

    fn channel(&self) -> WaitChannel {
        WaitChannel::of(self)
    }

    /// Sleeps until the lock is free, then holds it until the guard drops.
    pub fn lock(&self) -> SleepLockGuard<'_, T> {
        let mut holder = self.holder.lock();
        while holder.locked {
            // Counted under the spin lock, before sleeping: the releasing
            // process sees the count and wakes us.
            holder.waiters += 1;
            holder = proc::sleep(self.channel(), holder);
            holder.waiters -= 1;
        }
        holder.locked = true;
        holder.pid = current_pid();
        SleepLockGuard { lock: self }
    }

    /// Whether the calling process holds the lock.
    #[cfg_attr(not(feature = "ktest"), allow(dead_code))] // asked by the in-kernel test
    pub fn holding(&self) -> bool {
        let holder = self.holder.lock();
        holder.locked && holder.pid == current_pid()
    }
}

/// The calling process's pid, or 0 in kernel code that runs outside any
/// process (boot-time tests).
fn current_pid() -> i32 {
    proc::myproc().map_or(0, |p| p.lock.lock().pid)
}

impl<T> Deref for SleepLockGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard exists, so this process holds the lock and no
        // one else can reach the data.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for SleepLockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in deref; `&mut self` makes this the only reference.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for SleepLockGuard<'_, T> {
    fn drop(&mut self) {
        let mut holder = self.lock.holder.lock();
        holder.locked = false;
        holder.pid = 0;
        if holder.waiters > 0 {
            proc::wakeup(self.lock.channel());
        }
    }
}

#[cfg(feature = "ktest")]
/// Test: a sleep lock hands out its data, knows its holder, and is free
/// again after the guard drops.
pub fn test_sleep_lock() -> crate::verdict::TestResult {
    static LOCK: SleepLock<u32> = SleepLock::new("test sleeplock", 0);
    {
        let mut guard = LOCK.lock();
        *guard += 1;
        if !LOCK.holding() {
            return Err("holding() is false while the lock is held");
        }
    }
    if LOCK.holding() {
        return Err("holding() is true after release");
    }
    if *LOCK.lock() != 1 {
        return Err("the data written under the lock was lost");
    }
    Ok(())
}
