//! usertests: tests the kernel's system calls from user space, after xv6's
//! `usertests`.
//!
//! `usertests` runs every test in [`TESTS`]; `usertests NAME` runs only the
//! test called NAME. Each test is a function returning `Ok(())` or why it
//! failed, and runs in a child process of its own, so a test that crashes
//! (or that the kernel kills) fails alone. A test's process prints
//! `FAIL name: why` itself when it returns an error; the runner prints
//! `PASS name`, or `FAIL name: ...` when the process died or exited with
//! an unexpected status. Test processes start in the root directory, make
//! their files there (or in directories they make there), and remove every
//! file they make.
//!
//! Around the tests, [`countfree`] measures free memory; the last verdict,
//! `no_leaks`, fails if pages went missing — a zombie nobody reaped, an
//! inode or pipe whose memory was never given back, an exec or sbrk that
//! failed half-way and kept what it had allocated. The run ends with `ALL
//! TESTS PASSED` (exit status 0) or `SOME TESTS FAILED` (status 1).
//!
//! The tests fall into groups:
//!
//! - bad arguments: pointers that are null, in the kernel's half, or
//!   unmapped, and over-long paths, handed to every system call that takes a
//!   pointer;
//! - files: small and big files (up to `MAXFILE` blocks), truncation, writes
//!   bigger than the log, reading an unlinked file, links;
//! - the log and locks under concurrency: processes creating, linking and
//!   unlinking in one directory, writing through one shared descriptor, or
//!   writing separate files at once;
//! - directories: `.` and `..`, nesting, what cannot be made or removed, a
//!   directory of 500 entries, and the order of `iput` calls around `chdir`,
//!   `exit` and `open`;
//! - pipes: data checked byte by byte, transfers far bigger than the pipe's
//!   512-byte buffer, and what each end sees when the other closes;
//! - processes: fork, exit and wait races, reparenting, a fork bomb, kill,
//!   exec with arguments, bad executables, too many arguments, and exec
//!   when memory has run out;
//! - memory: sbrk up, down and byte by byte, system calls on fresh heap
//!   pages and on pages given back, and processes that use up all memory;
//! - limits: the per-process descriptor table (`NOFILE` = 16) and many
//!   processes at once.
//!
//! Loop counts are scaled down from xv6's where they only add stress, so the
//! whole run stays around a minute under QEMU's emulation; disk use stays
//! within the 2000-block file system.

#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

extern crate alloc;

use alloc::ffi::CString;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::ffi::CStr;
use core::hint::black_box;
use core::ptr;

use abi::fcntl::{O_CREATE, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY};
use abi::fs::{BSIZE, DirEntry, MAXFILE, MAXOPBLOCKS};
use abi::stat::{Stat, T_DIR};
use abi::syscall::{
    SYS_CHDIR, SYS_EXEC, SYS_FSTAT, SYS_LINK, SYS_MKDIR, SYS_MKNOD, SYS_OPEN, SYS_PIPE, SYS_READ,
    SYS_UNLINK, SYS_WRITE,
};
use ulib::string::Text;
use ulib::usys::{syscall1, syscall2, syscall3};
use ulib::{
    Args, PGSIZE, SHMBASE, chdir, close, dup, eprintln, exec, exec_args, exit, fork, fstat,
    getpid, kill, link, mkdir, open, pipe, println, read, sbrk, sleep, unlink, uptime, wait,
    write,
};

ulib::entry!(main);

/// A test's verdict: `Err` says what went wrong.
type TestResult = Result<(), String>;

