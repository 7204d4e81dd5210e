//! The harness that every user test program shares: `proctest`,
//! `isolationtest`, `cowtest`, `shmtest`, `synctest`, `syscallfuzz` and
//! `usertests`.
//!
//! # Checks and the runner
//!
//! A test program is a table of checks: each [`Check`] is a name and a
//! function that returns its verdict, a [`CheckResult`]: `Ok(())`, or
//! `Err(why)` saying in words what went wrong. A check states what it
//! expects with [`ensure!`] (a condition, and optionally the words to fail
//! with; without them the failure quotes the condition and its line) and
//! [`ensure_eq!`] (two values, both printed when they differ), which return
//! the `Err` from the check.
//!
//! The runner prints `PASS name` or `FAIL name: why` for each check, in
//! order, then the program's summary line, `PROGRAM: N passed, M failed`,
//! and returns the exit status: 0 only if every check passed. It runs the
//! checks one of two ways:
//!
//! - [`run_checks`] calls each check in the test program's own process.
//!   A check that fails half-way may leave children behind; the runner reaps
//!   them ([`reap_all`]) before the next check, so they are not taken for
//!   its own.
//! - [`run_checks_in_children`] runs each check in a child process of its
//!   own (`usertests`, after xv6's): a check that crashes, or that the
//!   kernel kills, fails alone, and whatever a check changes in its process
//!   — the current directory, open files, the heap — ends with it.
//!
//! # Children
//!
//! Checks make children of two kinds:
//!
//! - [`spawn`] runs a closure whose result is the child's *exit status*, for
//!   checks about statuses themselves and about processes that must die.
//!   [`wait_for`] and [`expect_status`] wait for one such child,
//!   [`wait_all`] for several in any order.
//! - [`spawn_check`] runs a closure that returns a [`CheckResult`], like a
//!   check of its own, and hands back a [`Child`]; [`Child::join`] (or
//!   [`join_all`] for several) turns how it ended into the parent's
//!   verdict, and [`in_child`] does both at once. A child that fails sends
//!   its `why` back to the parent, so the parent's `FAIL` line says what
//!   went wrong inside the child. [`expect_killed`] runs a deed that the
//!   kernel must kill the child for (the kernel ends a process it kills, by
//!   `kill` or for a fault, with status -1); a child that survives fails
//!   the check, with its own message if a step before the deed failed.
//!
//! The protocol of a checking child: before the fork the parent makes a
//! [`Pipe`], the child's report pipe. The child runs its closure; on `Ok`
//! it exits with 0; on `Err(why)` it sends the verdict into the pipe
//! ([`send_verdict`], one write) and exits with [`REPORTED`]. The parent
//! waits for the child first and reads the pipe only if the status is
//! `REPORTED`, when the message is already there: so the parent never
//! blocks on a pipe that the child's own children still hold open, and a
//! child killed half-way is reported as killed. The message is cut to
//! [`MESSAGE_MAX`] bytes, less than a pipe holds, so that the child's write
//! never waits for the parent. (A program that a check starts with `exec`
//! can send its verdict the same way, on a pipe end it is told.) A checking
//! child holds one more descriptor (its end of the pipe) than its parent,
//! and later siblings inherit the parent's end of it: checks that count
//! descriptors count from what a process has.
//!
//! # Shared pieces
//!
//! [`BAD_POINTERS`] are the pointers every system call must refuse;
//! [`probe_read`] and [`probe_write`] touch memory the compiler cannot
//! reason about, for checks where the kernel must kill the process;
//! [`fill_shm_table`] shows that every slot of the kernel's shared-memory
//! table is free; [`make_file`], [`read_file`] and [`dir_names`] make and
//! read back files in one call; [`current_break`] and [`grow_heap`] are
//! the two uses of `sbrk` that are always sound; [`file_system_works`]
//! shows a file system still takes new files and directories.
//!
//! # Leaks
//!
//! Around the checks, the runner counts the free pages of memory
//! ([`countfree`]) before and after; the last verdict, `no_leaks`
//! ([`no_leaks`]), fails if any went missing — a zombie nobody reaped,
//! memory an exited process did not give back, an inode or pipe whose page
//! was never freed. The count is taken by a child that grabs every free
//! page and gives them all back by exiting. The test program's own heap
//! must not grow between the two counts, or its growth would look like a
//! leak: [`reserve_heap`] grows it beforehand.

