//! The local APIC: each CPU's own interrupt controller and timer.
//!
//! Every CPU sees its own local APIC at the same physical address (from the
//! ACPI MADT), mapped uncached. We use it to
//!
//! - acknowledge interrupts (`eoi`),
//! - tick: the APIC timer in periodic mode raises vector `T_IRQ0 + IRQ_TIMER`
//!   `TICKS_PER_SECOND` times a second on every CPU,
//! - start the other CPUs with INIT and STARTUP inter-processor interrupts,
//!   and stop them all with an NMI when the kernel panics.
//!
//! The timer counts down at a rate the hardware does not tell us, so the
//! boot CPU measures it once against the legacy PIT, by polling, in a way
//! a loaded host cannot stretch (pit.rs, `rate_of`), and every CPU then
//! loads the count per tick that follows.
//!
//! Register offsets and the ICR encoding come from the `x86` crate; reads and
//! writes are volatile, through the `volatile` crate.

use core::ptr::NonNull;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use volatile::VolatilePtr;
use x86::apic::xapic::{
    XAPIC_EOI, XAPIC_ESR, XAPIC_ICR0, XAPIC_ICR1, XAPIC_ID, XAPIC_LVT_ERROR, XAPIC_LVT_LINT0,
    XAPIC_LVT_LINT1, XAPIC_LVT_PMI, XAPIC_LVT_TIMER, XAPIC_SVR, XAPIC_TIMER_CURRENT_COUNT,
    XAPIC_TIMER_DIV_CONF, XAPIC_TIMER_INIT_COUNT, XAPIC_TPR,
};
use x86::apic::{
    ApicId, DeliveryMode, DeliveryStatus, DestinationMode, DestinationShorthand, Icr, Level,
    TriggerMode,
};

use super::pit;
use super::traps::{IRQ_TIMER, T_IRQ0, T_SPURIOUS};
use crate::cpu;
use crate::param::{PGSIZE, TICKS_PER_SECOND};
use crate::spinlock::{pop_off, push_off};
use crate::vm;

/// Kernel virtual address of the registers, once mapped.
static BASE: AtomicUsize = AtomicUsize::new(0);
/// Timer counts per tick, measured by `calibrate`.
static COUNTS_PER_TICK: AtomicU32 = AtomicU32::new(0);

const SVR_ENABLE: u32 = 1 << 8;
const LVT_MASKED: u32 = 1 << 16;
const LVT_PERIODIC: u32 = 1 << 17;
/// Timer divide configuration: divide the bus clock by 16.
const DIVIDE_BY_16: u32 = 0b0011;
const ICR_DELIVERY_PENDING: u32 = 1 << 12;

fn register(offset: u32) -> VolatilePtr<'static, u32> {
    let base = BASE.load(Ordering::Relaxed);
    assert!(base != 0, "lapic: used before lapic::init");
    let address = (base + offset as usize) as *mut u32;
    // SAFETY: `base` maps the APIC's 4 KiB register page (init), and every
    // offset used in this module is a register inside it.
    unsafe { VolatilePtr::new(NonNull::new_unchecked(address)) }
}

fn read(offset: u32) -> u32 {
    register(offset).read()
}

fn write(offset: u32, value: u32) {
    register(offset).write(value);
    // Wait for the write to finish by reading something back.
    let _ = read(XAPIC_ID);
}

/// Maps the registers; called once, on the boot CPU.
pub fn map(physical: usize) {
    BASE.store(vm::map_mmio(physical, PGSIZE), Ordering::Relaxed);
}

/// Sets up this CPU's local APIC: enabled, nothing masked that we use, and
/// the timer ticking.
pub fn init() {
    write(XAPIC_SVR, SVR_ENABLE | u32::from(T_SPURIOUS));
    // The legacy interrupt pins and the performance counter: off.
    write(XAPIC_LVT_LINT0, LVT_MASKED);
    write(XAPIC_LVT_LINT1, LVT_MASKED);
    write(XAPIC_LVT_PMI, LVT_MASKED);
    write(XAPIC_LVT_ERROR, LVT_MASKED);
    // Clear errors (the register needs two writes) and any pending interrupt.
    write(XAPIC_ESR, 0);
    write(XAPIC_ESR, 0);
    eoi();
    // Accept interrupts of every priority.
    write(XAPIC_TPR, 0);

    if COUNTS_PER_TICK.load(Ordering::Relaxed) == 0 {
        calibrate();
    }
    write(XAPIC_TIMER_DIV_CONF, DIVIDE_BY_16);
    write(
        XAPIC_LVT_TIMER,
        LVT_PERIODIC | u32::from(T_IRQ0 + IRQ_TIMER),
    );
    write(
        XAPIC_TIMER_INIT_COUNT,
        COUNTS_PER_TICK.load(Ordering::Relaxed),
    );
}

