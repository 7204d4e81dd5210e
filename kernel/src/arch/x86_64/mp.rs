//! Starting the other CPUs ("application processors").
//!
//! The boot CPU learns from ACPI (acpi.rs) which local APIC ids exist. For
//! each other one it copies the trampoline (trampoline.S) to `TRAMPOLINE`,
//! writes the new CPU's stack, entry point and index into the parameter
//! block at the end of that page, and wakes the CPU with INIT-SIPI-SIPI
//! (lapic.rs). The CPU climbs to 64-bit mode, calls [`ap_entry`], sets up its
//! own per-CPU state, GDT, IDT and local APIC, and goes on to the function
//! that the caller of [`start_others`] named (main.rs's `cpu_running`),
//! which reports in by setting `Cpu::started`. The boot CPU waits for that
//! before starting the next one, since they all share one trampoline page.

use core::arch::global_asm;
use core::cell::UnsafeCell;
use core::sync::atomic::Ordering;

use spin::Once;

use super::{acpi, gdt, idt, lapic, pit};
use crate::cpu::{self, Cpu, mycpu};
use crate::memlayout::phys_to_virt;
use crate::param::{KSTACK_PAGES, NCPU, PGSIZE};

global_asm!(include_str!("trampoline.S"), options(att_syntax));

unsafe extern "C" {
    static trampoline_start: u8;
    static trampoline_end: u8;
}

/// Physical address the trampoline runs at (trampoline.S has it too).
const TRAMPOLINE: usize = 0x8000;
/// Offset of the parameter block in the trampoline page (trampoline.S).
const PARAMS_OFFSET: usize = 0xFE0;

/// The parameter block that trampoline.S reads.
#[repr(C)]
struct Params {
    stack_top: u64,
    entry: u64,
    cpu_index: u64,
}

const STACK_SIZE: usize = KSTACK_PAGES * PGSIZE;

/// A CPU's own stack (its scheduler runs on it), with a guard page below.
#[repr(C, align(4096))]
struct Stack {
    /// Left unmapped by `vm::init` (see [`stack_guard_pages`]).
    guard: UnsafeCell<[u8; PGSIZE]>,
    stack: UnsafeCell<[u8; STACK_SIZE]>,
}

// SAFETY: stack i is used only by CPU i, as its stack; nothing else reads it.
unsafe impl Sync for Stack {}

/// The kernel stacks of the other CPUs (CPU 0 runs on entry.S's stack).
static STACKS: [Stack; NCPU] = [const {
    Stack {
        guard: UnsafeCell::new([0; PGSIZE]),
        stack: UnsafeCell::new([0; STACK_SIZE]),
    }
}; NCPU];

unsafe extern "C" {
    /// The page below the boot CPU's stack (entry.S).
    static boot_stack_guard: u8;
}

/// The kernel-image addresses of the pages that must stay unmapped below
/// every CPU's own stack: the boot stack's and each of `STACKS`'. A stack
/// that overflows runs into one, and the fault is reported through the
/// double-fault stack (gdt.rs) instead of silently corrupting memory.
pub fn stack_guard_pages() -> [usize; NCPU + 1] {
    let boot = &raw const boot_stack_guard as usize;
    core::array::from_fn(|i| match i {
        0 => boot,
        i => STACKS[i - 1].guard.get() as usize,
    })
}

/// How long to wait for a CPU to report in, in milliseconds.
const START_TIMEOUT_MS: u32 = 1000;

/// Where each started CPU goes once it is set up (see [`start_others`]).
static THEN: Once<fn(&'static Cpu) -> !> = Once::new();

/// Starts every CPU the ACPI tables list, one after the other. Each one,
/// once set up, calls `then` with its own `Cpu`, and must set
/// `Cpu::started` there: the boot CPU waits for that.
pub fn start_others(then: fn(&'static Cpu) -> !) {
    THEN.call_once(|| then);
    let code_start = &raw const trampoline_start as usize;
    let code_len = &raw const trampoline_end as usize - code_start;
    assert!(code_len <= PARAMS_OFFSET, "trampoline too large");
    let boot_apic_id = lapic::id();
    let machine = acpi::machine();
    let mut next_index = 1;
    for &apic_id in &machine.apic_ids[..machine.cpu_count] {
        if apic_id == boot_apic_id {
            continue;
        }
        let index = next_index;
        next_index += 1;
        let stack_top = STACKS[index].stack.get() as usize + STACK_SIZE;
        // SAFETY: the trampoline page below 1 MiB is never handed out by
        // kalloc and is mapped by the direct map; no other CPU is using it
        // (the previous one has reported in). The code comes from the
        // kernel image.
        unsafe {
            let page = phys_to_virt(TRAMPOLINE) as *mut u8;
            core::ptr::copy_nonoverlapping(code_start as *const u8, page, code_len);
            (page.add(PARAMS_OFFSET) as *mut Params).write_volatile(Params {
                stack_top: stack_top as u64,
                entry: ap_entry as extern "C" fn(usize) -> ! as usize as u64,
                cpu_index: index as u64,
            });
        }
        cpu::all()[index].apic_id.store(apic_id, Ordering::Relaxed);
        lapic::start_ap(apic_id, TRAMPOLINE);
        let mut waited = 0;
        while !cpu::all()[index].started.load(Ordering::Acquire) && waited < START_TIMEOUT_MS {
            pit::wait(1000);
            waited += 1;
        }
        if !cpu::all()[index].started.load(Ordering::Acquire) {
            println!("mp: CPU with APIC id {apic_id} did not start");
        }
    }
}

/// Where each other CPU enters Rust, on its own stack, with the boot page
/// tables and interrupts off.
extern "C" fn ap_entry(index: usize) -> ! {
    cpu::init_this_cpu(index); // %gs -> this CPU's `Cpu`
    crate::vm::switch_to_kernel(); // the kernel's page table
    gdt::init(); // segments and TSS
    idt::init(); // trap vectors
    super::syscall::init(); // the `syscall` instruction's entry point
    super::fpu::init_this_cpu(); // x87/SSE/AVX for user programs
    super::protect::init_this_cpu(); // SMEP, SMAP, UMIP
    lapic::init(); // this CPU's interrupt controller and timer
    let then = THEN.get().expect("start_others stored where CPUs go");
    then(mycpu())
}