use alloc::ffi::CString;
use alloc::string::String;
use alloc::vec::Vec;
use core::arch::asm;
use core::ffi::CStr;
use core::hint::black_box;
use core::ptr;

use abi::fcntl::{O_CREATE, O_RDONLY, O_RDWR, O_TRUNC, PIPESIZE};
use abi::fs::DirEntry;
use abi::memlayout::DIRECT_MAP;
use abi::shm::{NSHM, NSHMPROC};
use abi::stat::Stat;

use crate::shm::Shm;
use crate::string::Text;
use crate::{
    PGSIZE, close, exit, fork, fstat, mkdir, open, pipe, println, read, sbrk, unlink, wait, write,
};

/// `format!`, for the macros below: they expand in the test programs,
/// which may not have imported it.
#[doc(hidden)]
pub use alloc::format;

/// A check's verdict: `Err` says what went wrong.
pub type CheckResult = Result<(), String>;

/// A named check.
pub type Check = (&'static str, fn() -> CheckResult);

/// Returns `Err` from the enclosing function unless the condition holds.
/// `ensure!(cond)` fails with the condition's text and its place in the
/// source; `ensure!(cond, "format", args...)` fails with the formatted
/// words instead.
#[macro_export]
macro_rules! ensure {
    ($condition:expr $(,)?) => {
        if !$condition {
            return ::core::result::Result::Err($crate::testing::format!(
                "{} is false ({}:{})",
                ::core::stringify!($condition),
                ::core::file!(),
                ::core::line!()
            ));
        }
    };
    ($condition:expr, $($why:tt)+) => {
        if !$condition {
            return ::core::result::Result::Err($crate::testing::format!($($why)+));
        }
    };
}

/// Returns `Err` from the enclosing function unless the two values are
/// equal; the failure shows the first expression and both values.
/// `ensure_eq!(got, want, "format", args...)` puts the formatted words in
/// front of the values instead of the expression.
#[macro_export]
macro_rules! ensure_eq {
    ($got:expr, $want:expr $(,)?) => {
        match (&$got, &$want) {
            (got, want) => {
                if *got != *want {
                    return ::core::result::Result::Err($crate::testing::format!(
                        "{} is {:?}, expected {:?} ({}:{})",
                        ::core::stringify!($got),
                        got,
                        want,
                        ::core::file!(),
                        ::core::line!()
                    ));
                }
            }
        }
    };
    ($got:expr, $want:expr, $($what:tt)+) => {
        match (&$got, &$want) {
            (got, want) => {
                if *got != *want {
                    return ::core::result::Result::Err($crate::testing::format!(
                        "{}: got {:?}, expected {:?}",
                        $crate::testing::format!($($what)+),
                        got,
                        want
                    ));
                }
            }
        }
    };
}

// ---------------------------------------------------------------------------
// The runner.

/// Runs every check in `checks` in this process, in order, between two
/// counts of free memory, then the `no_leaks` check on the two counts.
/// Prints each verdict and then `PROGRAM: N passed, M failed`; returns the
/// exit status for it, 0 only if every check passed.
pub fn run_checks(program: &str, checks: &[Check]) -> i32 {
    run(program, checks, |check| {
        let result = check();
        // A failed check may leave children behind; they must not be
        // mistaken for the next check's.
        reap_all();
        result
    })
}

/// Like [`run_checks`], but runs each check in a child process of its own,
/// whose exit the verdict waits for.
pub fn run_checks_in_children(program: &str, checks: &[Check]) -> i32 {
    run(program, checks, |check| {
        let child = spawn_check(check)?;
        let status = wait_for(child.pid)?;
        child.verdict(status).map_err(|ending| match ending {
            Ending::Reported(why) => why,
            Ending::Killed => String::from("its process was killed or panicked"),
            Ending::Exited(status) => format!("its process exited with status {status}"),
        })
    })
}

/// The runner of both: `run_one` runs a check and returns its verdict.
fn run(
    program: &str,
    checks: &[Check],
    run_one: impl Fn(fn() -> CheckResult) -> CheckResult,
) -> i32 {
    reserve_heap();
    let free_before = countfree();

    let mut passed = 0;
    let mut failed = 0;
    let mut report = |name: &str, result: CheckResult| match result {
        Ok(()) => {
            println!("PASS {name}");
            passed += 1;
        }
        Err(why) => {
            println!("FAIL {name}: {why}");
            failed += 1;
        }
    };
    for &(name, check) in checks {
        report(name, run_one(check));
    }

    let free_after = countfree();
    report("no_leaks", no_leaks(free_before, free_after));

    println!("{program}: {passed} passed, {failed} failed");
    if failed == 0 { 0 } else { 1 }
}

// ---------------------------------------------------------------------------
// Children whose exit status is the answer.

/// Forks a child that runs `child` and exits with its result. Returns the
/// child's pid to the parent.
pub fn spawn(child: impl FnOnce() -> i32) -> Result<i32, String> {
    match fork() {
        0 => exit(child()),
        pid if pid < 0 => Err(String::from("fork failed")),
        pid => Ok(pid),
    }
}

/// Waits for a child, which must be `pid`, and returns its exit status.
pub fn wait_for(pid: i32) -> Result<i32, String> {
    let mut status = 0;
    match wait(Some(&mut status)) {
        reaped if reaped == pid => Ok(status),
        reaped => Err(format!("wait returned {reaped}, expected child {pid}")),
    }
}

/// Waits for child `pid`, which must exit with status `want`.
pub fn expect_status(pid: i32, want: i32) -> CheckResult {
    match wait_for(pid)? {
        status if status == want => Ok(()),
        status => Err(format!(
            "child {pid} exited with status {status}, expected {want}"
        )),
    }
}

/// Waits for every child in `pids`, in whatever order they exit, and
/// returns their exit statuses in the order of `pids`. Fails if `wait`
/// reaps any other process, or one twice.
pub fn wait_all(pids: &[i32]) -> Result<Vec<i32>, String> {
    let mut statuses = alloc::vec![None; pids.len()];
    for _ in pids {
        let mut status = 0;
        let reaped = wait(Some(&mut status));
        match pids.iter().position(|&pid| pid == reaped) {
            Some(i) if statuses[i].is_none() => statuses[i] = Some(status),
            _ => return Err(format!("wait returned {reaped}, not a child it waited for")),
        }
    }
    Ok(statuses.into_iter().flatten().collect())
}

/// Reaps every child, so that a failed check leaves no zombies.
pub fn reap_all() {
    while wait(None) >= 0 {}
}

// ---------------------------------------------------------------------------
// Children that check something and report why they failed.

/// The exit status with which a checking child says that it failed and
/// wrote why into its report pipe: a number no program of ours exits with
/// by itself, so that a child which `exec`s another program is not taken
/// for a reporting one.
pub const REPORTED: i32 = 0x7E57_FA11;

/// The most bytes of a failure message that travel through a pipe. With
/// its tag byte it fits in a pipe's buffer (`PIPESIZE`), so that writing
/// it never waits for a reader and a read gets it whole.
pub const MESSAGE_MAX: usize = 480;
const _: () = assert!(MESSAGE_MAX < PIPESIZE);

/// A child running a check of its own, made by [`spawn_check`].
#[must_use = "a child's verdict is only known once it is joined"]
pub struct Child {
    pid: i32,
    /// The read end of the report pipe (the write end is the child's).
    report: Pipe,
}

/// How a checking child ended, other than passing.
enum Ending {
    /// It failed and sent this message.
    Reported(String),
    /// The kernel killed it, or it panicked.
    Killed,
    /// It exited with this status, which no verdict has.
    Exited(i32),
}

impl Child {
    /// The child's process id.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Waits for the child (which must be the next child to exit) and
    /// returns its verdict.
    pub fn join(self) -> CheckResult {
        let status = wait_for(self.pid)?;
        self.verdict_for_parent(status)
    }

    /// The verdict of a child that ended with `status`, as its parent
    /// reports it.
    fn verdict_for_parent(&self, status: i32) -> CheckResult {
        self.verdict(status).map_err(|ending| match ending {
            Ending::Reported(why) => format!("in a child: {why}"),
            Ending::Killed => format!("child {} was killed", self.pid),
            Ending::Exited(status) => format!("child {} exited with status {status}", self.pid),
        })
    }

    /// How a child that ended with `status` ended.
    fn verdict(&self, status: i32) -> Result<(), Ending> {
        match status {
            0 => Ok(()),
            -1 => Err(Ending::Killed),
            REPORTED => Err(Ending::Reported(
                match receive_verdict(self.report.read_end()) {
                    Some(Err(why)) => why,
                    _ => String::from("(it sent no message)"),
                },
            )),
            status => Err(Ending::Exited(status)),
        }
    }
}

/// Forks a child that runs `check`: it exits with 0 if that returns
/// `Ok(())`, or sends the failure message to the parent and exits with
/// [`REPORTED`]. Returns the [`Child`] to the parent.
pub fn spawn_check(check: impl FnOnce() -> CheckResult) -> Result<Child, String> {
    let mut report = Pipe::new()?;
    match fork() {
        0 => {
            report.close_read();
            let status = match check() {
                Ok(()) => 0,
                verdict => {
                    send_verdict(report.write_end(), &verdict);
                    REPORTED
                }
            };
            exit(status)
        }
        pid if pid < 0 => Err(String::from("fork failed")),
        pid => {
            report.close_write();
            Ok(Child { pid, report })
        }
    }
}

/// Runs `deed` in a checking child, which must be killed doing it (status
/// -1). Should the deed return instead, the child survived and the check
/// fails, with the deed's own failure if it had one (a step before the
/// fatal one that went wrong). `what` names the deed in the verdict.
pub fn expect_killed(what: &str, deed: impl FnOnce() -> CheckResult) -> CheckResult {
    let child = spawn_check(deed)?;
    let status = wait_for(child.pid)?;
    match child.verdict(status) {
        Err(Ending::Killed) => Ok(()),
        Ok(()) => Err(format!("{what}: the child survived")),
        Err(Ending::Reported(why)) => Err(format!("{what}: the child survived: {why}")),
        Err(Ending::Exited(status)) => Err(format!(
            "{what}: the child exited with status {status} instead of being killed"
        )),
    }
}

/// Runs `check` in a child and returns its verdict.
pub fn in_child(check: impl FnOnce() -> CheckResult) -> CheckResult {
    spawn_check(check)?.join()
}

/// Waits for every child in `children`, in whatever order they exit; fails
/// with every failed child's message if any failed.
pub fn join_all(children: Vec<Child>) -> CheckResult {
    let pids: Vec<i32> = children.iter().map(Child::pid).collect();
    let statuses = wait_all(&pids)?;
    let failures: Vec<String> = children
        .iter()
        .zip(statuses)
        .filter_map(|(child, status)| child.verdict_for_parent(status).err())
        .collect();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("; "))
    }
}

