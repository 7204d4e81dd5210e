//! Segments: the GDT and the TSS of each CPU.
//!
//! In 64-bit mode segmentation is mostly switched off, but the CPU still
//! takes three things from the GDT: the privilege level of the code segment
//! (ring 0 for the kernel, ring 3 for user programs), the 64-bit flag, and
//! the Task State Segment. The TSS holds the stack the CPU switches to when
//! an interrupt arrives in user mode (`rsp0`, the current process's kernel
//! stack) and the Interrupt Stack Table, stacks the CPU switches to for
//! chosen vectors whatever rsp holds:
//!
//! - IST1 for double faults, so that overflowing a kernel stack is reported
//!   instead of turning into a triple fault that resets the machine;
//! - IST2 for NMIs, which interrupts-off cannot keep out: one may arrive in
//!   the few instructions of a system call's entry and exit that run in
//!   ring 0 on the user's stack (trapasm.S).
//!
//! The order of the descriptors is fixed by `syscall`/`sysret`: user data
//! must directly precede user code (see syscall's STAR MSR).
//!
//! ## No I/O ports for user programs
//!
//! `in`, `out`, `ins` and `outs` reach the machine's devices directly: the
//! disk controller, the interrupt controllers, the keyboard controller
//! (which can reset the machine), QEMU's exit port. In user mode (CPL 3)
//! the CPU allows one only if RFLAGS.IOPL >= 3, or else if the port's bit is
//! clear in the TSS's *I/O permission bitmap*, which starts `iomap_base`
//! bytes into the TSS and ends at the TSS segment's limit. Port bits beyond
//! the limit count as set, which means "forbidden". Both doors are shut:
//!
//! - IOPL is 0 in every user RFLAGS: exec starts programs with 0x202, a
//!   user `popf` cannot change IOPL, and trap.rs clears it on every way
//!   back to user mode in case anything else ever set it (a system call's
//!   `sysretq` included: it loads the flags from the frame's r11, and a
//!   frame whose flags were cleared goes back through `iretq` instead);
//! - `iomap_base` points at the TSS's limit (its size), so the bitmap is
//!   empty and every port is past its end. (Left at 0, as a zeroed TSS
//!   has it, the CPU would read a bitmap out of the TSS's own fields, whose
//!   zero bytes allow every port they cover: that was a real hole here.)
//!
//! So a port instruction in user mode is a general-protection fault, which
//! kills the process with a trap line (trap.rs).
//!
//! Each CPU has its own GDT and TSS, written only by that CPU.

use core::cell::UnsafeCell;

use x86::Ring;
use x86::bits64::segmentation::Descriptor64;
use x86::bits64::task::TaskStateSegment;
use x86::dtables::{DescriptorTablePointer, lgdt};
use x86::segmentation::{
    BuildDescriptor, CodeSegmentType, DataSegmentType, Descriptor, DescriptorBuilder,
    GateDescriptorBuilder, SegmentDescriptorBuilder, SegmentSelector, load_ds, load_es, load_ss,
};
use x86::task::load_tr;

use crate::cpu::mycpu;
use crate::param::{NCPU, PGSIZE};

pub const KERNEL_CODE: SegmentSelector = SegmentSelector::new(1, Ring::Ring0);
pub const KERNEL_DATA: SegmentSelector = SegmentSelector::new(2, Ring::Ring0);
pub const USER_DATA: SegmentSelector = SegmentSelector::new(3, Ring::Ring3);
pub const USER_CODE: SegmentSelector = SegmentSelector::new(4, Ring::Ring3);
const TSS: SegmentSelector = SegmentSelector::new(5, Ring::Ring0);

/// The IST slots (1-based, as in the IDT) of the double-fault and NMI
/// stacks.
pub const DOUBLE_FAULT_IST: u8 = 1;
pub const NMI_IST: u8 = 2;
const IST_STACK_SIZE: usize = 2 * PGSIZE;

#[repr(C, packed)]
struct Gdt {
    null: Descriptor,
    kernel_code: Descriptor,
    kernel_data: Descriptor,
    user_data: Descriptor,
    user_code: Descriptor,
    tss: Descriptor64,
}

