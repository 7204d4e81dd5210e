//! isolationtest: a user program can touch no hardware and no other
//! process's registers.
//!
//! Three walls stand between a process and everything that is not its own,
//! and each check here pushes on one of them from user mode:
//!
//! - **Devices.** Every port instruction (`in`, `out`, `ins`, `outs`, in
//!   byte, word and dword forms, with the port in `dx` or as an immediate)
//!   on a port of every device QEMU's PC has, and on both ends of the port
//!   range, must fault (gdt.rs: the TSS has no I/O permission bitmap).
//! - **The CPU's privileged state.** `cli`, `hlt`, loading descriptor
//!   tables, control and debug registers, MSRs, TLB and cache control,
//!   `swapgs`, an `iretq` into ring 0 and `sysret` must fault, and so must
//!   `sgdt` and friends where the CPU has UMIP. Setting RFLAGS.NT before a
//!   system call must not bring the kernel down (syscall.rs clears it),
//!   nor TF (the kernel must not single-step itself; the program dies of
//!   its own single step once back in user mode), and asking `popf` for
//!   I/O privilege must still give none after a system call. No user code
//!   can sit at the top of the user half, where a `syscall` would return
//!   to a non-canonical address (the `sysret` hazard, trapasm.S).
//! - **Registers.** Several processes fill every x87, XMM (and, where the
//!   kernel enabled AVX, YMM) register and MXCSR with values of their
//!   own, sleep and get preempted many times, and must find their own
//!   values again (fpu.rs, proc.rs). A forked child starts with its
//!   parent's values; a program `exec` starts has clean ones, general
//!   registers (argc and argv aside) included; an unmasked
//!   SIMD or x87 exception kills just the process that raised it. Floating
//!   point works (an `f64` sum is computed and printed), and data, stack,
//!   heap and shared memory cannot be executed (NX).
//!
//! A check that expects a fault runs the deed in a child made by
//! [`expect_trap`]: the kernel kills it with a trap line on the console
//! (`pid N isolationtest: trap 13 ...`), and it exits with -1; a child that
//! survives exits 0 and the check fails, naming the instruction. At the end
//! the program says how many children died so, and the test harness checks
//! that the console shows that many trap lines. Children that check
//! something themselves (the register holders, the child forked inside
//! `fpu_fork_inherits`) send their verdict back through a pipe
//! ([`ulib::testing`]), so a `FAIL` line says what they found.
//!
//! This program defines its own `_start` (instead of `ulib::entry!`) so
//! that it can save the registers exactly as `exec` left them, before any
//! compiled code could change one; `fpu_exec_clean` and
//! `exec_registers_clean` run this program again and look at that copy.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::arch::{asm, global_asm, x86_64::__cpuid};
use core::cell::UnsafeCell;
use core::hint::black_box;
use core::sync::atomic::{AtomicUsize, Ordering};

use abi::syscall::{SYS_EXEC, SYS_FORK, SYS_GETPID, SYS_SLEEP};
use ulib::shm::Shm;
use ulib::testing::{
    Check, CheckResult, Pipe, expect_killed, in_child, join_all, receive_verdict, run_checks,
    send_verdict, spawn, spawn_check, wait_for,
};
use ulib::{Args, ensure, eprintln, exit, println};

/// Runs one port instruction on `port` (in `dx`), with `rdi` and `rsi`
/// pointing at a scratch buffer for the string forms and `eax` = 0 for
/// the output forms. Meant to fault: it runs in a child that dies.
macro_rules! unsafe_port {
    ($instruction:literal, $port:expr) => {{
        let mut buffer = [0u32; 4];
        let at = buffer.as_mut_ptr();
        // SAFETY: in user mode the instruction faults (which is what the
        // caller tests); were it to run, it would touch only a device and
        // the stack buffer, in a child that exits right after.
        unsafe {
            asm!($instruction, in("dx") $port, inout("eax") 0u32 => _,
                inout("rdi") at => _, inout("rsi") at => _, options(nostack));
        }
        black_box(buffer);
    }};
}

/// Runs one instruction that must fault in user mode, with `eax` = 0 and
/// the other registers as the compiler left them.
macro_rules! unsafe_instruction {
    ($($instruction:literal),+) => {{
        // SAFETY: in user mode the instruction faults, which is what the
        // caller tests; it runs in a child that dies or exits right after.
        unsafe { asm!($($instruction),+, inout("eax") 0u32 => _, options(nostack)) }
    }};
}

/// Runs an instruction whose operand is a memory address (a descriptor
/// table pointer, a page), given a scratch buffer on the stack.
macro_rules! with_table_pointer {
    ($instruction:literal) => {{
        let buffer = [0u64; 2];
        // SAFETY: as unsafe_instruction!: the instruction faults in user
        // mode; the operand is a valid buffer, in case it did not.
        unsafe { asm!($instruction, in(reg) buffer.as_ptr(), options(nostack)) }
    }};
}

/// Runs an MSR-style instruction with `ecx` naming EFER (0xC0000080) and
/// `edx:eax` = 0.
macro_rules! with_msr {
    ($instruction:literal) => {{
        // SAFETY: as unsafe_instruction!: the instruction faults in user
        // mode; it runs in a child that dies or exits right after.
        unsafe {
            asm!($instruction, inout("ecx") 0xC000_0080u32 => _,
                inout("eax") 0u32 => _, inout("edx") 0u32 => _, options(nostack));
        }
    }};
}

/// Assembly that loads the save area at `r12` into the registers: XRSTOR
/// with the components in `r13`, or FXRSTOR if `r13` is 0. Uses rax and
/// rdx. The `asm!` blocks below keep their addresses in r12-r15, which
/// neither these lines nor the `syscall` instruction change.
macro_rules! restore_from_r12 {
    () => {
        concat!(
            "mov rax, r13\n",
            "mov rdx, r13\n",
            "shr rdx, 32\n",
            "test r13, r13\n",
            "jz 20f\n",
            "xrstor64 [r12]\n",
            "jmp 21f\n",
            "20:\n",
            "fxrstor64 [r12]\n",
            "21:\n",
        )
    };
}

/// Assembly that saves the registers into the area at `r14`, as
/// [`restore_from_r12`] loads them.
macro_rules! save_to_r14 {
    () => {
        concat!(
            "mov rax, r13\n",
            "mov rdx, r13\n",
            "shr rdx, 32\n",
            "test r13, r13\n",
            "jz 22f\n",
            "xsave64 [r14]\n",
            "jmp 23f\n",
            "22:\n",
            "fxsave64 [r14]\n",
            "23:\n",
        )
    };
}

