//! Every interrupt vector and IRQ number the kernel uses, in one table
//! (xv6's traps.h).
//!
//! The IDT (idt.rs) has 256 vectors. The CPU's exceptions are 0..32; the
//! kernel puts the devices' interrupts right above them, so that IRQ `n` of
//! the IOAPIC (ioapic.rs) arrives as vector `T_IRQ0 + n`; the local APIC
//! (lapic.rs) raises its timer on `T_IRQ0 + IRQ_TIMER` and its spurious
//! interrupt on `T_SPURIOUS`; one CPU wakes another with `T_WAKEUP`; and
//! the `syscall` instruction, which uses no vector at all, gets a made-up
//! one in the trap frame (`T_SYSCALL`, also set in trapasm.S) so that
//! `trap` can tell it apart.

/// Exceptions `trap` treats specially.
pub const T_NMI: u64 = 2;
pub const T_DOUBLE_FAULT: u64 = 8;
pub const T_PAGE_FAULT: u64 = 14;

/// First vector of the device interrupts.
pub const T_IRQ0: u8 = 32;
/// The local APIC timer's IRQ number (it has no ISA IRQ: the number only
/// places its vector).
pub const IRQ_TIMER: u8 = 0;
/// COM1, the serial console (uart.rs).
pub const IRQ_COM1: u8 = 4;
/// The primary IDE controller (ide.rs).
pub const IRQ_IDE: u8 = 14;

/// The vector syscall_entry (trapasm.S) puts in a system call's frame.
pub const T_SYSCALL: u64 = 0x80;
/// Sent by one CPU to wake another from `hlt` when it made a process
/// runnable (see `proc::kick_idle_cpu`); its handler has nothing to do.
pub const T_WAKEUP: u8 = 0xF0;
/// The local APIC's spurious-interrupt vector; needs no EOI.
pub const T_SPURIOUS: u8 = 0xFF;
