//! x86_64-specific code: the boot path, segments and interrupt tables, the
//! interrupt controllers and timers, and starting the other CPUs.

pub mod acpi;
#[cfg(feature = "ktest")]
pub mod debug_exit;
pub mod fpu;
#[cfg(feature = "ktest")]
pub mod fw_cfg;
pub mod gdt;
pub mod idt;
pub mod ioapic;
pub mod lapic;
pub mod mp;
pub mod pit;
pub mod protect;
pub mod syscall;
pub mod trapframe;
pub mod traps;
pub mod tsc;

use core::arch::global_asm;

global_asm!(include_str!("entry.S"), options(att_syntax));

/// Turns interrupts off on this CPU.
pub fn interrupts_off() {
    // SAFETY: clearing IF cannot break memory safety; at worst an interrupt
    // is delivered later.
    unsafe { x86::irq::disable() };
}

/// Turns interrupts on on this CPU.
pub fn interrupts_on() {
    // SAFETY: the IDT is loaded before anything calls this, so an interrupt
    // finds its handler.
    unsafe { x86::irq::enable() };
}

/// Whether interrupts are on on this CPU (RFLAGS.IF).
pub fn interrupts_enabled() -> bool {
    x86::bits64::rflags::read().contains(x86::bits64::rflags::RFlags::FLAGS_IF)
}

/// Turns interrupts on and waits for one. `sti` takes effect only after
/// the next instruction, so no interrupt can slip in between and leave the
/// CPU halted with nothing to wake it.
pub fn wait_for_interrupt() {
    // SAFETY: the IDT is loaded; the interrupt's handler runs and returns
    // here.
    unsafe { core::arch::asm!("sti", "hlt", options(nomem, nostack)) };
}

/// Stops this CPU for good: interrupts off, then `hlt` until the end.
pub fn halt_forever() -> ! {
    interrupts_off();
    loop {
        // SAFETY: with interrupts off, `hlt` just parks the CPU; the loop
        // catches an NMI's return.
        unsafe { x86::halt() };
    }
}