/// Every check, in the order they run.
const CHECKS: &[Check] = &[
    ("io_ports_fault", io_ports_fault),
    (
        "privileged_instructions_fault",
        privileged_instructions_fault,
    ),
    ("umip_hides_descriptor_tables", umip_hides_descriptor_tables),
    ("nt_flag_before_syscall", nt_flag_before_syscall),
    ("trap_flag_before_syscall", trap_flag_before_syscall),
    (
        "no_io_privilege_after_syscall",
        no_io_privilege_after_syscall,
    ),
    ("no_code_at_top_of_user_half", no_code_at_top_of_user_half),
    ("exec_registers_clean", exec_registers_clean),
    ("direction_flag_contained", direction_flag_contained),
    ("iret_to_virtual_8086", iret_to_virtual_8086),
    ("fpu_registers_private", fpu_registers_private),
    ("fpu_fork_inherits", fpu_fork_inherits),
    ("fpu_exec_clean", fpu_exec_clean),
    ("simd_exception_kills", simd_exception_kills),
    ("x87_exception_kills", x87_exception_kills),
    ("float_arithmetic", float_arithmetic),
    ("no_execute_data", no_execute_data),
];

/// How many children [`expect_trap`] saw killed: each left a trap line on
/// the console, and the test harness checks that there are this many.
static TRAPS: AtomicUsize = AtomicUsize::new(0);

