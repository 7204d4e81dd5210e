//! Every interrupt vector and IRQ number the kernel uses, in one table
//! (xv6's traps.h).
//!
//! The IDT (idt.rs) has 256 vectors. The CPU's exceptions are 0..32; the
//! kernel puts the devices' interrupts right above them, so that IRQ `n` of
//! the IOAPIC (ioapic.rs) arrives as vector `T_IRQ0 + n`; the local APIC
//! (lapic.rs) raises its timer on `T_IRQ0 + IRQ_TIMER` and its spurious
//! interrupt on `T_SPURIOUS`; one CPU wakes another with `T_WAKEUP`; and
//! the `syscall` instruction, which uses no vector at all, gets a made-up
//! one in its trap frame (`T_SYSCALL`, set in trapasm.S), so that every
//! frame says what made it.
//!
//! The numbers themselves are in `abi::traps`, because a program sees them
//! in the kernel's line about a process it kills (and C programs include
//! them as xv6's traps.h).

pub use abi::traps::{
    IRQ_COM1, IRQ_IDE, IRQ_TIMER, T_DOUBLE_FAULT, T_IRQ0, T_NMI, T_PAGE_FAULT, T_SPURIOUS, T_WAKEUP,
};
