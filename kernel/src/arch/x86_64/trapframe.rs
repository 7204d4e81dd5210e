//! The trap frame: the registers of interrupted code, in the order
//! trapasm.S pushes them on the kernel stack (the CPU pushes the last five).
//!
//! `trap` and `syscall_trap` (trap.rs) receive the frame of the trap they
//! handle and lend it, as the one `&mut TrapFrame`, to whatever reads or
//! changes the interrupted code's registers: a system call's arguments and
//! result, `fork` (which copies it for the child) and `exec` (which
//! replaces it). A new process's first frame is written by proc.rs before
//! any code runs on its kernel stack.
//!
//! A system call goes back to user mode through `sysretq` when
//! [`TrapFrame::sysret_can_restore`] says the frame allows it, and through
//! `iretq` otherwise (trapasm.S); every other trap goes back through
//! `iretq`.

use abi::memlayout::USER_TOP;
use x86::bits64::rflags::RFlags;

use super::gdt::{USER_CODE, USER_DATA};

/// The registers of interrupted code, as trapasm.S saves them.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct TrapFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rbp: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    pub vector: u64,
    pub error_code: u64,
    // Pushed by the CPU.
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

impl TrapFrame {
    /// Did the trap interrupt user code: ring 3, or virtual-8086 mode
    /// (see [`TrapFrame::is_virtual_8086`])?
    pub fn is_from_user(&self) -> bool {
        self.cs & 3 == 3 || self.is_virtual_8086()
    }

    /// Did the trap interrupt virtual-8086 code? A real x86_64 CPU never
    /// runs it in 64-bit mode, but QEMU's software CPU lets a user-mode
    /// `iret` set RFLAGS.VM (the random-instruction fuzzer found this).
    /// The process's segment registers then hold real-mode values that no
    /// return to 64-bit code could restore, so `trap` kills it.
    pub fn is_virtual_8086(&self) -> bool {
        self.rflags & RFlags::FLAGS_VM.bits() != 0
    }

    /// Would `sysretq` return to exactly what this frame describes, as
    /// `iretq` would? It takes rip from rcx and rflags from r11 (both
    /// popped from this frame), cs and ss from the STAR MSR, and
    /// restores every flag but RF and VM; trapasm.S's `syscall_entry`
    /// says why each condition below is needed, the canonical rip above
    /// all (Intel's SYSRET hazard).
    pub fn sysret_can_restore(&self) -> bool {
        /// Flags sysretq cannot restore as iretq does.
        const IRET_ONLY: u64 =
            RFlags::FLAGS_TF.bits() | RFlags::FLAGS_RF.bits() | RFlags::FLAGS_VM.bits();
        self.rcx == self.rip
            && self.r11 == self.rflags
            && self.cs == u64::from(USER_CODE.bits())
            && self.ss == u64::from(USER_DATA.bits())
            && self.rip < USER_TOP as u64
            && self.rflags & RFlags::FLAGS_IF.bits() != 0
            && self.rflags & IRET_ONLY == 0
    }
}

#[cfg(feature = "ktest")]
/// Test: `sysret_can_restore` lets the frame of an ordinary `syscall`
/// through, and refuses every frame that sysretq would restore wrongly or
/// dangerously. No user program can make the first of those (a `syscall`
/// in the last two bytes of the user half, whose return rip is the first
/// non-canonical address): executable user pages lie below SHMBASE
/// (exec.rs), so the guard is tested here, directly.
pub fn test_sysret_guard() -> crate::verdict::TestResult {
    use super::gdt::{KERNEL_CODE, KERNEL_DATA};
    use crate::memlayout::{KERNBASE, SHMBASE};

    const USER_FLAGS: u64 = 0x202;
    let syscall_at = |rip: u64| TrapFrame {
        rip,
        rcx: rip,
        rflags: USER_FLAGS,
        r11: USER_FLAGS,
        cs: u64::from(USER_CODE.bits()),
        ss: u64::from(USER_DATA.bits()),
        vector: abi::traps::T_SYSCALL,
        ..TrapFrame::default()
    };
    let with_flags = |flags: u64| TrapFrame {
        rflags: flags,
        r11: flags,
        ..syscall_at(0x1000)
    };
    for (rip, allowed) in [
        (0x1000, "sysret refused an ordinary system call's frame"),
        (
            SHMBASE as u64,
            "sysret refused the highest rip a user program can reach",
        ),
    ] {
        if !syscall_at(rip).sysret_can_restore() {
            return Err(allowed);
        }
    }
    let refused = [
        (
            syscall_at(USER_TOP as u64),
            "sysret allowed for a non-canonical rip (a syscall at the top of the user half)",
        ),
        (
            syscall_at(0xdead_0000_0000_0000),
            "sysret allowed for a non-canonical rip in the middle of the gap",
        ),
        (
            syscall_at(KERNBASE as u64),
            "sysret allowed for a kernel rip",
        ),
        (
            TrapFrame {
                rcx: 0,
                r11: 0,
                ..syscall_at(0x1000)
            },
            "sysret allowed for a frame exec rewrote (rcx and r11 zero)",
        ),
        (
            TrapFrame {
                rip: 0x2000,
                ..syscall_at(0x1000)
            },
            "sysret allowed when rip was changed but not rcx",
        ),
        (
            TrapFrame {
                rflags: USER_FLAGS | RFlags::FLAGS_CF.bits(),
                ..syscall_at(0x1000)
            },
            "sysret allowed when rflags was changed but not r11",
        ),
        (
            with_flags(USER_FLAGS | RFlags::FLAGS_TF.bits()),
            "sysret allowed with TF",
        ),
        (
            with_flags(USER_FLAGS | RFlags::FLAGS_RF.bits()),
            "sysret allowed with RF",
        ),
        (
            with_flags(USER_FLAGS | RFlags::FLAGS_VM.bits()),
            "sysret allowed with VM",
        ),
        (
            with_flags(USER_FLAGS & !RFlags::FLAGS_IF.bits()),
            "sysret allowed without IF",
        ),
        (
            TrapFrame {
                cs: u64::from(KERNEL_CODE.bits()),
                ..syscall_at(0x1000)
            },
            "sysret allowed for a kernel code segment",
        ),
        (
            TrapFrame {
                ss: u64::from(KERNEL_DATA.bits()),
                ..syscall_at(0x1000)
            },
            "sysret allowed for a kernel stack segment",
        ),
    ];
    for (frame, why) in refused {
        if frame.sysret_can_restore() {
            return Err(why);
        }
    }
    Ok(())
}
