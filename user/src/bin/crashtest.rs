//! crashtest: does every system call reach the disk whole, or not at all,
//! when the power goes?
//!
//! The crash test (`make test SUITES=crash`; the harness is
//! xtask/src/crash.rs) boots this program twice per power cut:
//!
//! - `crashtest run [SEED STEPS]` makes the STEPS system calls that the
//!   model (`model.rs`, beside this file) plans from SEED, one after
//!   another, all under `/c`, and checks that each returns what the model
//!   says (and that each read returns the bytes the model says the file
//!   holds). Around every call it prints a line:
//!
//!   ```text
//!   crash: step 17 call write 3072 bytes at 6144
//!   crash: step 17 ret 3072
//!   ```
//!
//!   The harness kills QEMU some time after one of the `call` lines.
//! - `crashtest check [SEED STEPS]`, booted on the disk left behind (the
//!   kernel has recovered its log at mount), reads everything under `/c`
//!   (each name, its kind, inode number, link count and contents), replays
//!   the model without making the calls, compares the disk with the
//!   model's state after each step, from step 0 (no `/c` yet) to the last,
//!   and prints those it matches:
//!
//!   ```text
//!   crashtest: disk matches the state after steps 17 18
//!   ```
//!
//!   There are several when some steps change nothing (a read, a close, a
//!   call that fails); none means the disk holds something half-done, or
//!   lost what a finished call wrote. Then it checks that the file system
//!   still takes new work.
//!
//! Why the lines can be trusted: printing is a `write` to the console,
//! which the kernel sends out of the serial port before the `write`
//! returns, so once the harness has read a step's `ret` line, the step has
//! returned. The steps run in this one process, one at a time, so no other
//! operation is under way when a step's `end_op` runs, and it commits
//! before the step returns (kernel/src/log.rs): a step that returned is on
//! disk. After a cut, the disk must therefore be in the state after the
//! last step whose `ret` line was printed, or after the step that followed
//! it (which may have committed before the cut stopped it printing). Which
//! of the matching steps is right is the harness's to judge: it has the
//! lines.
//!
//! The harness boots the two modes with the defaults, asking the test
//! kernel for `user:crashtest,run` and `user:crashtest,check`.

#![no_std]
#![no_main]

extern crate alloc;

// The model lives beside this file, out of the way of the Makefile's list
// of programs (user/src/bin/*.rs).
#[path = "crashtest/model.rs"]
mod model;

use alloc::ffi::CString;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use abi::fcntl::O_RDONLY;
use abi::stat::{T_DIR, T_FILE};
use model::{Call, Contents, DiskView, Expect, READ_ALL, Seen, TOP, Workload, parse_args};
use ulib::testing::{CheckResult, dir_names, file_system_works, read_file, stat};
use ulib::{Args, close, ensure, eprintln, link, mkdir, open, println, read, unlink, write};

ulib::entry!(main);

fn main(args: Args) -> i32 {
    let argv: Vec<&[u8]> = args.iter().collect();
    let (mode, rest) = match argv.get(1..) {
        Some([mode @ (b"run" | b"check"), rest @ ..]) => (*mode, rest),
        _ => (&b""[..], &[][..]),
    };
    let Some((seed, steps)) = parse_args(rest).filter(|_| !mode.is_empty()) else {
        eprintln!("usage: crashtest run|check [SEED STEPS]");
        return 2;
    };
    println!("crashtest: seed {seed}, {steps} steps in {TOP}");
    // Each verdict is printed as ulib::testing's runner would print it,
    // without the runner's count of free memory before and after: it
    // touches every free page, which takes seconds, and the harness boots
    // this program some sixty times.
    let passed = if mode == b"run" {
        report(
            "crashtest_calls_return_what_the_model_says",
            run(seed, steps),
        )
    } else {
        report("crashtest_disk_matches_a_state", check(seed, steps))
            & report(
                "crashtest_file_system_works",
                file_system_works("/crashtest"),
            )
    };
    if passed { 0 } else { 1 }
}

/// Prints `PASS name` or `FAIL name: why`; returns whether it passed.
fn report(name: &str, result: CheckResult) -> bool {
    match result {
        Ok(()) => {
            println!("PASS {name}");
            true
        }
        Err(why) => {
            println!("FAIL {name}: {why}");
            false
        }
    }
}

