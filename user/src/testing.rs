//! The harness that the test programs (`proctest`, `shmtest`, `usertests`)
//! share.
//!
//! A test program is a table of checks: each [`Check`] is a name and a
//! function that returns its verdict, a [`CheckResult`]: `Ok(())`, or
//! `Err(why)` saying in words what went wrong. [`run_checks`] runs the table
//! in order and prints `PASS name` or `FAIL name: why` for each, then the
//! program's summary line, `PROGRAM: N passed, M failed`. (`usertests` runs
//! each test in a child process of its own, and prints its own summary, so
//! it has its own runner; it uses the other pieces.)
//!
//! A check that expects a process to die cannot die itself: it does the
//! deed in a child made with [`spawn`] and looks at the status [`wait_for`]
//! reports ([`expect_killed`]). The kernel ends a process it kills — by
//! `kill`, or for a fault — with exit status -1; a child that survives
//! exits with some other status, and the check fails. A check that fails
//! half-way may leave children behind; [`run_checks`] reaps them
//! ([`reap_all`]) before the next check, so they are not taken for its own.
//!
//! Around the checks, [`countfree`] counts the free pages of memory before
//! and after; the last verdict, [`no_leaks`], fails if any went missing — a
//! zombie nobody reaped, memory an exited process did not give back. The
//! count is taken by a child that grabs every free page and gives them all
//! back by exiting. The test program's own heap must not grow between the
//! two counts, or its growth would look like a leak: [`reserve_heap`] grows
//! it beforehand.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::arch::asm;
use core::hint::black_box;
use core::ptr;

use crate::{PGSIZE, exit, fork, println, sbrk, wait};

/// A check's verdict: `Err` says what went wrong.
pub type CheckResult = Result<(), String>;

/// A named check.
pub type Check = (&'static str, fn() -> CheckResult);

/// Runs every check in `checks`, in order, between two counts of free
/// memory, then the `no_leaks` check on the two counts. Prints each verdict
/// and then `PROGRAM: N passed, M failed`; returns the exit status for it,
/// 0 only if every check passed.
pub fn run_checks(program: &str, checks: &[Check]) -> i32 {
    reserve_heap();
    let free_before = countfree();

    let mut passed = 0;
    let mut failed = 0;
    let mut report = |name: &str, result: CheckResult| match result {
        Ok(()) => {
            println!("PASS {name}");
            passed += 1;
        }
        Err(why) => {
            println!("FAIL {name}: {why}");
            failed += 1;
        }
    };
    for &(name, check) in checks {
        let result = check();
        // A failed check may leave children behind; they must not be
        // mistaken for the next check's.
        reap_all();
        report(name, result);
    }

    let free_after = countfree();
    report("no_leaks", no_leaks(free_before, free_after));

    println!("{program}: {passed} passed, {failed} failed");
    if failed == 0 { 0 } else { 1 }
}

/// Forks a child that runs `child` and exits with its result. Returns the
/// child's pid to the parent.
pub fn spawn(child: impl FnOnce() -> i32) -> Result<i32, String> {
    match fork() {
        0 => exit(child()),
        pid if pid < 0 => Err(String::from("fork failed")),
        pid => Ok(pid),
    }
}

/// Waits for a child, which must be `pid`, and returns its exit status.
pub fn wait_for(pid: i32) -> Result<i32, String> {
    let mut status = 0;
    match wait(Some(&mut status)) {
        reaped if reaped == pid => Ok(status),
        reaped => Err(format!("wait returned {reaped}, expected child {pid}")),
    }
}

/// Runs `deed` in a child, which must be killed doing it (status -1); the
/// child exits with `deed`'s result if it survives. `what` names the deed
/// in the verdict.
pub fn expect_killed(what: &str, deed: impl FnOnce() -> i32) -> CheckResult {
    let pid = spawn(deed)?;
    match wait_for(pid)? {
        -1 => Ok(()),
        status => Err(format!(
            "{what}: the child exited with status {status} instead of being killed"
        )),
    }
}

/// Reads the byte at `addr`. The load is inline assembly, so the compiler
/// assumes nothing about `addr`: not that it is non-null, nor mapped, nor
/// that the byte is the one it read last time (another process may share
/// the page). The checks use it where the kernel must kill the process, and
/// to read shared memory.
pub fn probe_read(addr: usize) -> u8 {
    let value: u8;
    // SAFETY: a load cannot break any invariant of this program's memory;
    // if `addr` is not readable the kernel ends the process here, which is
    // what the caller is testing.
    unsafe {
        asm!("mov {value}, byte ptr [{addr}]",
            addr = in(reg) addr, value = out(reg_byte) value,
            options(nostack, readonly, preserves_flags));
    }
    value
}

/// Writes `value` to `addr`, hidden from the compiler like [`probe_read`]:
/// the store happens, exactly once, even where the compiler could prove
/// that nothing reads it, or that `addr` is not mapped.
///
/// # Safety
/// If `addr` turns out to be writable, the write may overwrite anything, so
/// nothing that Rust code relies on may live at `addr` — because nothing of
/// the program is mapped there, or because the caller is a child that exits
/// right after.
pub unsafe fn probe_write(addr: usize, value: u8) {
    // SAFETY: the caller accepts that the byte at `addr` may change.
    unsafe {
        asm!("mov byte ptr [{addr}], {value}",
            addr = in(reg) addr, value = in(reg_byte) value,
            options(nostack, preserves_flags));
    }
}

/// Reaps every child, so that a failed check leaves no zombies.
pub fn reap_all() {
    while wait(None) >= 0 {}
}

/// Grows the heap ahead of the checks, so that the allocations they make
/// come from memory the heap already had when the first [`countfree`] ran:
/// otherwise the heap's growth would look like a leak. The allocator grows
/// the heap by 64 KiB at a time, far more than the checks ever hold.
pub fn reserve_heap() {
    drop(black_box(Vec::<u8>::with_capacity(PGSIZE)));
}

/// Grows the heap until `sbrk` fails, in chunks that halve from 1 MiB down
/// to a page, writing to each page as it goes so that the kernel has really
/// given it. Returns how many pages it got: all the free memory there was.
/// Only a process that is about to exit, or that gives the memory back
/// itself, should call this.
pub fn grab_all_memory() -> usize {
    let mut pages = 0;
    let mut chunk = 1 << 20;
    loop {
        // SAFETY: growing the heap maps fresh memory that nothing refers to.
        let start = unsafe { sbrk(chunk as isize) };
        if start == -1 {
            if chunk == PGSIZE {
                return pages;
            }
            chunk /= 2;
            continue;
        }
        for offset in (0..chunk).step_by(PGSIZE) {
            let byte: *mut u8 = ptr::with_exposed_provenance_mut(start as usize + offset);
            // SAFETY: sbrk just gave us [start, start + chunk), which nothing
            // else uses.
            unsafe { byte.write_volatile(1) };
        }
        pages += chunk / PGSIZE;
    }
}

/// Counts the free pages of memory: a child takes them all
/// ([`grab_all_memory`]) and reports how many in its exit status. Returns
/// -1 if that fails.
pub fn countfree() -> i32 {
    spawn(|| grab_all_memory() as i32)
        .and_then(wait_for)
        .unwrap_or(-1)
}

/// The `no_leaks` check: no memory was lost between the two counts.
pub fn no_leaks(before: i32, after: i32) -> CheckResult {
    if before > 0 && before == after {
        Ok(())
    } else {
        Err(format!(
            "{before} free pages before the checks, {after} after"
        ))
    }
}