/// [`expect_killed`], counting the trap line the child's death printed.
fn expect_trap(what: &str, deed: impl FnOnce() -> CheckResult) -> CheckResult {
    expect_killed(what, deed)?;
    TRAPS.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// The argument with which `fpu_exec_clean` runs this program again.
const FPU_CLEAN: &[u8] = b"--fpu-clean";
/// The argument with which `exec_registers_clean` runs this program again.
const REGISTERS_CLEAN: &[u8] = b"--registers-clean";

// Where exec starts this program: save the general registers and the
// flags into START_REGISTERS, and the FPU/SSE state as exec left it into
// START_STATE (with XSAVE if the kernel turned it on, which CPUID's
// OSXSAVE bit reports, else FXSAVE), then go on to Rust, as if `_start`
// had called it (the stack is as exec built it, argc and argv untouched).
global_asm!(
    ".global _start",
    "_start:",
    "mov [rip + {registers}], rax",
    "mov [rip + {registers} + 8], rbx",
    "mov [rip + {registers} + 16], rcx",
    "mov [rip + {registers} + 24], rdx",
    "mov [rip + {registers} + 32], rbp",
    "mov [rip + {registers} + 40], r8",
    "mov [rip + {registers} + 48], r9",
    "mov [rip + {registers} + 56], r10",
    "mov [rip + {registers} + 64], r11",
    "mov [rip + {registers} + 72], r12",
    "mov [rip + {registers} + 80], r13",
    "mov [rip + {registers} + 88], r14",
    "mov [rip + {registers} + 96], r15",
    "pushfq",
    "pop qword ptr [rip + {registers} + 104]",
    "mov r12, rdi",
    "mov r13, rsi",
    "lea r14, [rip + {state}]",
    "mov eax, 1",
    "cpuid",
    "bt ecx, 27",
    "jnc 2f",
    "xor ecx, ecx",
    "xgetbv",
    "xsave64 [r14]",
    "jmp 3f",
    "2:",
    "fxsave64 [r14]",
    "3:",
    "mov rdi, r12",
    "mov rsi, r13",
    "jmp {start}",
    registers = sym START_REGISTERS,
    state = sym START_STATE,
    start = sym isolation_start,
);

/// Runs `main` like every other program (see `ulib::start`).
extern "C" fn isolation_start(argc: usize, argv: *const *const u8) -> ! {
    // SAFETY: `_start` passes exec's argc and argv through unchanged.
    unsafe { ulib::start::start(argc, argv, main) }
}

fn main(args: Args) -> i32 {
    match args.get(1) {
        None => {
            let status = run_checks("isolationtest", CHECKS);
            println!(
                "isolationtest: {} children killed by a trap",
                TRAPS.load(Ordering::Relaxed)
            );
            status
        }
        Some(FPU_CLEAN) => match start_state_is_clean() {
            Ok(()) => 0,
            Err(why) => {
                eprintln!("isolationtest {}: {why}", "--fpu-clean");
                1
            }
        },
        Some(REGISTERS_CLEAN) => match start_registers_are_clean(args.len()) {
            Ok(()) => 0,
            Err(why) => {
                eprintln!("isolationtest {}: {why}", "--registers-clean");
                1
            }
        },
        Some(_) => {
            eprintln!("usage: isolationtest");
            2
        }
    }
}

// ---------------------------------------------------------------------
// Devices

/// A port of each device of QEMU's PC, and the two ends of the range.
const PORTS: &[(u16, &str)] = &[
    (0x0000, "DMA controller (lowest port)"),
    (0x0020, "PIC 1"),
    (0x0021, "PIC 1 mask"),
    (0x00A0, "PIC 2"),
    (0x0040, "PIT counter 0"),
    (0x0043, "PIT command"),
    (0x0060, "keyboard data"),
    (0x0064, "keyboard controller (resets the machine)"),
    (0x0070, "CMOS index"),
    (0x0071, "CMOS data"),
    (0x0080, "POST code"),
    (0x0092, "fast A20 and reset"),
    (0x00F4, "QEMU isa-debug-exit"),
    (0x01F0, "IDE primary data"),
    (0x01F7, "IDE primary status"),
    (0x03F6, "IDE primary control"),
    (0x0170, "IDE secondary data"),
    (0x0177, "IDE secondary status"),
    (0x0376, "IDE secondary control"),
    (0x03F8, "COM1"),
    (0x02F8, "COM2"),
    (0x03E8, "COM3"),
    (0x02E8, "COM4"),
    (0x0402, "QEMU debug console"),
    (0x0510, "QEMU firmware configuration"),
    (0x0CF8, "PCI configuration address"),
    (0x0CFC, "PCI configuration data"),
    (0x0CF9, "PCI reset control"),
    (0xFFFF, "highest port"),
];

/// A port instruction with the port in `dx`.
type PortDeed = fn(u16);

/// Every form of port instruction that takes its port from `dx`. The
/// string forms read or write one element of a buffer on the stack.
const PORT_FORMS: &[(&str, PortDeed)] = &[
    ("in al, dx", |port| unsafe_port!("in al, dx", port)),
    ("in ax, dx", |port| unsafe_port!("in ax, dx", port)),
    ("in eax, dx", |port| unsafe_port!("in eax, dx", port)),
    ("out dx, al", |port| unsafe_port!("out dx, al", port)),
    ("out dx, ax", |port| unsafe_port!("out dx, ax", port)),
    ("out dx, eax", |port| unsafe_port!("out dx, eax", port)),
    ("insb", |port| unsafe_port!("insb", port)),
    ("insw", |port| unsafe_port!("insw", port)),
    ("insd", |port| unsafe_port!("insd", port)),
    ("outsb", |port| unsafe_port!("outsb", port)),
    ("outsw", |port| unsafe_port!("outsw", port)),
    ("outsd", |port| unsafe_port!("outsd", port)),
];

/// Port instructions with the port as an immediate byte, on the devices
/// below port 256.
const IMMEDIATE_PORT_FORMS: &[(&str, fn())] = &[
    ("in al, 0x20", || unsafe_instruction!("in al, 0x20")),
    ("out 0x21, al", || unsafe_instruction!("out 0x21, al")),
    ("in al, 0x40", || unsafe_instruction!("in al, 0x40")),
    ("in al, 0x60", || unsafe_instruction!("in al, 0x60")),
    ("out 0x64, al", || unsafe_instruction!("out 0x64, al")),
    ("out 0x70, al", || unsafe_instruction!("out 0x70, al")),
    ("out 0x80, al", || unsafe_instruction!("out 0x80, al")),
    ("in eax, 0xF4", || unsafe_instruction!("in eax, 0xF4")),
    ("out 0xF4, eax", || unsafe_instruction!("out 0xF4, eax")),
];

fn io_ports_fault() -> CheckResult {
    for &(port, device) in PORTS {
        for &(form, deed) in PORT_FORMS {
            expect_trap(&format!("{form} on port {port:#x} ({device})"), || {
                deed(port);
                Ok(())
            })?;
        }
    }
    for &(form, deed) in IMMEDIATE_PORT_FORMS {
        expect_trap(form, || {
            deed();
            Ok(())
        })?;
    }
    Ok(())
}

// ---------------------------------------------------------------------
// Privileged instructions

/// Instructions only ring 0 may run; each must fault in user mode.
const PRIVILEGED: &[(&str, fn())] = &[
    ("cli", || unsafe_instruction!("cli")),
    ("sti", || unsafe_instruction!("sti")),
    ("hlt", || unsafe_instruction!("hlt")),
    ("lgdt", || with_table_pointer!("lgdt [{}]")),
    ("lidt", || with_table_pointer!("lidt [{}]")),
    ("lldt", || unsafe_instruction!("lldt ax")),
    ("ltr", || unsafe_instruction!("mov eax, 0x28", "ltr ax")),
    ("mov rax, cr0", || unsafe_instruction!("mov rax, cr0")),
    ("mov rax, cr2", || unsafe_instruction!("mov rax, cr2")),
    ("mov rax, cr3", || unsafe_instruction!("mov rax, cr3")),
    ("mov rax, cr4", || unsafe_instruction!("mov rax, cr4")),
    ("mov rax, cr8", || unsafe_instruction!("mov rax, cr8")),
    ("mov cr3, rax", || unsafe_instruction!("mov cr3, rax")),
    ("mov cr0, rax", || unsafe_instruction!("mov cr0, rax")),
    ("clts", || unsafe_instruction!("clts")),
    ("lmsw", || unsafe_instruction!("lmsw ax")),
    ("mov rax, dr7", || unsafe_instruction!("mov rax, dr7")),
    ("mov dr7, rax", || unsafe_instruction!("mov dr7, rax")),
    ("rdmsr (EFER)", || with_msr!("rdmsr")),
    ("wrmsr (EFER)", || with_msr!("wrmsr")),
    ("invlpg", || with_table_pointer!("invlpg [{}]")),
    ("wbinvd", || unsafe_instruction!("wbinvd")),
    ("invd", || unsafe_instruction!("invd")),
    ("swapgs", || unsafe_instruction!("swapgs")),
    ("rdpmc", || with_msr!("rdpmc")),
    ("xsetbv", || with_msr!("xsetbv")),
    ("mov ds, kernel data", || {
        unsafe_instruction!("mov eax, 0x10", "mov ds, ax")
    }),
    ("int 0x20 (the timer's vector)", || {
        unsafe_instruction!("int 0x20")
    }),
    ("int 0x80", || unsafe_instruction!("int 0x80")),
    ("iretq to ring 0", iretq_to_kernel),
    ("sysretq", || unsafe_instruction!("sysretq")),
];

/// Builds an interrupt-return frame for the kernel's code segment
/// (selector 0x08, ring 0) and executes `iretq` on it: returning to a more
/// privileged ring is a fault.
fn iretq_to_kernel() {
    // SAFETY: the iretq faults in user mode; if it did not, it would jump
    // to the label just after it, with this code's own stack.
    unsafe {
        asm!(
            "mov rax, rsp",
            "push 0x10",
            "push rax",
            "pushfq",
            "push 0x08",
            "lea rax, [rip + 2f]",
            "push rax",
            "iretq",
            "2:",
            out("rax") _,
        )
    }
}

fn privileged_instructions_fault() -> CheckResult {
    for &(what, deed) in PRIVILEGED {
        expect_trap(what, || {
            deed();
            Ok(())
        })?;
    }
    Ok(())
}

/// With UMIP, which the kernel turns on where the CPU has it, the
/// instructions that read where the kernel's tables are fault in user
/// mode. Without it (QEMU's default CPU) they are allowed: the check then
/// shows that the CPU really lacks it, so the other run (`-cpu max`) is
/// the one that tests the wall.
fn umip_hides_descriptor_tables() -> CheckResult {
    const UMIP: u32 = 1 << 2;
    let has_umip = cpuid(7, 0).ecx & UMIP != 0;
    let deeds: [(&str, fn()); 5] = [
        ("sgdt", || with_table_pointer!("sgdt [{}]")),
        ("sidt", || with_table_pointer!("sidt [{}]")),
        ("sldt", || unsafe_instruction!("sldt ax")),
        ("smsw", || unsafe_instruction!("smsw ax")),
        ("str", || unsafe_instruction!("str ax")),
    ];
    for (what, deed) in deeds {
        if has_umip {
            expect_trap(what, || {
                deed();
                Ok(())
            })?;
        } else {
            let pid = spawn(|| {
                deed();
                0
            })?;
            let status = wait_for(pid)?;
            ensure!(status == 0, "{what} faulted on a CPU without UMIP");
        }
    }
    if !has_umip {
        println!("isolationtest: this CPU has no UMIP, so sgdt and its kind are allowed");
    }
    Ok(())
}

/// A user program may set RFLAGS.NT (nested task) with `popf`. The kernel
/// must clear it on entry: an `iretq` with NT set faults in 64-bit mode,
/// so the kernel's own return from the system call would crash it.
fn nt_flag_before_syscall() -> CheckResult {
    const NT: u64 = 1 << 14;
    let pid = spawn(|| {
        let result: isize;
        // SAFETY: sets NT, makes a getpid system call, clears NT again;
        // getpid touches no memory.
        unsafe {
            asm!(
                "pushfq",
                "or qword ptr [rsp], {nt}",
                "popfq",
                "syscall",
                "pushfq",
                "and qword ptr [rsp], {not_nt}",
                "popfq",
                nt = const NT,
                not_nt = const !NT,
                inout("rax") SYS_GETPID => result,
                out("rcx") _,
                out("r11") _,
            );
        }
        if result > 0 { 0 } else { 1 }
    })?;
    let status = wait_for(pid)?;
    ensure!(
        status == 0,
        "getpid with NT set ended the child with status {status}"
    );
    Ok(())
}

/// RFLAGS.TF: a program may set it with `popf` (a debugger's single step)
/// and then make a system call. `syscall` clears TF for the kernel (the
/// flag mask, syscall.rs), so the kernel does not single-step itself and
/// trap; the program gets its TF back on the way out, and its next
/// instruction ends it with a debug trap (1) in user mode. The way back
/// is `iretq` then (trapasm.S: `sysretq` would trap before that
/// instruction instead of after it).
fn trap_flag_before_syscall() -> CheckResult {
    const TF: u64 = 1 << 8;
    expect_trap("getpid with TF set", || {
        // SAFETY: sets TF and makes a getpid system call, which touches
        // no memory; the single step after it ends this child. Were the
        // child to survive, TF is cleared again before compiled code runs.
        unsafe {
            asm!(
                "pushfq",
                "or qword ptr [rsp], {tf}",
                "popfq",
                "syscall",
                "nop",
                "pushfq",
                "and qword ptr [rsp], {not_tf}",
                "popfq",
                tf = const TF,
                not_tf = const !TF,
                inout("rax") SYS_GETPID => _,
                out("rcx") _,
                out("r11") _,
            );
        }
        Ok(())
    })
}

/// RFLAGS.IOPL: `popf` in user mode silently keeps it at 0, and a system
/// call must not raise it either on the way back (`sysretq` loads the
/// flags from r11, which the kernel checks: trap.rs, trapasm.S). So after
/// asking for IOPL 3 and making a system call, the flags still say 0 and
/// `cli` is still a general-protection fault.
fn no_io_privilege_after_syscall() -> CheckResult {
    const IOPL: u64 = 3 << 12;
    expect_trap("cli after popf with IOPL 3 and a system call", || {
        let flags: u64;
        // SAFETY: asks popf for IOPL 3 (ignored in user mode), makes a
        // getpid system call, which touches no memory, and reads the flags.
        unsafe {
            asm!(
                "pushfq",
                "or qword ptr [rsp], {iopl}",
                "popfq",
                "syscall",
                "pushfq",
                "pop {flags}",
                iopl = const IOPL,
                flags = lateout(reg) flags,
                inout("rax") SYS_GETPID => _,
                lateout("rcx") _,
                lateout("r11") _,
            );
        }
        ensure!(
            flags & IOPL == 0,
            "the flags say IOPL {} after the system call",
            (flags & IOPL) >> 12
        );
        unsafe_instruction!("cli");
        Ok(())
    })
}

/// A `syscall` in the last two bytes of the user half would return to
/// USER_TOP, the first non-canonical address; `sysretq` to such an address
/// faults in ring 0 on Intel CPUs, with the user's stack (trapasm.S). The
/// kernel refuses `sysretq` for it (the ktest `sysret_guard` checks that
/// directly), and no program can even get code there: the heap stops at
/// SHMBASE, shared memory is never executable (`no_execute_data`), exec
/// loads nothing above SHMBASE (ctest's exec variants), and nothing is
/// mapped at the top to jump to.
fn no_code_at_top_of_user_half() -> CheckResult {
    const USER_TOP: usize = abi::memlayout::USER_TOP;
    in_child(|| {
        // SAFETY: sbrk(0) only reads the break.
        let end = unsafe { ulib::sbrk(0) } as usize;
        // SAFETY: asks for the whole rest of the user half, which must
        // fail; a heap that did grow is this child's alone, and nothing
        // here points into it.
        let result = unsafe { ulib::sbrk((USER_TOP - end) as isize) };
        ensure!(
            result == -1,
            "sbrk grew the heap to the top of the user half"
        );
        Ok(())
    })?;
    expect_trap("a jump to the last two bytes of the user half", || {
        call(USER_TOP - 2);
        Ok(())
    })
}

/// The general registers and flags `_start` found, in the order it saves
/// them: rax, rbx, rcx, rdx, rbp, r8 to r15, then the flags.
struct StartRegisters(UnsafeCell<[u64; 14]>);

// SAFETY: one thread per process; `_start` writes the array before any
// Rust code runs, and afterwards it is only read.
unsafe impl Sync for StartRegisters {}

static START_REGISTERS: StartRegisters = StartRegisters(UnsafeCell::new([0; 14]));

/// The names of START_REGISTERS' entries.
const START_REGISTER_NAMES: [&str; 14] = [
    "rax", "rbx", "rcx", "rdx", "rbp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
    "rflags",
];

/// In the program `exec_registers_clean` started, with `argc` arguments:
/// exec's registers, restored by `iretq` from the frame exec built. rax is
/// exec's result, argc (rdi and rsi, argc and argv, are `_start`'s own
/// business); every other register is 0, whatever the old program held,
/// rcx and r11 included (`sysretq` would have left the entry point and
/// the flags there); the flags are IF alone.
fn start_registers_are_clean(argc: usize) -> CheckResult {
    // SAFETY: written only by `_start`, before any Rust code ran.
    let registers = unsafe { &*START_REGISTERS.0.get() };
    for (&name, &got) in START_REGISTER_NAMES.iter().zip(registers) {
        let want = match name {
            "rax" => argc as u64,
            "rflags" => 0x202,
            _ => 0,
        };
        ensure!(got == want, "{name} was {got:#x} at _start, not {want:#x}");
    }
    Ok(())
}

/// A child fills the general registers with a pattern and, in the same
/// `asm!` block, execs this program with `--registers-clean`, which checks
/// the registers it starts with.
fn exec_registers_clean() -> CheckResult {
    let pid = spawn(|| {
        let path = c"isolationtest";
        let argv = [
            path.as_ptr(),
            c"--registers-clean".as_ptr(),
            core::ptr::null(),
        ];
        let result: isize;
        // SAFETY: fills registers and execs; on success nothing of this
        // program runs again, on failure exec returns -1, and the block
        // gives back rbx and rbp and declares the rest clobbered.
        unsafe {
            asm!(
                "push rbx",
                "push rbp",
                "mov rbx, {dirty}",
                "mov rbp, {dirty}",
                "mov rdx, {dirty}",
                "mov r8, {dirty}",
                "mov r9, {dirty}",
                "mov r10, {dirty}",
                "mov r12, {dirty}",
                "mov r13, {dirty}",
                "mov r14, {dirty}",
                "mov r15, {dirty}",
                "mov eax, {exec}",
                "syscall",
                "pop rbp",
                "pop rbx",
                dirty = in(reg) 0x5a5a_5a5a_5a5a_5a5au64,
                exec = const SYS_EXEC,
                in("rdi") path.as_ptr(),
                in("rsi") argv.as_ptr(),
                lateout("rax") result,
                clobber_abi("C"),
                out("r12") _,
                out("r13") _,
                out("r14") _,
                out("r15") _,
            );
        }
        eprintln!("  exec failed: {result}");
        3
    })?;
    match wait_for(pid)? {
        0 => Ok(()),
        3 => Err(String::from("exec of isolationtest failed")),
        status => Err(format!(
            "the new program found registers that were not clean (status {status}; its line above says which)"
        )),
    }
}

/// A user program may set RFLAGS.DF (`std`) and keep it set while timer
/// interrupts arrive; an interrupt keeps the interrupted code's flags, and
/// the kernel's copies (`rep movs`) would run backwards unless its entry
/// clears DF (trapasm.S). One child spins with DF set, on every CPU in
/// turn, while another pushes known data through a pipe and checks every
/// byte that comes back.
fn direction_flag_contained() -> CheckResult {
    const SPIN_TICKS: i32 = 30;
    let spinner = spawn(|| {
        let start = ulib::uptime();
        while ulib::uptime() - start < SPIN_TICKS {
            // SAFETY: sets DF for a busy loop that touches no memory (so no
            // compiled code runs with it), and clears it again.
            unsafe {
                asm!("std", "2:", "dec {n:e}", "jnz 2b", "cld",
                    n = inout(reg) 2_000_000u32 => _, options(nomem, nostack));
            }
        }
        0
    })?;
    let pipe = Pipe::new()?;
    let mut corrupted = 0;
    let mut block = [0u8; 512];
    let mut back = [0u8; 512];
    for round in 0..200u32 {
        for (i, byte) in block.iter_mut().enumerate() {
            *byte = (i as u32 * 7 + round) as u8;
        }
        let moved = ulib::write(pipe.write_end(), &block) == 512
            && ulib::read(pipe.read_end(), &mut back) == 512;
        if !moved || back != block {
            corrupted += 1;
        }
    }
    drop(pipe);
    let spun = wait_for(spinner)?;
    ensure!(
        corrupted == 0,
        "{corrupted} of 200 blocks came back wrong while another process ran with DF set"
    );
    ensure!(
        spun == 0,
        "the process with DF set ended with status {spun}"
    );
    Ok(())
}

/// A 32-bit `iret` with EFLAGS.VM set in the frame. A real CPU in 64-bit
/// mode ignores VM at ring 3 and returns to the 64-bit code after the
/// instruction (the code and stack lie below 4 GiB, so 32-bit values
/// reach them). QEMU's software CPU instead enters virtual-8086 mode,
/// where the child soon faults with real-mode segments loaded. The kernel
/// must see that trap as one from user mode (trapasm.S) and kill the
/// child; before it did, the fault ran the kernel on the user's %gs base
/// and wedged the machine (the random-instruction fuzzer found it).
fn iret_to_virtual_8086() -> CheckResult {
    const VM: u32 = 1 << 17;
    let pid = spawn(|| {
        // SAFETY: builds a 32-bit interrupt-return frame (eip, cs, eflags,
        // esp, ss, then the es, ds, fs, gs a virtual-8086 return pops) for
        // the label just after the iret, with this code's own stack.
        unsafe {
            asm!(
                "mov rax, rsp",
                "sub rsp, 48",
                "lea rcx, [rip + 2f]",
                "mov dword ptr [rsp], ecx",
                "mov dword ptr [rsp + 4], 0x23",
                "mov dword ptr [rsp + 8], {flags}",
                "mov dword ptr [rsp + 12], eax",
                "mov dword ptr [rsp + 16], 0x1b",
                "mov dword ptr [rsp + 20], 0",
                "mov dword ptr [rsp + 24], 0",
                "mov dword ptr [rsp + 28], 0",
                "mov dword ptr [rsp + 32], 0",
                "iretd",
                "2:",
                "mov rsp, rax",
                flags = const 0x202 | VM,
                out("rax") _,
                out("rcx") _,
            );
        }
        0
    })?;
    match wait_for(pid)? {
        0 => Ok(()),
        -1 => {
            TRAPS.fetch_add(1, Ordering::Relaxed);
            println!(
                "isolationtest: this CPU entered virtual-8086 mode; the kernel killed the process"
            );
            Ok(())
        }
        status => Err(format!("the child ended with status {status}")),
    }
}

// ---------------------------------------------------------------------
// Registers

/// CPUID leaf `leaf`, sub-leaf `sub`.
fn cpuid(leaf: u32, sub: u32) -> core::arch::x86_64::CpuidResult {
    core::arch::x86_64::__cpuid_count(leaf, sub)
}

/// The XCR0 components the kernel enabled for us (x87 = 1, SSE = 2,
/// AVX = 4), or 0 if it uses FXSAVE (CPUID's OSXSAVE bit is clear).
fn xsave_components() -> u64 {
    const OSXSAVE: u32 = 1 << 27;
    if __cpuid(1).ecx & OSXSAVE == 0 {
        return 0;
    }
    let (low, high): (u32, u32);
    // SAFETY: xgetbv only reads XCR0, allowed in user mode with OSXSAVE.
    unsafe {
        asm!("xgetbv", in("ecx") 0, out("eax") low, out("edx") high, options(nomem, nostack))
    };
    u64::from(low) | (u64::from(high) << 32)
}

const AVX: u64 = 1 << 2;

/// An FXSAVE/XSAVE area: the legacy region (x87, MXCSR, XMM), the XSAVE
/// header, and the AVX upper halves at their standard offset.
#[repr(C, align(64))]
#[derive(Clone)]
struct Area([u8; AREA_SIZE]);

const AREA_SIZE: usize = 1024;
const FCW: usize = 0;
const FSW: usize = 2;
const FTW: usize = 4;
const MXCSR: usize = 24;
const ST0: usize = 32;
const XMM0: usize = 160;
const XSTATE_BV: usize = 512;
const YMM_HI0: usize = 576;

impl Area {
    const fn zeroed() -> Area {
        Area([0; AREA_SIZE])
    }

    fn u16_at(&self, at: usize) -> u16 {
        u16::from_le_bytes([self.0[at], self.0[at + 1]])
    }

    fn u32_at(&self, at: usize) -> u32 {
        u32::from_le_bytes(self.0[at..at + 4].try_into().expect("4 bytes"))
    }
}

/// Everything a program can put in the FPU/SSE/AVX registers, decoded from
/// a save area: the x87 control, status and (abridged) tag words, MXCSR,
/// the 80 bits of each x87 register, the XMM registers and the AVX upper
/// halves (zero where the kernel did not enable AVX).
#[derive(Clone, PartialEq, Eq, Debug)]
struct Registers {
    fcw: u16,
    fsw: u16,
    ftw: u8,
    mxcsr: u32,
    st: [[u8; 10]; 8],
    xmm: [[u8; 16]; 16],
    ymm_hi: [[u8; 16]; 16],
}

impl Registers {
    /// Decodes `area`, saved with `components` (0 for FXSAVE). A component
    /// XSAVE reports in its initial state (its XSTATE_BV bit clear) holds
    /// its initial values, whatever the area's bytes say.
    fn from_area(area: &Area, components: u64) -> Registers {
        let in_use = if components == 0 {
            0b011
        } else {
            u64::from_le_bytes(
                area.0[XSTATE_BV..XSTATE_BV + 8]
                    .try_into()
                    .expect("8 bytes"),
            )
        };
        let mut registers = Registers {
            fcw: 0x037F,
            fsw: 0,
            ftw: 0,
            mxcsr: area.u32_at(MXCSR),
            st: [[0; 10]; 8],
            xmm: [[0; 16]; 16],
            ymm_hi: [[0; 16]; 16],
        };
        if in_use & 1 != 0 {
            registers.fcw = area.u16_at(FCW);
            registers.fsw = area.u16_at(FSW);
            registers.ftw = area.0[FTW];
            for (i, st) in registers.st.iter_mut().enumerate() {
                st.copy_from_slice(&area.0[ST0 + 16 * i..ST0 + 16 * i + 10]);
            }
        }
        if in_use & 2 != 0 {
            for (i, xmm) in registers.xmm.iter_mut().enumerate() {
                xmm.copy_from_slice(&area.0[XMM0 + 16 * i..XMM0 + 16 * (i + 1)]);
            }
        }
        if components & AVX != 0 && in_use & AVX != 0 {
            for (i, high) in registers.ymm_hi.iter_mut().enumerate() {
                high.copy_from_slice(&area.0[YMM_HI0 + 16 * i..YMM_HI0 + 16 * (i + 1)]);
            }
        }
        registers
    }

    /// The state a program starts with (fpu.rs): FNINIT's control word,
    /// the default MXCSR, every register zero.
    fn initial() -> Registers {
        Registers {
            fcw: 0x037F,
            fsw: 0,
            ftw: 0,
            mxcsr: 0x1F80,
            st: [[0; 10]; 8],
            xmm: [[0; 16]; 16],
            ymm_hi: [[0; 16]; 16],
        }
    }

    /// Where two register sets differ, in words.
    fn difference(&self, other: &Registers) -> String {
        let mut parts = Vec::new();
        if (self.fcw, self.fsw, self.ftw) != (other.fcw, other.fsw, other.ftw) {
            parts.push(format!(
                "x87 control/status/tag {:#x}/{:#x}/{:#x} vs {:#x}/{:#x}/{:#x}",
                self.fcw, self.fsw, self.ftw, other.fcw, other.fsw, other.ftw
            ));
        }
        if self.mxcsr != other.mxcsr {
            parts.push(format!("MXCSR {:#x} vs {:#x}", self.mxcsr, other.mxcsr));
        }
        let differing = |a: &[[u8; 16]; 16], b: &[[u8; 16]; 16]| -> Vec<usize> {
            (0..16).filter(|&i| a[i] != b[i]).collect()
        };
        let st: Vec<usize> = (0..8).filter(|&i| self.st[i] != other.st[i]).collect();
        if !st.is_empty() {
            parts.push(format!("st registers {st:?}"));
        }
        let xmm = differing(&self.xmm, &other.xmm);
        if !xmm.is_empty() {
            parts.push(format!("xmm registers {xmm:?}"));
        }
        let ymm = differing(&self.ymm_hi, &other.ymm_hi);
        if !ymm.is_empty() {
            parts.push(format!("upper halves of ymm registers {ymm:?}"));
        }
        parts.join(", ")
    }
}

/// A save area full of values that only `seed` produces: x87 control
/// word and MXCSR with seed-dependent rounding (all exceptions masked), all
/// eight x87 registers valid, every XMM register and AVX upper half filled.
fn pattern(seed: u8, components: u64) -> Area {
    let mut area = Area::zeroed();
    let rounding = u16::from(seed % 4);
    let fcw = 0x037F_u16 & !0x0C00 | (rounding << 10);
    area.0[FCW..FCW + 2].copy_from_slice(&fcw.to_le_bytes());
    area.0[FTW] = 0xFF;
    let mxcsr = 0x1F80_u32 | (u32::from(rounding) << 13) | (u32::from(seed & 1) << 15);
    area.0[MXCSR..MXCSR + 4].copy_from_slice(&mxcsr.to_le_bytes());
    let mut value = u32::from(seed).wrapping_mul(0x9E37_79B9) | 1;
    let mut next = || {
        value ^= value << 13;
        value ^= value >> 17;
        value ^= value << 5;
        value as u8
    };
    for i in 0..8 {
        for byte in &mut area.0[ST0 + 16 * i..ST0 + 16 * i + 10] {
            *byte = next();
        }
    }
    for byte in &mut area.0[XMM0..XMM0 + 256] {
        *byte = next();
    }
    if components != 0 {
        let in_use = components & 0b111;
        area.0[XSTATE_BV..XSTATE_BV + 8].copy_from_slice(&in_use.to_le_bytes());
        if components & AVX != 0 {
            for byte in &mut area.0[YMM_HI0..YMM_HI0 + 256] {
                *byte = next();
            }
        }
    }
    area
}

/// Rounds of sleeping and spinning while the registers hold the pattern.
const ROUNDS: u32 = 12;
/// Iterations of each spin: long enough that timer interrupts arrive while
/// the process runs in user mode, so it is also preempted there.
const SPIN: u32 = 200_000;

/// Loads the pattern for `seed`, then sleeps a tick and spins, ROUNDS
/// times, with no compiled code in between, then saves the registers and
/// compares: Ok if every value survived.
fn hold_pattern(seed: u8) -> CheckResult {
    let components = xsave_components();
    let expected = pattern(seed, components);
    let mut saved = Area::zeroed();
    let saved_at = saved.0.as_mut_ptr();
    // SAFETY: restores the pattern into the registers, makes sleep system
    // calls (which touch no memory) between spins, and saves the registers
    // into `saved`; clobber_abi tells the compiler that every vector and x87
    // register is changed.
    unsafe {
        asm!(
            restore_from_r12!(),
            "2:",
            "mov eax, {sleep}",
            "mov edi, 1",
            "syscall",
            "mov ecx, {spin}",
            "3:",
            "dec ecx",
            "jnz 3b",
            "dec r15d",
            "jnz 2b",
            save_to_r14!(),
            sleep = const SYS_SLEEP,
            spin = const SPIN,
            in("r12") expected.0.as_ptr(),
            in("r13") components,
            in("r14") saved_at,
            inout("r15") ROUNDS => _,
            clobber_abi("C"),
        );
    }
    reset_fpu();
    compare(&expected, &saved, components)
}

/// Ok if `saved` holds the registers of `expected`.
fn compare(expected: &Area, saved: &Area, components: u64) -> CheckResult {
    let want = Registers::from_area(expected, components);
    let got = Registers::from_area(saved, components);
    if want == got {
        Ok(())
    } else {
        Err(format!("registers changed: {}", want.difference(&got)))
    }
}

/// Puts the x87 unit and MXCSR back in their initial state (an empty
/// register stack, round to nearest, exceptions masked), after a check left
/// a pattern in them that compiled code would trip over.
fn reset_fpu() {
    let mxcsr: u32 = 0x1F80;
    // SAFETY: only the FPU/SSE state changes, which clobber_abi declares.
    unsafe { asm!("fninit", "ldmxcsr [{}]", in(reg) &mxcsr, clobber_abi("C")) };
}

/// Processes that hold their own register values at the same time.
const HOLDERS: u8 = 4;

fn fpu_registers_private() -> CheckResult {
    let components = xsave_components();
    println!(
        "isolationtest: checking x87, MXCSR, xmm{} in {HOLDERS} processes",
        if components & AVX != 0 { ", ymm" } else { "" }
    );
    let mut holders = Vec::new();
    for seed in 1..=HOLDERS {
        holders.push(spawn_check(move || {
            hold_pattern(seed).map_err(|why| format!("holder {seed} of {HOLDERS}: {why}"))
        })?);
    }
    // The holders end in any order.
    join_all(holders)
}

/// The parent loads a pattern and forks from the same `asm!` block; both
/// save their registers right after the system call. The child must see
/// the parent's values, and the parent must keep them.
fn fpu_fork_inherits() -> CheckResult {
    let mut report = Pipe::new()?;
    let components = xsave_components();
    let expected = pattern(5, components);
    let mut saved = Area::zeroed();
    let saved_at = saved.0.as_mut_ptr();
    let pid: isize;
    // SAFETY: as in hold_pattern, with one fork system call instead of the
    // sleeps; both processes continue after the asm with their own copy
    // of `saved`.
    unsafe {
        asm!(
            restore_from_r12!(),
            "mov eax, {fork}",
            "syscall",
            "mov r15, rax",
            save_to_r14!(),
            fork = const SYS_FORK,
            in("r12") expected.0.as_ptr(),
            in("r13") components,
            in("r14") saved_at,
            out("r15") pid,
            clobber_abi("C"),
        );
    }
    reset_fpu();
    let verdict = compare(&expected, &saved, components);
    if pid == 0 {
        // The fork was in the asm block, so this is no checking child of
        // spawn_check's; it sends its verdict the same way.
        send_verdict(report.write_end(), &verdict);
        exit(0);
    }
    ensure!(pid > 0, "fork failed");
    report.close_write();
    let child = receive_verdict(report.read_end());
    wait_for(pid as i32)?;
    verdict.map_err(|why| format!("in the parent after fork: {why}"))?;
    match child {
        Some(verdict) => verdict
            .map_err(|why| format!("the child did not start with the parent's registers: {why}")),
        None => Err(String::from(
            "the child died before it compared its registers",
        )),
    }
}

/// The registers as `_start` found them, and whether it used XSAVE.
struct StartState(UnsafeCell<Area>);

// SAFETY: one thread per process; `_start` writes the area before any
// Rust code runs, and afterwards it is only read.
unsafe impl Sync for StartState {}

static START_STATE: StartState = StartState(UnsafeCell::new(Area::zeroed()));

/// In the program `fpu_exec_clean` started: were the registers clean?
fn start_state_is_clean() -> CheckResult {
    // SAFETY: written only by `_start`, before any Rust code ran.
    let area = unsafe { &*START_STATE.0.get() };
    // `_start` used XSAVE exactly when `xsave_components` finds it on,
    // and with the same components.
    let got = Registers::from_area(area, xsave_components());
    let want = Registers::initial();
    ensure!(
        got == want,
        "registers not clean after exec: {}",
        want.difference(&got)
    );
    Ok(())
}

/// A child loads a pattern and, in the same `asm!` block, execs this
/// program with `--fpu-clean`, which checks the registers it starts with.
fn fpu_exec_clean() -> CheckResult {
    let pid = spawn(|| {
        let components = xsave_components();
        let dirty = pattern(6, components);
        let path = c"isolationtest";
        let argv = [path.as_ptr(), c"--fpu-clean".as_ptr(), core::ptr::null()];
        let result: isize;
        // SAFETY: loads the pattern and execs; on success nothing of this
        // program runs again, on failure exec returns -1 and we go on with
        // clean registers.
        unsafe {
            asm!(
                restore_from_r12!(),
                "mov eax, {exec}",
                "syscall",
                exec = const SYS_EXEC,
                in("r12") dirty.0.as_ptr(),
                in("r13") components,
                in("rdi") path.as_ptr(),
                in("rsi") argv.as_ptr(),
                lateout("rax") result,
                clobber_abi("C"),
            );
        }
        reset_fpu();
        eprintln!("  exec failed: {result}");
        3
    })?;
    match wait_for(pid)? {
        0 => Ok(()),
        3 => Err(String::from("exec of isolationtest failed")),
        status => Err(format!(
            "the new program found registers that were not clean (status {status})"
        )),
    }
}

/// Runs `deed`, which raises an unmasked floating-point exception, in a
/// child that must die; this process's own MXCSR and x87 control word must
/// be untouched afterwards.
fn exception_kills_only_raiser(what: &str, deed: fn()) -> CheckResult {
    let before = control_words();
    expect_trap(what, || {
        deed();
        Ok(())
    })?;
    let after = control_words();
    ensure!(
        before == after,
        "the parent's control words changed from {before:x?} to {after:x?}"
    );
    Ok(())
}

/// This process's MXCSR and x87 control word.
fn control_words() -> (u32, u16) {
    let mut mxcsr = 0u32;
    let mut fcw = 0u16;
    // SAFETY: both instructions only store into the two locals.
    unsafe {
        asm!("stmxcsr [{}]", "fnstcw [{}]", in(reg) &mut mxcsr, in(reg) &mut fcw,
            options(nostack));
    }
    (mxcsr, fcw)
}

/// Unmasks SSE's divide-by-zero exception and divides 1.0 by 0.0. A CPU
/// raises `#XM` (the kernel enabled it with CR4.OSXMMEXCPT), which must
/// kill the child alone. QEMU's software CPU (TCG) does not model SIMD
/// exceptions: it only sets the ZE flag in MXCSR and goes on, so there the
/// child finds the flag set and reports that instead; either way the
/// parent's state must be untouched.
fn simd_exception_kills() -> CheckResult {
    /// MXCSR's divide-by-zero flag and mask.
    const ZE: u32 = 1 << 2;
    const ZM: u32 = 1 << 9;
    /// The child's status when the CPU did not raise #XM but set ZE.
    const FLAG_ONLY: i32 = 19;
    let before = control_words();
    let pid = spawn(|| {
        let mxcsr: u32 = 0x1F80 & !ZM;
        // SAFETY: changes MXCSR and two XMM registers (declared) in a child
        // that dies of the exception, or exits right after.
        unsafe {
            asm!(
                "ldmxcsr [{mxcsr}]",
                "mov eax, 0x3F800000",
                "movd xmm0, eax",
                "xorps xmm1, xmm1",
                "divss xmm0, xmm1",
                mxcsr = in(reg) &mxcsr,
                out("eax") _, out("xmm0") _, out("xmm1") _,
                options(nostack),
            );
        }
        if control_words().0 & ZE != 0 {
            FLAG_ONLY
        } else {
            1
        }
    })?;
    match wait_for(pid)? {
        -1 => {
            TRAPS.fetch_add(1, Ordering::Relaxed);
        }
        FLAG_ONLY => {
            println!("isolationtest: this CPU sets MXCSR.ZE without raising #XM (QEMU's TCG does)")
        }
        status => {
            return Err(format!(
                "divss by zero with ZM unmasked neither trapped nor set ZE (status {status})"
            ));
        }
    }
    let after = control_words();
    ensure!(
        before == after,
        "the parent's control words changed from {before:x?} to {after:x?}"
    );
    Ok(())
}

/// Unmasks x87's divide-by-zero exception and divides 1 by 0: `#MF`, at
/// the next waiting x87 instruction.
fn x87_exception_kills() -> CheckResult {
    exception_kills_only_raiser("fdiv by zero with ZM unmasked", || {
        let fcw: u16 = 0x037F & !(1 << 2);
        // SAFETY: changes the x87 state in a child that dies of the
        // exception.
        unsafe {
            asm!(
                "fninit",
                "fldcw [{fcw}]",
                "fld1",
                "fldz",
                "fdivp st(1), st",
                "fwait",
                fcw = in(reg) &fcw,
                out("st(0)") _, out("st(1)") _,
                options(nostack),
            );
        }
    })
}

/// Floating point in compiled code: the sum of 1/n² for n = 1..1000,
/// computed at run time in SSE registers and printed.
fn float_arithmetic() -> CheckResult {
    let terms = black_box(1000u32);
    let sum: f64 = (1..=terms).map(|n| 1.0 / f64::from(n * n)).sum();
    println!("isolationtest: the sum of 1/n^2 for n = 1..{terms} is {sum:.12}");
    // The value to the last bit, as any IEEE 754 machine sums it in order.
    const EXPECTED: f64 = 1.643_934_566_681_561_5;
    ensure!(
        (sum - EXPECTED).abs() < 1e-15,
        "the sum came out as {sum}, not {EXPECTED}"
    );
    Ok(())
}

// ---------------------------------------------------------------------
// No execution of data

/// A `ret` instruction.
const RET: u8 = 0xC3;

/// A `ret` in the data segment.
static mut DATA_CODE: [u8; 16] = [RET; 16];

/// Calls `address`; returns only if the byte there is a `ret` the CPU was
/// allowed to execute.
fn call(address: usize) {
    // SAFETY: the callee is a lone `ret` (or faults, which is what the
    // caller tests); the call clobbers nothing else.
    unsafe { asm!("call {}", in(reg) address, clobber_abi("C")) };
}

fn no_execute_data() -> CheckResult {
    expect_trap("calling the data segment", || {
        call(&raw const DATA_CODE as usize);
        Ok(())
    })?;
    expect_trap("calling the stack", || {
        let code = black_box([RET; 16]);
        call(code.as_ptr() as usize);
        Ok(())
    })?;
    expect_trap("calling the heap", || {
        let code = black_box(Box::new([RET; 16]));
        call(code.as_ptr() as usize);
        Ok(())
    })?;
    let mut shm = Shm::open("isolationtest").map_err(|e| format!("shm_open: {e}"))?;
    shm.trunc(ulib::PGSIZE)
        .map_err(|e| format!("shm_trunc: {e}"))?;
    let mapping = shm.map_rw().map_err(|e| format!("shm_map: {e}"))?;
    mapping.fill(0..ulib::PGSIZE, RET);
    let address = mapping.address();
    expect_trap("calling shared memory", || {
        call(address);
        Ok(())
    })?;
    shm.close().map_err(|e| format!("shm_close: {e}"))
}