#[repr(C, align(16))]
struct Stack([u8; IST_STACK_SIZE]);

struct PerCpuSegments {
    gdt: UnsafeCell<Gdt>,
    tss: UnsafeCell<TaskStateSegment>,
    double_fault_stack: UnsafeCell<Stack>,
    nmi_stack: UnsafeCell<Stack>,
}

// SAFETY: entry i is only touched by CPU i (in `init` and `set_kernel_stack`),
// with interrupts off, and afterwards by that CPU's hardware.
unsafe impl Sync for PerCpuSegments {}

static SEGMENTS: [PerCpuSegments; NCPU] = [const {
    PerCpuSegments {
        gdt: UnsafeCell::new(Gdt {
            null: Descriptor::NULL,
            kernel_code: Descriptor::NULL,
            kernel_data: Descriptor::NULL,
            user_data: Descriptor::NULL,
            user_code: Descriptor::NULL,
            tss: Descriptor64::NULL,
        }),
        tss: UnsafeCell::new(TaskStateSegment::new()),
        double_fault_stack: UnsafeCell::new(Stack([0; IST_STACK_SIZE])),
        nmi_stack: UnsafeCell::new(Stack([0; IST_STACK_SIZE])),
    }
}; NCPU];

fn code(ring: Ring) -> Descriptor {
    DescriptorBuilder::code_descriptor(0, 0, CodeSegmentType::ExecuteRead)
        .present()
        .dpl(ring)
        .l()
        .finish()
}

fn data(ring: Ring) -> Descriptor {
    DescriptorBuilder::data_descriptor(0, 0, DataSegmentType::ReadWrite)
        .present()
        .dpl(ring)
        .finish()
}

/// Builds and loads this CPU's GDT and TSS.
pub fn init() {
    let segments = &SEGMENTS[mycpu().index];
    // SAFETY: this CPU's entry, touched by no one else (see the Sync impl);
    // the GDT and TSS are statics, so they live as long as the CPU uses them.
    unsafe {
        let tss = &mut *segments.tss.get();
        for (ist, stack) in [
            (DOUBLE_FAULT_IST, segments.double_fault_stack.get()),
            (NMI_IST, segments.nmi_stack.get()),
        ] {
            tss.set_ist(
                usize::from(ist - 1),
                (stack as usize + IST_STACK_SIZE) as u64,
            );
        }
        // No I/O permission bitmap (module doc): it would start at the
        // end of the TSS, past the segment's limit.
        tss.iomap_base = size_of::<TaskStateSegment>() as u16;
        let tss_base = tss as *const TaskStateSegment as u64;
        let tss_limit = size_of::<TaskStateSegment>() as u64 - 1;
        *segments.gdt.get() = Gdt {
            null: Descriptor::NULL,
            kernel_code: code(Ring::Ring0),
            kernel_data: data(Ring::Ring0),
            user_data: data(Ring::Ring3),
            user_code: code(Ring::Ring3),
            tss: <DescriptorBuilder as GateDescriptorBuilder<u64>>::tss_descriptor(
                tss_base, tss_limit, true,
            )
            .present()
            .finish(),
        };
        lgdt(&DescriptorTablePointer::new(&*segments.gdt.get()));
        x86::bits64::segmentation::load_cs(KERNEL_CODE);
        load_ss(KERNEL_DATA);
        load_ds(KERNEL_DATA);
        load_es(KERNEL_DATA);
        // %fs and %gs stay as they are: reloading %gs would clear the GS base
        // that points at this CPU's `Cpu`.
        load_tr(TSS);
    }
}

/// Sets the stack the CPU switches to on an interrupt from user mode.
pub fn set_kernel_stack(top: usize) {
    let segments = &SEGMENTS[mycpu().index];
    // SAFETY: this CPU's own TSS (see the Sync impl); the caller has
    // interrupts off, so no interrupt can observe a half-written value.
    unsafe { (*segments.tss.get()).set_rsp(Ring::Ring0, top as u64) };
}
