//! xv6-rs: a Rust rewrite of the xv6 teaching kernel for x86_64.
//!
//! GRUB loads the kernel and jumps to `_start` in `arch/x86_64/entry.S`,
//! which enters 64-bit mode and calls [`kernel_entry`]. That function reads
//! like the table of contents of the kernel: each line brings up one
//! subsystem, in the order they depend on each other.
//!
//! ## Layers
//!
//! Lowest first; a module uses only modules of its own layer or below.
//! This is what the `use` lines and paths of the sources say, not a wish.
//!
//! 1. **Facts**: `param` (every limit), `memlayout` (every address),
//!    `error` (why a system call failed), and in `arch`: `traps` (every
//!    interrupt vector) and `trapframe` (the registers a trap saves); in
//!    the test kernel only (the `ktest` feature), `verdict` (an in-kernel
//!    test's result) and `arch::debug_exit` (how a test run ends QEMU);
//!    and the crates `abi` (what user programs and mkfs share) and `shmtable`
//!    (the shared-memory bookkeeping, tested on the host).
//! 2. **The CPU**: `multiboot` (what GRUB tells us), `cpu` (per-CPU
//!    state), and in `arch`: `gdt`, `idt`, `syscall` (the MSRs), `fpu`,
//!    `acpi`.
//! 3. **Locks and memory**: `spinlock`, `kalloc` (pages), `vm` (page
//!    tables, user copies), `cga` (the screen).
//! 4. **Timers, interrupt controllers and the serial port**: `arch::pit`
//!    (the legacy timer, polled: busy waits, and other counters' rates),
//!    `arch::tsc` (the time-stamp counter's rate), `arch::lapic`,
//!    `arch::ioapic`, `uart`.
//! 5. **Printing, and the CPUs' last steps**: `printf` (`println!`, which
//!    never sleeps, so every layer above may print), `arch::protect`
//!    (SMEP, SMAP, UMIP, and its report) and `arch::mp` (the other CPUs,
//!    which it sends to the function `main` names).
//! 6. **Processes, and everything that sleeps**: `proc` (the scheduler,
//!    sleep and wakeup) and the modules that call `sleep`: `sleeplock`,
//!    `ide`, `bio`, `log`, `fs`, `file`, `pipe`, `console` (the device's
//!    input); and those that `fork`, `exit` and `exec` call back: `file`,
//!    `fs`, `log`, `shm`, `exec`. These form one knot, as in xv6: `proc`
//!    needs files and shared memory to fork and exit, and they need
//!    `proc` to wait.
//! 7. **System calls**: `syscall` (dispatch, and `Args`, the arguments
//!    that the handlers fetch) and the handlers, `sysproc`, `sysfile` and
//!    `sysshm`, which fetch their arguments and call the subsystems.
//! 8. **Traps**: `trap`, where every interrupt, exception and system call
//!    enters, and which hands each to the layer that deals with it.
//! 9. **The top**: this file (start-up and the panic handler) and, in the
//!    test kernel only, `ktest` (test runs).

#![no_std]
#![no_main]

#[macro_use]
mod printf;

mod arch;
mod bio;
mod cga;
mod console;
mod cpu;
mod error;
mod exec;
mod file;
mod fs;
mod ide;
mod kalloc;
#[cfg(feature = "ktest")]
mod ktest;
mod log;
mod memlayout;
mod multiboot;
mod param;
mod pipe;
mod proc;
mod shm;
mod sleeplock;
mod spinlock;
mod syscall;
mod sysfile;
mod sysproc;
mod sysshm;
mod trap;
mod uart;
#[cfg(feature = "ktest")]
mod verdict;
mod vm;

use core::sync::atomic::Ordering;

use arch::{acpi, fpu, gdt, idt, ioapic, lapic, mp, protect, syscall as syscall_msrs, tsc};
use cpu::Cpu;

