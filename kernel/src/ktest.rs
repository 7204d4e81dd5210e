//! Test mode: the kernel checks itself and ends QEMU with the verdict.
//!
//! `make test` boots images whose kernel command line (in grub.cfg) asks for
//! a test run:
//!
//! - `test` runs every in-kernel test in [`TESTS`] and prints one line per
//!   test, `PASS name` or `FAIL name: why`, then a summary line;
//! - `test=user:PROGRAM` starts init with PROGRAM as its argument, and
//!   `test=user:PROGRAM,ARG,...` with PROGRAM's arguments too (up to
//!   `proc::INIT_MAXARG` words in all): init runs it, and when it exits,
//!   so does init, with its status; the kernel then ends QEMU with success
//!   if that status is 0;
//! - `test=panic` panics on purpose, `test=pagefault` reads an unmapped
//!   address in the kernel, `test=relock` takes a spin lock twice and
//!   `test=sleeprelock` a sleep lock, `test=stackoverflow` overflows a process's kernel stack and
//!   `test=cpustackoverflow` the boot CPU's own stack, and `test=smap` and
//!   `test=smep` read and run a user page from the kernel (run with
//!   `-cpu max`, whose CPU has SMAP and SMEP), so the harness can check
//!   each report.
//!
//! QEMU's `isa-debug-exit` device (I/O port 0xF4) ends the run: writing `v`
//! makes QEMU exit with status `(v << 1) | 1`, so success is 33 and failure 35.
//! A kernel that hangs is caught by the harness's timeout.

use core::sync::atomic::{AtomicBool, Ordering};

use x86::io::outl;

use crate::verdict::TestResult;

/// The I/O port of QEMU's isa-debug-exit device (see the Makefile).
const DEBUG_EXIT_PORT: u16 = 0xF4;

/// The value written to isa-debug-exit at the end of a test run.
#[derive(Clone, Copy)]
#[repr(u32)]
pub enum QemuExit {
    Success = 0x10,
    Failure = 0x11,
}

/// A named in-kernel test.
type Test = (&'static str, fn() -> TestResult);

/// Every in-kernel test, in the order they run.
const TESTS: &[Test] = &[
    (
        "kalloc_every_page_once",
        crate::kalloc::test_every_page_once,
    ),
    ("vm_kernel_permissions", crate::vm::test_kernel_permissions),
    (
        "spinlock_interrupt_nesting",
        crate::spinlock::test_interrupt_nesting,
    ),
    ("sleeplock_uncontended", crate::sleeplock::test_sleep_lock),
    ("all_cpus_started", all_cpus_started),
    ("timer_ticks_every_cpu", crate::trap::test_ticks_every_cpu),
];

/// Test: every CPU the ACPI tables list (up to NCPU) is running.
fn all_cpus_started() -> TestResult {
    let listed = crate::arch::acpi::machine().cpu_count;
    if crate::cpu::started_count() == listed {
        Ok(())
    } else {
        Err("fewer CPUs running than the ACPI tables list")
    }
}

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Reads the kernel command line and returns what test run, if any, it asks
/// for.
pub fn init(command_line: &str) -> Option<&str> {
    let request =
        command_line
            .split_ascii_whitespace()
            .find_map(|word| match word.split_once('=') {
                Some(("test", name)) => Some(name),
                _ if word == "test" => Some("all"),
                _ => None,
            });
    ENABLED.store(request.is_some(), Ordering::Relaxed);
    request
}

/// Whether the kernel runs in test mode.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Runs the test run named on the command line and ends QEMU.
pub fn run(request: &str) -> ! {
    match request {
        "all" => run_all(),
        "panic" => panic!("deliberate panic requested by the test harness"),
        "pagefault" => crate::trap::page_fault(),
        "relock" => crate::spinlock::relock(),
        "sleeprelock" => crate::sleeplock::relock(),
        "stackoverflow" => crate::proc::overflow_kernel_stack(),
        "cpustackoverflow" => crate::proc::overflow_cpu_stack(),
        "smap" => crate::vm::touch_user_page(crate::vm::UserTouch::Read),
        "smep" => crate::vm::touch_user_page(crate::vm::UserTouch::Execute),
        _ => {
            println!("ktest: unknown test run '{request}'");
            exit_qemu(QemuExit::Failure)
        }
    }
}

fn run_all() -> ! {
    let mut failed = 0;
    for (name, test) in TESTS {
        match test() {
            Ok(()) => println!("PASS {name}"),
            Err(why) => {
                println!("FAIL {name}: {why}");
                failed += 1;
            }
        }
    }
    println!("ktest: {} passed, {failed} failed", TESTS.len() - failed);
    exit_qemu(if failed == 0 {
        QemuExit::Success
    } else {
        QemuExit::Failure
    })
}

/// Init exited in test mode with the status of the user test program.
pub fn user_test_finished(status: i32) -> ! {
    println!("ktest: user test program exited with status {status}");
    exit_qemu(if status == 0 {
        QemuExit::Success
    } else {
        QemuExit::Failure
    })
}

/// Ends QEMU with `code`.
pub fn exit_qemu(code: QemuExit) -> ! {
    // SAFETY: port 0xF4 is QEMU's isa-debug-exit device, which the Makefile
    // always configures; writing to it ends the virtual machine.
    unsafe { outl(DEBUG_EXIT_PORT, code as u32) };
    // Without the device (a real machine) there is nothing to exit to.
    crate::arch::halt_forever()
}