/// Measures how far the timer counts in one tick: its rate against the
/// PIT, which needs the timer running down from the top, as a counter that
/// goes up.
fn calibrate() {
    write(XAPIC_TIMER_DIV_CONF, DIVIDE_BY_16);
    write(XAPIC_LVT_TIMER, LVT_MASKED);
    write(XAPIC_TIMER_INIT_COUNT, u32::MAX);
    // Divided by 16, timers count at a few MHz (62.5 MHz under QEMU), so
    // from u32::MAX they run for a minute or more: the measurement, half
    // a second at most, never sees the count run out.
    let per_second = pit::rate_of(|| u64::from(u32::MAX - read(XAPIC_TIMER_CURRENT_COUNT)));
    write(XAPIC_TIMER_INIT_COUNT, 0);
    let per_tick = (per_second / TICKS_PER_SECOND).clamp(1, u64::from(u32::MAX));
    COUNTS_PER_TICK.store(per_tick as u32, Ordering::Relaxed);
}

/// Acknowledges the interrupt being handled.
pub fn eoi() {
    write(XAPIC_EOI, 0);
}

/// This CPU's local APIC id.
pub fn id() -> u32 {
    read(XAPIC_ID) >> 24
}

fn send_ipi(icr: Icr) {
    // The ICR is written in two halves: an interrupt on this CPU between
    // them that sent an IPI of its own would mix the two up.
    push_off();
    write(XAPIC_ICR1, icr.upper());
    write(XAPIC_ICR0, icr.lower());
    while read(XAPIC_ICR0) & ICR_DELIVERY_PENDING != 0 {
        core::hint::spin_loop();
    }
    pop_off();
}

fn ipi(apic_id: u32, vector: u8, mode: DeliveryMode, level: Level, trigger: TriggerMode) -> Icr {
    Icr::for_xapic(
        vector,
        ApicId::XApic(apic_id as u8),
        DestinationShorthand::NoShorthand,
        mode,
        DestinationMode::Physical,
        DeliveryStatus::Idle,
        level,
        trigger,
    )
}

/// Sends interrupt `vector` to the CPU whose local APIC id is `apic_id`.
pub fn send_interrupt(apic_id: u32, vector: u8) {
    send_ipi(ipi(
        apic_id,
        vector,
        DeliveryMode::Fixed,
        Level::Assert,
        TriggerMode::Edge,
    ));
}

/// Stops every other CPU that runs the kernel: sends each a non-maskable
/// interrupt, which it takes even with interrupts off; trap.rs halts a CPU
/// that gets an NMI after a panic. Only CPUs that have started get one: a
/// CPU still parked by the firmware would take the NMI through the BIOS's
/// tables and reset the machine. Does nothing before the local APIC is
/// mapped (then no other CPU runs yet).
pub fn stop_other_cpus() {
    if BASE.load(Ordering::Relaxed) == 0 {
        return;
    }
    for other in cpu::others() {
        send_ipi(ipi(
            other.apic_id.load(Ordering::Relaxed),
            0,
            DeliveryMode::NMI,
            Level::Assert,
            TriggerMode::Edge,
        ));
    }
}

/// Starts the CPU with `apic_id` at physical address `entry` (page-aligned,
/// below 1 MiB), in real mode, with Intel's INIT-SIPI-SIPI sequence.
pub fn start_ap(apic_id: u32, entry: usize) {
    let page = u8::try_from(entry / PGSIZE).expect("AP entry must lie below 1 MiB");
    send_ipi(ipi(
        apic_id,
        0,
        DeliveryMode::Init,
        Level::Assert,
        TriggerMode::Level,
    ));
    pit::wait(200);
    send_ipi(ipi(
        apic_id,
        0,
        DeliveryMode::Init,
        Level::Deassert,
        TriggerMode::Level,
    ));
    pit::wait(10_000);
    for _ in 0..2 {
        send_ipi(ipi(
            apic_id,
            page,
            DeliveryMode::StartUp,
            Level::Assert,
            TriggerMode::Edge,
        ));
        pit::wait(200);
    }
}
