//! Test runs: the kernel checks itself and ends QEMU with the verdict.
//!
//! This module, like every test hook it calls, is compiled only into the
//! test kernel (the `ktest` cargo feature; the Makefile builds it for the
//! test images), so the kernel of `build/xv6.iso` has none of them.
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
//!   `test=sleeprelock` a sleep lock, `test=stackoverflow` overflows a
//!   process's kernel stack and `test=cpustackoverflow` the boot CPU's
//!   own stack, and `test=smap` and
//!   `test=smep` read and run a user page from the kernel (run with
//!   `-cpu max`, whose CPU has SMAP and SMEP), so the harness can check
//!   each report.
//!
//! QEMU's `isa-debug-exit` device (arch/x86_64/debug_exit.rs) ends the
//! run, with 33 for success and 35 for failure. A kernel that hangs is
//! caught by the harness's timeout.

use crate::arch::debug_exit::{self, QemuExit};
use crate::verdict::TestResult;

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
    ("sysret_guard", crate::arch::trapframe::test_sysret_guard),
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

/// Reads the kernel command line and returns what test run, if any, it asks
/// for; if it asks for one, arms the exit device.
pub fn init(command_line: &str) -> Option<&str> {
    let request =
        command_line
            .split_ascii_whitespace()
            .find_map(|word| match word.split_once('=') {
                Some(("test", name)) => Some(name),
                _ if word == "test" => Some("all"),
                _ => None,
            });
    if request.is_some() {
        debug_exit::arm();
    }
    request
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
            debug_exit::exit(QemuExit::Failure)
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
    debug_exit::exit(if failed == 0 {
        QemuExit::Success
    } else {
        QemuExit::Failure
    })
}
