//! The trap frame: the registers of interrupted code, in the order
//! trapasm.S pushes them on the kernel stack (the CPU pushes the last five).
//!
//! `trap` (trap.rs) receives the frame of the trap it handles and lends it,
//! as the one `&mut TrapFrame`, to whatever reads or changes the
//! interrupted code's registers: a system call's arguments and result,
//! `fork` (which copies it for the child) and `exec` (which replaces it).
//! A new process's first frame is written by proc.rs before any code runs
//! on its kernel stack.

use x86::bits64::rflags::RFlags;

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
}