/// The first Rust code to run, on the boot CPU, with the boot page tables
/// from entry.S and interrupts off.
#[unsafe(no_mangle)]
extern "C" fn kernel_entry(boot_info_phys: usize) -> ! {
    cpu::init_this_cpu(0); // %gs -> the boot CPU's per-CPU state; locks work from here
    printf::init(); // COM1 and the CGA screen, so we can say what happens
    println!();
    println!("xv6-rs: a Rust rewrite of xv6 for x86_64");
    // SAFETY: entry.S passes GRUB's boot-information address, and nothing
    // writes to that memory (the page allocator skips it).
    unsafe { multiboot::init(boot_info_phys) }; // what GRUB tells us
    // The test kernel knows from here on whether this boot is a test run,
    // so a panic while booting ends it at once with the failure code.
    #[cfg(feature = "ktest")]
    let test_request = ktest::init(); // the test run fw_cfg asks for, if any
    print_memory_map();

    kalloc::init(); // free pages in the first GiB
    vm::init(&mp::stack_guard_pages()); // the kernel's page table: direct map and kernel image
    kalloc::init_rest(); // free pages above the first GiB
    gdt::init(); // segments and the TSS
    idt::init(); // trap vectors
    syscall_msrs::init(); // the `syscall` instruction's entry point
    fpu::init_this_cpu(); // x87/SSE/AVX for user programs, saved per process
    protect::init_this_cpu(); // SMEP, SMAP, UMIP where the CPU has them
    protect::report();
    acpi::init(); // CPUs and interrupt controllers, from the MADT
    tsc::calibrate(); // the time-stamp counter's rate, measured against the PIT
    print_tsc_rate();
    lapic::map(acpi::machine().lapic_address);
    lapic::init(); // this CPU's interrupt controller, timer at 100 Hz
    cpu::mycpu().apic_id.store(lapic::id(), Ordering::Relaxed);
    cpu::mycpu().started.store(true, Ordering::Release);
    ioapic::init(); // legacy PIC off, device interrupts masked
    uart::enable_interrupts(); // typed characters arrive as interrupts
    proc::init(); // kernel stacks of the process table
    ide::init(); // the disk with the file system
    mp::start_others(cpu_running); // the other CPUs, each ending in cpu_running
    let cpus = cpu::started_count();
    println!(
        "xv6-rs: {cpus} CPU{} running, {} pages ({} MiB) free",
        if cpus == 1 { "" } else { "s" },
        kalloc::free_pages(),
        (kalloc::free_pages() * param::PGSIZE) >> 20
    );
    let ignored = acpi::machine().cpus_ignored;
    if ignored > 0 {
        println!(
            "xv6-rs: {ignored} more CPU{} offered, left off: the kernel uses at most NCPU = {}",
            if ignored == 1 { "" } else { "s" },
            param::NCPU
        );
    }

    // In a test run, the kernel's own tests run here (and end QEMU), or a
    // user test program runs under init.
    // `user:PROGRAM,ARG,...` runs PROGRAM with its arguments.
    let mut init_argv: [&[u8]; proc::INIT_MAXARG] = [b""; proc::INIT_MAXARG];
    init_argv[0] = b"init";
    #[cfg_attr(not(feature = "ktest"), expect(unused_mut))]
    let mut init_argc = 1;
    #[cfg(feature = "ktest")]
    if let Some(request) = test_request {
        match request.strip_prefix("user:") {
            Some(command) => {
                for word in command.split(',').take(proc::INIT_MAXARG - 1) {
                    init_argv[init_argc] = word.as_bytes();
                    init_argc += 1;
                }
            }
            None => {
                arch::interrupts_on();
                ktest::run(request);
            }
        }
    }
    proc::user_init(init_argv, init_argc); // the first process
    cpu_running(cpu::mycpu())
}

/// Every CPU ends its start-up here: it reports in and runs processes.
fn cpu_running(cpu: &Cpu) -> ! {
    if cpu.index != 0 {
        println!("cpu {}: started (APIC id {})", cpu.index, lapic::id());
    }
    cpu.started.store(true, Ordering::Release);
    proc::scheduler()
}

/// Prints the BIOS memory map that GRUB passed on.
fn print_memory_map() {
    println!("physical memory map:");
    for area in multiboot::memory_areas() {
        println!(
            "  {:#012x}-{:#012x} {:>8} KiB  {}",
            area.start_address(),
            area.end_address(),
            area.size() / 1024,
            multiboot::area_type_name(area)
        );
    }
}

/// Prints the TSC's rate in MHz, with three decimals.
fn print_tsc_rate() {
    let khz = tsc::hz() / 1000;
    println!(
        "xv6-rs: TSC at {}.{:03} MHz (calibrated against the PIT)",
        khz / 1000,
        khz % 1000
    );
}

/// A kernel panic: stop the other CPUs, print the message and where it
/// came from, then stop this one too.
///
/// In a test run the run ends with QEMU's failure code instead, so that a
/// panicking test is reported at once rather than by a timeout.
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    arch::interrupts_off();
    printf::print_panic(format_args!("\npanic: {}\n", info.message()));
    lapic::stop_other_cpus();
    if let Some(location) = info.location() {
        printf::print_panic(format_args!(
            "  at {}:{}:{}\n",
            location.file(),
            location.line(),
            location.column()
        ));
    }
    #[cfg(feature = "ktest")]
    if arch::debug_exit::armed() {
        arch::debug_exit::exit(arch::debug_exit::QemuExit::Failure);
    }
    arch::halt_forever()
}
