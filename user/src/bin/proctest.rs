//! proctest: tests processes and their system calls from user space.
//!
//! The kernel's own tests (`ktest.rs`) check it from inside; this program
//! checks what a user program sees: `fork`, `exit`, `wait`, `kill`, `sbrk`,
//! `sleep`, `uptime`, `tsc_hz`, `exec`'s arguments and `write` to the console, the
//! memory protection around a process (page 0, the stack's guard page, the
//! kernel half), the kernel's refusal of bad pointers to the process
//! calls (`usertests` does the file system's), what the system-call
//! boundary keeps (registers and flags), and how pipes wait: writes
//! bigger than the buffer, readers and writers killed while the other side
//! waits for them, and many of each at once (`usertests` checks pipes'
//! data and closing). A test run boots with
//! `init proctest`, and `init` exits with our status.
//!
//! Each check is a function in [`CHECKS`] returning `Ok(())` or why it
//! failed; [`ulib::testing::run_checks`] prints `PASS name` or
//! `FAIL name: why` for each, then `proctest: N passed, M failed`, and the
//! program exits with 0 only if all passed. Around the checks it counts
//! the free memory; the last check, `no_leaks`, fails if any pages went
//! missing — a zombie nobody reaped, or memory an exited process did not
//! give back.
//!
//! A check that expects a process to die runs the deed in a forked child and
//! looks at how the child ended: a process the kernel kills — by `kill` or
//! for a fault — exits with status -1. A check whose deed changes the
//! process itself (its heap) runs it in a child too
//! ([`in_child`](ulib::testing::in_child)), which sends back why it failed.
//! Checks that could hang on a broken kernel are bounded where possible:
//! children that are meant to be killed give up and exit by themselves
//! after a while, so a check that fails reports it instead of waiting
//! forever.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::ffi::CString;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::hint::black_box;
use core::ptr;

