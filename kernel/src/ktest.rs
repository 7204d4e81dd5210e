//! Test runs: the kernel checks itself and ends QEMU with the verdict.
//!
//! This module, like every test hook it calls, is compiled only into the
//! test kernel (the `ktest` cargo feature; the Makefile builds it for the
//! test images), so the kernel of `build/xv6.iso` has none of them.
//! `make test` boots one test image for every test and names the run it
//! wants in a file of QEMU's firmware configuration device, fw_cfg
//! (`abi::testrun` says why, arch/x86_64/fw_cfg.rs how it is read), for
//! example `qemu-system-x86_64 ... -fw_cfg name=opt/xv6-rs/test,string=all`.
//! The requests:
//!
//! - `all` runs every in-kernel test in [`TESTS`] and prints one line per
//!   test, `PASS name` or `FAIL name: why`, then a summary line;
//! - `user:PROGRAM` starts init with PROGRAM as its argument, and
//!   `user:PROGRAM,ARG,...` with PROGRAM's arguments too (up to
//!   `proc::INIT_MAXARG` words in all): init runs it, and when it exits,
//!   so does init, with its status; the kernel then ends QEMU with success
//!   if that status is 0;
//! - `panic` panics on purpose, `pagefault` reads an unmapped address in
//!   the kernel, `relock` takes a spin lock twice and `sleeprelock` a
//!   sleep lock, `stackoverflow` overflows a process's kernel stack and
//!   `cpustackoverflow` the boot CPU's own stack, and `smap` and `smep`
//!   read and run a user page from the kernel (run with `-cpu max`, whose
//!   CPU has SMAP and SMEP), so the runner can check each report.
//!
//! Without the file, the request may come from the kernel's command line
//! instead, as a word `test=REQUEST`: the images `build/test-NAME.iso`
//! that `make images` builds carry one in their GRUB
//! configuration, for tools that boot an image as it is, with no fw_cfg
//! (../shared's comparison with Linux and its many-core runner). With
//! neither, the test kernel boots as the normal one does, to the shell.
//!
//! QEMU's `isa-debug-exit` device (arch/x86_64/debug_exit.rs) ends the
//! run, with 33 for success and 35 for failure. A kernel that hangs is
//! caught by the harness's timeout.

use abi::testrun::{REQUEST_FILE, REQUEST_MAX};
use spin::Once;

use crate::arch::debug_exit::{self, QemuExit};
use crate::arch::fw_cfg::{self, FwCfgError};
use crate::verdict::TestResult;

