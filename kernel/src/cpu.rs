//! Per-CPU state.
//!
//! Every CPU has one [`Cpu`] in the static array `CPUS`, and its GS base
//! register points at it, so `mycpu()` is a single `mov %gs:0`. The boot CPU
//! sets its GS base before anything else runs; each other CPU does so first
//! thing in `mp::ap_main`.
//!
//! Locking rule: a CPU's entry is written only by that CPU, with interrupts
//! off (so the code cannot be moved to another CPU half-way). Fields that
//! other CPUs read are atomics. One field is read without interrupts off:
//! which process runs here ([`running_process`] says why it may).

use core::arch::asm;
use core::cell::Cell;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use x86::msr::{IA32_GS_BASE, wrmsr};

use crate::param::NCPU;

/// What the kernel keeps about one CPU.
///
/// Aligned to 128 bytes, so that no two CPUs' entries share a cache line
/// (64 bytes), nor a pair of lines (Intel's CPUs fetch lines in adjacent
/// pairs): each CPU writes its own entry all the time (every system call,
/// every `push_off`), and entries sharing a line would bounce that line
/// between the CPUs' caches on every write, as if they shared the data.
/// This is *false sharing*.
#[repr(C, align(128))]
pub struct Cpu {
    /// Points at this very struct: `mov %gs:0` finds it. Must stay first.
    self_pointer: Cell<*const Cpu>,
    /// Scratch space where syscall_entry (trapasm.S) parks the user's rsp.
    /// Offset 8: trapasm.S knows it.
    user_rsp: Cell<usize>,
    /// Top of the current process's kernel stack, loaded by syscall_entry.
    /// Offset 16: trapasm.S knows it.
    pub kernel_stack_top: Cell<usize>,
    /// Index in the process table of the process running here, or
    /// `NO_PROCESS`. Written only by this CPU's scheduler; read by
    /// [`running_process`]. Offset 24: its `asm!` knows it.
    process: AtomicUsize,
    /// Index in `CPUS`, which is also the CPU's number in log messages.
    pub index: usize,
    /// Local APIC id, from the ACPI MADT.
    pub apic_id: AtomicU32,
    /// Whether this CPU has started and runs the kernel.
    pub started: AtomicBool,
    /// Timer interrupts this CPU has taken.
    pub ticks: AtomicU64,
    /// Whether the scheduler here found nothing to run and halts (or is
    /// about to) until an interrupt. `proc::kick_idle_cpu` claims an idle
    /// CPU by clearing this flag and sends it `T_WAKEUP`.
    pub idle: AtomicBool,
    /// Saved stack pointer of this CPU's scheduler loop (see swtch.S).
    pub scheduler_stack: Cell<usize>,
    /// Depth of `push_off` nesting (see spinlock.rs).
    pub(crate) interrupt_off_depth: Cell<u32>,
    /// Were interrupts on before the outermost `push_off`?
    pub(crate) interrupts_were_on: Cell<bool>,
}

// trapasm.S reaches these two fields by offset, `running_process` the third.
const _: () = assert!(core::mem::offset_of!(Cpu, user_rsp) == 8);
const _: () = assert!(core::mem::offset_of!(Cpu, kernel_stack_top) == 16);
const PROCESS_OFFSET: usize = 24;
const _: () = assert!(core::mem::offset_of!(Cpu, process) == PROCESS_OFFSET);

/// `Cpu::process` when no process runs on the CPU.
const NO_PROCESS: usize = usize::MAX;

// SAFETY: the Cell fields are only touched by the CPU that owns the entry,
// with interrupts off (module doc), so no two threads of execution ever
// access one Cell at the same time; the shared fields are atomics.
unsafe impl Sync for Cpu {}

impl Cpu {
    const fn new(index: usize) -> Cpu {
        Cpu {
            self_pointer: Cell::new(core::ptr::null()),
            user_rsp: Cell::new(0),
            kernel_stack_top: Cell::new(0),
            process: AtomicUsize::new(NO_PROCESS),
            index,
            apic_id: AtomicU32::new(0),
            started: AtomicBool::new(false),
            ticks: AtomicU64::new(0),
            idle: AtomicBool::new(false),
            scheduler_stack: Cell::new(0),
            interrupt_off_depth: Cell::new(0),
            interrupts_were_on: Cell::new(false),
        }
    }

    /// Records which process this CPU runs (`None`: the scheduler's own
    /// loop). Only the scheduler of this CPU calls it.
    pub fn set_process(&self, index: Option<usize>) {
        self.process
            .store(index.unwrap_or(NO_PROCESS), Ordering::Relaxed);
    }
}

static CPUS: [Cpu; NCPU] = {
    let mut cpus = [const { Cpu::new(0) }; NCPU];
    let mut i = 0;
    while i < NCPU {
        cpus[i] = Cpu::new(i);
        i += 1;
    }
    cpus
};

/// Points this CPU's GS base at `CPUS[index]`. Called once per CPU, before it
/// takes any lock.
pub fn init_this_cpu(index: usize) {
    let cpu = &CPUS[index];
    cpu.self_pointer.set(cpu);
    // SAFETY: IA32_GS_BASE only changes where %gs points; nothing else on
    // this CPU uses %gs yet.
    unsafe { wrmsr(IA32_GS_BASE, cpu as *const Cpu as u64) };
}

/// This CPU's entry. The caller must keep interrupts off while it uses the
/// answer if it cares which CPU it runs on (a process can move between CPUs).
pub fn mycpu() -> &'static Cpu {
    let cpu: *const Cpu;
    // SAFETY: init_this_cpu pointed GS at a Cpu whose first field holds its
    // own address; reading %gs:0 has no side effects.
    unsafe { asm!("mov {}, gs:[0]", out(reg) cpu, options(nostack, readonly, preserves_flags)) };
    // SAFETY: the pointer is into the static CPUS array.
    unsafe { &*cpu }
}

/// The index in the process table of the process running on this CPU, if
/// any.
///
/// Unlike `mycpu()`'s other users, this needs no interrupts off, which
/// would cost every system call a `cli` and an `sti` each time it asks
/// (several times). The field is read with a single `%gs`-relative
/// load, and a thread can move to another CPU only between two
/// instructions. Whichever CPU executes the load, the process it records
/// is the one running there, which is the very thread executing the load
/// (or, in the scheduler's loop and the interrupts it takes, none).
pub fn running_process() -> Option<usize> {
    let index: usize;
    // SAFETY: init_this_cpu pointed GS at this CPU's `Cpu`, and the
    // offset is that of its `process` field (checked above), an atomic
    // that only this CPU writes; the load has no side effects.
    unsafe {
        asm!("mov {}, gs:[{offset}]", out(reg) index, offset = const PROCESS_OFFSET,
            options(nostack, readonly, preserves_flags));
    }
    (index != NO_PROCESS).then_some(index)
}

/// Every CPU slot (started or not).
pub fn all() -> &'static [Cpu; NCPU] {
    &CPUS
}

/// Every other CPU that has started, as seen from this one. The caller
/// keeps interrupts off, so that "this one" stays the same.
pub fn others() -> impl Iterator<Item = &'static Cpu> {
    let me = mycpu().index;
    CPUS.iter()
        .filter(move |cpu| cpu.index != me && cpu.started.load(Ordering::Acquire))
}

/// How many CPUs have started.
pub fn started_count() -> usize {
    CPUS.iter()
        .filter(|cpu| cpu.started.load(Ordering::Acquire))
        .count()
}