/// Sends `verdict` on the pipe end `fd`, in one write, so that
/// [`receive_verdict`] gets it whole: a `+` for `Ok`, or a `-` and the
/// failure message, cut to [`MESSAGE_MAX`] bytes.
pub fn send_verdict(fd: i32, verdict: &CheckResult) {
    let mut message = [0u8; 1 + MESSAGE_MAX];
    let len = match verdict {
        Ok(()) => {
            message[0] = b'+';
            1
        }
        Err(why) => {
            let mut end = why.len().min(MESSAGE_MAX);
            while !why.is_char_boundary(end) {
                end -= 1;
            }
            message[0] = b'-';
            message[1..=end].copy_from_slice(&why.as_bytes()[..end]);
            1 + end
        }
    };
    write(fd, &message[..len]);
}

/// Receives what one [`send_verdict`] sent on the other end of the pipe
/// end `fd`; `None` if every write end closed without sending.
pub fn receive_verdict(fd: i32) -> Option<CheckResult> {
    let mut message = [0u8; 1 + MESSAGE_MAX];
    match read(fd, &mut message) {
        n if n > 0 && message[0] == b'+' => Some(Ok(())),
        n if n > 0 => Some(Err(
            String::from_utf8_lossy(&message[1..n as usize]).into_owned()
        )),
        _ => None,
    }
}

