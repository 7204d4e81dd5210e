//! Traps: exceptions, device interrupts and system calls.
//!
//! Every vector enters through trapasm.S, which saves the registers as a
//! [`TrapFrame`] on the kernel stack and calls [`trap`]; the `syscall`
//! instruction builds the same frame (vector `T_SYSCALL`) and calls
//! [`syscall_trap`] instead (see "System calls" below). `trap` decides
//! what happened from the vector number:
//!
//! - an NMI stops this CPU after another one panicked; any other NMI is
//!   a kernel error, like the exceptions below in kernel mode;
//! - a write to a copy-on-write page in user mode (a page fault on a
//!   present page) gets the process a page of its own
//!   (`AddressSpace::copy_on_write`, vm.rs), and the write is tried again;
//!   if there is no memory for the copy, the process is killed, with a
//!   line that says so;
//! - any other exception (0..32) in user mode kills that process alone,
//!   with one console line in xv6's style (pid, name, trap number, error
//!   code, rip and, for page faults, the address). That includes what a
//!   program may not do (a port instruction or a privileged one is a
//!   general-protection fault, 13: see gdt.rs) and the floating-point
//!   exceptions it asked for by unmasking them (x87 `#MF`, 16, and SIMD
//!   `#XM`, 19: see fpu.rs);
//! - an exception in kernel mode is a kernel bug: print everything a
//!   student needs to find it (the exception's name, error code, rip, cr2,
//!   the registers and a backtrace of return addresses, read by following
//!   the saved frame pointers) and panic. A page fault on a present user
//!   page names the guard that stopped the kernel: SMEP (it tried to run
//!   user code) or SMAP (it touched user memory outside the copy helpers);
//!   see protect.rs;
//! - the local APIC timer counts a tick and takes the CPU from the running
//!   process, so user code cannot hog it;
//! - COM1's interrupt reads typed characters into the console;
//! - the disk's interrupt finishes a disk request;
//! - `T_WAKEUP`, sent by another CPU, only wakes this one from `hlt`.
//!
//! Device interrupts are acknowledged with an EOI to the local APIC. On the
//! way back to user mode, from a trap or a system call, a process that has
//! been killed exits instead ([`leave_for_user`]).
//!
//! An interrupt keeps the flags of the code it interrupted, and a user
//! program may set two that would mislead the kernel: DF (string copies
//! would run backwards: trapasm.S clears it) and AC (it would switch SMAP
//! off: `trap` clears it first thing). The `syscall` path clears both
//! through its flag mask (syscall.rs).
//!
//! ## System calls
//!
//! A system call is the one trap a program makes on purpose, many times a
//! second, so its path does only what a call needs: [`syscall_trap`] ends
//! a process that was killed instead of running its call, turns
//! interrupts on, runs the call (syscall.rs), turns them off, makes the
//! checks of every return to user mode, and returns to trapasm.S, which
//! goes back with `sysretq` when the frame allows it
//! ([`TrapFrame::sysret_can_restore`]) and with `iretq` when it does not
//! (a frame `exec` rewrote, or one with flags only `iretq` restores).
//! What it leaves out, and why it may:
//!
//! - no vector dispatch, and no `clac`: the flag mask has already cleared
//!   AC;
//! - no lock: the killed flag is an atomic (proc.rs), and the current
//!   process is found with one load (`cpu::running_process`), with no
//!   `cli`/`sti` around it;
//! - nothing for the FPU/SSE registers: the kernel never touches them, and
//!   they are saved only when a process gives up its CPU (fpu.rs).
//!
//! The path also lies on one page of code: `syscall_entry`,
//! [`syscall_trap`] and [`leave_for_user`] are placed in the section
//! `.text.syscall`, which kernel.ld puts first in `.text`, at the start of
//! a 4 KiB page. The dispatch (`syscall::syscall`) and getpid are marked
//! `#[inline(always)]`, so that they are compiled into `syscall_trap`
//! there: the compiler does not inline a function of one section into a
//! function of another by itself. Under QEMU's emulation (TCG), the CPU runs
//! translated blocks of guest code and links one block straight to the
//! next only when both lie in the same guest page; a jump or call to
//! another page goes through a lookup every time. Left where the linker
//! happened to put them, these functions crossed pages in some builds and
//! not in others, and getpid ran up to a third slower after changes that
//! had nothing to do with it. On real hardware the same grouping keeps the
//! path in fewer instruction-cache lines and one TLB entry. The ktest
//! `syscall_path_on_one_page` checks that it still fits.

use core::sync::atomic::Ordering;

