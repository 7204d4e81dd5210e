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
//!   the holder: the process's slot.
//! - dropping the guard clears the flag and, if anyone waits, wakes every
//!   waiter. A lock nobody waits for is released without `wakeup`, which
//!   would take every process lock: that saves a walk of the process table
//!   on each release, and lets the inode table release the sleep lock of
//!   an inode nobody else references while holding its own spin lock (see
//!   fs.rs and "Lock order" in proc.rs).
//!
//! Interrupts are on while a sleep lock is held, so interrupt handlers must
//! never take one. Only processes can: `lock` sleeps, which needs a process.
//!
//! ## No silent deadlock
//!
//! - **Taking a lock you hold is detected.** The process would sleep for
//!   a release only it could make, and with it everyone who later waits
//!   for the lock, or for the log operation it keeps open. `lock` checks
//!   the holder first and panics, naming the lock: it is a kernel bug.
//!   Code that could be led back to a lock it holds by what it reads from
//!   the disk (a directory entry naming the directory itself, say) must
//!   refuse that input before locking; fs.rs does ("Damaged disks").
//! - **Two processes never wait for each other.** A process holds at most
//!   one inode lock while it waits for another, and only in the order
//!   parent, then child, which a damaged disk (a directory cycle) can turn
//!   around; so where a child's lock is taken under its parent's, fs.rs
//!   uses `try_lock`, and on failure lets the parent go before it waits.
//!   Buffer locks come after inode locks, and a buffer's holder waits for
//!   nothing but the disk.
//!
//! So every wait ends, and a process killed while it waits for a sleep
//! lock leaves when the lock comes to it; that is why `lock` does not
//! return early for a kill (every caller would have to undo half a system
//! call).

use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};

use crate::proc::{self, WaitChannel};
use crate::spinlock::SpinLock;

/// Who holds a sleep lock: a process (its slot in the process table), or
/// kernel code that runs outside any process (the boot-time tests).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Owner {
    Process(usize),
    Kernel,
}

impl Owner {
    /// The caller.
    fn me() -> Owner {
        proc::myproc().map_or(Owner::Kernel, |p| Owner::Process(p.index()))
    }
}

struct Holder {
    /// Who holds the lock; `None` while it is free.
    owner: Option<Owner>,
    /// How many processes sleep in `lock`, waiting for it.
    waiters: u32,
}

pub struct SleepLock<T> {
    name: &'static str,
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
            name,
            holder: SpinLock::new(
                name,
                Holder {
                    owner: None,
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
    /// Panics if the caller holds it already (module doc).
    pub fn lock(&self) -> SleepLockGuard<'_, T> {
        let me = Owner::me();
        let mut holder = self.holder.lock();
        if holder.owner == Some(me) {
            drop(holder);
            panic!("sleep lock '{}' taken again by its holder", self.name);
        }
        while holder.owner.is_some() {
            // Counted under the spin lock, before sleeping: the releasing
            // process sees the count and wakes us.
            holder.waiters += 1;
            holder = proc::sleep(self.channel(), holder);
            holder.waiters -= 1;
        }
        holder.owner = Some(me);
        SleepLockGuard { lock: self }
    }

    /// The lock if it is free now; `None`, without waiting, if anyone
    /// (the caller included) holds it.
    pub fn try_lock(&self) -> Option<SleepLockGuard<'_, T>> {
        let mut holder = self.holder.lock();
        if holder.owner.is_some() {
            return None;
        }
        holder.owner = Some(Owner::me());
        Some(SleepLockGuard { lock: self })
    }

    /// Whether the caller holds the lock.
    #[cfg_attr(not(feature = "ktest"), allow(dead_code))] // asked by the in-kernel test
    pub fn holding(&self) -> bool {
        self.holder.lock().owner == Some(Owner::me())
    }
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
        holder.owner = None;
        if holder.waiters > 0 {
            proc::wakeup(self.lock.channel());
        }
    }
}

#[cfg(feature = "ktest")]
/// Test: a sleep lock hands out its data, knows its holder, refuses a
/// `try_lock` while held, and is free again after the guard drops.
pub fn test_sleep_lock() -> crate::verdict::TestResult {
    static LOCK: SleepLock<u32> = SleepLock::new("test sleeplock", 0);
    {
        let mut guard = LOCK.lock();
        *guard += 1;
        if !LOCK.holding() {
            return Err("holding() is false while the lock is held");
        }
        if LOCK.try_lock().is_some() {
            return Err("try_lock() took a lock that is held");
        }
    }
    match LOCK.try_lock() {
        Some(guard) if *guard == 1 => {}
        _ => return Err("try_lock() of a free lock failed"),
    }
    if LOCK.holding() {
        return Err("holding() is true after release");
    }
    if *LOCK.lock() != 1 {
        return Err("the data written under the lock was lost");
    }
    Ok(())
}

#[cfg(feature = "ktest")]
/// Deliberately takes a sleep lock twice in one process (or, as here at
/// boot, in the kernel outside any): must panic with its name, not sleep
/// forever.
pub fn relock() -> ! {
    static LOCK: SleepLock<()> = SleepLock::new("deliberately relocked", ());
    let _first = LOCK.lock();
    let _second = LOCK.lock();
    unreachable!("a sleep lock was taken twice by its holder");
}
