//! proctest: tests processes and their system calls from user space.
//!
//! The kernel's own tests (`ktest.rs`) check it from inside; this program
//! checks what a user program sees: `fork`, `exit`, `wait`, `kill`, `sbrk`,
//! `sleep`, `uptime`, `exec` and `write`, the memory protection around a
//! process (page 0, the stack's guard page, the kernel half), and the
//! kernel's refusal of bad pointers. A test run boots with
//! `init proctest`, and `init` exits with our status.
//!
//! Each check is a function in [`CHECKS`] returning `Ok(())` or why it
//! failed; [`ulib::testing::run_checks`] prints `PASS name` or
//! `FAIL name: why` for each, then `proctest: N passed, M failed`, and the
//! program exits with 0 only if all passed.
//!
//! A check that expects a process to die runs the deed in a forked child and
//! looks at how the child ended: a process the kernel kills — by `kill` or
//! for a fault — exits with status -1. Checks that could hang on a broken
//! kernel are bounded where possible: children that are meant to be killed
//! give up and exit by themselves after a while, so a check that fails
//! reports it instead of waiting forever.
//!
//! Around the checks, [`countfree`](ulib::testing::countfree) measures free
//! memory before and after;
//! the last check, `no_leaks`, fails if any pages went missing — a zombie
//! nobody reaped, or memory an exited process did not give back.

#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::hint::black_box;
use core::ptr;

use abi::syscall::{MAXARG, SYS_EXEC, SYS_WAIT, SYS_WRITE};
use ulib::testing::{
    Check, CheckResult, expect_killed, probe_read, probe_write, reap_all, run_checks, spawn,
    wait_for,
};
use ulib::usys::{syscall1, syscall2, syscall3};
use ulib::{
    Args, PGSIZE, SHMBASE, USER_STACK_PAGES, eprintln, exec, exec_args, exit, fork, kill, sbrk,
    sleep, uptime, wait,
};

ulib::entry!(main);

/// Every check, in the order they run.
const CHECKS: &[Check] = &[
    ("fork_wait_status", fork_wait_status),
    ("many_children", many_children),
    ("reparent_to_init", reparent_to_init),
    ("kill_sleeping", kill_sleeping),
    ("kill_running", kill_running),
    ("kill_bad_pid", kill_bad_pid),
    ("sbrk_grow_shrink", sbrk_grow_shrink),
    ("sbrk_shmbase", sbrk_shmbase),
    ("stack_guard", stack_guard),
    ("null_dereference", null_dereference),
    ("kernel_memory", kernel_memory),
    ("sleep_uptime", sleep_uptime),
    ("bad_pointers", bad_pointers),
    ("fork_until_full", fork_until_full),
    ("exec_bad_program", exec_bad_program),
    ("exec_maxarg", exec_maxarg),
];

/// The first argument with which `exec_maxarg` runs this program again:
/// the program then only checks how many arguments it got.
const COUNT_ARGS: &str = "--count-args";

fn main(args: Args) -> i32 {
    if args.get(1) == Some(COUNT_ARGS.as_bytes()) {
        return if args.len() == MAXARG { 0 } else { 1 };
    }
    // We take no other arguments. Checking that also catches an `exec` that
    // wrongly accepted one of bad_pointers' broken argv arrays: the program
    // it started stops here instead of running every check again.
    if args.len() != 1 {
        eprintln!("usage: proctest");
        return 2;
    }

    run_checks("proctest", CHECKS)
}

// ---------------------------------------------------------------------------
// Helpers.

/// Checks that this process has no children left: `wait` returns -1.
fn expect_no_children() -> CheckResult {
    match wait(None) {
        -1 => Ok(()),
        reaped => Err(format!("wait returned {reaped} when no child was left")),
    }
}

// ---------------------------------------------------------------------------
// The checks.

/// A child's exit status reaches its parent's `wait`, once.
fn fork_wait_status() -> CheckResult {
    let pid = spawn(|| 42)?;
    let status = wait_for(pid)?;
    if status != 42 {
        return Err(format!("child exited with 42, wait reported {status}"));
    }
    expect_no_children()
}

