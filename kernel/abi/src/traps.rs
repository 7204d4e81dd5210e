//! Interrupt and exception vectors (xv6's traps.h).
//!
//! A program meets these numbers in the kernel's line about a process it
//! kills (`pid 7 prog: trap 14 err 6 ...`: 14 is a page fault), so they
//! are part of the contract; the kernel's trap table
//! (`kernel/src/arch/x86_64/traps.rs`) takes them from here, and C
//! programs get them from `traps.h`.
//!
//! Vectors 0..32 are the CPU's exceptions, numbered by the x86
//! architecture; the names are spelled out where xv6 abbreviates
//! (`T_PAGE_FAULT` for xv6's `T_PGFLT`). The device interrupts start at
//! `T_IRQ0`, so that IRQ `n` arrives as vector `T_IRQ0 + n`. The `syscall`
//! instruction uses no vector: `T_SYSCALL` only marks a system call's trap
//! frame, so that `trap` can tell it apart.
//!
//! Exceptions and `T_SYSCALL` are `u64`, the width of the vector in a trap
//! frame; the numbers the kernel programs into the APICs are `u8`, the
//! width of a vector there.

/// Divide error (`div` by zero, or a quotient too big).
pub const T_DIVIDE: u64 = 0;
/// Debug exception (single step, hardware breakpoints).
pub const T_DEBUG: u64 = 1;
/// Non-maskable interrupt.
pub const T_NMI: u64 = 2;
/// Breakpoint (`int3`).
pub const T_BREAKPOINT: u64 = 3;
/// Overflow (`into`, which long mode does not have).
pub const T_OVERFLOW: u64 = 4;
/// Bound range exceeded (`bound`, which long mode does not have).
pub const T_BOUND: u64 = 5;
/// Invalid opcode (`ud2`, or an instruction this CPU lacks).
pub const T_ILLEGAL_OPCODE: u64 = 6;
/// Device not available (FPU or SSE used while CR0.TS or CR0.EM is set).
pub const T_DEVICE_NOT_AVAILABLE: u64 = 7;
/// Double fault: an exception while delivering another.
pub const T_DOUBLE_FAULT: u64 = 8;
/// Invalid TSS.
pub const T_INVALID_TSS: u64 = 10;
/// Segment not present.
pub const T_SEGMENT_NOT_PRESENT: u64 = 11;
/// Stack-segment fault.
pub const T_STACK_FAULT: u64 = 12;
/// General protection fault (a privileged instruction in user mode, `int n`
/// for a ring-0 gate, a non-canonical address).
pub const T_GENERAL_PROTECTION: u64 = 13;
/// Page fault.
pub const T_PAGE_FAULT: u64 = 14;
/// x87 floating-point error.
pub const T_FPU_ERROR: u64 = 16;
/// Alignment check.
pub const T_ALIGNMENT: u64 = 17;
/// Machine check.
pub const T_MACHINE_CHECK: u64 = 18;
/// SIMD (SSE) floating-point exception.
pub const T_SIMD_ERROR: u64 = 19;

/// The vector syscall_entry (trapasm.S) puts in a system call's frame.
pub const T_SYSCALL: u64 = 0x80;

/// First vector of the device interrupts.
pub const T_IRQ0: u8 = 32;
/// The local APIC timer's IRQ number (it has no ISA IRQ: the number only
/// places its vector).
pub const IRQ_TIMER: u8 = 0;
/// COM1, the serial console (uart.rs).
pub const IRQ_COM1: u8 = 4;
/// The primary IDE controller (ide.rs).
pub const IRQ_IDE: u8 = 14;
/// Sent by one CPU to wake another from `hlt` when it made a process
/// runnable (see `proc::kick_idle_cpu`); its handler has nothing to do.
pub const T_WAKEUP: u8 = 0xF0;
/// The local APIC's spurious-interrupt vector; needs no EOI.
pub const T_SPURIOUS: u8 = 0xFF;