/// A named in-kernel test.
type Test = (&'static str, fn() -> TestResult);

/// Every in-kernel test, in the order they run.
const TESTS: &[Test] = &[
    (
        "kalloc_every_page_once",
        crate::kalloc::test_every_page_once,
    ),
    (
        "kalloc_pages_move_between_cpus",
        crate::kalloc::test_pages_move_between_cpus,
    ),
    ("vm_kernel_permissions", crate::vm::test_kernel_permissions),
    // LAB cow: solution begins
    (
        "kalloc_shared_page_freed_last",
        crate::kalloc::test_shared_page_freed_last,
    ),
    ("vm_copy_on_write_fork", crate::vm::test_copy_on_write_fork),
    // LAB cow: stub
    // LAB cow: end
    (
        "spinlock_interrupt_nesting",
        crate::spinlock::test_interrupt_nesting,
    ),
    ("sleeplock_uncontended", crate::sleeplock::test_sleep_lock),
    ("all_cpus_started", all_cpus_started),
    ("timer_ticks_every_cpu", crate::trap::test_ticks_every_cpu),
    ("sysret_guard", crate::arch::trapframe::test_sysret_guard),
    (
        "syscall_path_on_one_page",
        crate::trap::test_syscall_path_on_one_page,
    ),
    ("tsc_rate_matches_pm_timer", tsc_rate_matches_pm_timer),
    (
        "ticks_count_time_missed_with_interrupts_off",
        ticks_count_time_missed_with_interrupts_off,
    ),
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

/// Test: the TSC's rate agrees within 1% with the ACPI power-management
/// timer, a clock of its own (3.579545 MHz) that the calibration never
/// looked at.
///
/// The test reads the PM timer between two reads of the TSC, at both ends
/// of 50 ms, keeping the least disturbed read at each (`pit::
/// narrowest_reading`). The cycles between the two outer reads of the TSC
/// are at least those the PM timer's span took, and the cycles between
/// the two inner reads at most: so the true rate lies between the two
/// rates they give, whatever the host did meanwhile. A host that pauses
/// the virtual CPU only pulls those bounds apart; the test never fails a
/// right rate, and on an undisturbed run the bounds lie 0.01% apart.
fn tsc_rate_matches_pm_timer() -> TestResult {
    use crate::arch::{acpi, pit, tsc};
    const MEASURE_MS: u64 = 50;
    const TOLERANCE: u64 = 100; // 1/100: 1%
    let Some(timer) = acpi::pm_timer() else {
        return Err("the ACPI tables show no power-management timer");
    };
    let hz = tsc::hz();
    let mut counter = tsc::now;
    let start = pit::narrowest_reading(&mut counter, || timer.read());
    while tsc::now() - start.after < hz / 1000 * MEASURE_MS {
        core::hint::spin_loop();
    }
    let end = pit::narrowest_reading(&mut counter, || timer.read());
    // The count goes up and wraps at its width (4.7 s at 24 bits).
    let ticks = u64::from(end.value.wrapping_sub(start.value) & timer.mask).max(1);
    let rate = |cycles: u64| {
        (u128::from(cycles) * u128::from(acpi::PmTimer::HZ) / u128::from(ticks)) as u64
    };
    let at_least = rate(end.before - start.after);
    let at_most = rate(end.after - start.before);
    if at_least - at_least / TOLERANCE <= hz && hz <= at_most + at_most / TOLERANCE {
        Ok(())
    } else {
        println!("  TSC at {hz} Hz; the PM timer says between {at_least} and {at_most} Hz");
        Err("the TSC's rate disagrees with the ACPI power-management timer")
    }
}

/// Test: the tick count keeps the time even when timer interrupts are
/// missed. CPU 0, which keeps the count (proc.rs, `tick`), runs this test:
/// it turns its interrupts off for 200 ms, as a host that starves the
/// virtual CPU in effect does, and turns them back on. The timer
/// interrupts that fell due meanwhile come as one; the count must still
/// have gone up by the 20 ticks that passed, not by 1.
///
/// The 200 ms are timed by the TSC, whose rate `tsc_rate_matches_pm_timer`
/// checks. A starved host only makes them longer, and the count larger,
/// so the test cannot fail a right kernel however busy the host is; it
/// asks for 19, allowing for where in a tick the wait began.
fn ticks_count_time_missed_with_interrupts_off() -> TestResult {
    use crate::arch::tsc;
    use crate::param::TICKS_PER_SECOND;
    use crate::proc;
    use crate::spinlock::{pop_off, push_off};
    const MISSED: u64 = 20;
    if crate::cpu::mycpu().index != 0 {
        return Err("the test must run on CPU 0, which keeps the tick count");
    }
    let wait = tsc::hz() / TICKS_PER_SECOND * MISSED;
    let before = proc::ticks();
    push_off();
    let start = tsc::now();
    while tsc::now() - start < wait {
        core::hint::spin_loop();
    }
    pop_off();
    // The interrupt that was held back comes now, or at the next tick.
    while proc::ticks() == before {
        core::hint::spin_loop();
    }
    let counted = proc::ticks() - before;
    if counted >= MISSED - 1 {
        Ok(())
    } else {
        println!("  {counted} ticks counted in {MISSED} ticks' time with interrupts off");
        Err("the tick count lost the time its interrupts were off")
    }
}

/// The request of this boot's test run, as fw_cfg holds it.
struct Request {
    bytes: [u8; REQUEST_MAX],
    len: usize,
}

/// Read once, at boot, before any other CPU starts.
static REQUEST: Once<Request> = Once::new();

/// The word of the kernel's command line that carries a request.
const COMMAND_LINE_WORD: &str = "test=";

/// Reads the test run's request from fw_cfg, or else from the kernel's
/// command line, and returns it, if there is one; if there is, arms the
/// exit device. A request the kernel cannot read ends the run at once,
/// with a line that says why.
pub fn init() -> Option<&'static str> {
    let request = REQUEST.call_once(|| {
        let mut bytes = [0; REQUEST_MAX];
        let len = match fw_cfg::read_file(REQUEST_FILE, &mut bytes) {
            Ok(len) => len,
            Err(FwCfgError::NoDevice | FwCfgError::NoFile) => from_command_line(&mut bytes),
            Err(FwCfgError::TooLong(len)) => {
                println!("ktest: the request in fw_cfg's {REQUEST_FILE} is {len} bytes, more than the {REQUEST_MAX} the kernel reads");
                debug_exit::exit(QemuExit::Failure)
            }
        };
        Request { bytes, len }
    });
    let Ok(text) = core::str::from_utf8(&request.bytes[..request.len]) else {
        println!("ktest: the request in fw_cfg's {REQUEST_FILE} is not UTF-8");
        debug_exit::exit(QemuExit::Failure)
    };
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    debug_exit::arm();
    Some(text)
}

/// Copies the request of the command line's `test=` word, if it has one,
/// into `bytes`; returns its length (0 if there is none).
fn from_command_line(bytes: &mut [u8; REQUEST_MAX]) -> usize {
    let Some(request) = crate::multiboot::command_line()
        .split_ascii_whitespace()
        .find_map(|word| word.strip_prefix(COMMAND_LINE_WORD))
    else {
        return 0;
    };
    let Some(to) = bytes.get_mut(..request.len()) else {
        println!(
            "ktest: the request on the command line is {} bytes, more than the {REQUEST_MAX} the kernel reads",
            request.len()
        );
        debug_exit::exit(QemuExit::Failure)
    };
    to.copy_from_slice(request.as_bytes());
    request.len()
}

/// Runs the test run `request` names and ends QEMU.
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