/// Twenty children at once: each is reaped once, with its own status.
fn many_children() -> CheckResult {
    const CHILDREN: i32 = 20;
    // pids[i] is child i's pid until it is reaped, then None.
    let mut pids = Vec::new();
    for i in 0..CHILDREN {
        match spawn(move || i) {
            Ok(pid) => pids.push(Some(pid)),
            Err(why) => {
                reap_all();
                return Err(format!("child {i}: {why}"));
            }
        }
    }
    for _ in 0..CHILDREN {
        let mut status = 0;
        let reaped = wait(Some(&mut status));
        let Some(i) = pids.iter().position(|&pid| pid == Some(reaped)) else {
            reap_all();
            return Err(format!(
                "wait returned {reaped}, not a child still waiting to be reaped"
            ));
        };
        pids[i] = None;
        if status != i as i32 {
            reap_all();
            return Err(format!("child {i} exited with {i}, wait reported {status}"));
        }
    }
    expect_no_children()
}

/// An orphan goes to init, not to its grandparent.
fn reparent_to_init() -> CheckResult {
    let child = spawn(|| match fork() {
        0 => {
            sleep(5);
            0
        }
        grandchild if grandchild < 0 => 1,
        _ => 0, // Exit at once, orphaning the grandchild.
    })?;
    match wait_for(child)? {
        0 => expect_no_children(),
        status => Err(format!("child could not fork (status {status})")),
    }
}

/// `kill` wakes a sleeping process, which then exits with -1.
fn kill_sleeping() -> CheckResult {
    const NAP: i32 = 1000;
    let pid = spawn(|| {
        sleep(NAP);
        0
    })?;
    sleep(2);
    let start = uptime();
    if kill(pid) != 0 {
        wait_for(pid)?;
        return Err(format!("kill({pid}) failed"));
    }
    let status = wait_for(pid)?;
    let took = uptime() - start;
    if status != -1 {
        return Err(format!("killed child exited with status {status}"));
    }
    if took >= NAP / 10 {
        return Err(format!("the killed child took {took} ticks to die"));
    }
    Ok(())
}

/// `kill` stops a process that never makes a system call: the kernel must
/// notice at a timer interrupt.
fn kill_running() -> CheckResult {
    let pid = spawn(|| {
        // Spin without system calls. So that a kernel that never kills us
        // fails this check instead of hanging it, look at the clock now and
        // then (a few times a second under emulation) and give up after ten
        // seconds.
        let deadline = uptime() + 1000;
        while uptime() < deadline {
            let mut spins = 0u64;
            while black_box(spins) < 1 << 22 {
                spins += 1;
            }
        }
        0
    })?;
    sleep(2);
    if kill(pid) != 0 {
        wait_for(pid)?;
        return Err(format!("kill({pid}) failed"));
    }
    match wait_for(pid)? {
        -1 => Ok(()),
        status => Err(format!("child spun on with kill pending; status {status}")),
    }
}

/// `kill` of a pid that no process has fails.
fn kill_bad_pid() -> CheckResult {
    for pid in [-1, 1_000_000] {
        if kill(pid) != -1 {
            return Err(format!("kill({pid}) did not return -1"));
        }
    }
    Ok(())
}

