//! The floating-point and vector registers of user programs: x87, MMX, SSE
//! and, where the CPU has it, AVX.
//!
//! User programs are built for the standard x86_64 ABI, which passes `f64`
//! in `xmm` registers, and gcc's output uses SSE freely. Those registers
//! are part of what a process owns, like its general-purpose registers: a
//! process must find in them exactly what it left there, whatever other
//! processes ran in between. The kernel itself is built soft-float (see
//! `x86_64-xv6.json`): it never touches these registers, so their contents
//! in the kernel are always those of the user program the CPU last ran.
//!
//! ## Turning the unit on ([`init_this_cpu`], on every CPU)
//!
//! - CR0.EM clear (no x87 emulation trap) and CR0.MP set (`wait`/`fwait`
//!   obeys CR0.TS); CR0.TS clear, because the state is switched eagerly (see
//!   below), so `#NM` never happens. CR0.NE set: an unmasked x87 exception
//!   is reported as `#MF` (vector 16) on the faulting process's next x87
//!   instruction, not through the PC's old FERR#/IRQ 13 wire.
//! - CR4.OSFXSR: the kernel saves SSE state with FXSAVE/XSAVE, so SSE
//!   instructions are allowed (without it they fault with `#UD`).
//!   CR4.OSXMMEXCPT: an unmasked SIMD exception (a division by zero the
//!   program asked to trap, say) is `#XM` (vector 19). Both exceptions end
//!   the process with a trap line, like any other fault in user mode.
//! - Where CPUID reports XSAVE, CR4.OSXSAVE and XCR0 = x87 | SSE, plus AVX
//!   when the CPU has it, so programs may use the 256-bit `ymm` registers.
//!   The larger AVX-512, AMX and other components stay off: their state
//!   would need kilobytes per process, and nothing here uses them. Without
//!   XSAVE (QEMU's default `qemu64` CPU) the kernel uses FXSAVE, which
//!   covers x87, MMX and SSE.
//!
//! ## A process's state ([`FpuState`])
//!
//! Every process has one save area, in its private part of the process
//! table (proc.rs). Its life cycle:
//!
//! - a new process, and every program `exec` starts, gets
//!   [`FpuState::INITIAL`]: what FNINIT and the power-on MXCSR give (x87
//!   control word 0x037F, every exception masked, round to nearest; MXCSR
//!   0x1F80) and zeroed registers, as Linux gives a new program;
//! - `fork` saves the parent's live registers into the child's area, so the
//!   child starts with the parent's values;
//! - the switch is *eager*: `sched` saves the registers into the process's
//!   area just before it gives up the CPU, and restores them as soon as it
//!   gets a CPU back (a new process's first run restores in `forkret`).
//!   The alternative, lazy switching through CR0.TS and `#NM`, saves work
//!   only when few processes use the registers; here every program does
//!   (Rust and C code use SSE for copies and floats), and lazy switching
//!   leaked register contents across processes on real CPUs (the "LazyFP"
//!   attack, CVE-2018-3665). Linux switched to eager saving for both
//!   reasons.

use core::arch::asm;
use core::sync::atomic::{AtomicU64, Ordering};

use x86::controlregs::{Cr0, Cr4, Xcr0, cr0, cr0_write, cr4, cr4_write, xcr0_write};
use x86::cpuid::CpuId;

/// Bytes reserved for a save area: the legacy FXSAVE region (512), the
/// XSAVE header (64) and the AVX upper halves (256) fit with room to
/// spare; [`init_this_cpu`] checks the CPU's own figure against it.
const AREA_SIZE: usize = 1024;

/// Offsets in the legacy region, shared by FXSAVE and XSAVE.
const FCW_OFFSET: usize = 0;
const MXCSR_OFFSET: usize = 24;

/// The x87 control word after FNINIT: every exception masked, 64-bit
/// precision, round to nearest.
const FCW_DEFAULT: u16 = 0x037F;
/// MXCSR at power-on: every SIMD exception masked, round to nearest.
const MXCSR_DEFAULT: u32 = 0x1F80;

/// The XCR0 components the kernel saves when it uses XSAVE; 0 means it
/// uses FXSAVE. Set on the boot CPU, before any process runs.
static XSAVE_COMPONENTS: AtomicU64 = AtomicU64::new(0);

/// One process's x87/SSE/AVX registers, in the layout FXSAVE and XSAVE
/// write (64-byte aligned, as XSAVE requires).
#[repr(C, align(64))]
#[derive(Clone)]
pub struct FpuState {
    area: [u8; AREA_SIZE],
}