/// A pipe whose ends close when it is dropped, for processes that wait for
/// each other: a read blocks until the other side writes or closes its
/// end. An end closed early reads as -1.
pub struct Pipe {
    read: i32,
    write: i32,
}

impl Pipe {
    /// Makes a pipe.
    pub fn new() -> Result<Pipe, String> {
        let mut fds = [0; 2];
        if pipe(&mut fds) != 0 {
            return Err(String::from("pipe failed"));
        }
        Ok(Pipe {
            read: fds[0],
            write: fds[1],
        })
    }

    /// The descriptor of the read end (-1 once closed), to hand to a
    /// program this process `exec`s.
    pub fn read_end(&self) -> i32 {
        self.read
    }

    /// The descriptor of the write end (-1 once closed).
    pub fn write_end(&self) -> i32 {
        self.write
    }

    /// Sends one byte.
    pub fn send(&self, byte: u8) {
        write(self.write, &[byte]);
    }

    /// Receives one byte; `None` once every write end is closed.
    pub fn receive(&self) -> Option<u8> {
        let mut byte = [0];
        (read(self.read, &mut byte) == 1).then_some(byte[0])
    }

    /// Sends a whole usize.
    pub fn send_usize(&self, value: usize) {
        write(self.write, &value.to_le_bytes());
    }