/// `sbrk` grows the heap with zeroed, usable memory, and shrinking it unmaps
/// that memory again.
fn sbrk_grow_shrink() -> CheckResult {
    const GROW: usize = 5 * PGSIZE;
    // SAFETY: sbrk(0) only reports the break.
    let old = unsafe { sbrk(0) };
    // SAFETY: growing maps fresh memory nothing uses.
    let grown = unsafe { sbrk(GROW as isize) };
    if grown != old {
        return Err(format!(
            "sbrk({GROW}) returned {grown:#x}, the break was {old:#x}"
        ));
    }
    {
        let start: *mut u8 = ptr::with_exposed_provenance_mut(old as usize);
        // SAFETY: the kernel just mapped [old, old + GROW) for us; the
        // allocator never saw it, so nothing else refers to it. The borrow
        // ends before the memory is given back.
        let memory = unsafe { core::slice::from_raw_parts_mut(start, GROW) };
        if let Some(i) = memory.iter().position(|&b| b != 0) {
            return Err(format!("new heap byte {i} is not zero"));
        }
        for (i, byte) in memory.iter_mut().enumerate() {
            *byte = i as u8 ^ 0xA5;
        }
        if let Some(i) = (0..GROW).find(|&i| black_box(&memory[i]) != &(i as u8 ^ 0xA5)) {
            return Err(format!("heap byte {i} did not keep its value"));
        }
    }
    // SAFETY: this gives back exactly the memory grown above, which nothing
    // refers to any more.
    let shrunk = unsafe { sbrk(-(GROW as isize)) };
    if shrunk != old + GROW as isize {
        return Err(format!(
            "sbrk(-{GROW}) returned {shrunk:#x}, expected {:#x}",
            old + GROW as isize
        ));
    }
    // SAFETY: sbrk(0) only reports the break.
    let now = unsafe { sbrk(0) };
    if now != old {
        return Err(format!(
            "the break is {now:#x} after shrinking, expected {old:#x}"
        ));
    }
    // The last byte grown is on a page that shrinking must have unmapped.
    let freed = old as usize + GROW - 1;
    expect_killed("touching freed heap memory", || {
        // SAFETY: this child exits right after; the address is not ours.
        unsafe { probe_write(freed, 0x5a) };
        0
    })
}

/// The heap cannot grow into the shared-memory window, nor shrink into the
/// program.
fn sbrk_shmbase() -> CheckResult {
    // In a child, in case a broken kernel does either: its exit status says
    // which went wrong.
    let pid = spawn(|| {
        // SAFETY: sbrk(0) only reports the break.
        let brk = unsafe { sbrk(0) };
        let too_far = (SHMBASE - brk as usize + PGSIZE) as isize;
        // SAFETY: growing is sound; it should fail anyway.
        if unsafe { sbrk(too_far) } != -1 {
            return 1;
        }
        // SAFETY: as above.
        if unsafe { sbrk(0) } != brk {
            return 2;
        }
        // SAFETY: this would unmap the whole program, and must fail; if it
        // does not, this child dies at once, which the parent reports.
        if unsafe { sbrk(-brk) } != -1 {
            return 3;
        }
        // SAFETY: as above.
        if unsafe { sbrk(0) } != brk {
            return 4;
        }
        0
    })?;
    match wait_for(pid)? {
        0 => Ok(()),
        1 => Err(String::from("sbrk past SHMBASE succeeded")),
        2 => Err(String::from("a failed sbrk past SHMBASE moved the break")),
        3 => Err(String::from("sbrk down to address 0 succeeded")),
        4 => Err(String::from(
            "a failed sbrk down to address 0 moved the break",
        )),
        status => Err(format!("child died testing sbrk (status {status})")),
    }
}

/// Recurses, each frame holding 256 bytes, until the stack overflows into
/// the guard page. Returns 0 — which makes the check fail — if it got well
/// below the whole stack (from `top`) without a fault.
#[inline(never)]
fn recurse(top: usize) -> i32 {
    let mut frame = [0u8; 256];
    // black_box makes the compiler really put the array on the stack.
    black_box(&mut frame);
    let depth = top.saturating_sub(frame.as_ptr().addr());
    if depth > (USER_STACK_PAGES + 4) * PGSIZE {
        return 0;
    }
    // Using the result keeps this from becoming a loop.
    black_box(recurse(top)) + 1
}

/// The page below the stack is unmapped, so overflowing the stack faults.
fn stack_guard() -> CheckResult {
    expect_killed("unbounded recursion", || {
        let top = 0u8;
        recurse((&raw const top).addr())
    })?;
    expect_killed("writing just below the stack", || {
        // We are a few frames from the top of the stack, so 16 pages and a
        // byte further down is inside the guard page.
        let local = 0u8;
        let below = (&raw const local).addr() - USER_STACK_PAGES * PGSIZE - 1;
        // SAFETY: this child exits right after; the address is not ours.
        unsafe { probe_write(below, 0x5a) };
        0
    })
}

