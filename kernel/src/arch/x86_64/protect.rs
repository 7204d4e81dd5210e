//! The CPU's own guards between the kernel and user programs: NX, SMEP,
//! SMAP and UMIP.
//!
//! Page permissions (vm.rs) keep a user program out of the kernel's memory.
//! These features also keep the *kernel* out of user memory, so that a
//! kernel bug is caught where it happens instead of becoming a hole:
//!
//! - **NX** (EFER.NXE, set in entry.S before paging starts): a page whose
//!   entry has the XD bit cannot be executed. User data, stack, heap and
//!   the shared-memory window are all XD, so injected bytes cannot run.
//! - **SMEP** (CR4.SMEP): the CPU refuses to fetch a kernel-mode
//!   instruction from a user page. A kernel bug that jumps through a
//!   pointer a user supplied faults instead of running the user's code
//!   with kernel rights.
//! - **SMAP** (CR4.SMAP): the kernel cannot read or write a user page at
//!   all while RFLAGS.AC is clear. This kernel never needs to: the user
//!   copy helpers in vm.rs (`copy_in`, `copy_out`, `copy_in_str`) look the
//!   user address up in the process's page table and copy through the
//!   direct map, the kernel's own mapping of the same physical page. So
//!   there is no `stac`/`clac` pair anywhere, and with SMAP on, *every*
//!   dereference of a user address in kernel mode is a bug that faults
//!   (trap.rs names SMAP in its report). AC is cleared on every way into
//!   the kernel: the `syscall` MSR FMASK clears it, and `trap` clears it
//!   (`clac`) for interrupts and exceptions, which keep the interrupted
//!   code's AC.
//! - **UMIP** (CR4.UMIP): `sgdt`, `sidt`, `sldt`, `smsw` and `str` fault in
//!   user mode instead of telling a program where the kernel's tables are.
//!
//! QEMU's default CPU (`qemu64`) has none of the last three; `-cpu max`
//! has them all, and `make test` runs the isolation tests on both. Each
//! is turned on only where CPUID reports it, and the boot log says which
//! are on.

use core::sync::atomic::{AtomicBool, Ordering};

use x86::controlregs::{Cr4, cr4, cr4_write};
use x86::cpuid::CpuId;
use x86::msr::{IA32_EFER, rdmsr};

/// EFER's no-execute-enable bit (set by entry.S and trampoline.S).
const EFER_NXE: u64 = 1 << 11;

static SMEP: AtomicBool = AtomicBool::new(false);
static SMAP: AtomicBool = AtomicBool::new(false);
static UMIP: AtomicBool = AtomicBool::new(false);

/// Turns on SMEP, SMAP and UMIP on this CPU where CPUID reports them.
pub fn init_this_cpu() {
    let Some(features) = CpuId::new().get_extended_feature_info() else {
        return;
    };
    let mut control = Cr4::empty();
    for (has, bit, flag) in [
        (features.has_smep(), Cr4::CR4_ENABLE_SMEP, &SMEP),
        (features.has_smap(), Cr4::CR4_ENABLE_SMAP, &SMAP),
        (features.has_umip(), Cr4::CR4_ENABLE_UMIP, &UMIP),
    ] {
        if has {
            control.insert(bit);
            flag.store(true, Ordering::Relaxed);
        }
    }
    // SAFETY: the kernel never executes user pages nor touches user memory
    // through user addresses (see the module doc), and never uses the
    // instructions UMIP forbids in user mode, so these bits stop only bugs.
    unsafe { cr4_write(cr4() | control) };
}

/// Is SMEP on?
pub fn smep() -> bool {
    SMEP.load(Ordering::Relaxed)
}

/// Is SMAP on?
pub fn smap() -> bool {
    SMAP.load(Ordering::Relaxed)
}

/// Clears RFLAGS.AC, so that SMAP guards this kernel entry even if the
/// interrupted code had set AC (user programs may).
pub fn clear_access_flag() {
    if smap() {
        // SAFETY: clac only clears AC, which the kernel never needs set;
        // it exists because SMAP is on.
        unsafe { x86::bits32::eflags::clac() };
    }
}

/// Prints which of the guards are on, for the boot log.
pub fn report() {
    // SAFETY: reading EFER has no side effects.
    let nx = unsafe { rdmsr(IA32_EFER) } & EFER_NXE != 0;
    let on = |yes: bool| if yes { "on" } else { "off (not in this CPU)" };
    println!(
        "xv6-rs: NX {}, SMEP {}, SMAP {}, UMIP {}; {}",
        on(nx),
        on(smep()),
        on(smap()),
        on(UMIP.load(Ordering::Relaxed)),
        super::fpu::describe()
    );
}