use x86::bits64::rflags::RFlags;

use crate::arch::trapframe::TrapFrame;
use crate::arch::traps::{
    IRQ_COM1, IRQ_IDE, IRQ_TIMER, T_DOUBLE_FAULT, T_IRQ0, T_NMI, T_PAGE_FAULT, T_SPURIOUS, T_WAKEUP,
};
use crate::arch::{self, lapic, protect};
use crate::cpu::mycpu;
use crate::memlayout::{KERNBASE, USER_TOP};
use crate::proc::{self, myproc};
use crate::syscall::{Outcome, syscall};
// LAB cow: solution begins
use crate::vm::CowError;
// LAB cow: stub
// LAB cow: end

/// Bits of a page fault's error code.
const PF_PRESENT: u64 = 1 << 0;
const PF_WRITE: u64 = 1 << 1;
const PF_INSTRUCTION_FETCH: u64 = 1 << 4;

/// Called by trapasm.S for every interrupt and exception, with interrupts
/// off, with the frame it has just pushed on this CPU's current kernel
/// stack.
///
/// Everything is done by [`handle`], which gets the frame as the one
/// `&mut TrapFrame` of this trap. A process that is to end comes back from
/// it with its exit status, and only then, with no borrow of the frame or
/// of the process left, does it exit: `exit` never returns, and the frame
/// and the process's private state are reused once it has gone.
#[unsafe(no_mangle)]
extern "C" fn trap(frame: *mut TrapFrame) {
    // SAFETY: trapasm.S passes the frame it pushed on this kernel stack;
    // nothing else refers to it until trapret pops it, after we return.
    let exit_status = handle(unsafe { &mut *frame });
    if let Some(status) = exit_status {
        // SAFETY: `handle` has returned, so its borrows of the frame and of
        // the process's private state have ended, and this function holds
        // only the raw pointer.
        unsafe { proc::exit(status) }
    }
}

/// Handles the trap described by `frame`. Returns the exit status if the
/// interrupted process is to end: it was killed.
fn handle(frame: &mut TrapFrame) -> Option<i32> {
    // The interrupted code's AC flag must not switch SMAP off for the
    // kernel (protect.rs); iretq gives the code its own flags back.
    protect::clear_access_flag();
    let vector = frame.vector;
    if vector < u64::from(T_IRQ0) {
        exception(frame);
    } else if vector == u64::from(T_IRQ0 + IRQ_TIMER) {
        timer_tick();
        lapic::eoi();
        // Take the CPU from a running process, in kernel or user mode.
        if myproc().is_some() {
            proc::yield_cpu();
        }
    } else if vector == u64::from(T_IRQ0 + IRQ_COM1) {
        // Every byte typed goes to the console's line editing.
        while let Some(byte) = crate::uart::receive() {
            crate::console::input(byte);
        }
        lapic::eoi();
    } else if vector == u64::from(T_IRQ0 + IRQ_IDE) {
        crate::ide::interrupt();
        lapic::eoi();
    } else if vector == u64::from(T_WAKEUP) {
        // Waking the CPU was the whole point; its scheduler looks again.
        lapic::eoi();
    } else if vector == u64::from(T_SPURIOUS) {
        // Nothing to do and no EOI, by the APIC's rules.
    } else {
        println!(
            "cpu {}: unexpected interrupt vector {vector}",
            mycpu().index
        );
        lapic::eoi();
    }

    if frame.is_from_user() {
        return leave_for_user(frame);
    }
    None
}

/// How a system call leaves the kernel.
enum Leave {
    /// Back to user mode through `sysretq`.
    Sysret,
    /// Back to user mode through `iretq`, which restores the whole frame.
    Iret,
    /// The process ends with this status, and never goes back.
    Exit(i32),
}

/// Called by trapasm.S's `syscall_entry` with interrupts off, with the
/// frame it has just pushed on the calling process's kernel stack.
/// Returns with interrupts off: true if the way back may be `sysretq`,
/// false if it must be `iretq`.
///
/// The frame is borrowed once, as in [`trap`], and a process that is to
/// end exits only after that borrow is over.
#[unsafe(no_mangle)]
#[unsafe(link_section = ".text.syscall")]
extern "C" fn syscall_trap(frame: *mut TrapFrame) -> bool {
    // SAFETY: trapasm.S passes the frame it pushed on this kernel stack;
    // nothing else refers to it until it pops it, after we return.
    match system_call(unsafe { &mut *frame }) {
        Leave::Sysret => true,
        Leave::Iret => false,
        // SAFETY: `system_call` has returned, so its borrows of the frame
        // and of the process's private state have ended, and this function
        // holds only the raw pointer.
        Leave::Exit(status) => unsafe { proc::exit(status) },
    }
}