/// Page 0 is never mapped.
fn null_dereference() -> CheckResult {
    expect_killed("reading address 0", || probe_read(0).into())?;
    expect_killed("writing address 0", || {
        // SAFETY: this child exits right after; address 0 is not ours.
        unsafe { probe_write(0, 0x5a) };
        0
    })
}

/// The kernel's half of the address space is closed to user code.
fn kernel_memory() -> CheckResult {
    for addr in [0xFFFF_8000_0000_0000, 0xFFFF_FFFF_8010_0000] {
        expect_killed(&format!("reading {addr:#x}"), || probe_read(addr).into())?;
    }
    Ok(())
}

/// `sleep` sleeps as long as asked (the clock ticks 100 times a second),
/// and not much longer.
fn sleep_uptime() -> CheckResult {
    let start = uptime();
    sleep(50);
    let slept = uptime() - start;
    if (50..=75).contains(&slept) {
        Ok(())
    } else {
        Err(format!("sleep(50) took {slept} ticks"))
    }
}

/// Pointers the kernel must refuse: null, the kernel half, and a user
/// address nothing is mapped at.
const BAD_POINTERS: [(&str, usize); 3] = [
    ("null", 0),
    ("kernel", 0xFFFF_8000_0000_0000),
    ("unmapped", 0x3000_0000),
];

/// Every call that takes a pointer refuses bad ones with -1, and is not
/// hurt by them.
fn bad_pointers() -> CheckResult {
    for (what, pointer) in BAD_POINTERS {
        // SAFETY: the kernel only reads through the pointer, if at all.
        let written = unsafe { syscall3(SYS_WRITE, 1, pointer, 10) };
        if written != -1 {
            return Err(format!("write from a {what} pointer returned {written}"));
        }
    }
    // Ranges that start in user memory but do not end there.
    for (pointer, len) in [(0x7FFF_FFFF_FFF0, 32), (0x1000, usize::MAX)] {
        // SAFETY: as above.
        let written = unsafe { syscall3(SYS_WRITE, 1, pointer, len) };
        if written != -1 {
            return Err(format!(
                "write of {len:#x} bytes at {pointer:#x} returned {written}"
            ));
        }
    }

    // A null status pointer is how wait(None) says "don't store it", so
    // only the other two are bad here.
    for (what, pointer) in BAD_POINTERS
        .into_iter()
        .filter(|&(_, pointer)| pointer != 0)
    {
        // The child is a zombie by the time wait fails to copy out its
        // status; the kernel must keep it for the next wait.
        let pid = spawn(|| 5)?;
        sleep(2);
        // SAFETY: the kernel must refuse to write through the pointer, none
        // of which points at memory this program uses.
        let reaped = unsafe { syscall1(SYS_WAIT, pointer) };
        if reaped != -1 {
            reap_all();
            return Err(format!(
                "wait with a {what} status pointer returned {reaped}"
            ));
        }
        match wait_for(pid) {
            Ok(5) => {}
            Ok(status) => return Err(format!("child exited with 5, wait reported {status}")),
            Err(why) => return Err(format!("after wait with a {what} pointer: {why}")),
        }
    }

    // exec, in a child: a kernel that wrongly went ahead would replace it.
    // The child exits with FIRST_EXEC_CASE + the number of the first case
    // that did not return -1, or 0 if all did.
    let pid = spawn(exec_bad_pointers)?;
    match wait_for(pid)? {
        0 => Ok(()),
        status
            if (FIRST_EXEC_CASE..FIRST_EXEC_CASE + EXEC_FORMS.len() as i32 * 3)
                .contains(&status) =>
        {
            let case = (status - FIRST_EXEC_CASE) as usize;
            let (form, (what, _)) = (EXEC_FORMS[case / 3], BAD_POINTERS[case % 3]);
            Err(format!("{form} with a {what} pointer did not return -1"))
        }
        status => Err(format!("child testing exec ended with status {status}")),
    }
}

