//! The Interrupt Descriptor Table: where the CPU goes for each of the 256
//! vectors.
//!
//! Vectors 0..32 are the CPU's exceptions; the device interrupts start at
//! `T_IRQ0` (32), see traps.rs. Every entry is an interrupt gate (interrupts
//! off on entry) into the stubs of trapasm.S, ring 0 only, so a user program
//! cannot raise them with `int n`. The double fault and the NMI run on
//! stacks of their own (IST, gdt.rs). One table serves every CPU.

use core::arch::global_asm;

use spin::Once;
use x86::Ring;
use x86::bits64::segmentation::Descriptor64;
use x86::dtables::{DescriptorTablePointer, lidt};
use x86::segmentation::{BuildDescriptor, DescriptorBuilder, GateDescriptorBuilder};

use super::gdt::{DOUBLE_FAULT_IST, KERNEL_CODE, NMI_IST};
use super::traps::{T_DOUBLE_FAULT, T_NMI};

global_asm!(include_str!("trapasm.S"), options(att_syntax));

unsafe extern "C" {
    /// The first of 256 stubs, 16 bytes apart (trapasm.S).
    static trap_vectors: u8;
}

/// Size of one stub in trapasm.S.
const STUB_SIZE: usize = 16;

static IDT: Once<[Descriptor64; 256]> = Once::new();

fn build() -> [Descriptor64; 256] {
    let stubs = &raw const trap_vectors as u64;
    core::array::from_fn(|vector| {
        let mut gate = <DescriptorBuilder as GateDescriptorBuilder<u64>>::interrupt_descriptor(
            KERNEL_CODE,
            stubs + (vector * STUB_SIZE) as u64,
        )
        .present()
        .dpl(Ring::Ring0);
        if vector as u64 == T_DOUBLE_FAULT {
            gate = gate.ist(DOUBLE_FAULT_IST);
        } else if vector as u64 == T_NMI {
            gate = gate.ist(NMI_IST);
        }
        gate.finish()
    })
}

/// Loads the IDT on this CPU, building it the first time.
pub fn init() {
    let idt = IDT.call_once(build);
    // SAFETY: the table is static and every gate points at a stub of
    // trapasm.S that saves the registers and calls `trap`.
    unsafe { lidt(&DescriptorTablePointer::new(idt)) };
}
