//! Spin locks that also keep interrupts off.
//!
//! `SpinLock<T>` owns the data it protects: the only way to reach the `T` is
//! through the guard that `lock()` returns, and dropping the guard releases
//! the lock. The spinning itself is `spin`'s `SpinMutex`; this type adds two rules
//! a kernel needs:
//!
//! 1. **Interrupts stay off on this CPU while any guard lives.** Otherwise an
//!    interrupt handler that wants the same lock would spin forever on the
//!    CPU that holds it. `push_off`/`pop_off` count the nesting per CPU and
//!    the outermost release turns interrupts back on only if they were on
//!    before the outermost acquire.
//! 2. **Acquiring a lock this CPU already holds panics**, naming the lock,
//!    instead of deadlocking silently.

use core::mem::ManuallyDrop;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicUsize, Ordering};

use spin::mutex::{SpinMutex, SpinMutexGuard};

use crate::arch;
use crate::cpu::mycpu;

/// Marks a lock as held by no CPU in `SpinLock::holder`.
const NO_CPU: usize = usize::MAX;

pub struct SpinLock<T> {
    name: &'static str,
    /// Index of the CPU holding the lock, or NO_CPU. Only for the "already
    /// held" check; mutual exclusion comes from `inner`.
    holder: AtomicUsize,
    inner: SpinMutex<T>,
}

pub struct SpinLockGuard<'a, T> {
    lock: &'a SpinLock<T>,
    /// Released by hand in `drop`, between clearing `holder` and `pop_off`.
    inner: ManuallyDrop<SpinMutexGuard<'a, T>>,
}

impl<T> SpinLock<T> {
    pub const fn new(name: &'static str, value: T) -> SpinLock<T> {
        SpinLock {
            name,
            holder: AtomicUsize::new(NO_CPU),
            inner: SpinMutex::new(value),
        }
    }

    /// Spins until the lock is free, then holds it until the guard drops.
    pub fn lock(&self) -> SpinLockGuard<'_, T> {
        push_off();
        if self.holding() {
            panic!("acquire: lock '{}' already held by this CPU", self.name);
        }
        let inner = self.inner.lock();
        self.holder.store(mycpu().index, Ordering::Relaxed);
        SpinLockGuard {
            lock: self,
            inner: ManuallyDrop::new(inner),
        }
    }

    /// Releases the lock without a guard. Only for the hand-over across a
    /// context switch (proc.rs), where the guard lives on another stack.
    ///
    /// # Safety
    /// This CPU must hold the lock through a guard that will never be
    /// dropped, and nothing may use the protected data afterwards through
    /// that guard.
    pub unsafe fn force_unlock(&self) {
        assert!(
            self.holding(),
            "force_unlock: lock '{}' not held",
            self.name
        );
        self.holder.store(NO_CPU, Ordering::Relaxed);
        // SAFETY: per the caller's promise, the lock is held and its guard
        // is abandoned.
        unsafe { self.inner.force_unlock() };
        pop_off();
    }

    /// Takes the lock if it is free, without spinning: `None` if another
    /// CPU, or this one, holds it. For code that must not wait, such as
    /// Ctrl-P's dump of the process table on a kernel that may be wedged.
    pub fn try_lock(&self) -> Option<SpinLockGuard<'_, T>> {
        push_off();
        let inner = if self.holding() {
            None
        } else {
            self.inner.try_lock()
        };
        let Some(inner) = inner else {
            pop_off();
            return None;
        };
        self.holder.store(mycpu().index, Ordering::Relaxed);
        Some(SpinLockGuard {
            lock: self,
            inner: ManuallyDrop::new(inner),
        })
    }

    /// Whether this CPU holds the lock. Call with interrupts off.
    pub fn holding(&self) -> bool {
        self.holder.load(Ordering::Relaxed) == mycpu().index
    }
}

impl<'a, T> SpinLockGuard<'a, T> {
    /// The lock this guard holds, so it can be taken again after the guard
    /// is given up (sleep does this).
    pub fn spinlock(&self) -> &'a SpinLock<T> {
        self.lock
    }
}

impl<T> Deref for SpinLockGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T> DerefMut for SpinLockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T> Drop for SpinLockGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.holder.store(NO_CPU, Ordering::Relaxed);
        // SAFETY: `inner` is dropped exactly once, here, and not used again.
        unsafe { ManuallyDrop::drop(&mut self.inner) };
        pop_off();
    }
}

/// Turns interrupts off on this CPU and counts one more level of "off".
/// Matched by `pop_off`; see the module doc.
pub fn push_off() {
    let were_on = arch::interrupts_enabled();
    arch::interrupts_off();
    let cpu = mycpu();
    if cpu.interrupt_off_depth.get() == 0 {
        cpu.interrupts_were_on.set(were_on);
    }
    cpu.interrupt_off_depth
        .set(cpu.interrupt_off_depth.get() + 1);
}

/// Undoes one `push_off`; the outermost one restores the interrupt flag.
pub fn pop_off() {
    assert!(!arch::interrupts_enabled(), "pop_off: interrupts are on");
    let cpu = mycpu();
    let depth = cpu.interrupt_off_depth.get();
    assert!(depth > 0, "pop_off: not pushed");
    cpu.interrupt_off_depth.set(depth - 1);
    if depth == 1 && cpu.interrupts_were_on.get() {
        arch::interrupts_on();
    }
}

#[cfg(feature = "ktest")]
/// Test: interrupts stay off while any guard lives and come back on only
/// when the outermost guard drops.
pub fn test_interrupt_nesting() -> crate::verdict::TestResult {
    static OUTER: SpinLock<u32> = SpinLock::new("test outer", 0);
    static INNER: SpinLock<u32> = SpinLock::new("test inner", 0);
    arch::interrupts_on();
    let mut outer = OUTER.lock();
    *outer += 1;
    if arch::interrupts_enabled() {
        return Err("interrupts on while a lock is held");
    }
    {
        let mut inner = INNER.lock();
        *inner += 1;
        if !INNER.holding() || !OUTER.holding() {
            return Err("holding() does not see a held lock");
        }
    }
    if arch::interrupts_enabled() {
        return Err("releasing the inner lock turned interrupts on");
    }
    drop(outer);
    if !arch::interrupts_enabled() {
        return Err("releasing the outer lock left interrupts off");
    }
    if OUTER.holding() {
        return Err("holding() after release");
    }
    Ok(())
}

#[cfg(feature = "ktest")]
/// Deliberately takes a lock twice on one CPU: must panic with its name.
pub fn relock() -> ! {
    static LOCK: SpinLock<()> = SpinLock::new("deliberately relocked", ());
    let _first = LOCK.lock();
    let _second = LOCK.lock();
    unreachable!("a lock was acquired twice by one CPU");
}