/// How `exec_bad_pointers` numbers its cases in its exit status: case
/// `form * 3 + pointer` exits with `FIRST_EXEC_CASE` plus that.
const FIRST_EXEC_CASE: i32 = 10;

/// Where the bad pointer goes in each form of exec tried.
const EXEC_FORMS: [&str; 3] = [
    "exec(BAD, argv)",
    "exec(\"proctest\", BAD)",
    "exec(\"proctest\", [\"proctest\", BAD])",
];

/// The exec half of [`bad_pointers`], run in a child.
fn exec_bad_pointers() -> i32 {
    let name = c"proctest".as_ptr().cast::<u8>();
    let good_argv = [name, ptr::null()];
    for (i, &(_, pointer)) in BAD_POINTERS.iter().enumerate() {
        let bad_argv = [name, ptr::with_exposed_provenance(pointer), ptr::null()];
        for form in 0..EXEC_FORMS.len() {
            let result = match form {
                // SAFETY: exec only reads through its pointers; were it to
                // succeed, this program would be gone.
                0 => unsafe { syscall2(SYS_EXEC, pointer, good_argv.as_ptr().addr()) },
                // SAFETY: as above.
                1 => unsafe { syscall2(SYS_EXEC, name.addr(), pointer) },
                // A null string pointer is not bad in argv: it ends the list,
                // and this exec would rightly succeed.
                _ if pointer == 0 => continue,
                _ => exec(c"proctest", &bad_argv) as isize,
            };
            if result != -1 {
                return FIRST_EXEC_CASE + (form * 3 + i) as i32;
            }
        }
    }
    0
}

/// Forking stops, with -1, when the process table is full; reaping frees
/// the slots again.
fn fork_until_full() -> CheckResult {
    // The process table has 64 slots, and init and we hold two of them.
    const MAX_FORKS: usize = 64;
    let mut pids = Vec::with_capacity(MAX_FORKS);
    while pids.len() < MAX_FORKS {
        match fork() {
            0 => exit(0),
            pid if pid < 0 => break,
            pid => pids.push(pid),
        }
    }
    let forked = pids.len();
    for _ in 0..forked {
        let reaped = wait(None);
        let Some(i) = pids.iter().position(|&pid| pid == reaped) else {
            reap_all();
            return Err(format!("wait returned {reaped}, not an unreaped child"));
        };
        pids.swap_remove(i);
    }
    expect_no_children()?;
    if !(10..MAX_FORKS).contains(&forked) {
        return Err(format!("fork failed only after {forked} children"));
    }
    let pid = spawn(|| 0).map_err(|why| format!("after reaping them all: {why}"))?;
    wait_for(pid)?;
    Ok(())
}

/// exec of a program that does not exist fails and returns.
/// exec passes up to MAXARG arguments (param.rs): exactly MAXARG arrive,
/// one more is refused with -1 and the caller carries on.
fn exec_maxarg() -> CheckResult {
    let mut argv: Vec<&str> = Vec::new();
    argv.push("proctest");
    argv.push(COUNT_ARGS);
    while argv.len() < MAXARG {
        argv.push("x");
    }
    let pid = spawn(|| exec_args("proctest", &argv))?;
    match wait_for(pid)? {
        0 => {}
        1 => {
            return Err(format!(
                "the program started with {MAXARG} arguments miscounted them"
            ));
        }
        status => {
            return Err(format!(
                "exec with {MAXARG} arguments failed (status {status})"
            ));
        }
    }
    argv.push("one-too-many");
    let pid = spawn(|| match exec_args("proctest", &argv) {
        -1 => 7,
        _ => 1,
    })?;
    match wait_for(pid)? {
        7 => Ok(()),
        status => Err(format!(
            "exec with {} arguments did not return -1 (status {status})",
            MAXARG + 1
        )),
    }
}

fn exec_bad_program() -> CheckResult {
    let pid = spawn(
        || match exec_args("no-such-program", &["no-such-program"]) {
            -1 => 0,
            _ => 1,
        },
    )?;
    match wait_for(pid)? {
        0 => Ok(()),
        status => Err(format!("child ended with status {status} after the exec")),
    }
}