    /// Receives a whole usize (a pipe delivers 8 bytes written at once
    /// together).
    pub fn receive_usize(&self) -> Option<usize> {
        let mut bytes = [0; 8];
        (read(self.read, &mut bytes) == 8).then(|| usize::from_le_bytes(bytes))
    }

    /// Closes the read end now (a writer that is left alone gets -1).
    pub fn close_read(&mut self) {
        close(self.read);
        self.read = -1;
    }

    /// Closes the write end now: once every copy of it is closed, the
    /// reader gets end-of-file.
    pub fn close_write(&mut self) {
        close(self.write);
        self.write = -1;
    }
}

impl Drop for Pipe {
    fn drop(&mut self) {
        if self.read >= 0 {
            close(self.read);
        }
        if self.write >= 0 {
            close(self.write);
        }
    }
}

// ---------------------------------------------------------------------------
// Bad pointers and memory the compiler must not reason about.

/// Pointers that every system call taking a pointer must refuse: null, the
/// start of the kernel's half of the address space, and a user address
/// that nothing is mapped at (far above any heap the tests grow, below the
/// shared-memory window).
pub const BAD_POINTERS: [(&str, usize); 3] = [
    ("null", 0),
    ("kernel", DIRECT_MAP),
    ("unmapped", 0x3000_0000),
];

