//! The I/O APIC, which routes device interrupts to CPUs, and the legacy PIC,
//! which we switch off.
//!
//! A PC has two generations of interrupt controller. The 8259A PICs are
//! masked here, so that every device interrupt comes through the I/O APIC
//! instead. The `x86` crate drives the I/O APIC's registers; its pin n
//! raises vector `T_IRQ0 + n`, edge-triggered, active high, which is what
//! ISA devices (COM1, the IDE disk) use. ACPI tells us where the I/O APIC
//! is and whether an ISA interrupt arrives on another pin (an override).
//! The kernel expects the identity mapping for the ISA interrupts it uses
//! (COM1 = 4, the disk = 14), as on QEMU's PC; `enable` refuses others.

use spin::Once;
use x86::apic::ioapic::IoApic;
use x86::io::outb;

use super::acpi;
use crate::param::PGSIZE;
use crate::spinlock::SpinLock;
use crate::vm;

/// The crate's driver, which holds raw pointers to the registers.
struct Registers(IoApic);

// SAFETY: the pointers stay valid on every CPU (the mapping is in the shared
// kernel half and never removed), and the SpinLock below serialises access.
unsafe impl Send for Registers {}

static IOAPIC: Once<SpinLock<Registers>> = Once::new();

/// Masks the legacy PICs and every I/O APIC pin.
pub fn init() {
    // SAFETY: 0x21 and 0xA1 are the two PICs' mask registers; all-ones
    // masks every line, after which they raise nothing.
    unsafe {
        outb(0x21, 0xFF);
        outb(0xA1, 0xFF);
    }
    let machine = acpi::machine();
    let base = vm::map_mmio(machine.ioapic_address, PGSIZE);
    // SAFETY: `base` maps the I/O APIC's registers, found in the MADT.
    let mut ioapic = unsafe { IoApic::new(base) };
    ioapic.disable_all();
    IOAPIC.call_once(|| SpinLock::new("ioapic", Registers(ioapic)));
}

/// Routes ISA interrupt `irq` to the CPU with local APIC id `apic_id`.
pub fn enable(irq: u8, apic_id: u32) {
    let machine = acpi::machine();
    let pin = machine.isa_irq_to_gsi(irq) - machine.ioapic_gsi_base;
    assert!(
        pin == u32::from(irq),
        "ioapic: ISA IRQ {irq} arrives on pin {pin}; traps.rs expects vector T_IRQ0 + {irq}"
    );
    IOAPIC
        .get()
        .expect("ioapic::init has not run")
        .lock()
        .0
        .enable(pin as u8, apic_id as u8);
}