use abi::fcntl::{O_CREATE, O_RDONLY, O_RDWR, PIPE_BUF, PIPESIZE};
use abi::memlayout::{DIRECT_MAP, KERNBASE};
use abi::syscall::{MAXARG, SYS_EXEC, SYS_FORK, SYS_GETPID, SYS_SLEEP, SYS_WAIT, SYS_WRITE};
use ulib::testing::{
    BAD_POINTERS, Check, CheckResult, current_break, expect_killed, expect_status, grow_heap,
    in_child, make_file, probe_read, probe_write, read_file, run_checks, spawn, spawn_check,
    wait_all, wait_for,
};
use ulib::usys::{syscall1, syscall2, syscall3};
use ulib::{
    Args, PGSIZE, SHMBASE, USER_STACK_PAGES, close, ensure, ensure_eq, eprintln, exec, exec_args,
    exit, fork, getpid, kill, open, pipe, read, sbrk, sleep, tsc_hz, unlink, uptime, wait, write,
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
    ("syscall_keeps_registers", syscall_keeps_registers),
    ("syscall_keeps_flags", syscall_keeps_flags),
    ("sbrk_grow_shrink", sbrk_grow_shrink),
    ("sbrk_shmbase", sbrk_shmbase),
    ("stack_guard", stack_guard),
    ("null_dereference", null_dereference),
    ("kernel_memory", kernel_memory),
    ("sleep_uptime", sleep_uptime),
    ("tsc_hz_stable", tsc_hz_stable),
    ("bad_pointers", bad_pointers),
    ("fork_until_full", fork_until_full),
    ("exec_maxarg", exec_maxarg),
    ("pipe_big_write_slow_reader", pipe_big_write_slow_reader),
    (
        "pipe_reader_killed_writer_waits",
        pipe_reader_killed_writer_waits,
    ),
    ("pipe_waiting_reader_killed", pipe_waiting_reader_killed),
    ("pipe_writer_killed_mid_copy", pipe_writer_killed_mid_copy),
    ("pipe_many_readers_writers", pipe_many_readers_writers),
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

/// Checks that this process has no children left: `wait` returns -1.
fn expect_no_children() -> CheckResult {
    let reaped = wait(None);
    ensure!(
        reaped == -1,
        "wait returned {reaped} when no child was left"
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// fork, exit, wait.

/// A child's exit status reaches its parent's `wait`, once, time after
/// time.
fn fork_wait_status() -> CheckResult {
    for status in 0..100 {
        let pid = spawn(move || status)?;
        expect_status(pid, status)?;
        expect_no_children()?;
    }
    Ok(())
}

/// Forty children at once, each making a few system calls on a file of its
/// own: each is reaped once, with its own status.
fn many_children() -> CheckResult {
    const CHILDREN: i32 = 40;
    let mut pids = Vec::new();
    for i in 0..CHILDREN {
        let child = move || if file_calls(i).is_ok() { i } else { -2 };
        pids.push(spawn(child).map_err(|why| format!("child {i}: {why}"))?);
    }
    for (i, status) in wait_all(&pids)?.into_iter().enumerate() {
        ensure!(status == i as i32, "child {i} exited with status {status}");
    }
    expect_no_children()
}

/// What each of [`many_children`]' children does: makes the file `mpI`
/// holding its pid, reads it back after a tick, and removes it.
fn file_calls(i: i32) -> CheckResult {
    let name = CString::new(format!("mp{i}")).expect("no NUL");
    let pid = getpid().to_le_bytes();
    make_file(&name, &pid)?;
    sleep(1);
    let data = read_file(&name)?;
    ensure!(unlink(&name) == 0);
    ensure!(data == pid, "the file changed");
    Ok(())
}

/// An orphan goes to init, not to its grandparent: time after time, a
/// child forks a grandchild and exits at once, and our `wait` sees only the
/// child. The first grandchild sleeps a while, so that it surely outlives
/// its parent.
fn reparent_to_init() -> CheckResult {
    for round in 0..200 {
        let child = spawn(move || match fork() {
            0 => {
                if round == 0 {
                    sleep(5);
                }
                0
            }
            grandchild if grandchild < 0 => 1,
            _ => 0, // Exit at once, orphaning the grandchild.
        })?;
        let status = wait_for(child)?;
        ensure!(status == 0, "the child could not fork (status {status})");
        expect_no_children()?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// kill.

/// `kill` wakes a sleeping process, which then exits with -1.
///
/// The child is reaped before its nap could have ended: `sleep` and
/// `uptime` count the same ticks, and the nap began after `spawned`, so a
/// child that slept it out could not be reaped before `spawned + NAP`.
/// That is an order of events on one clock, not a rate: a host that
/// starves the CPUs delays the ticks and the nap alike.
fn kill_sleeping() -> CheckResult {
    const NAP: i32 = 1000;
    let spawned = uptime();
    let pid = spawn(|| {
        sleep(NAP);
        0
    })?;
    sleep(2);
    ensure!(kill(pid) == 0, "kill({pid}) failed");
    let status = wait_for(pid)?;
    let reaped = uptime();
    ensure!(status == -1, "killed child exited with status {status}");
    ensure!(
        reaped < spawned + NAP,
        "the killed child slept out its nap of {NAP} ticks"
    );
    Ok(())
}

/// `kill` stops a running process: one that never makes a system call
/// (the kernel must notice at a timer interrupt), and, fifty times over,
/// one that makes nothing but system calls (the kernel notices on its way
/// back to user mode).
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
    ensure!(kill(pid) == 0, "kill({pid}) failed");
    let status = wait_for(pid)?;
    ensure!(
        status == -1,
        "child spun on with kill pending; status {status}"
    );

    for round in 0..50 {
        let pid = spawn(|| {
            // Gives up after ten seconds, like the spinner above.
            let deadline = uptime() + 1000;
            while uptime() < deadline {
                getpid();
            }
            0
        })?;
        sleep(1);
        ensure!(kill(pid) == 0, "round {round}: kill({pid}) failed");
        let status = wait_for(pid)?;
        ensure!(
            status == -1,
            "round {round}: a killed child making system calls exited with status {status}"
        );
    }
    Ok(())
}

/// `kill` of a pid that no process has fails.
fn kill_bad_pid() -> CheckResult {
    for pid in [-1, 1_000_000] {
        ensure!(kill(pid) == -1, "kill({pid}) did not return -1");
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// The system-call boundary.
//
// The kernel goes back to user mode with `sysretq` or `iretq` (see
// kernel/src/arch/x86_64/trapasm.S), and either way the program must find
// what the calling convention promises (ulib::usys): every register as it
// left it except rax (the result), rcx (the return address) and r11 (the
// flags at the call), and the flags themselves unchanged.

/// What [`probe_syscall`] finds after its system call.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Probe {
    /// The registers of [`KEPT`], in that order, after the call.
    kept: [u64; 12],
    rax: u64,
    rcx: u64,
    r11: u64,
    /// The flags just before the `syscall` instruction.
    flags_at_call: u64,
    /// The address just after the `syscall` instruction.
    return_address: u64,
}

/// The registers the kernel must give back unchanged, in the order of
/// [`Probe::kept`] (rsp too: the probe could not find its way back without
/// it).
const KEPT: [&str; 12] = [
    "rbx", "rbp", "rdi", "rsi", "rdx", "r8", "r9", "r10", "r12", "r13", "r14", "r15",
];

/// The value [`probe_syscall`] loads into `KEPT[i]` (rdi excepted: it holds the
/// call's argument): different in every register and every byte, so that
/// one register restored from another's slot, or a byte lost, shows.
const fn pattern(i: usize) -> u64 {
    0x0102_0304_0506_0708 * (i as u64 + 1) + 0x1111
}

/// Makes system call `number` with `argument` in rdi and [`pattern`]s in
/// the other registers of [`KEPT`], and records what comes back.
///
/// # Safety
/// As for `ulib::usys::syscall1`: the call must be sound for this program
/// (those used here, getpid, sleep and fork, touch no memory of ours).
unsafe fn probe_syscall(number: usize, argument: u64) -> Probe {
    let mut probe = Probe::default();
    // SAFETY: the registers the block changes are declared, rbx and rbp
    // (which cannot be) are saved and restored around it, and it writes
    // only `probe`, whose address it keeps on the stack across the call;
    // the caller vouches for the call itself.
    unsafe {
        core::arch::asm!(
            "push rbx",
            "push rbp",
            "push rdi",
            "mov rdi, rsi",
            "movabs rbx, {p0}",
            "movabs rbp, {p1}",
            "movabs rsi, {p3}",
            "movabs rdx, {p4}",
            "movabs r8, {p5}",
            "movabs r9, {p6}",
            "movabs r10, {p7}",
            "movabs r12, {p8}",
            "movabs r13, {p9}",
            "movabs r14, {p10}",
            "movabs r15, {p11}",
            "pushfq",
            "syscall",
            "2:",
            "push r15",
            "mov r15, [rsp + 16]",
            "mov [r15], rbx",
            "mov [r15 + 8], rbp",
            "mov [r15 + 16], rdi",
            "mov [r15 + 24], rsi",
            "mov [r15 + 32], rdx",
            "mov [r15 + 40], r8",
            "mov [r15 + 48], r9",
            "mov [r15 + 56], r10",
            "mov [r15 + 64], r12",
            "mov [r15 + 72], r13",
            "mov [r15 + 80], r14",
            "pop qword ptr [r15 + 88]",
            "mov [r15 + 96], rax",
            "mov [r15 + 104], rcx",
            "mov [r15 + 112], r11",
            "pop qword ptr [r15 + 120]",
            "lea rax, [rip + 2b]",
            "mov [r15 + 128], rax",
            "pop rdi",
            "pop rbp",
            "pop rbx",
            p0 = const pattern(0),
            p1 = const pattern(1),
            p3 = const pattern(3),
            p4 = const pattern(4),
            p5 = const pattern(5),
            p6 = const pattern(6),
            p7 = const pattern(7),
            p8 = const pattern(8),
            p9 = const pattern(9),
            p10 = const pattern(10),
            p11 = const pattern(11),
            inout("rax") number => _,
            inout("rdi") &raw mut probe => _,
            inout("rsi") argument => _,
            out("rcx") _, out("rdx") _, out("r8") _, out("r9") _, out("r10") _,
            out("r11") _, out("r12") _, out("r13") _, out("r14") _, out("r15") _,
        );
    }
    probe
}

/// Checks what [`probe_syscall`] found after a call with `argument` in rdi.
fn check_probe(probe: &Probe, argument: u64, call: &str) -> CheckResult {
    for (i, (name, &got)) in KEPT.iter().zip(&probe.kept).enumerate() {
        let want = if *name == "rdi" { argument } else { pattern(i) };
        ensure!(
            got == want,
            "{call}: {name} came back as {got:#x}, not {want:#x}"
        );
    }
    ensure!(
        probe.rcx == probe.return_address,
        "{call}: rcx is {:#x}, not the return address {:#x}",
        probe.rcx,
        probe.return_address
    );
    ensure!(
        probe.r11 == probe.flags_at_call,
        "{call}: r11 is {:#x}, not the flags at the call {:#x}",
        probe.r11,
        probe.flags_at_call
    );
    Ok(())
}

/// A system call keeps every register the convention says it keeps, puts
/// the return address in rcx and the flags in r11: a quick call (getpid,
/// many times, so that some are interrupted by the timer), one that sleeps
/// and may come back on another CPU, and fork, in the parent and in the
/// child, whose first return to user mode takes the other way back
/// (`iretq`, from a frame fork copied).
fn syscall_keeps_registers() -> CheckResult {
    let me = getpid();
    for round in 0..2000 {
        // SAFETY: getpid touches no memory.
        let found = unsafe { probe_syscall(SYS_GETPID, pattern(2)) };
        check_probe(&found, pattern(2), &format!("getpid, round {round}"))?;
        ensure!(
            found.rax == me as u64,
            "getpid returned {:#x}, not {me}",
            found.rax
        );
    }
    // SAFETY: sleep touches no memory.
    let found = unsafe { probe_syscall(SYS_SLEEP, 1) };
    check_probe(&found, 1, "sleep(1)")?;
    ensure!(found.rax == 0, "sleep(1) returned {:#x}", found.rax);

    // SAFETY: fork copies our memory for the child and changes none.
    let found = unsafe { probe_syscall(SYS_FORK, pattern(2)) };
    if found.rax == 0 {
        // The child says what it found in its exit status.
        exit(
            match check_probe(&found, pattern(2), "fork, in the child") {
                Ok(()) => 0,
                Err(why) => {
                    eprintln!("proctest: {why}");
                    1
                }
            },
        );
    }
    ensure!((found.rax as i64) > 0, "fork failed ({:#x})", found.rax);
    check_probe(&found, pattern(2), "fork, in the parent")?;
    let status = wait_for(found.rax as i32)?;
    ensure!(
        status == 0,
        "fork's child found its registers changed (status {status}; its line above says how)"
    );
    Ok(())
}

/// The flags a program sets come back unchanged from a system call, set or
/// clear: the arithmetic ones, DF (which the kernel itself runs without)
/// and AC.
fn syscall_keeps_flags() -> CheckResult {
    const CF: u64 = 1 << 0;
    const PF: u64 = 1 << 2;
    const AF: u64 = 1 << 4;
    const ZF: u64 = 1 << 6;
    const SF: u64 = 1 << 7;
    const DF: u64 = 1 << 10;
    const OF: u64 = 1 << 11;
    const AC: u64 = 1 << 18;
    const USER: u64 = 0x202; // IF and the bit that is always 1
    const CHOSEN: u64 = CF | PF | AF | ZF | SF | DF | OF | AC;
    for wanted in [USER, USER | CHOSEN, USER | CF | DF, USER | ZF | AC] {
        for _ in 0..200 {
            let (after, r11): (u64, u64);
            // SAFETY: loads the chosen flags, makes a getpid system call
            // (which touches no memory) and reads the flags back, then
            // restores the flags the compiler's code had (DF clear among
            // them); nothing runs with the chosen flags but these lines.
            unsafe {
                core::arch::asm!(
                    "pushfq",
                    "push {wanted}",
                    "popfq",
                    "syscall",
                    "pushfq",
                    "pop {after}",
                    "popfq",
                    wanted = in(reg) wanted,
                    after = lateout(reg) after,
                    inout("rax") SYS_GETPID => _,
                    lateout("rcx") _,
                    lateout("r11") r11,
                );
            }
            ensure!(
                after & (CHOSEN | USER) == wanted,
                "flags {wanted:#x} came back from getpid as {after:#x}"
            );
            ensure!(
                r11 & (CHOSEN | USER) == wanted,
                "r11 after getpid was {r11:#x}, not the flags at the call {wanted:#x}"
            );
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// sbrk.

/// `sbrk` grows the heap with zeroed, usable memory, and shrinking it unmaps
/// that memory again. In a child (whose heap may stay grown): the heap
/// grows a byte at a time, contiguously, and a forked child's heap goes on
/// where its parent's was; it grows to 32 MiB and shrinks back, and a page
/// given back and grown again is zeroed.
fn sbrk_grow_shrink() -> CheckResult {
    const GROW: usize = 5 * PGSIZE;
    let old = current_break();
    let grown = grow_heap(GROW);
    ensure!(
        grown == old,
        "sbrk({GROW}) returned {grown:#x}, the break was {old:#x}"
    );
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
    ensure_eq!(shrunk, old + GROW as isize, "sbrk(-{GROW})");
    ensure_eq!(current_break(), old, "the break after shrinking");
    // The last byte grown is on a page that shrinking must have unmapped.
    let freed = old as usize + GROW - 1;
    expect_killed("touching freed heap memory", || {
        // SAFETY: this child exits right after; the address is not ours.
        unsafe { probe_write(freed, 0x5a) };
        Ok(())
    })?;

    in_child(sbrk_byte_by_byte)?;
    in_child(sbrk_much)
}

/// Two thousand `sbrk(1)`s return consecutive bytes; after a fork, parent
/// and child each grow on from the same break.
fn sbrk_byte_by_byte() -> CheckResult {
    let mut next = current_break();
    for i in 0..2000 {
        let byte = grow_heap(1);
        ensure!(
            byte == next,
            "sbrk(1) number {i} returned {byte:#x}, not {next:#x}"
        );
        let byte: *mut u8 = ptr::with_exposed_provenance_mut(byte as usize);
        // SAFETY: sbrk just gave us this byte, which nothing else uses.
        unsafe { byte.write_volatile(1) };
        next += 1;
    }
    let child = spawn_check(|| {
        grow_heap(1);
        ensure_eq!(
            grow_heap(1),
            next + 1,
            "the child's second sbrk(1) after fork"
        );
        Ok(())
    })?;
    grow_heap(1);
    ensure_eq!(
        grow_heap(1),
        next + 1,
        "the parent's second sbrk(1) after fork"
    );
    child.join()
}

/// The heap grows to 32 MiB and shrinks back; a page given back and grown
/// again is zeroed.
fn sbrk_much() -> CheckResult {
    const BIG: usize = 32 << 20;
    let old = current_break();
    ensure!(
        grow_heap(BIG - old as usize) == old,
        "growing the heap to 32 MiB failed"
    );
    let last: *mut u8 = ptr::with_exposed_provenance_mut(BIG - 1);
    // SAFETY: [old, BIG) is fresh heap that nothing else uses.
    unsafe { last.write_volatile(99) };

    // SAFETY: the top page is ours alone (see above), and is not used
    // again until it is grown back.
    let shrunk = unsafe { sbrk(-(PGSIZE as isize)) };
    ensure_eq!(shrunk, BIG as isize, "sbrk(-{PGSIZE})");
    let brk = current_break();
    ensure_eq!(brk, (BIG - PGSIZE) as isize, "the break after shrinking");
    ensure_eq!(grow_heap(PGSIZE), brk, "sbrk({PGSIZE})");
    // SAFETY: the page was just grown and is ours.
    let value = unsafe { last.read_volatile() };
    ensure!(
        value == 0,
        "a page given back and grown again still holds {value}"
    );

    // SAFETY: [old, BIG) was grown above and nothing refers to it.
    let shrunk = unsafe { sbrk(old - BIG as isize) };
    ensure_eq!(shrunk, BIG as isize, "shrinking back");
    ensure_eq!(current_break(), old, "the break after shrinking back");
    Ok(())
}

/// The heap cannot grow into the shared-memory window (by a page too much,
/// or by the window's whole address), nor shrink into the program; a
/// refused `sbrk` leaves the break alone.
fn sbrk_shmbase() -> CheckResult {
    // In a child, in case a broken kernel does either.
    in_child(|| {
        let brk = current_break();
        let too_far = SHMBASE - brk as usize + PGSIZE;
        ensure!(grow_heap(too_far) == -1, "sbrk past SHMBASE succeeded");
        ensure!(
            current_break() == brk,
            "a failed sbrk past SHMBASE moved the break"
        );
        let too_much = grow_heap(SHMBASE);
        ensure!(too_much == -1, "sbrk of 1 GiB returned {too_much:#x}");
        ensure!(
            current_break() == brk,
            "a failed sbrk of 1 GiB moved the break"
        );
        // SAFETY: this would unmap the whole program, and must fail; if it
        // does not, this child dies at once, which the parent reports.
        let shrunk = unsafe { sbrk(-brk) };
        ensure!(shrunk == -1, "sbrk down to address 0 succeeded");
        ensure!(
            current_break() == brk,
            "a failed sbrk down to address 0 moved the break"
        );
        Ok(())
    })
}

// ---------------------------------------------------------------------------
// Memory protection.

/// Recurses, each frame holding 256 bytes, until the stack overflows into
/// the guard page. Returns — which makes the check fail — only if it got
/// well below the whole stack (from `top`) without a fault.
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
        recurse((&raw const top).addr());
        Ok(())
    })?;
    expect_killed("writing just below the stack", || {
        // We are a few frames from the top of the stack, so 16 pages and a
        // byte further down is inside the guard page.
        let local = 0u8;
        let below = (&raw const local).addr() - USER_STACK_PAGES * PGSIZE - 1;
        // SAFETY: this child exits right after; the address is not ours.
        unsafe { probe_write(below, 0x5a) };
        Ok(())
    })
}

/// Page 0 is never mapped.
fn null_dereference() -> CheckResult {
    expect_killed("reading address 0", || {
        probe_read(0);
        Ok(())
    })?;
    expect_killed("writing address 0", || {
        // SAFETY: this child exits right after; address 0 is not ours.
        unsafe { probe_write(0, 0x5a) };
        Ok(())
    })
}

/// The kernel's half of the address space is closed to user code.
fn kernel_memory() -> CheckResult {
    // The direct map of physical memory, and the kernel's image (linked
    // 1 MiB above KERNBASE).
    for addr in [DIRECT_MAP, KERNBASE + 0x10_0000] {
        expect_killed(&format!("reading {addr:#x}"), || {
            probe_read(addr);
            Ok(())
        })?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Time.

/// `sleep` sleeps at least as many ticks as asked, and returns 0.
///
/// No upper bound: a host that starves the virtual CPUs runs the woken
/// process late, so how much longer it took says nothing about `sleep`.
/// A sleep that never ends hangs the program, which the harness's timeout
/// turns into a failure.
fn sleep_uptime() -> CheckResult {
    let start = uptime();
    let result = sleep(50);
    let slept = uptime() - start;
    ensure!(result == 0, "sleep(50) returned {result}");
    ensure!(slept >= 50, "sleep(50) took only {slept} ticks");
    Ok(())
}

/// `tsc_hz` reports a rate above 1 MHz (no x86_64 CPU's TSC is slower),
/// and the same one every time, in a child too: the kernel measured it
/// once, at boot, and a program may read it whenever it likes.
fn tsc_hz_stable() -> CheckResult {
    let hz = tsc_hz();
    ensure!(hz > 1_000_000, "tsc_hz returned {hz}");
    for _ in 0..1000 {
        let again = tsc_hz();
        ensure_eq!(again, hz, "tsc_hz called again");
    }
    let pid = spawn(move || if tsc_hz() == hz { 0 } else { 1 })?;
    expect_status(pid, 0).map_err(|why| format!("in a child, tsc_hz differed: {why}"))
}

// ---------------------------------------------------------------------------
// Bad pointers.

/// Writes to the console, `wait` and `exec` refuse bad pointers with -1,
/// and are not hurt by them.
fn bad_pointers() -> CheckResult {
    for (what, pointer) in BAD_POINTERS {
        // SAFETY: the kernel only reads through the pointer, if at all.
        let written = unsafe { syscall3(SYS_WRITE, 1, pointer, 10) };
        ensure!(
            written == -1,
            "write from a {what} pointer returned {written}"
        );
    }
    // Ranges that start in user memory but do not end there.
    for (pointer, len) in [(0x7FFF_FFFF_FFF0, 32), (0x1000, usize::MAX)] {
        // SAFETY: as above.
        let written = unsafe { syscall3(SYS_WRITE, 1, pointer, len) };
        ensure!(
            written == -1,
            "write of {len:#x} bytes at {pointer:#x} returned {written}"
        );
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
        ensure!(
            reaped == -1,
            "wait with a {what} status pointer returned {reaped}"
        );
        expect_status(pid, 5).map_err(|why| format!("after wait with a {what} pointer: {why}"))?;
    }

    // exec, in a child: a kernel that wrongly went ahead would replace it
    // (with this program, which then exits with 2: see `main`).
    in_child(exec_bad_pointers)
}

/// The exec half of [`bad_pointers`], run in a child: the bad pointer as
/// the path, as argv, and as an element of argv.
fn exec_bad_pointers() -> CheckResult {
    let name = c"proctest".as_ptr().cast::<u8>();
    let good_argv = [name, ptr::null()];
    for (what, pointer) in BAD_POINTERS {
        // SAFETY: exec only reads through its pointers; were it to succeed,
        // this program would be gone.
        let result = unsafe { syscall2(SYS_EXEC, pointer, good_argv.as_ptr().addr()) };
        ensure!(
            result == -1,
            "exec(BAD, argv) with a {what} pointer returned {result}"
        );
        // SAFETY: as above.
        let result = unsafe { syscall2(SYS_EXEC, name.addr(), pointer) };
        ensure!(
            result == -1,
            "exec(\"proctest\", BAD) with a {what} pointer returned {result}"
        );
        // A null string pointer is not bad in argv: it ends the list, and
        // this exec would rightly succeed.
        if pointer != 0 {
            let bad_argv = [name, ptr::with_exposed_provenance(pointer), ptr::null()];
            let result = exec(c"proctest", &bad_argv);
            ensure!(
                result == -1,
                "exec(\"proctest\", [\"proctest\", BAD]) with a {what} pointer returned {result}"
            );
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// A full process table.

/// Forking stops, with -1, when the process table is full, and reaping
/// frees the slots again: for one process forking on its own, and for a
/// fork bomb, where every process forks.
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
    wait_all(&pids)?;
    expect_no_children()?;
    ensure!(
        (10..MAX_FORKS).contains(&forked),
        "fork failed only after {forked} children"
    );
    let pid = spawn(|| 0).map_err(|why| format!("after reaping them all: {why}"))?;
    wait_for(pid)?;

    fork_bomb()
}

/// Processes fork until the process table is full, then stop; once they
/// have exited, the table has room again. The bomb stops when the file
/// `stopforking` exists (made by the first process whose fork fails, or by
/// us), or at a deadline whatever happens (only so that a broken `open`
/// cannot make it fork for ever). Every process of the bomb reaps its
/// children before it exits, so once the first one is reaped the whole
/// bomb is gone, however slowly the host ran it: no process can still be
/// forking when we remove the file.
fn fork_bomb() -> CheckResult {
    unlink(c"stopforking");
    let deadline = uptime() + 200;
    let pid = spawn(move || {
        loop {
            let fd = open(c"stopforking", O_RDONLY);
            if fd >= 0 || uptime() > deadline {
                while wait(None) >= 0 {}
                return 0;
            }
            if fork() < 0 {
                close(open(c"stopforking", O_CREATE | O_RDWR));
            }
        }
    })?;
    sleep(50);
    close(open(c"stopforking", O_CREATE | O_RDWR));
    wait_for(pid)?;
    ensure!(unlink(c"stopforking") == 0);
    let pid = spawn(|| 0).map_err(|why| format!("after the fork bomb: {why}"))?;
    expect_status(pid, 0)
}

// ---------------------------------------------------------------------------
// exec's arguments.

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
    let status = wait_for(pid)?;
    ensure!(
        status != 1,
        "the program started with {MAXARG} arguments miscounted them"
    );
    ensure!(
        status == 0,
        "exec with {MAXARG} arguments failed (status {status})"
    );
    argv.push("one-too-many");
    let pid = spawn(|| match exec_args("proctest", &argv) {
        -1 => 7,
        _ => 1,
    })?;
    let status = wait_for(pid)?;
    ensure!(
        status == 7,
        "exec with {} arguments did not return -1 (status {status})",
        MAXARG + 1
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// Pipes: who waits for whom.

/// The byte at position `i` of the streams these checks send.
fn stream_byte(i: usize) -> u8 {
    (i % 251) as u8
}

/// Makes a pipe: `(read end, write end)`.
fn make_pipe() -> Result<(i32, i32), String> {
    let mut ends = [0; 2];
    ensure!(pipe(&mut ends) == 0, "pipe failed");
    Ok((ends[0], ends[1]))
}

/// Reads `fd` to end of file with reads of changing sizes, 1 byte to 16
/// KiB, checking that the bytes continue the stream from position `from`;
/// sleeps a tick every `nap_every` reads (0: never). Returns how many
/// bytes came.
///
/// (16 KiB at most, so that the buffer comes from the heap the checks
/// start with: a larger one would grow it, which `no_leaks` would count.)
fn read_stream(fd: i32, from: usize, nap_every: usize) -> Result<usize, String> {
    const READ_MAX: usize = 4 * PIPE_BUF;
    let mut buffer = vec![0u8; READ_MAX];
    let (mut total, mut want, mut reads) = (0, 1, 0);
    loop {
        let n = read(fd, &mut buffer[..want]);
        ensure!(n >= 0, "read {reads} returned {n}");
        if n == 0 {
            return Ok(total);
        }
        for (i, &byte) in buffer[..n as usize].iter().enumerate() {
            let at = from + total + i;
            ensure!(
                byte == stream_byte(at),
                "byte {at} is {byte}, not {}",
                stream_byte(at)
            );
        }
        total += n as usize;
        reads += 1;
        // Sizes all over, none a multiple of the last.
        want = (want * 7 + 3) % READ_MAX + 1;
        if nap_every > 0 && reads % nap_every == 0 {
            sleep(1);
        }
    }
}

/// One write of three and a half ringfuls, to a reader that starts late
/// and naps: the writer waits, lending what does not fit, until the reader
/// has taken all of it, and the bytes arrive whole and in order.
fn pipe_big_write_slow_reader() -> CheckResult {
    const SIZE: usize = 3 * PIPESIZE + PIPESIZE / 2;
    let (read_end, write_end) = make_pipe()?;
    let writer = spawn(move || {
        close(read_end);
        let data: Vec<u8> = (0..SIZE).map(stream_byte).collect();
        if write(write_end, &data) == SIZE as isize {
            0
        } else {
            1
        }
    })?;
    close(write_end);
    sleep(2);
    let received = read_stream(read_end, 0, 3);
    close(read_end);
    ensure_eq!(received?, SIZE, "bytes read");
    expect_status(writer, 0).map_err(|why| format!("the write was cut short: {why}"))
}

/// A writer asleep until readers take what it lent gets back what went in,
/// a ringful or a little more, when the only reader is killed; its next
/// write fails.
fn pipe_reader_killed_writer_waits() -> CheckResult {
    let (read_end, write_end) = make_pipe()?;
    let (ready_read, ready_write) = make_pipe()?;
    let reader = spawn(move || {
        close(write_end);
        close(ready_read);
        // Whichever of us came first, once this read has bytes the writer
        // has filled the ring and lent the rest, under one hold of the
        // pipe's lock, and sleeps.
        let mut bytes = [0u8; 100];
        if read(read_end, &mut bytes) <= 0 {
            return 1;
        }
        write(ready_write, b"r");
        sleep(10_000);
        2
    })?;
    close(read_end);
    close(ready_write);
    let writer = spawn(move || {
        let data = vec![1u8; 2 * PIPESIZE];
        let written = write(write_end, &data);
        if !(PIPESIZE as isize..2 * PIPESIZE as isize).contains(&written) {
            return 1;
        }
        if write(write_end, b"x") != -1 {
            return 2;
        }
        0
    })?;
    close(write_end);
    let mut byte = [0u8];
    let ready = read(ready_read, &mut byte);
    close(ready_read);
    ensure!(ready == 1, "the reader never read");
    ensure!(kill(reader) == 0, "kill failed");
    // The killed reader and the writer it set free end in either order:
    // reap both at once.
    let statuses = wait_all(&[reader, writer])?;
    ensure_eq!(statuses[0], -1, "the killed reader's status");
    ensure!(
        statuses[1] == 0,
        "the writer exited with {}: 1: the first write did not return a ringful or a little more; 2: the next did not fail",
        statuses[1]
    );
    Ok(())
}

/// A reader asleep on an empty pipe, its buffer lent, is killed; a write
/// then goes to the reader still there (us), not into the dead one's
/// memory.
fn pipe_waiting_reader_killed() -> CheckResult {
    let (read_end, write_end) = make_pipe()?;
    let reader = spawn(move || {
        close(write_end);
        let mut bytes = [0u8; 64];
        read(read_end, &mut bytes);
        1
    })?;
    sleep(5);
    ensure!(kill(reader) == 0, "kill failed");
    expect_status(reader, -1)?;
    let written = write(write_end, b"still here");
    let mut bytes = [0u8; 64];
    let n = read(read_end, &mut bytes);
    close(read_end);
    close(write_end);
    ensure_eq!(written, 10, "the write after the kill");
    ensure!(
        n == 10 && &bytes[..10] == b"still here",
        "read {n} bytes after the kill, not the 10 written"
    );
    Ok(())
}

/// A writer killed while a reader copies from what it lent: the reader
/// has a prefix of the stream, whole, and then end of file, once the
/// writer is gone.
fn pipe_writer_killed_mid_copy() -> CheckResult {
    const SIZE: usize = 4 * PIPESIZE;
    let (read_end, write_end) = make_pipe()?;
    let writer = spawn(move || {
        close(read_end);
        let data: Vec<u8> = (0..SIZE).map(stream_byte).collect();
        write(write_end, &data);
        1
    })?;
    close(write_end);
    // Past a ringful: from there on the bytes come from the writer's own
    // memory, which it lent, asleep.
    let mut buffer = vec![0u8; PIPE_BUF];
    let mut total = 0;
    while total <= PIPESIZE {
        let n = read(read_end, &mut buffer);
        ensure!(n > 0, "read returned {n} after {total} bytes");
        let wrong = (0..n as usize).find(|&i| buffer[i] != stream_byte(total + i));
        ensure!(
            wrong.is_none(),
            "byte {} arrived wrong",
            total + wrong.unwrap_or(0)
        );
        total += n as usize;
    }
    ensure!(kill(writer) == 0, "kill failed");
    expect_status(writer, -1)?;
    let rest = read_stream(read_end, total, 0);
    close(read_end);
    let rest = rest?;
    ensure!(
        rest == 0,
        "{rest} more bytes after the killed writer had gone"
    );
    Ok(())
}

/// Four writers and four readers on one pipe, on as many CPUs as there
/// are: every record of `PIPE_BUF` bytes, written whole, is read whole,
/// by one reader, unmixed with any other, in each writer's order.
///
/// With every write and every read exactly `PIPE_BUF` bytes the pipe only
/// ever holds whole records, so a read that returns less, or a record
/// with another's bytes in it, means the pipe split or mixed a write.
fn pipe_many_readers_writers() -> CheckResult {
    const PAIRS: usize = 4;
    const RECORDS: usize = 48;
    /// A reader's exit status when a record came wrong (or short).
    const MIXED: i32 = 10_000;
    fn record_byte(writer: usize, seq: usize, i: usize) -> u8 {
        ((writer * 31 + seq * 7 + i) % 251) as u8
    }
    let (read_end, write_end) = make_pipe()?;
    let mut readers = Vec::new();
    for _ in 0..PAIRS {
        readers.push(spawn(move || {
            close(write_end);
            let mut record = vec![0u8; PIPE_BUF];
            let mut last = [None; PAIRS];
            let mut count = 0;
            loop {
                match read(read_end, &mut record) {
                    0 => return count,
                    n if n != PIPE_BUF as isize => return MIXED,
                    _ => {}
                }
                let writer = usize::from(record[0]);
                let seq = usize::from(record[1]);
                let whole = writer < PAIRS
                    && (2..PIPE_BUF).all(|i| record[i] == record_byte(writer, seq, i));
                if !whole || last[writer].is_some_and(|last| seq <= last) {
                    return MIXED;
                }
                last[writer] = Some(seq);
                count += 1;
            }
        })?);
    }
    let mut writers = Vec::new();
    for writer in 0..PAIRS {
        writers.push(spawn(move || {
            close(read_end);
            let mut record = vec![0u8; PIPE_BUF];
            for seq in 0..RECORDS {
                record[0] = writer as u8;
                record[1] = seq as u8;
                for (i, byte) in record.iter_mut().enumerate().skip(2) {
                    *byte = record_byte(writer, seq, i);
                }
                if write(write_end, &record) != PIPE_BUF as isize {
                    return 1;
                }
            }
            0
        })?);
    }
    close(read_end);
    close(write_end);
    // All at once: a reader may end (at end of file) before the last
    // writer is reaped, and `wait` returns whichever child ended first.
    let children: Vec<i32> = writers.iter().chain(&readers).copied().collect();
    let statuses = wait_all(&children)?;
    let (statuses, counts) = statuses.split_at(writers.len());
    ensure!(
        statuses.iter().all(|&status| status == 0),
        "a writer's write came back short: {statuses:?}"
    );
    ensure!(
        !counts.contains(&MIXED),
        "a reader got a record short or mixed: {counts:?}"
    );
    let total: i32 = counts.iter().sum();
    ensure_eq!(total, (PAIRS * RECORDS) as i32, "records read in all");
    Ok(())
}