/// Reads the byte at `addr`. The load is inline assembly, so the compiler
/// assumes nothing about `addr`: not that it is non-null, nor mapped, nor
/// that the byte is the one it read last time (another process may share
/// the page). The checks use it where the kernel must kill the process, and
/// to read shared memory.
pub fn probe_read(addr: usize) -> u8 {
    let value: u8;
    // SAFETY: a load cannot break any invariant of this program's memory;
    // if `addr` is not readable the kernel ends the process here, which is
    // what the caller is testing.
    unsafe {
        asm!("mov {value}, byte ptr [{addr}]",
            addr = in(reg) addr, value = out(reg_byte) value,
            options(nostack, readonly, preserves_flags));
    }
    value
}

/// Writes `value` to `addr`, hidden from the compiler like [`probe_read`]:
/// the store happens, exactly once, even where the compiler could prove
/// that nothing reads it, or that `addr` is not mapped.
///
/// # Safety
/// If `addr` turns out to be writable, the write may overwrite anything, so
/// nothing that Rust code relies on may live at `addr` — because nothing of
/// the program is mapped there, or because the caller is a child that exits
/// right after.
pub unsafe fn probe_write(addr: usize, value: u8) {
    // SAFETY: the caller accepts that the byte at `addr` may change.
    unsafe {
        asm!("mov byte ptr [{addr}], {value}",
            addr = in(reg) addr, value = in(reg_byte) value,
            options(nostack, preserves_flags));
    }
}

// ---------------------------------------------------------------------------
// Files.

/// Writes all of `data` to `fd` in one call.
pub fn write_all(fd: i32, data: &[u8]) -> CheckResult {
    let n = write(fd, data);
    ensure!(
        n == data.len() as isize,
        "write of {} bytes returned {n}",
        data.len()
    );
    Ok(())
}

/// Creates (or truncates) `path` for reading and writing; returns the
/// descriptor.
pub fn create(path: &CStr) -> Result<i32, String> {
    let fd = open(path, O_CREATE | O_RDWR | O_TRUNC);
    ensure!(fd >= 0, "cannot create {}", Text(path.to_bytes()));
    Ok(fd)
}

/// Creates (or truncates) `path` holding `data`.
pub fn make_file(path: &CStr, data: &[u8]) -> CheckResult {
    let fd = create(path)?;
    let written = write_all(fd, data);
    close(fd);
    written
}

/// Shows the file system takes new work: makes the file `NAME.file` of a
/// few blocks and the directory `NAME.dir` holding a small file, reads both
/// back and removes all three. `name` is a path without the suffixes.
pub fn file_system_works(name: &str) -> CheckResult {
    let path = |suffix: &str| CString::new(format!("{name}{suffix}")).expect("a path has no NUL");
    let (file, dir, inner) = (path(".file"), path(".dir"), path(".dir/f"));
    let data: Vec<u8> = (0..5000).map(|i| (i % 251) as u8).collect();
    make_file(&file, &data)?;
    ensure!(
        read_file(&file)? == data,
        "a new file read back differently"
    );
    ensure!(unlink(&file) == 0, "cannot remove a new file");
    ensure!(mkdir(&dir) == 0, "cannot make a directory");
    make_file(&inner, b"inside")?;
    ensure!(
        read_file(&inner)? == b"inside",
        "a file in a new directory read back differently"
    );
    ensure!(
        unlink(&inner) == 0 && unlink(&dir) == 0,
        "cannot remove a new directory"
    );
    Ok(())
}