/// A named test.
type Test = (&'static str, fn() -> TestResult);

/// Every test, in the order they run: quick checks of single calls first,
/// then concurrency, then the tests that use up memory.
const TESTS: &[Test] = &[
    ("badptr", badptr),
    ("longpath", longpath),
    ("validatetest", validatetest),
    ("sbrkarg", sbrkarg),
    ("rwsbrk", rwsbrk),
    ("opentest", opentest),
    ("writetest", writetest),
    ("writebig", writebig),
    ("createtest", createtest),
    ("truncate", truncate),
    ("unlinkread", unlinkread),
    ("linktest", linktest),
    ("bigwrite", bigwrite),
    ("bigfile", bigfile),
    ("dirtest", dirtest),
    ("mkdirexisting", mkdirexisting),
    ("dotdot", dotdot),
    ("subdir", subdir),
    ("rmdot", rmdot),
    ("dirfile", dirfile),
    ("iputtest", iputtest),
    ("exitiputtest", exitiputtest),
    ("openiputtest", openiputtest),
    ("iref", iref),
    ("bigdir", bigdir),
    ("pipe1", pipe1),
    ("pipebig", pipebig),
    ("pipeclose", pipeclose),
    ("exectest", exectest),
    ("execbad", execbad),
    ("exitwait", exitwait),
    ("twochildren", twochildren),
    ("reparent", reparent),
    ("forkfork", forkfork),
    ("forkforkfork", forkforkfork),
    ("killstatus", killstatus),
    ("manyprocs", manyprocs),
    ("fdtable", fdtable),
    ("sharedfd", sharedfd),
    ("fourfiles", fourfiles),
    ("createdelete", createdelete),
    ("concreate", concreate),
    ("linkunlink", linkunlink),
    ("sbrkbasic", sbrkbasic),
    ("sbrkmuch", sbrkmuch),
    ("sbrkfail", sbrkfail),
    ("execout", execout),
];

/// The exit status with which a test's process says it has already printed
/// its `FAIL` line.
const REPORTED: i32 = 1;

fn main(args: Args) -> i32 {
    let only = args.get(1);
    if args.len() > 2 {
        eprintln!("usage: usertests [test]");
        return 2;
    }
    if let Some(name) = only
        && !TESTS.iter().any(|&(test, _)| test.as_bytes() == name)
    {
        eprintln!("usertests: no test named {}", Text(name));
        return 2;
    }
    if chdir(c"/") < 0 {
        eprintln!("usertests: cannot chdir to /");
        return 1;
    }

    println!("usertests starting");
    reserve_heap();
    let free_before = countfree();
    let mut failed = 0;
    for &(name, test) in TESTS {
        if only.is_none_or(|only| only == name.as_bytes()) && !run(name, test) {
            failed += 1;
        }
    }
    let free_after = countfree();
    if free_before > 0 && free_before == free_after {
        println!("PASS no_leaks");
    } else {
        println!("FAIL no_leaks: {free_before} free pages before the tests, {free_after} after");
        failed += 1;
    }

    if failed == 0 {
        println!("ALL TESTS PASSED");
        0
    } else {
        println!("SOME TESTS FAILED");
        1
    }
}

/// Runs `test` in a child process and reports how it went. Returns whether
/// it passed.
fn run(name: &str, test: fn() -> TestResult) -> bool {
    let pid = fork();
    if pid < 0 {
        println!("FAIL {name}: fork failed");
        return false;
    }
    if pid == 0 {
        match test() {
            Ok(()) => exit(0),
            Err(why) => {
                println!("FAIL {name}: {why}");
                exit(REPORTED);
            }
        }
    }
    let mut status = 0;
    let reaped = wait(Some(&mut status));
    if reaped != pid {
        println!("FAIL {name}: wait returned {reaped}, not the test's pid {pid}");
        return false;
    }
    match status {
        0 => {
            println!("PASS {name}");
            true
        }
        REPORTED => false,
        -1 => {
            println!("FAIL {name}: the test's process was killed");
            false
        }
        status => {
            println!("FAIL {name}: the test's process exited with status {status}");
            false
        }
    }
}

// ---------------------------------------------------------------------------
// Helpers.

/// Returns `Err(format!(...))` from the enclosing test unless `cond` holds.
macro_rules! ensure {
    ($cond:expr, $($why:tt)+) => {
        if !$cond {
            return Err(format!($($why)+));
        }
    };
}

/// A path built with `format!`, as a C string.
macro_rules! path {
    ($($arg:tt)+) => {
        CString::new(format!($($arg)+)).expect("formatted paths hold no NUL")
    };
}

/// Grows the heap ahead of the tests, so that what the runner allocates
/// comes from memory the heap already had when the first [`countfree`]
/// ran; otherwise the heap's growth would look like a leak. The allocator
/// grows the heap by 64 KiB at a time, far more than the runner needs.
fn reserve_heap() {
    drop(black_box(Vec::<u8>::with_capacity(PGSIZE)));
}

/// Grows the heap until `sbrk` fails, in chunks that halve from 1 MiB down
/// to a page, writing to each page as it goes. Returns how many pages it
/// got: all the free memory there was.
fn grab_all_memory() -> usize {
    let mut pages = 0;
    let mut chunk = 1 << 20;
    loop {
        // SAFETY: growing the heap maps fresh memory nothing uses.
        let start = unsafe { sbrk(chunk as isize) };
        if start == -1 {
            if chunk == PGSIZE {
                return pages;
            }
            chunk /= 2;
            continue;
        }
        for offset in (0..chunk).step_by(PGSIZE) {
            let byte: *mut u8 = ptr::with_exposed_provenance_mut(start as usize + offset);
            // SAFETY: sbrk just gave us [start, start + chunk), which nothing
            // else uses.
            unsafe { byte.write_volatile(1) };
        }
        pages += chunk / PGSIZE;
    }
}

/// Counts the free pages of memory: a child takes them all and reports how
/// many in its exit status. Returns -1 if that fails.
fn countfree() -> i32 {
    match fork() {
        0 => exit(grab_all_memory() as i32),
        pid if pid < 0 => -1,
        pid => wait_for(pid).unwrap_or(-1),
    }
}

/// Forks a child that runs `child` and exits with 0 if it returns `Ok`, or
/// prints why and exits with 1. Returns the child's pid to the parent.
fn spawn(child: impl FnOnce() -> TestResult) -> Result<i32, String> {
    match fork() {
        0 => match child() {
            Ok(()) => exit(0),
            Err(why) => {
                // Standard error: the child may have redirected its output.
                eprintln!("  child {}: {why}", getpid());
                exit(1);
            }
        },
        pid if pid < 0 => Err(String::from("fork failed")),
        pid => Ok(pid),
    }
}

/// Waits for a child, which must be `pid`, and returns its exit status.
fn wait_for(pid: i32) -> Result<i32, String> {
    let mut status = 0;
    match wait(Some(&mut status)) {
        reaped if reaped == pid => Ok(status),
        reaped => Err(format!("wait returned {reaped}, expected child {pid}")),
    }
}

/// Waits for child `pid`, which must exit with status 0.
fn join(pid: i32) -> TestResult {
    match wait_for(pid)? {
        0 => Ok(()),
        status => Err(format!("child {pid} exited with status {status}")),
    }
}

/// Waits for `n` children, any order; each must exit with status 0.
fn join_any(n: usize) -> TestResult {
    for _ in 0..n {
        let mut status = 0;
        let pid = wait(Some(&mut status));
        ensure!(pid >= 0, "wait returned -1 with children left");
        ensure!(status == 0, "child {pid} exited with status {status}");
    }
    Ok(())
}

/// Creates (or truncates) `path` for reading and writing.
fn create(path: &CStr) -> Result<i32, String> {
    let fd = open(path, O_CREATE | O_RDWR | O_TRUNC);
    ensure!(fd >= 0, "cannot create {}", Text(path.to_bytes()));
    Ok(fd)
}

/// Writes all of `data` to `fd` in one call.
fn write_all(fd: i32, data: &[u8]) -> TestResult {
    let n = write(fd, data);
    ensure!(
        n == data.len() as isize,
        "write of {} bytes returned {n}",
        data.len()
    );
    Ok(())
}

/// Creates `path` holding `data`.
fn make_file(path: &CStr, data: &[u8]) -> TestResult {
    let fd = create(path)?;
    let written = write_all(fd, data);
    close(fd);
    written
}

/// Reads what is left of `fd`, to the end.
fn read_to_end(fd: i32) -> Result<Vec<u8>, String> {
    let mut data = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        match read(fd, &mut buf) {
            0 => return Ok(data),
            n if n < 0 => return Err(String::from("read failed")),
            n => data.extend_from_slice(&buf[..n as usize]),
        }
    }
}