/// Carries out the system call described by `frame`, and says how to leave
/// (the module doc lists what this path leaves out).
#[unsafe(link_section = ".text.syscall")]
fn system_call(frame: &mut TrapFrame) -> Leave {
    // A process that has been killed makes no more calls.
    if proc::current().killed() {
        return Leave::Exit(KILLED_STATUS);
    }
    // The call may sleep or take a while: let interrupts in.
    arch::interrupts_on();
    if let Outcome::Exit(status) = syscall(frame) {
        return Leave::Exit(status);
    }
    // Off until sysretq or iretq loads the user's flags (trapasm.S).
    arch::interrupts_off();
    if let Some(status) = leave_for_user(frame) {
        return Leave::Exit(status);
    }
    if frame.sysret_can_restore() {
        Leave::Sysret
    } else {
        Leave::Iret
    }
}

/// What every return to user mode checks, after a trap or a system call
/// from user mode, whose frame is `frame`. Returns the exit status if the
/// process is to end instead.
#[unsafe(link_section = ".text.syscall")]
fn leave_for_user(frame: &mut TrapFrame) -> Option<i32> {
    let p = proc::current();
    if frame.is_virtual_8086() && !p.killed() {
        let (pid, name) = p.pid_and_name();
        println!(
            "pid {pid} {name}: trap {} in virtual-8086 mode on cpu {} rip {:#x}--kill proc",
            frame.vector,
            mycpu().index,
            frame.rip
        );
        p.set_killed();
    }
    // A process killed while in the kernel dies here rather than going
    // back to user code.
    if p.killed() {
        return Some(KILLED_STATUS);
    }
    // User code never runs with an I/O privilege level that would let it
    // use ports or turn interrupts off (gdt.rs). Nothing sets IOPL today;
    // this keeps it so if anything ever writes a frame's flags (and a
    // frame whose flags change here fails sysret_can_restore).
    frame.rflags &= !RFlags::FLAGS_IOPL3.bits();
    None
}

/// The exit status of a process that was killed.
const KILLED_STATUS: i32 = -1;

fn timer_tick() {
    let cpu = mycpu();
    cpu.ticks.fetch_add(1, Ordering::Relaxed);
    if cpu.index == 0 {
        proc::tick();
    }
}

/// An exception: in user mode the process dies, in the kernel we panic.
/// The " addr ..." part of a user trap line: only page faults have one.
struct FaultAddress(Option<usize>);

impl core::fmt::Display for FaultAddress {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            Some(address) => write!(f, " addr {address:#x}"),
            None => Ok(()),
        }
    }
}

fn exception(frame: &TrapFrame) {
    // After a panic, the panicking CPU stops the others with an NMI. Any
    // other NMI comes from the machine, not from the code it interrupted:
    // a kernel error, in whatever mode it arrives. (It runs on a stack of
    // its own, gdt.rs, which it must not leave to sleep or exit, as
    // killing a process would.)
    if frame.vector == T_NMI {
        if crate::printf::panicked() {
            arch::halt_forever();
        }
        report_kernel_exception(frame);
        panic!("{} (not sent by this kernel)", exception_name(T_NMI));
    }
    if frame.is_from_user() {
        let p = proc::current();
        // SAFETY: reading cr2 has no side effects.
        let cr2 = unsafe { x86::controlregs::cr2() };
        let (pid, name) = p.pid_and_name();
        // LAB cow: solution begins
        let write_to_present = PF_PRESENT | PF_WRITE;
        if frame.vector == T_PAGE_FAULT && frame.error_code & write_to_present == write_to_present {
            // SAFETY: a trap from user mode is a boundary where the
            // process's own thread enters the kernel (see `Proc::private`):
            // no other reference to its private state is live, and this one
            // ends with the block.
            let private = unsafe { p.private() };
            match private.space_mut().copy_on_write(cr2 as usize) {
                // The write is tried again when the process resumes.
                Ok(()) => return,
                Err(CowError::OutOfMemory) => {
                    println!(
                        "pid {pid} {name}: out of memory copying the copy-on-write page at {cr2:#x} on cpu {} rip {:#x}--kill proc",
                        mycpu().index,
                        frame.rip
                    );
                    p.set_killed();
                    return;
                }
                // Not copy-on-write: a real fault, reported below.
                Err(CowError::NotCopyOnWrite) => {}
            }
        }
        // LAB cow: stub
        // LAB cow: end
        // One println, so that the line stays whole when other CPUs print
        // (console.rs keeps whole lines apart, not the pieces of one).
        let address = FaultAddress((frame.vector == T_PAGE_FAULT).then_some(cr2));
        println!(
            "pid {pid} {name}: trap {} err {} on cpu {} rip {:#x}{address}--kill proc",
            frame.vector,
            frame.error_code,
            mycpu().index,
            frame.rip
        );
        p.set_killed();
        return;
    }
    report_kernel_exception(frame);
    panic!("{} in the kernel", exception_name(frame.vector));
}