// ---------------------------------------------------------------------------
// crashtest run

/// Makes every call of the workload, each between its two lines.
fn run(seed: u64, steps: usize) -> CheckResult {
    let mut workload = Workload::new(seed);
    // The descriptor of the workload's open file.
    let mut fd = -1;
    let mut buffer = vec![0u8; READ_ALL];
    for _ in 0..steps {
        let step = workload.step();
        let number = step.number;
        println!("crash: step {number} call {}", step.call);
        let got = match &step.call {
            Call::Mkdir(path) => mkdir(&c_path(path)) as isize,
            Call::Open(path, flags) => {
                let opened = open(&c_path(path), *flags);
                if opened >= 0 {
                    fd = opened;
                }
                opened as isize
            }
            Call::Write { .. } => write(fd, &step.bytes),
            Call::Read { len, .. } => read(fd, &mut buffer[..*len]),
            Call::Close => close(fd) as isize,
            Call::Link(old, new) => link(&c_path(old), &c_path(new)) as isize,
            Call::Unlink(path) => unlink(&c_path(path)) as isize,
        };
        println!("crash: step {number} ret {got}");
        ensure!(
            step.expect.accepts(got),
            "step {number}, {}, returned {got}; the model says {}",
            step.call,
            step.expect
        );
        if let (Call::Read { .. }, Expect::Value(n)) = (&step.call, step.expect) {
            ensure!(
                buffer[..n as usize] == step.bytes[..],
                "step {number}, {}, read bytes the file should not hold",
                step.call
            );
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// crashtest check

/// Compares the disk with the model's state after every step.
fn check(seed: u64, steps: usize) -> CheckResult {
    let disk = read_disk()?;
    let mut workload = Workload::new(seed);
    let mut matching = Vec::new();
    // For a disk that matches nothing: the last state with the same names,
    // and how it differs.
    let mut nearest = None;
    let mut compare = |step: usize, workload: &Workload| match workload.tree().compare(&disk) {
        Ok(()) => matching.push(step),
        Err(why) if workload.tree().has_names_of(&disk) => nearest = Some((step, why)),
        Err(_) => {}
    };
    compare(0, &workload);
    for _ in 0..steps {
        let step = workload.step();
        compare(step.number, &workload);
    }
    if matching.is_empty() {
        return Err(match nearest {
            Some((step, why)) => format!(
                "the disk matches no state of the workload; the last with the same names, \
                 after step {step}, differs: {why}"
            ),
            None => String::from("no state of the workload has the names the disk has"),
        });
    }
    let list: Vec<String> = matching.iter().map(|step| format!("{step}")).collect();
    println!(
        "crashtest: disk matches the state after steps {}",
        list.join(" ")
    );
    Ok(())
}

/// Everything under [`TOP`], as the kernel shows it; empty if there is no
/// `TOP` (the workload's first step did not reach the disk).
fn read_disk() -> Result<DiskView, String> {
    let mut disk = DiskView::new();
    let fd = open(&c_path(TOP), O_RDONLY);
    if fd < 0 {
        return Ok(disk);
    }
    close(fd);
    let mut to_visit = vec![String::from(TOP)];
    while let Some(path) = to_visit.pop() {
        let c = c_path(&path);
        let st = stat(&c)?;
        let contents = match st.kind {
            T_DIR => {
                for name in dir_names(&c)? {
                    let name = name
                        .to_str()
                        .map_err(|_| format!("{path} holds a name that is not UTF-8"))?;
                    if name != "." && name != ".." {
                        to_visit.push(format!("{path}/{name}"));
                    }
                }
                Contents::Dir
            }
            T_FILE => Contents::File(read_file(&c)?),
            kind => {
                return Err(format!(
                    "{path} has kind {kind}, which the workload never makes"
                ));
            }
        };
        let seen = Seen {
            ino: st.ino,
            nlink: st.nlink,
            contents,
        };
        disk.push((path, seen));
    }
    Ok(disk)
}

/// `path` with the NUL the kernel wants.
fn c_path(path: &str) -> CString {
    CString::new(path).expect("the workload's paths hold no NUL")
}