impl FpuState {
    /// The state a new program starts with (see the module doc). Its XSAVE
    /// header is zero, which tells XRSTOR that every component is in its
    /// initial state; MXCSR is read from the legacy region either way.
    pub const INITIAL: FpuState = {
        let mut area = [0u8; AREA_SIZE];
        let fcw = FCW_DEFAULT.to_le_bytes();
        area[FCW_OFFSET] = fcw[0];
        area[FCW_OFFSET + 1] = fcw[1];
        let mxcsr = MXCSR_DEFAULT.to_le_bytes();
        let mut i = 0;
        while i < 4 {
            area[MXCSR_OFFSET + i] = mxcsr[i];
            i += 1;
        }
        FpuState { area }
    };

    /// Saves this CPU's registers, which hold the calling process's user
    /// state (the kernel never changes them), into `self`.
    pub fn save(&mut self) {
        let components = XSAVE_COMPONENTS.load(Ordering::Relaxed);
        let area = self.area.as_mut_ptr();
        // SAFETY: `area` is AREA_SIZE bytes, 64-byte aligned and ours to
        // write; init_this_cpu checked that the CPU's XSAVE area fits in
        // it. XSAVE is only used once init_this_cpu has enabled it.
        unsafe {
            if components == 0 {
                asm!("fxsave64 [{}]", in(reg) area, options(nostack, preserves_flags));
            } else {
                asm!("xsave64 [{}]", in(reg) area,
                    in("eax") components as u32, in("edx") (components >> 32) as u32,
                    options(nostack, preserves_flags));
            }
        }
    }

    /// Loads `self` into this CPU's registers, for the calling process to
    /// find on its way back to user mode.
    pub fn restore(&self) {
        let components = XSAVE_COMPONENTS.load(Ordering::Relaxed);
        let area = self.area.as_ptr();
        // SAFETY: the area holds either INITIAL or what FXSAVE/XSAVE wrote
        // on this machine, so every reserved bit is as the CPU wants it
        // (a bad MXCSR or XSAVE header would fault). Loading the registers
        // changes nothing the kernel relies on: it does not use them.
        unsafe {
            if components == 0 {
                asm!("fxrstor64 [{}]", in(reg) area, options(nostack, preserves_flags, readonly));
            } else {
                asm!("xrstor64 [{}]", in(reg) area,
                    in("eax") components as u32, in("edx") (components >> 32) as u32,
                    options(nostack, preserves_flags, readonly));
            }
        }
    }
}

/// Turns the FPU, SSE and (where present) XSAVE and AVX on for user mode on
/// this CPU, as the module doc describes. The boot CPU calls it first and
/// decides the save method; the others follow.
pub fn init_this_cpu() {
    let cpuid = CpuId::new();
    let features = cpuid
        .get_feature_info()
        .expect("every x86_64 CPU has CPUID leaf 1");
    assert!(
        features.has_fxsave_fxstor() && features.has_sse2(),
        "fpu: the CPU lacks FXSAVE or SSE2, which x86_64 guarantees"
    );
    // SAFETY: the bits set and cleared here only change how the CPU treats
    // x87/SSE instructions, which the kernel never executes.
    unsafe {
        let mut control = cr0();
        control.remove(Cr0::CR0_EMULATE_COPROCESSOR | Cr0::CR0_TASK_SWITCHED);
        control.insert(Cr0::CR0_MONITOR_COPROCESSOR | Cr0::CR0_NUMERIC_ERROR);
        cr0_write(control);
        let mut control = cr4();
        control.insert(Cr4::CR4_ENABLE_SSE | Cr4::CR4_UNMASKED_SSE);
        if features.has_xsave() {
            control.insert(Cr4::CR4_ENABLE_OS_XSAVE);
        }
        cr4_write(control);
    }
    if !features.has_xsave() {
        return;
    }
    let mut components = Xcr0::XCR0_FPU_MMX_STATE | Xcr0::XCR0_SSE_STATE;
    if features.has_avx() {
        components |= Xcr0::XCR0_AVX_STATE;
    }
    // SAFETY: CR4.OSXSAVE is set, and XCR0 names only components the CPU
    // reports (x87 and SSE always come with XSAVE; AVX was checked).
    unsafe { xcr0_write(components) };
    // CPUID's leaf 0xD reports the area size for the XCR0 just written.
    let size = cpuid.get_extended_state_info().map_or(usize::MAX, |info| {
        info.xsave_area_size_enabled_features() as usize
    });
    assert!(
        size <= AREA_SIZE,
        "fpu: the XSAVE area needs {size} bytes, more than the {AREA_SIZE} reserved"
    );
    XSAVE_COMPONENTS.store(components.bits(), Ordering::Relaxed);
}

/// How the state is saved, for the boot log.
pub fn describe() -> &'static str {
    let components = XSAVE_COMPONENTS.load(Ordering::Relaxed);
    if components == 0 {
        "x87+SSE saved with FXSAVE"
    } else if components & Xcr0::XCR0_AVX_STATE.bits() != 0 {
        "x87+SSE+AVX saved with XSAVE"
    } else {
        "x87+SSE saved with XSAVE"
    }
}