/// The free inodes and data blocks of the file system, as a program can
/// count them: by taking them all. In the new directory `scratch` (a path
/// from the root), it makes empty files until the kernel refuses one, then
/// fills files until a write comes back short, and removes everything
/// again. The directory's own inode and block count too. Two counts that
/// agree, taken before and after some work, show that the work leaked
/// nothing.
pub fn count_free(scratch: &CStr) -> Result<(usize, usize), String> {
    use abi::fs::{BSIZE, MAXFILE, NDIRECT};
    ensure!(
        mkdir(scratch) == 0,
        "cannot make {}",
        Text(scratch.to_bytes())
    );
    let name = |i: usize| {
        CString::new(format!("{}/{i}", Text(scratch.to_bytes()))).expect("a path has no NUL")
    };
    let mut inodes = 1;
    loop {
        let fd = open(&name(inodes), O_CREATE | O_RDWR);
        if fd < 0 {
            break;
        }
        close(fd);
        inodes += 1;
    }
    // The last inode is not needed for the blocks: give it back, then fill
    // files (each up to the largest a file can be) with the blocks.
    ensure!(inodes > 1, "no free inode for a file to count the blocks");
    ensure!(
        unlink(&name(inodes - 1)) == 0,
        "cannot remove a counting file"
    );
    let mut blocks = 1; // the directory's block
    let chunk = [0u8; 16 * BSIZE];
    let mut file = 1;
    'fill: while file < inodes {
        let fd = open(&name(file), O_RDWR);
        ensure!(fd >= 0, "cannot reopen a counting file");
        let mut size = 0;
        while size < MAXFILE * BSIZE {
            let want = chunk.len().min(MAXFILE * BSIZE - size);
            let n = write(fd, &chunk[..want]);
            if n > 0 {
                size += n as usize;
            }
            if n != want as isize {
                close(fd);
                blocks += size.div_ceil(BSIZE) + usize::from(size > NDIRECT * BSIZE);
                break 'fill;
            }
        }
        close(fd);
        blocks += MAXFILE + 1;
        file += 1;
    }
    for i in 1..inodes - 1 {
        ensure!(unlink(&name(i)) == 0, "cannot remove a counting file");
    }
    ensure!(
        unlink(scratch) == 0,
        "cannot remove {}",
        Text(scratch.to_bytes())
    );
    Ok((inodes, blocks))
}