/// The contents of the file at `path`.
fn read_file(path: &CStr) -> Result<Vec<u8>, String> {
    let fd = open(path, O_RDONLY);
    ensure!(fd >= 0, "cannot open {}", Text(path.to_bytes()));
    let data = read_to_end(fd);
    close(fd);
    data
}

/// Does `path` name something that can be opened?
fn exists(path: &CStr) -> bool {
    let fd = open(path, O_RDONLY);
    if fd >= 0 {
        close(fd);
    }
    fd >= 0
}

/// What `fstat` says about `path`.
fn stat(path: &CStr) -> Result<Stat, String> {
    let fd = open(path, O_RDONLY);
    ensure!(fd >= 0, "cannot open {}", Text(path.to_bytes()));
    let mut st = Stat::default();
    let result = fstat(fd, &mut st);
    close(fd);
    ensure!(result == 0, "fstat of {} failed", Text(path.to_bytes()));
    Ok(st)
}

/// The names in the directory at `path` (free slots skipped).
fn dir_names(path: &CStr) -> Result<Vec<Vec<u8>>, String> {
    let fd = open(path, O_RDONLY);
    ensure!(fd >= 0, "cannot open directory {}", Text(path.to_bytes()));
    let mut names = Vec::new();
    let mut record = [0u8; DirEntry::SIZE];
    while read(fd, &mut record) == DirEntry::SIZE as isize {
        let entry = DirEntry::decode(&record);
        if entry.inum != 0 {
            names.push(entry.name().to_vec());
        }
    }
    close(fd);
    Ok(names)
}

/// Moves the break up to the next page boundary, so that the next `sbrk`
/// returns the start of a fresh page. Returns the break.
fn align_break() -> usize {
    // SAFETY: sbrk(0) only reports the break.
    let brk = unsafe { sbrk(0) } as usize;
    let gap = brk.next_multiple_of(PGSIZE) - brk;
    // SAFETY: growing the heap maps fresh memory nothing uses.
    unsafe { sbrk(gap as isize) };
    brk + gap
}

/// Grows the heap by a page and returns it, zero-filled and ours alone.
fn fresh_page() -> Result<&'static mut [u8], String> {
    align_break();
    // SAFETY: growing the heap maps fresh memory nothing uses.
    let start = unsafe { sbrk(PGSIZE as isize) };
    ensure!(start != -1, "sbrk({PGSIZE}) failed");
    let start: *mut u8 = ptr::with_exposed_provenance_mut(start as usize);
    // SAFETY: sbrk just mapped this page; the allocator never saw it and the
    // tests never shrink the heap below it, so this is its only reference.
    Ok(unsafe { core::slice::from_raw_parts_mut(start, PGSIZE) })
}