/// The names the Intel manual gives the exceptions.
pub fn exception_name(vector: u64) -> &'static str {
    const NAMES: [&str; 32] = [
        "divide error",
        "debug",
        "non-maskable interrupt",
        "breakpoint",
        "overflow",
        "bound range exceeded",
        "invalid opcode",
        "device not available",
        "double fault",
        "coprocessor segment overrun",
        "invalid TSS",
        "segment not present",
        "stack-segment fault",
        "general protection fault",
        "page fault",
        "reserved (15)",
        "x87 floating-point error",
        "alignment check",
        "machine check",
        "SIMD floating-point error",
        "virtualization exception",
        "control protection exception",
        "reserved (22)",
        "reserved (23)",
        "reserved (24)",
        "reserved (25)",
        "reserved (26)",
        "reserved (27)",
        "hypervisor injection",
        "VMM communication",
        "security exception",
        "reserved (31)",
    ];
    NAMES.get(vector as usize).copied().unwrap_or("interrupt")
}

/// Prints what a student needs to find a kernel bug.
fn report_kernel_exception(frame: &TrapFrame) {
    // SAFETY: reading cr2 has no side effects.
    let cr2 = unsafe { x86::controlregs::cr2() };
    println!(
        "\ncpu {}: kernel trap {} ({}), error code {:#x}",
        mycpu().index,
        frame.vector,
        exception_name(frame.vector),
        frame.error_code
    );
    if frame.vector == T_DOUBLE_FAULT {
        println!("  (a fault while handling a fault: often a kernel stack that ran");
        println!("   into its guard page; cr2 holds the last page-fault address)");
    }
    if frame.vector == T_PAGE_FAULT {
        let fetch = frame.error_code & PF_INSTRUCTION_FETCH != 0;
        println!(
            "  faulting address (cr2) {cr2:#018x}: {} on a {} page",
            if fetch {
                "instruction fetch"
            } else if frame.error_code & PF_WRITE != 0 {
                "write"
            } else {
                "read"
            },
            if frame.error_code & PF_PRESENT != 0 {
                "present"
            } else {
                "missing"
            },
        );
        // A present user page that the kernel may not touch: the CPU's
        // guards stopped a kernel bug (protect.rs).
        if frame.error_code & PF_PRESENT != 0 && (cr2 as usize) < USER_TOP {
            if fetch && protect::smep() {
                println!("  SMEP: the kernel tried to run code from a user page");
            } else if !fetch && protect::smap() {
                println!(
                    "  SMAP: the kernel touched a user page directly (user memory is only\n   \
                     read and written through the copy helpers in vm.rs)"
                );
            }
        }
    }
    println!(
        "  rip {:#018x}  rsp {:#018x}  rflags {:#x}",
        frame.rip, frame.rsp, frame.rflags
    );
    println!(
        "  rax {:#018x}  rbx {:#018x}  rcx {:#018x}  rdx {:#018x}",
        frame.rax, frame.rbx, frame.rcx, frame.rdx
    );
    println!(
        "  rsi {:#018x}  rdi {:#018x}  rbp {:#018x}  r8  {:#018x}",
        frame.rsi, frame.rdi, frame.rbp, frame.r8
    );
    println!(
        "  r9  {:#018x}  r10 {:#018x}  r11 {:#018x}  r12 {:#018x}",
        frame.r9, frame.r10, frame.r11, frame.r12
    );
    println!(
        "  r13 {:#018x}  r14 {:#018x}  r15 {:#018x}  cr2 {cr2:#018x}",
        frame.r13, frame.r14, frame.r15
    );
    print_backtrace(frame.rip, frame.rbp);
}

