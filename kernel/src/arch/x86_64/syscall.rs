//! Programs the MSRs behind the `syscall` instruction.
//!
//! - EFER.SCE turns the instruction on.
//! - LSTAR is where it jumps: `syscall_entry` in trapasm.S.
//! - STAR holds the kernel code selector `syscall` loads (kernel data is the
//!   next descriptor) and the base from which `sysretq` derives the user
//!   selectors (user data at base + 8, user code at base + 16, both with
//!   RPL 3): this is why gdt.rs puts user data just before user code. They
//!   are the selectors of every user frame, so `sysretq` and `iretq` give
//!   a program the same segments (trapasm.S).
//! - FMASK lists the RFLAGS bits cleared on entry: interrupts (IF) stay off
//!   until the kernel has switched to its own stack, the direction flag
//!   (DF) is cleared as the ABI requires, and TF, AC and NT are cleared so
//!   user settings cannot leak into the kernel: TF would single-step it, AC
//!   would switch SMAP off (protect.rs), and NT, which a user `popf` may
//!   set, would make the kernel's own `iretq` fault (in 64-bit mode `iret`
//!   with NT set is a general-protection fault).

use x86::bits64::rflags::RFlags;
use x86::msr::{IA32_EFER, IA32_FMASK, IA32_LSTAR, IA32_STAR, rdmsr, wrmsr};

use super::gdt::{KERNEL_CODE, USER_CODE, USER_DATA};

unsafe extern "C" {
    fn syscall_entry();
}

const EFER_SCE: u64 = 1;

/// Sets up `syscall` on this CPU.
pub fn init() {
    // sysret's base selector: user data sits at base + 8, user code at + 16.
    let sysret_base = u64::from(USER_DATA.bits()) - 8;
    assert_eq!(u64::from(USER_CODE.bits()), sysret_base + 16);
    let star = (sysret_base << 48) | (u64::from(KERNEL_CODE.bits()) << 32);
    let fmask = RFlags::FLAGS_IF
        | RFlags::FLAGS_DF
        | RFlags::FLAGS_TF
        | RFlags::FLAGS_AC
        | RFlags::FLAGS_NT;
    // SAFETY: these MSRs only configure the `syscall` instruction, whose
    // entry point saves the user's state and switches stacks correctly;
    // GS already points at this CPU's `Cpu` (syscall_entry needs it).
    unsafe {
        wrmsr(IA32_EFER, rdmsr(IA32_EFER) | EFER_SCE);
        wrmsr(IA32_STAR, star);
        wrmsr(
            IA32_LSTAR,
            syscall_entry as unsafe extern "C" fn() as usize as u64,
        );
        wrmsr(IA32_FMASK, fmask.bits());
    }
}