/// Reads what is left of `fd`, to the end.
pub fn read_to_end(fd: i32) -> Result<Vec<u8>, String> {
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
pub fn read_file(path: &CStr) -> Result<Vec<u8>, String> {
    let fd = open(path, O_RDONLY);
    ensure!(fd >= 0, "cannot open {}", Text(path.to_bytes()));
    let data = read_to_end(fd);
    close(fd);
    data
}

/// What `fstat` says about `path`.
pub fn stat(path: &CStr) -> Result<Stat, String> {
    let fd = open(path, O_RDONLY);
    ensure!(fd >= 0, "cannot open {}", Text(path.to_bytes()));
    let mut st = Stat::default();
    let result = fstat(fd, &mut st);
    close(fd);
    ensure!(result == 0, "fstat of {} failed", Text(path.to_bytes()));
    Ok(st)
}

/// The names in the directory at `path`, `.` and `..` included (free
/// slots skipped).
pub fn dir_names(path: &CStr) -> Result<Vec<CString>, String> {
    let fd = open(path, O_RDONLY);
    ensure!(fd >= 0, "cannot open directory {}", Text(path.to_bytes()));
    let mut names = Vec::new();
    let mut record = [0u8; DirEntry::SIZE];
    while read(fd, &mut record) == DirEntry::SIZE as isize {
        let entry = DirEntry::decode(&record);
        if entry.inum != 0 {
            // A name on disk stops at its first NUL, so it holds none.
            names.push(CString::new(entry.name()).expect("a directory entry's name has no NUL"));
        }
    }
    close(fd);
    Ok(names)
}

// ---------------------------------------------------------------------------
// Shared memory.

/// Shows that every slot of the kernel's shared-memory table is free:
/// `NSHM / NSHMPROC` children each open `NSHMPROC` new names (a process
/// has only that many descriptors), `PREFIX-HOLDER-I`, and hold them.
/// Together they must fill all `NSHM` slots; while they do, a new name
/// (`PREFIX-extra`) is refused and an existing name still opens. Then the
/// children exit, which closes their descriptors, and must all exit with 0.
/// A slot that a reference leaked keeps would leave one name unopened.
pub fn fill_shm_table(prefix: &str) -> CheckResult {
    const HOLDERS: usize = NSHM / NSHMPROC;
    let name = |holder: usize, i: usize| format!("{prefix}-{holder}-{i}");
    let mut ready = Pipe::new()?;
    let mut go = Pipe::new()?;
    let mut pids = Vec::new();
    for holder in 0..HOLDERS {
        pids.push(spawn(|| {
            ready.close_read();
            go.close_write();
            // Each child reports how many names it opened, then holds them
            // until `go` closes; its exit closes them.
            let opened = (0..NSHMPROC)
                .take_while(|&i| Shm::open(name(holder, i)).map(core::mem::forget).is_ok())
                .count();
            ready.send(opened as u8);
            // Should a holder die before it reports, the parent then sees
            // end-of-file instead of waiting for ever.
            ready.close_write();
            go.receive();
            0
        })?);
    }
    ready.close_write();
    let created: usize = (0..HOLDERS)
        .map(|_| ready.receive().map_or(0, usize::from))
        .sum();
    let verdict = if created != NSHM {
        Err(format!(
            "only {created} of {NSHM} objects could be created: slots in use or leaked"
        ))
    } else if Shm::open(format!("{prefix}-extra")).is_ok() {
        Err(format!(
            "with the table full, object {} could be opened",
            NSHM + 1
        ))
    } else if let Err(why) = Shm::open(name(0, 0)) {
        Err(format!(
            "with the table full, an existing name did not open: {why}"
        ))
    } else {
        Ok(())
    };
    go.close_write();
    let statuses = wait_all(&pids)?;
    verdict?;
    match statuses.iter().find(|&&status| status != 0) {
        None => Ok(()),
        Some(status) => Err(format!("a holder exited with status {status}")),
    }
}

// ---------------------------------------------------------------------------
// The heap, and counting free memory.

/// The heap's current end (the break), as `sbrk(0)` reports it.
pub fn current_break() -> isize {
    // SAFETY: sbrk(0) only reports the break.
    unsafe { sbrk(0) }
}

/// Grows the heap by `bytes` and returns the old break, or -1: `sbrk` with
/// a positive increment, which is always sound.
pub fn grow_heap(bytes: usize) -> isize {
    // SAFETY: growing the heap maps fresh memory that nothing refers to.
    unsafe { sbrk(bytes as isize) }
}

/// Grows the heap ahead of the checks, so that the allocations they make
/// come from memory the heap already had when the first [`countfree`] ran:
/// otherwise the heap's growth would look like a leak. The allocator grows
/// the heap by 64 KiB at a time, far more than the checks ever hold.
pub fn reserve_heap() {
    drop(black_box(Vec::<u8>::with_capacity(PGSIZE)));
}

/// Grows the heap until `sbrk` fails, in chunks that halve from 1 MiB down
/// to a page, writing to each page as it goes so that the kernel has really
/// given it. Returns how many pages it got: all the free memory there was.
/// Only a process that is about to exit, or that gives the memory back
/// itself, should call this.
pub fn grab_all_memory() -> usize {
    let mut pages = 0;
    let mut chunk = 1 << 20;
    loop {
        let start = grow_heap(chunk);
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

/// Counts the free pages of memory: a child takes them all
/// ([`grab_all_memory`]) and reports how many in its exit status. Returns
/// -1 if that fails.
pub fn countfree() -> i32 {
    spawn(|| grab_all_memory() as i32)
        .and_then(wait_for)
        .unwrap_or(-1)
}

/// The `no_leaks` check: no memory was lost between the two counts.
pub fn no_leaks(before: i32, after: i32) -> CheckResult {
    if before > 0 && before == after {
        Ok(())
    } else {
        Err(format!(
            "{before} free pages before the checks, {after} after"
        ))
    }
}