/// Prints `rip` and the return address of every frame on the kernel stack,
/// found by following the chain of saved frame pointers (the kernel is built
/// with frame pointers: each frame starts with the caller's rbp, followed by
/// the return address). Use `addr2line -e kernel ADDRESS` to get the lines.
pub fn print_backtrace(rip: u64, rbp: u64) {
    println!("  backtrace:");
    println!("    {rip:#018x}");
    let mut frame = rbp as usize;
    for _ in 0..32 {
        // Stop at the end of the chain (entry.S zeroes rbp) or at anything
        // that is not an aligned address in the kernel half.
        if frame < KERNBASE.min(crate::memlayout::DIRECT_MAP) || !frame.is_multiple_of(8) {
            break;
        }
        // SAFETY: `frame` is an aligned kernel address taken from the rbp
        // chain, which only holds stack addresses of kernel frames; kernel
        // stacks are always mapped.
        let (next, return_address) = unsafe {
            let pointer = frame as *const usize;
            (*pointer, *pointer.add(1))
        };
        if return_address == 0 {
            break;
        }
        println!("    {return_address:#018x}");
        frame = next;
    }
}

#[cfg(feature = "ktest")]
/// Test: the timer ticks on every running CPU, and the global tick count
/// advances.
///
/// It asserts that ticks come, not how fast: a virtual CPU that a busy
/// host starves gets its ticks late or merged, so any rate measured
/// against the wall clock would fail there (the rate is the benchmarks'
/// business). It waits, by the PIT (an independent clock), until every
/// running CPU has counted `TICKS` more, and gives up only after
/// `PATIENCE_MS`, long enough for any host to deliver a few ticks.
pub fn test_ticks_every_cpu() -> crate::verdict::TestResult {
    const TICKS: u64 = 3;
    const PATIENCE_MS: u64 = 20_000;
    let cpus = crate::cpu::all();
    let before: [u64; crate::param::NCPU] =
        core::array::from_fn(|i| cpus[i].ticks.load(Ordering::Relaxed));
    let global_before = proc::ticks();
    let all_ticked = || {
        cpus.iter().zip(before).all(|(cpu, before)| {
            !cpu.started.load(Ordering::Acquire)
                || cpu.ticks.load(Ordering::Relaxed) - before >= TICKS
        })
    };
    let mut waited_ms = 0;
    while !all_ticked() {
        if waited_ms >= PATIENCE_MS {
            for (cpu, before) in cpus.iter().zip(before) {
                if cpu.started.load(Ordering::Acquire) {
                    let counted = cpu.ticks.load(Ordering::Relaxed) - before;
                    println!("  cpu {}: {counted} ticks in {PATIENCE_MS} ms", cpu.index);
                }
            }
            return Err("a CPU's timer does not tick");
        }
        arch::pit::wait(10_000);
        waited_ms += 10;
    }
    if proc::ticks() <= global_before {
        return Err("the global tick counter did not advance");
    }
    Ok(())
}

#[cfg(feature = "ktest")]
/// Deliberately reads an unmapped address in the kernel: the report must
/// name the page fault, cr2, the registers and a backtrace.
pub fn page_fault() -> ! {
    const UNMAPPED: usize = 0xdead_0000;
    // SAFETY: not safe at all, on purpose: the address is unmapped and the
    // fault handler reports it and panics.
    let value = unsafe { core::ptr::read_volatile(UNMAPPED as *const u64) };
    panic!("reading an unmapped address gave {value:#x} instead of a fault");
}

#[cfg(feature = "ktest")]
/// Test: the system call's path lies on one page of code (see "System
/// calls" in the module doc): the section `.text.syscall` starts a page,
/// fits in it, and holds `syscall_entry`, [`syscall_trap`] and
/// [`leave_for_user`]. It fails when the path outgrows the page, or when
/// a change moves one of them out of the section.
pub fn test_syscall_path_on_one_page() -> crate::verdict::TestResult {
    use crate::param::PGSIZE;
    // Symbols defined by kernel.ld and trapasm.S; only their addresses
    // are used.
    unsafe extern "C" {
        static syscall_text_start: u8;
        static syscall_text_end: u8;
        static syscall_entry: u8;
    }
    let start = &raw const syscall_text_start as usize;
    let end = &raw const syscall_text_end as usize;
    if !start.is_multiple_of(PGSIZE) {
        return Err("the system call's section does not start a page");
    }
    if end - start > PGSIZE {
        println!("  .text.syscall is {} bytes", end - start);
        return Err("the system call's path no longer fits one page");
    }
    let inside = |address: usize| (start..end).contains(&address);
    let functions = [
        &raw const syscall_entry as usize,
        syscall_trap as *const () as usize,
        leave_for_user as *const () as usize,
    ];
    if !functions.into_iter().all(inside) {
        return Err("a function of the system call's path lies outside its page");
    }
    Ok(())
}
