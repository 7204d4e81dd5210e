//! usertests: tests the kernel's system calls from user space, after xv6's
//! `usertests`.
//!
//! `usertests` runs every test in [`TESTS`]; `usertests NAME` runs only the
//! test called NAME. Each test is a function returning `Ok(())` or why it
//! failed, and [`ulib::testing::run_checks_in_children`] runs each in a
//! child process of its own, so a test that crashes (or that the kernel
//! kills) fails alone, and prints `PASS name` or `FAIL name: why` for
//! each; a test's children send their failures back to it the same way
//! ([`spawn_check`]). Test processes start in the root directory, make
//! their files there (or in directories they make there), and remove every
//! file they make; the tests that use up the disk's blocks or inodes give
//! every one back, which `make test` checks with `mkfs --check`.
//!
//! Around the tests, the runner measures free memory; the last verdict,
//! `no_leaks`, fails if pages went missing — a zombie nobody reaped, an
//! inode or pipe whose memory was never given back, an exec or sbrk that
//! failed half-way and kept what it had allocated. After the summary line,
//! `usertests: N passed, M failed`, the run ends with `ALL TESTS PASSED`
//! (exit status 0) or `SOME TESTS FAILED` (status 1). Tests whose children
//! the kernel must kill for a fault (`kernmem`, `textwrite`, `sbrklast`)
//! leave the kernel's trap line for each on the console: that is the kill
//! being reported, not a failure.
//!
//! The tests fall into groups:
//!
//! - bad arguments: pointers that are null, in the kernel's half, unmapped,
//!   not canonical, into the program's read-only text, or running off the
//!   end of the heap, and paths that are too long (by one byte, too) or run
//!   into unmapped memory, handed to every call that takes a pointer; the
//!   edges of the heap under `sbrk`;
//! - memory protection: the kernel's memory cannot be read, the program's
//!   text and read-only data cannot be written, and its bss starts zeroed;
//! - files: small and big files (up to `MAXFILE` blocks), truncation (with
//!   other descriptors open, and racing a writer), writes bigger than the
//!   log, reading an unlinked file, links;
//! - the log and locks under concurrency: processes creating, linking and
//!   unlinking in one directory, writing through one shared descriptor, or
//!   writing separate files at once;
//! - directories: `.` and `..`, nesting, names of `DIRSIZ` bytes and
//!   longer ones (cut to `DIRSIZ`, as in xv6), what cannot be made or
//!   removed, a directory of 500 entries, and the order of `iput` calls
//!   around `chdir`, `exit` and `open`;
//! - pipes: data checked byte by byte, transfers several times bigger
//!   than the pipe's buffer (`PIPESIZE`, 64 KiB), and what each end sees
//!   when the other closes;
//! - processes: exec with arguments (as big as exec takes, and bigger),
//!   bad executables, exec when memory has run out, children exiting
//!   together, processes forking at once, spinning processes preempted;
//! - memory: system calls on fresh heap pages and on pages given back,
//!   allocating all memory, freeing it and allocating it again, and
//!   processes that use up all memory;
//! - limits: the per-process descriptor table (`NOFILE` = 16), and a disk
//!   that runs out of inodes or of blocks.
//!
//! # Where xv6's other tests live
//!
//! Some of xv6's tests check rules that another of our test programs
//! checks already; they live there, merged with the checks of the same
//! rules:
//!
//! | xv6's test | where |
//! | --- | --- |
//! | `exitwait` | `proctest`: `fork_wait_status` |
//! | `reparent` | `proctest`: `reparent_to_init` |
//! | `forkforkfork` | `proctest`: `fork_until_full` (its fork bomb) |
//! | `forktest` | `proctest`: `fork_until_full`; the `forktest` program, which `make test`'s shell session runs |
//! | `killstatus` | `proctest`: `kill_running` |
//! | `manyprocs` | `proctest`: `many_children` |
//! | `sbrkbasic`, `sbrkmuch` | `proctest`: `sbrk_grow_shrink` |
//! | `stacktest` | `proctest`: `stack_guard` |
//!
//! Loop counts are xv6's, except where they only add stress and time under
//! QEMU's emulation (`manywrites` runs 10 rounds, not 30); the whole run
//! takes well under a minute, and disk use stays within the 2000-block file
//! system.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::ffi::CString;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::alloc::Layout;
use core::ffi::CStr;
use core::hint::black_box;
use core::ptr;
use core::sync::atomic::{AtomicU8, Ordering};

use abi::fcntl::{NOFILE, O_CREATE, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, PIPESIZE};
use abi::fs::{BSIZE, DIRSIZ, DirEntry, FSSIZE, MAXFILE, MAXOPBLOCKS, NINODES};
use abi::memlayout::{DIRECT_MAP, KERNBASE, USER_BASE, USER_TOP};
use abi::stat::T_DIR;
use abi::syscall::{
    MAXARG, MAXPATH, SYS_CHDIR, SYS_EXEC, SYS_FSTAT, SYS_LINK, SYS_MKDIR, SYS_MKNOD, SYS_OPEN,
    SYS_PIPE, SYS_READ, SYS_UNLINK, SYS_WRITE,
};
use ulib::string::Text;
use ulib::testing::{
    BAD_POINTERS, Check as Test, CheckResult as TestResult, Pipe, count_free, countfree, create,
    current_break, dir_names, expect_killed, expect_status, grab_all_memory, grow_heap, in_child,
    join_all, make_file, probe_read, probe_write, read_file, read_to_end, receive_verdict,
    run_checks_in_children, send_verdict, spawn, spawn_check, stat, wait_all, wait_for, write_all,
};
use ulib::usys::{syscall1, syscall2, syscall3};
use ulib::{
    Args, PGSIZE, SHMBASE, chdir, close, dup, ensure, eprintln, exec, exec_args, exit, fork, kill,
    link, mkdir, mknod, open, pipe, println, read, sbrk, sleep, unlink, uptime, wait, write,
};

ulib::entry!(main);

/// Every test, in the order they run: quick checks of single calls first,
/// then concurrency, then the tests that use up memory, and the disk.
const TESTS: &[Test] = &[
    ("badptr", badptr),
    ("longpath", longpath),
    ("copyin", copyin),
    ("copyout", copyout),
    ("copyinstr1", copyinstr1),
    ("copyinstr2", copyinstr2),
    ("copyinstr3", copyinstr3),
    ("validatetest", validatetest),
    ("argptest", argptest),
    ("sbrkarg", sbrkarg),
    ("rwsbrk", rwsbrk),
    ("sbrklast", sbrklast),
    ("sbrk8000", sbrk8000),
    ("kernmem", kernmem),
    ("textwrite", textwrite),
    ("bsstest", bsstest),
    ("opentest", opentest),
    ("writetest", writetest),
    ("writebig", writebig),
    ("createtest", createtest),
    ("truncate1", truncate1),
    ("truncate2", truncate2),
    ("truncate3", truncate3),
    ("unlinkread", unlinkread),
    ("linktest", linktest),
    ("bigwrite", bigwrite),
    ("bigfile", bigfile),
    ("dirtest", dirtest),
    ("fourteen", fourteen),
    ("mkdirexisting", mkdirexisting),
    ("dotdot", dotdot),
    ("subdir", subdir),
    ("rmdot", rmdot),
    ("removeddir", removeddir),
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
    ("bigargtest", bigargtest),
    ("twochildren", twochildren),
    ("forkfork", forkfork),
    ("preempt", preempt),
    ("fdtable", fdtable),
    ("sharedfd", sharedfd),
    ("fourfiles", fourfiles),
    ("createdelete", createdelete),
    ("concreate", concreate),
    ("linkunlink", linkunlink),
    ("manywrites", manywrites),
    ("mem", mem),
    ("sbrkfail", sbrkfail),
    ("execout", execout),
    ("outofinodes", outofinodes),
    ("diskfull", diskfull),
];

fn main(args: Args) -> i32 {
    let only = args.get(1);
    if args.len() > 2 {
        eprintln!("usage: usertests [test]");
        return 2;
    }
    let tests: Vec<Test> = TESTS
        .iter()
        .copied()
        .filter(|&(name, _)| only.is_none_or(|only| only == name.as_bytes()))
        .collect();
    if tests.is_empty() {
        eprintln!(
            "usertests: no test named {}",
            Text(only.unwrap_or_default())
        );
        return 2;
    }
    if chdir(c"/") < 0 {
        eprintln!("usertests: cannot chdir to /");
        return 1;
    }

    println!("usertests starting");
    match run_checks_in_children("usertests", &tests) {
        0 => {
            println!("ALL TESTS PASSED");
            0
        }
        status => {
            println!("SOME TESTS FAILED");
            status
        }
    }
}

// ---------------------------------------------------------------------------
// Helpers.

/// A path built with `format!`, as a C string.
macro_rules! path {
    ($($arg:tt)+) => {
        CString::new(format!($($arg)+)).expect("formatted paths hold no NUL")
    };
}

/// Does `path` name something that can be opened?
fn exists(path: &CStr) -> bool {
    let fd = open(path, O_RDONLY);
    if fd >= 0 {
        close(fd);
    }
    fd >= 0
}

/// Moves the break up to the next page boundary, so that the next `sbrk`
/// returns the start of a fresh page. Returns the break.
fn align_break() -> usize {
    let brk = current_break() as usize;
    let gap = brk.next_multiple_of(PGSIZE) - brk;
    grow_heap(gap);
    brk + gap
}

/// Grows the heap by a page and returns it, zero-filled and ours alone.
fn fresh_page() -> Result<&'static mut [u8], String> {
    align_break();
    let start = grow_heap(PGSIZE);
    ensure!(start != -1, "sbrk({PGSIZE}) failed");
    let start: *mut u8 = ptr::with_exposed_provenance_mut(start as usize);
    // SAFETY: sbrk just mapped this page; the allocator never saw it and the
    // tests never shrink the heap below it, so this is its only reference.
    Ok(unsafe { core::slice::from_raw_parts_mut(start, PGSIZE) })
}

// ---------------------------------------------------------------------------
// Bad arguments.

/// Every file-system call that takes a pointer returns -1 for a bad one,
/// and does nothing: no file is made, no descriptor leaks, no offset moves.
/// (`proctest` gives bad pointers to `exec`, `wait` and console writes.)
fn badptr() -> TestResult {
    make_file(c"badptr.data", b"0123456789")?;
    ensure!(mkdir(c"badptr.d") == 0);
    ensure!(chdir(c"badptr.d") == 0);
    let fd = open(c"../badptr.data", O_RDWR);
    ensure!(fd >= 0, "open ../badptr.data failed");
    // The lowest free descriptor: a leaked one would take it.
    let free_fd = dup(fd);
    close(free_fd);

    let data = c"../badptr.data".as_ptr().addr();
    let target = c"badptr.link".as_ptr().addr();
    for (what, bad) in BAD_POINTERS {
        // SAFETY: each call's pointer arguments are either valid (our own
        // strings) or one the kernel must refuse to touch; none points at
        // memory Rust believes it owns, so even a kernel that wrongly went
        // ahead could not break this program's invariants.
        let results = unsafe {
            [
                ("read", syscall3(SYS_READ, fd as usize, bad, 10)),
                ("write", syscall3(SYS_WRITE, fd as usize, bad, 10)),
                (
                    "open",
                    syscall2(SYS_OPEN, bad, (O_CREATE | O_RDWR) as usize),
                ),
                ("pipe", syscall1(SYS_PIPE, bad)),
                ("fstat", syscall2(SYS_FSTAT, fd as usize, bad)),
                ("link old", syscall2(SYS_LINK, bad, target)),
                ("link new", syscall2(SYS_LINK, data, bad)),
                ("unlink", syscall1(SYS_UNLINK, bad)),
                ("mkdir", syscall1(SYS_MKDIR, bad)),
                ("chdir", syscall1(SYS_CHDIR, bad)),
                ("mknod", syscall3(SYS_MKNOD, bad, 1, 0)),
            ]
        };
        for (call, result) in results {
            ensure!(
                result == -1,
                "{call} with a {what} pointer returned {result}"
            );
        }
    }

    let names = dir_names(c".")?;
    ensure!(
        names.len() == 2,
        "badptr.d holds {} entries after the calls, not just . and ..",
        names.len()
    );
    ensure!(dup(fd) == free_fd, "a descriptor leaked");
    close(free_fd);
    let contents = read_to_end(fd)?;
    close(fd);
    ensure!(
        contents == b"0123456789",
        "the file reads \"{}\" after bad reads and writes",
        Text(&contents)
    );
    ensure!(chdir(c"..") == 0);
    ensure!(unlink(c"badptr.d") == 0);
    ensure!(unlink(c"badptr.data") == 0);
    Ok(())
}

/// Paths longer than the kernel's limit (MAXPATH, 128 bytes) are refused,
/// not truncated or overrun.
fn longpath() -> TestResult {
    let long = CString::new(vec![b'x'; 200]).expect("no NUL");
    ensure!(
        open(&long, O_CREATE | O_RDWR) == -1,
        "open(O_CREATE) succeeded"
    );
    ensure!(mkdir(&long) == -1, "mkdir succeeded");
    ensure!(unlink(&long) == -1, "unlink succeeded");
    ensure!(link(&long, &long) == -1, "link succeeded");
    ensure!(chdir(&long) == -1, "chdir succeeded");
    ensure!(exec_args(long.as_bytes(), &["xx"]) == -1, "exec succeeded");
    let names = dir_names(c".")?;
    ensure!(
        !names
            .iter()
            .any(|name| name.to_bytes().starts_with(b"xxxxxxxxxxxxxx")),
        "a file of x's was created"
    );
    Ok(())
}

/// link with a string pointer to each page of the low megabyte — code,
/// data, guard page, stack, nothing — fails (the source does not exist)
/// without the kernel tripping over the pointer.
fn validatetest() -> TestResult {
    for p in (0..=1100 * 1024).step_by(PGSIZE) {
        // SAFETY: link only reads through its pointers.
        let result = unsafe { syscall2(SYS_LINK, c"nosuchfile".as_ptr().addr(), p) };
        ensure!(result == -1, "link(nosuchfile, {p:#x}) returned {result}");
    }
    Ok(())
}

/// System calls read from and write into fresh heap pages: `write` from
/// one, `read` into one, `pipe` into one.
fn sbrkarg() -> TestResult {
    let source = fresh_page()?;
    for (i, byte) in source.iter_mut().enumerate() {
        *byte = (i % 251) as u8;
    }
    let fd = create(c"sbrkarg.f")?;
    ensure!(unlink(c"sbrkarg.f") == 0);
    write_all(fd, source)?;
    close(fd);

    let fd = create(c"sbrkarg.f")?;
    write_all(fd, source)?;
    close(fd);
    let fd = open(c"sbrkarg.f", O_RDONLY);
    ensure!(fd >= 0, "open sbrkarg.f failed");
    let target = fresh_page()?;
    let n = read(fd, target);
    close(fd);
    unlink(c"sbrkarg.f");
    ensure!(n == PGSIZE as isize, "read into a fresh page returned {n}");
    ensure!(target == source, "the page read back differs");

    let page = fresh_page()?;
    // SAFETY: the kernel writes two i32s (the pipe's descriptors) at the
    // start of the page, which this function borrows mutably.
    let result = unsafe { syscall1(SYS_PIPE, page.as_mut_ptr().addr()) };
    ensure!(result == 0, "pipe into a fresh page returned {result}");
    let (fds, _) = page.as_chunks::<4>();
    let ends = [i32::from_ne_bytes(fds[0]), i32::from_ne_bytes(fds[1])];
    ensure!(
        ends[0] >= 0 && ends[1] >= 0 && ends[0] != ends[1],
        "pipe stored descriptors {} and {}",
        ends[0],
        ends[1]
    );
    write_all(ends[1], b"x")?;
    let mut byte = [0u8];
    ensure!(read(ends[0], &mut byte) == 1, "reading the pipe failed");
    close(ends[0]);
    close(ends[1]);
    Ok(())
}

/// read and write refuse heap memory the program has given back.
fn rwsbrk() -> TestResult {
    make_file(c"rwsbrk", b"0123456789")?;
    let start = align_break();
    ensure!(grow_heap(2 * PGSIZE) != -1, "sbrk(8192) failed");
    // SAFETY: this gives back exactly what we just grew, which nothing
    // refers to.
    let shrunk = unsafe { sbrk(-2 * PGSIZE as isize) };
    ensure!(shrunk != -1, "sbrk(-8192) failed");
    let gone = start + PGSIZE;

    let fd = open(c"rwsbrk", O_RDWR);
    ensure!(fd >= 0, "open rwsbrk failed");
    // SAFETY: the kernel must refuse to read through `gone`, which is not
    // mapped; nothing of ours is there.
    let written = unsafe { syscall3(SYS_WRITE, fd as usize, gone, 1024) };
    // SAFETY: likewise for writing.
    let read = unsafe { syscall3(SYS_READ, fd as usize, gone, 10) };
    close(fd);
    unlink(c"rwsbrk");
    ensure!(written == -1, "write from freed memory returned {written}");
    ensure!(read == -1, "read into freed memory returned {read}");
    Ok(())
}

/// Addresses at which the process has no memory it may read or write,
/// beyond [`BAD_POINTERS`]: page 0, the start of each kernel region, the
/// last page of the user half (nothing is mapped there) and the first
/// address past it (not canonical), the highest address, and the
/// shared-memory window with nothing mapped in it.
const WILD_POINTERS: [(&str, usize); 7] = [
    ("null", 0),
    ("direct-map", DIRECT_MAP),
    ("kernel-image", KERNBASE),
    ("last user page", USER_TOP - PGSIZE),
    ("non-canonical", USER_TOP),
    ("all-ones", usize::MAX),
    ("shared-memory window", SHMBASE),
];

/// How many bytes the copy tests ask for: two pages, so that a range that
/// starts on a good page runs into the next one.
const COPY_LEN: usize = 2 * PGSIZE;

/// Writes whose source the process cannot read fail with -1 and write
/// nothing, to a file, a pipe or the console: from the wild addresses,
/// and from a range that starts at the heap's last byte and runs off its
/// end.
fn copyin() -> TestResult {
    let fd = create(c"copyin.f")?;
    let mut ends = [0; 2];
    ensure!(pipe(&mut ends) == 0);
    // Last, so that nothing grows the heap past it before the calls.
    let last_heap_byte = align_break() - 1;
    let sources = WILD_POINTERS
        .into_iter()
        .chain([("heap's last", last_heap_byte)]);
    for (what, source) in sources {
        // SAFETY: write only reads through its pointer, and must refuse to
        // here.
        let results = unsafe {
            [
                ("a file", syscall3(SYS_WRITE, fd as usize, source, COPY_LEN)),
                // No more than the pipe holds, so that a write wrongly let
                // through cannot block.
                (
                    "a pipe",
                    syscall3(SYS_WRITE, ends[1] as usize, source, PIPESIZE),
                ),
                ("the console", syscall3(SYS_WRITE, 1, source, COPY_LEN)),
            ]
        };
        for (target, result) in results {
            ensure!(
                result == -1,
                "write to {target} from the {what} address {source:#x} returned {result}"
            );
        }
    }
    close(fd);
    close(ends[1]);
    let mut byte = [0u8];
    let n = read(ends[0], &mut byte);
    close(ends[0]);
    ensure!(n == 0, "a failed write put bytes into the pipe");
    let size = stat(c"copyin.f")?.size;
    ensure!(unlink(c"copyin.f") == 0);
    ensure!(size == 0, "failed writes left {size} bytes in the file");
    Ok(())
}

/// A read-only static in the program's rodata, for the tests that must
/// not be able to change it.
static READ_ONLY: [u8; 16] = *b"read-only bytes!";

/// The 16 bytes at `addr`, read with [`probe_read`] so that the compiler
/// cannot assume what they are.
fn bytes_at(addr: usize) -> [u8; 16] {
    core::array::from_fn(|i| probe_read(addr + i))
}

/// Reads into memory the process cannot write fail with -1 and change
/// nothing, from a file or a pipe: into the wild addresses, into the
/// program's own text and read-only data, and into a range that runs off
/// the heap's end. The file's offset does not move, and a pipe keeps the
/// bytes that a failed read could not deliver.
fn copyout() -> TestResult {
    let text = (copyout as *const ()).addr();
    let rodata = READ_ONLY.as_ptr().addr();
    let (text_before, rodata_before) = (bytes_at(text), bytes_at(rodata));
    let readme = read_file(c"/README")?;
    ensure!(
        readme.len() >= COPY_LEN,
        "README is too short for this test"
    );
    let fd = open(c"/README", O_RDONLY);
    ensure!(fd >= 0, "open /README failed");
    let mut ends = [0; 2];
    ensure!(pipe(&mut ends) == 0);
    const IN_PIPE: &[u8] = b"kept in the pipe";
    write_all(ends[1], IN_PIPE)?;
    // Last, so that nothing grows the heap past it before the calls.
    let last_heap_byte = align_break() - 1;
    let targets = WILD_POINTERS.into_iter().chain([
        ("text", text),
        ("read-only data", rodata),
        ("heap's last", last_heap_byte),
    ]);
    for (what, target) in targets {
        // SAFETY: read writes through its pointer only where the process
        // may write, and must refuse to here; none of these addresses
        // holds anything Rust relies on.
        let results = unsafe {
            [
                ("a file", syscall3(SYS_READ, fd as usize, target, COPY_LEN)),
                (
                    "a pipe",
                    syscall3(SYS_READ, ends[0] as usize, target, COPY_LEN),
                ),
            ]
        };
        for (source, result) in results {
            ensure!(
                result == -1,
                "read from {source} into the {what} address {target:#x} returned {result}"
            );
        }
    }
    ensure!(
        bytes_at(text) == text_before,
        "a failed read changed the text"
    );
    ensure!(
        bytes_at(rodata) == rodata_before,
        "a failed read changed the read-only data"
    );
    let mut start = [0u8; 16];
    let n = read(fd, &mut start);
    close(fd);
    ensure!(
        n == 16 && start[..] == readme[..16],
        "after the failed reads, the file's offset had moved"
    );
    close(ends[1]);
    let left = read_to_end(ends[0])?;
    close(ends[0]);
    ensure!(
        left == IN_PIPE,
        "after the failed reads, the pipe held \"{}\"",
        Text(&left)
    );
    Ok(())
}

/// Every call that takes a path refuses one at a wild address, with -1.
fn copyinstr1() -> TestResult {
    let names_before = dir_names(c".")?.len();
    let existing = c"/echo".as_ptr().addr();
    let target = c"copyinstr1.link".as_ptr().addr();
    for (what, path) in WILD_POINTERS {
        // SAFETY: these calls only read through their path pointers, which
        // the kernel must refuse here.
        let results = unsafe {
            [
                (
                    "open",
                    syscall2(SYS_OPEN, path, (O_CREATE | O_RDWR) as usize),
                ),
                ("mkdir", syscall1(SYS_MKDIR, path)),
                ("mknod", syscall3(SYS_MKNOD, path, 1, 0)),
                ("unlink", syscall1(SYS_UNLINK, path)),
                ("chdir", syscall1(SYS_CHDIR, path)),
                ("link old", syscall2(SYS_LINK, path, target)),
                ("link new", syscall2(SYS_LINK, existing, path)),
            ]
        };
        for (call, result) in results {
            ensure!(
                result == -1,
                "{call} with the {what} path {path:#x} returned {result}"
            );
        }
        let argv = [c"x".as_ptr().cast::<u8>(), ptr::null()];
        expect_exec_refused(&format!("exec of the {what} path {path:#x}"), || {
            // SAFETY: exec only reads through its pointers; were it to
            // succeed, this child would be gone.
            unsafe { syscall2(SYS_EXEC, path, argv.as_ptr().addr()) as i32 }
        })?;
    }
    let names_after = dir_names(c".")?.len();
    ensure!(
        names_after == names_before,
        "the root went from {names_before} to {names_after} entries"
    );
    Ok(())
}

/// `/name` spelled with enough slashes in front to make it exactly `len`
/// bytes long, NUL not counted.
fn padded_path(name: &str, len: usize) -> CString {
    let mut path = vec![b'/'; len - name.len()];
    path.extend_from_slice(name.as_bytes());
    CString::new(path).expect("no NUL")
}

/// A path of MAXPATH bytes, whose NUL would fall just past the kernel's
/// buffer for it, is refused by every call; one byte shorter, the same
/// file is there to open. exec refuses an argument of MAXPATH bytes, and
/// three arguments of a page each.
fn copyinstr2() -> TestResult {
    let too_long = padded_path("copyinstr2", MAXPATH);
    let longest = padded_path("copyinstr2", MAXPATH - 1);
    let refusals: [(&str, bool); 7] = [
        ("unlink", unlink(&too_long) == 0),
        ("open", open(&too_long, O_CREATE | O_RDWR) >= 0),
        ("mkdir", mkdir(&too_long) == 0),
        ("chdir", chdir(&too_long) == 0),
        ("link to it", link(c"/echo", &too_long) == 0),
        ("link from it", link(&too_long, c"copyinstr2.link") == 0),
        ("mknod", mknod(&too_long, 1, 0) == 0),
    ];
    for (what, succeeded) in refusals {
        ensure!(!succeeded, "{what} with a {MAXPATH}-byte path succeeded");
    }
    ensure!(
        !exists(c"/copyinstr2") && !exists(c"copyinstr2.link"),
        "a {MAXPATH}-byte path made a file"
    );
    expect_exec_refused(&format!("exec of a {MAXPATH}-byte path"), || {
        exec_args(too_long.as_bytes(), &["x"])
    })?;

    let fd = open(&longest, O_CREATE | O_RDWR);
    ensure!(fd >= 0, "open with a {}-byte path failed", MAXPATH - 1);
    close(fd);
    ensure!(
        exists(c"/copyinstr2"),
        "the file made through the path is missing"
    );
    ensure!(
        unlink(&longest) == 0,
        "unlink with a {}-byte path failed",
        MAXPATH - 1
    );

    let argument = "x".repeat(MAXPATH);
    expect_exec_refused(&format!("exec with a {MAXPATH}-byte argument"), || {
        exec_args("/echo", &["echo", argument.as_str()])
    })?;
    let page = "x".repeat(PGSIZE);
    expect_exec_refused("exec with three arguments of a page each", || {
        exec_args("/echo", &[page.as_str(), page.as_str(), page.as_str()])
    })
}

/// A path that runs into unmapped memory before its NUL (its last byte is
/// the heap's last) is refused by every call, where one that ends just in
/// time works.
fn copyinstr3() -> TestResult {
    let page = fresh_page()?;
    page[PGSIZE - 1] = b'x';
    let path = page[PGSIZE - 1..].as_ptr().addr();
    ensure!(!exists(c"x"), "a file x is in the way");
    let existing = c"/echo".as_ptr().addr();
    let target = c"copyinstr3.link".as_ptr().addr();
    // SAFETY: these calls only read through their path pointers: the last
    // byte of `page`, then past it, where nothing is mapped.
    let results = unsafe {
        [
            (
                "open",
                syscall2(SYS_OPEN, path, (O_CREATE | O_RDWR) as usize),
            ),
            ("mkdir", syscall1(SYS_MKDIR, path)),
            ("unlink", syscall1(SYS_UNLINK, path)),
            ("chdir", syscall1(SYS_CHDIR, path)),
            ("link old", syscall2(SYS_LINK, path, target)),
            ("link new", syscall2(SYS_LINK, existing, path)),
        ]
    };
    for (call, result) in results {
        ensure!(
            result == -1,
            "{call} with a path running off the heap returned {result}"
        );
    }
    ensure!(
        !exists(c"x") && !exists(c"copyinstr3.link"),
        "a path running off the heap made a file"
    );
    let argv = [c"x".as_ptr().cast::<u8>(), ptr::null()];
    expect_exec_refused("exec of a path running off the heap", || {
        // SAFETY: as above; were exec to succeed, this child would be gone.
        unsafe { syscall2(SYS_EXEC, path, argv.as_ptr().addr()) as i32 }
    })?;

    // The same path with its NUL as the heap's last byte is fine.
    page[PGSIZE - 3..].copy_from_slice(b"x3\0");
    let path = page[PGSIZE - 3..].as_ptr().addr();
    // SAFETY: as above, but the string ends inside the page.
    let fd = unsafe { syscall2(SYS_OPEN, path, (O_CREATE | O_RDWR) as usize) };
    ensure!(fd >= 0, "open of a path ending at the heap's end failed");
    close(fd as i32);
    ensure!(unlink(c"x3") == 0);
    Ok(())
}

/// read and write with a length far beyond the process's memory, from a
/// buffer at the heap's last byte, fail with -1 instead of running off;
/// a length of 1 there works.
fn argptest() -> TestResult {
    let last_heap_byte = align_break() - 1;
    let fd = open(c"/README", O_RDONLY);
    ensure!(fd >= 0, "open /README failed");
    let out = create(c"argptest.f")?;
    let mut ends = [0; 2];
    ensure!(pipe(&mut ends) == 0);
    write_all(ends[1], b"xy")?;
    for len in [usize::MAX, isize::MAX as usize, 1 << 32, COPY_LEN] {
        // SAFETY: the kernel may write only the heap's last byte, which
        // nothing uses, and must refuse the rest.
        let results = unsafe {
            [
                (
                    "read a file",
                    syscall3(SYS_READ, fd as usize, last_heap_byte, len),
                ),
                (
                    "read a pipe",
                    syscall3(SYS_READ, ends[0] as usize, last_heap_byte, len),
                ),
                (
                    "write a file",
                    syscall3(SYS_WRITE, out as usize, last_heap_byte, len),
                ),
                (
                    "write a pipe",
                    syscall3(SYS_WRITE, ends[1] as usize, last_heap_byte, len),
                ),
                (
                    "write the console",
                    syscall3(SYS_WRITE, 1, last_heap_byte, len),
                ),
            ]
        };
        for (call, result) in results {
            ensure!(
                result == -1,
                "{call} of {len:#x} bytes at the heap's last byte returned {result}"
            );
        }
    }
    // SAFETY: as above; one byte fits.
    let n = unsafe { syscall3(SYS_READ, fd as usize, last_heap_byte, 1) };
    close(fd);
    close(out);
    close(ends[0]);
    close(ends[1]);
    ensure!(unlink(c"argptest.f") == 0);
    ensure!(
        n == 1,
        "a read of one byte into the heap's last byte returned {n}"
    );
    Ok(())
}

/// After the heap grows past a page boundary and shrinks back to just
/// below it, system calls still use the last page, which stays mapped,
/// and refuse the one above it, which is gone.
fn sbrklast() -> TestResult {
    let top = align_break();
    ensure!(grow_heap(PGSIZE) != -1, "sbrk({PGSIZE}) failed");
    ensure!(grow_heap(10) != -1, "sbrk(10) failed");
    // SAFETY: this gives back 20 of the bytes just grown, which nothing
    // refers to.
    ensure!(unsafe { sbrk(-20) } != -1, "sbrk(-20) failed");
    let brk = current_break() as usize;
    ensure!(
        brk == top + PGSIZE - 10,
        "the break is {brk:#x}, not {:#x}",
        top + PGSIZE - 10
    );
    let near_top: *mut u8 = ptr::with_exposed_provenance_mut(brk - 64);
    // SAFETY: [brk - 64, brk) is heap grown above, which nothing else
    // uses; the borrow ends before this function does.
    let near_top = unsafe { core::slice::from_raw_parts_mut(near_top, 64) };
    near_top[..9].copy_from_slice(b"sbrklast\0");
    let path = near_top.as_ptr().addr();
    // SAFETY: open only reads the path, which lies in our heap.
    let fd = unsafe { syscall2(SYS_OPEN, path, (O_CREATE | O_RDWR) as usize) } as i32;
    ensure!(fd >= 0, "open of a path on the last heap page failed");
    write_all(fd, &near_top[..1])?;
    close(fd);
    let fd = open(c"sbrklast", O_RDONLY);
    ensure!(fd >= 0, "open sbrklast failed");
    near_top[0] = 0;
    let n = read(fd, &mut near_top[..1]);
    close(fd);
    let byte = near_top[0];
    ensure!(unlink(c"sbrklast") == 0);
    ensure!(
        n == 1 && byte == b's',
        "reading back into the last heap page gave {n} bytes, {byte:#x}"
    );

    let gone = top + PGSIZE;
    let fd = open(c"/README", O_RDONLY);
    ensure!(fd >= 0, "open /README failed");
    // SAFETY: read must refuse to write to `gone`, which is not mapped.
    let n = unsafe { syscall3(SYS_READ, fd as usize, gone, 1) };
    close(fd);
    ensure!(
        n == -1,
        "read into the page the heap gave back returned {n}"
    );
    expect_killed("touching the page the heap gave back", || {
        probe_read(gone);
        Ok(())
    })
}

/// sbrk refuses any increment that would take the break past the heap's
/// ends or wrap it around the address space, whatever it looks like cut
/// to 32 bits (0x8000_0004, 2 GiB and a bit, is negative as an i32): the
/// break stays where it was, and the heap's top page keeps what it held.
fn sbrk8000() -> TestResult {
    let page = fresh_page()?;
    page[PGSIZE - 1] = 0x5a;
    let brk = current_break();
    let increments = [
        ("2 GiB + 4", 0x8000_0004),
        ("-2 GiB", i32::MIN as isize),
        ("isize::MAX", isize::MAX),
        ("isize::MIN", isize::MIN),
        ("the whole user half", USER_TOP as isize),
        ("down to address 0", -brk),
        ("down past address 0", -brk - 1),
    ];
    for (what, increment) in increments {
        // SAFETY: every increment here must be refused; a kernel that
        // wrongly shrank the heap would kill this child, which the runner
        // reports.
        let result = unsafe { sbrk(increment) };
        ensure!(result == -1, "sbrk({what}) returned {result:#x}");
        let now = current_break();
        ensure!(
            now == brk,
            "sbrk({what}) failed but moved the break to {now:#x}"
        );
    }
    ensure!(
        page[PGSIZE - 1] == 0x5a,
        "the heap's top byte changed to {:#x}",
        page[PGSIZE - 1]
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// Memory protection.

/// Reading the kernel's memory kills the process, wherever it reads: every
/// 50 000 bytes of the first 2 MB at KERNBASE (the kernel image is linked
/// 1 MiB above it), and a few places in the direct map of physical memory.
/// (`proctest`'s `kernel_memory` reads one address of each.)
fn kernmem() -> TestResult {
    let image = (KERNBASE..KERNBASE + 2_000_000).step_by(50_000);
    let direct_map = [0, 0x10_0000, 0x100_0000, 0x1000_0000].map(|offset| DIRECT_MAP + offset);
    for addr in image.chain(direct_map) {
        expect_killed(&format!("reading {addr:#x}"), || {
            probe_read(addr);
            Ok(())
        })?;
    }
    Ok(())
}

/// The program's text and read-only data can be read, by the program and
/// by system calls, but writing to either kills the process.
fn textwrite() -> TestResult {
    let targets = [
        ("the first byte of the text", USER_BASE),
        ("this function's code", (textwrite as *const ()).addr()),
        ("read-only data", READ_ONLY.as_ptr().addr()),
    ];
    for (what, addr) in targets {
        let byte = probe_read(addr);
        let fd = create(c"textwrite.f")?;
        // SAFETY: write only reads through the pointer: 16 readable bytes.
        let n = unsafe { syscall3(SYS_WRITE, fd as usize, addr, 16) };
        close(fd);
        let written = read_file(c"textwrite.f")?;
        ensure!(
            n == 16 && written.first() == Some(&byte),
            "write from {what} returned {n}"
        );
        expect_killed(&format!("writing to {what}"), || {
            // SAFETY: this child exits right after, and the write must
            // fault anyway.
            unsafe { probe_write(addr, byte ^ 0xff) };
            Ok(())
        })?;
    }
    ensure!(unlink(c"textwrite.f") == 0);
    Ok(())
}

/// A static without an initial value: it lives in the bss, which the
/// program file does not hold; exec must zero it. Atomics, so that it
/// is writable memory (not read-only data) and every read is real.
static UNINIT: [AtomicU8; 10000] = [const { AtomicU8::new(0) }; 10000];

/// The bss starts out zero, and can be written.
fn bsstest() -> TestResult {
    let nonzero = UNINIT
        .iter()
        .position(|byte| byte.load(Ordering::Relaxed) != 0);
    ensure!(
        nonzero.is_none(),
        "byte {} of the bss is not zero",
        nonzero.unwrap_or(0)
    );
    for (i, byte) in UNINIT.iter().enumerate() {
        byte.store(i as u8, Ordering::Relaxed);
    }
    let wrong = UNINIT
        .iter()
        .enumerate()
        .position(|(i, byte)| byte.load(Ordering::Relaxed) != i as u8);
    ensure!(wrong.is_none(), "the bss did not keep what was written");
    Ok(())
}

// ---------------------------------------------------------------------------
// Files.

/// Opening an existing file works; opening a missing one fails.
fn opentest() -> TestResult {
    ensure!(exists(c"/echo"));
    ensure!(!exists(c"doesnotexist"), "open doesnotexist succeeded");
    Ok(())
}

/// A small file written in 10-byte pieces reads back as written.
fn writetest() -> TestResult {
    const N: usize = 100;
    let fd = create(c"small")?;
    for _ in 0..N {
        write_all(fd, b"aaaaaaaaaa")?;
        write_all(fd, b"bbbbbbbbbb")?;
    }
    close(fd);
    let data = read_file(c"small")?;
    ensure!(
        data.len() == N * 20,
        "read {} bytes, wrote {}",
        data.len(),
        N * 20
    );
    for (i, piece) in data.chunks(10).enumerate() {
        let expected = if i % 2 == 0 { b'a' } else { b'b' };
        ensure!(piece.iter().all(|&c| c == expected), "piece {i} is wrong");
    }
    ensure!(unlink(c"small") == 0);
    Ok(())
}

/// A file of the largest size, MAXFILE blocks (direct and indirect), each
/// block numbered, reads back block by block; the file cannot grow past it.
fn writebig() -> TestResult {
    let fd = create(c"big")?;
    let mut block = vec![0u8; BSIZE];
    for i in 0..MAXFILE {
        block[..4].copy_from_slice(&(i as u32).to_le_bytes());
        let n = write(fd, &block);
        ensure!(n == BSIZE as isize, "writing block {i} returned {n}");
    }
    let n = write(fd, b"x");
    ensure!(n < 1, "a write past MAXFILE blocks returned {n}");
    close(fd);

    let fd = open(c"big", O_RDONLY);
    ensure!(fd >= 0, "open big failed");
    let mut blocks = 0;
    loop {
        let n = read(fd, &mut block);
        if n == 0 {
            break;
        }
        ensure!(n == BSIZE as isize, "reading block {blocks} returned {n}");
        let tag = u32::from_le_bytes(block[..4].try_into().expect("four bytes"));
        ensure!(
            tag == blocks as u32,
            "block {blocks} holds block {tag}'s data"
        );
        blocks += 1;
    }
    close(fd);
    ensure!(blocks == MAXFILE, "read {blocks} blocks, wrote {MAXFILE}");
    ensure!(unlink(c"big") == 0);
    Ok(())
}

/// Many files created, then unlinked.
fn createtest() -> TestResult {
    const N: usize = 52;
    for i in 0..N {
        close(create(&path!("a{i}"))?);
    }
    for i in 0..N {
        let name = path!("a{i}");
        ensure!(unlink(&name) == 0, "unlink a{i} failed");
    }
    Ok(())
}

/// O_TRUNC empties a file, and descriptors already open on it see that.
fn truncate1() -> TestResult {
    unlink(c"truncfile");
    make_file(c"truncfile", b"abcd")?;
    let mut buf = [0u8; 32];
    let fd2 = open(c"truncfile", O_RDONLY);
    let n = read(fd2, &mut buf);
    ensure!(n == 4, "read {n} bytes, wanted 4");

    let fd1 = open(c"truncfile", O_WRONLY | O_TRUNC);
    let fd3 = open(c"truncfile", O_RDONLY);
    ensure!(fd1 >= 0 && fd2 >= 0 && fd3 >= 0, "open truncfile failed");
    let n = read(fd3, &mut buf);
    ensure!(n == 0, "read {n} bytes of a truncated file, wanted 0");
    let n = read(fd2, &mut buf);
    ensure!(n == 0, "read {n} bytes at offset 4 of a truncated file");

    write_all(fd1, b"abcdef")?;
    let n = read(fd3, &mut buf);
    ensure!(n == 6, "read {n} bytes after rewriting, wanted 6");
    let n = read(fd2, &mut buf);
    ensure!(
        n == 2 && &buf[..2] == b"ef",
        "read {n} bytes at offset 4, wanted \"ef\""
    );
    ensure!(unlink(c"truncfile") == 0);
    close(fd1);
    close(fd2);
    close(fd3);
    Ok(())
}

/// A write through a descriptor whose offset lies past the end of the file
/// (another open truncated it) fails, leaving the file empty, instead of
/// leaving a hole; a write at the end works.
fn truncate2() -> TestResult {
    unlink(c"truncfile");
    let fd1 = create(c"truncfile")?;
    write_all(fd1, b"abcd")?;
    let fd2 = open(c"truncfile", O_WRONLY | O_TRUNC);
    ensure!(fd2 >= 0, "open truncfile failed");
    let n = write(fd1, b"x");
    let size = stat(c"truncfile")?.size;
    let at_end = write(fd2, b"xy");
    let new_size = stat(c"truncfile")?.size;
    close(fd1);
    close(fd2);
    ensure!(unlink(c"truncfile") == 0);
    ensure!(n == -1, "a write at offset 4 of an empty file returned {n}");
    ensure!(
        size == 0,
        "the failed write left the file with {size} bytes"
    );
    ensure!(
        at_end == 2 && new_size == 2,
        "a write at the end returned {at_end}; the file has {new_size} bytes"
    );
    Ok(())
}

/// One process truncates a file and writes it anew, over and over, while
/// another opens, writes and reads it: every write lands whole, and every
/// read sees only bytes that one of them wrote there.
fn truncate3() -> TestResult {
    const CHILD: &[u8; 10] = b"1234567890";
    const PARENT: &[u8; 3] = b"xxx";
    close(create(c"truncfile")?);
    let child = spawn_check(|| {
        for _ in 0..100 {
            let fd = open(c"truncfile", O_WRONLY);
            ensure!(fd >= 0, "open truncfile for writing failed");
            let n = write(fd, CHILD);
            close(fd);
            ensure!(n == 10, "the child's write returned {n}");
            let data = read_file(c"truncfile")?;
            let written_here = |(i, &byte): (usize, &u8)| {
                CHILD.get(i) == Some(&byte) || PARENT.get(i) == Some(&byte)
            };
            ensure!(
                data.iter().enumerate().all(written_here),
                "the child read \"{}\"",
                Text(&data)
            );
        }
        Ok(())
    })?;
    for _ in 0..150 {
        let fd = open(c"truncfile", O_CREATE | O_WRONLY | O_TRUNC);
        ensure!(fd >= 0, "open truncfile with O_TRUNC failed");
        let n = write(fd, PARENT);
        close(fd);
        ensure!(n == 3, "the parent's write returned {n}");
    }
    let verdict = child.join();
    unlink(c"truncfile");
    verdict
}

/// An unlinked file stays readable and writable through a descriptor that
/// was open on it, and a new file of the same name is a different file.
fn unlinkread() -> TestResult {
    make_file(c"unlinkread", b"hello")?;
    let fd = open(c"unlinkread", O_RDWR);
    ensure!(fd >= 0, "open unlinkread failed");
    ensure!(unlink(c"unlinkread") == 0);
    make_file(c"unlinkread", b"yyy")?;

    let mut buf = [0u8; 16];
    let n = read(fd, &mut buf);
    ensure!(n == 5, "read {n} bytes of the unlinked file, wanted 5");
    ensure!(&buf[..5] == b"hello", "the unlinked file's data changed");
    write_all(fd, &buf[..10])?;
    close(fd);
    let data = read_file(c"unlinkread")?;
    ensure!(data == b"yyy", "the new file holds \"{}\"", Text(&data));
    ensure!(unlink(c"unlinkread") == 0);
    Ok(())
}

/// link makes a second name for a file, counted in its `nlink`; unlinking
/// one name leaves the other. Linking onto an existing name, from a
/// missing file, or from a directory fails.
fn linktest() -> TestResult {
    unlink(c"lf1");
    unlink(c"lf2");
    make_file(c"lf1", b"hello")?;
    ensure!(link(c"lf1", c"lf2") == 0);
    let st = stat(c"lf2")?;
    ensure!(
        st.nlink == 2,
        "a file with two names has nlink {}",
        st.nlink
    );
    ensure!(unlink(c"lf1") == 0);
    ensure!(!exists(c"lf1"), "unlinked lf1 but it is still there");
    let data = read_file(c"lf2")?;
    ensure!(data == b"hello", "lf2 holds \"{}\"", Text(&data));
    ensure!(stat(c"lf2")?.nlink == 1, "nlink did not drop to 1");

    ensure!(link(c"lf2", c"lf2") < 0, "link lf2 lf2 succeeded");
    ensure!(unlink(c"lf2") == 0);
    ensure!(
        link(c"lf2", c"lf1") < 0,
        "link from a missing file succeeded"
    );
    ensure!(link(c".", c"lf1") < 0, "link . lf1 succeeded");
    ensure!(!exists(c"lf1"), "a failed link left lf1 behind");
    Ok(())
}

/// Writes bigger than the log: the kernel must split them into several
/// transactions.
fn bigwrite() -> TestResult {
    const MAX: usize = (MAXOPBLOCKS + 2) * BSIZE;
    let buf = vec![0x5au8; MAX];
    for size in (499..MAX).step_by(471) {
        let fd = create(c"bigwrite")?;
        for _ in 0..2 {
            let n = write(fd, &buf[..size]);
            ensure!(n == size as isize, "write({size}) returned {n}");
        }
        close(fd);
        let st = stat(c"bigwrite")?;
        ensure!(
            st.size == 2 * size as u64,
            "wrote {} bytes, file has {}",
            2 * size,
            st.size
        );
        ensure!(unlink(c"bigwrite") == 0);
    }
    Ok(())
}

/// A file written in 600-byte pieces reads back in 300-byte pieces.
fn bigfile() -> TestResult {
    const N: usize = 20;
    const SZ: usize = 600;
    let fd = create(c"bigfile.dat")?;
    for i in 0..N {
        write_all(fd, &[i as u8; SZ])?;
    }
    close(fd);
    let fd = open(c"bigfile.dat", O_RDONLY);
    ensure!(fd >= 0, "open bigfile.dat failed");
    let mut buf = [0u8; SZ / 2];
    let mut total = 0;
    for i in 0.. {
        let n = read(fd, &mut buf);
        ensure!(n >= 0, "read bigfile.dat failed");
        if n == 0 {
            break;
        }
        ensure!(n == (SZ / 2) as isize, "short read of bigfile.dat: {n}");
        ensure!(
            buf.iter().all(|&c| c == (i / 2) as u8),
            "piece {i} of bigfile.dat holds the wrong data"
        );
        total += n as usize;
    }
    close(fd);
    ensure!(total == N * SZ, "read {total} bytes, wrote {}", N * SZ);
    ensure!(unlink(c"bigfile.dat") == 0);
    Ok(())
}

// ---------------------------------------------------------------------------
// Directories.

/// mkdir, chdir into it and back out, unlink.
fn dirtest() -> TestResult {
    ensure!(mkdir(c"dir0") == 0);
    ensure!(chdir(c"dir0") == 0);
    ensure!(chdir(c"..") == 0);
    ensure!(unlink(c"dir0") == 0);
    Ok(())
}

/// Names of exactly DIRSIZ (14) bytes work at every level of a path and
/// come back whole from the directory. A longer element names the file by
/// its first DIRSIZ bytes, as in xv6 (whose `fourteen` counts on it): the
/// 15-byte name makes, finds, enters and removes the 14-byte one, and no
/// entry ever holds more than 14 bytes.
fn fourteen() -> TestResult {
    const NAME: &str = "12345678901234";
    const LONGER: &str = "123456789012345";
    const _: () = assert!(NAME.len() == DIRSIZ && LONGER.len() == DIRSIZ + 1);
    let dir = path!("{NAME}");
    let subdir = path!("{NAME}/{NAME}");
    let file = path!("{NAME}/{NAME}/{NAME}");
    ensure!(mkdir(&dir) == 0, "mkdir {NAME} failed");
    ensure!(
        mkdir(&path!("{NAME}/{LONGER}")) == 0,
        "mkdir {NAME}/{LONGER} failed"
    );
    ensure!(
        dir_names(&dir)?.iter().map(|name| name.to_bytes()).eq([
            b".".as_slice(),
            b"..",
            NAME.as_bytes()
        ]),
        "mkdir {NAME}/{LONGER} did not make the entry {NAME}"
    );
    ensure!(
        mkdir(&subdir) != 0,
        "mkdir {NAME}/{NAME} succeeded: the 15-byte name made another directory"
    );
    close(create(&path!("{LONGER}/{LONGER}/{LONGER}"))?);
    ensure!(
        exists(&file),
        "create {LONGER}/{LONGER}/{LONGER} did not make {NAME}/{NAME}/{NAME}"
    );
    ensure!(
        dir_names(&subdir)?.iter().map(|name| name.to_bytes()).eq([
            b".".as_slice(),
            b"..",
            NAME.as_bytes()
        ]),
        "the directory does not list the 14-byte name whole, and nothing else"
    );
    ensure!(chdir(&path!("{LONGER}")) == 0, "chdir {LONGER} failed");
    let found = exists(&path!("{NAME}/{NAME}"));
    ensure!(chdir(c"..") == 0);
    ensure!(found, "chdir {LONGER} did not enter {NAME}");
    ensure!(
        unlink(&path!("{LONGER}/{LONGER}/{LONGER}")) == 0 && !exists(&file),
        "unlink {LONGER}/{LONGER}/{LONGER} did not remove {NAME}/{NAME}/{NAME}"
    );
    ensure!(unlink(&subdir) == 0);
    ensure!(unlink(&dir) == 0);
    Ok(())
}

/// mkdir fails on any name that already exists.
fn mkdirexisting() -> TestResult {
    ensure!(mkdir(c"mde") == 0);
    ensure!(mkdir(c"mde") < 0, "mkdir mde twice succeeded");
    make_file(c"mdef", b"")?;
    ensure!(mkdir(c"mdef") < 0, "mkdir over a file succeeded");
    ensure!(
        open(c"mde", O_CREATE | O_RDWR) < 0,
        "creating a file over a directory succeeded"
    );
    for existing in [c"/", c".", c"..", c"mde/.", c"mde/.."] {
        ensure!(
            mkdir(existing) < 0,
            "mkdir {} succeeded",
            Text(existing.to_bytes())
        );
    }
    ensure!(stat(c"mdef")?.kind != T_DIR, "mdef became a directory");
    ensure!(unlink(c"mdef") == 0);
    ensure!(unlink(c"mde") == 0);
    Ok(())
}

/// `..` leads to the parent, and the root's `..` is the root itself; a
/// directory's link count counts its subdirectories' `..`.
fn dotdot() -> TestResult {
    let root = stat(c"/")?.ino;
    ensure!(stat(c"/..")?.ino == root, "/.. is not /");
    ensure!(stat(c"/../..")?.ino == root, "/../.. is not /");
    ensure!(mkdir(c"dd1") == 0);
    ensure!(mkdir(c"dd1/dd2") == 0);
    let dd1 = stat(c"dd1")?;
    ensure!(dd1.kind == T_DIR, "dd1 is not a directory");
    ensure!(
        dd1.nlink == 2,
        "dd1, with one subdirectory, has nlink {}",
        dd1.nlink
    );
    ensure!(stat(c"dd1/dd2/..")?.ino == dd1.ino, "dd1/dd2/.. is not dd1");
    ensure!(stat(c"dd1/dd2/.")?.ino != dd1.ino, "dd1/dd2/. is dd1");
    ensure!(
        stat(c"dd1/dd2/../..")?.ino == root,
        "dd1/dd2/../.. is not /"
    );
    ensure!(
        exists(c"dd1/dd2/../../dd1/dd2"),
        "cannot walk dd1/dd2/../../dd1/dd2"
    );

    ensure!(chdir(c"dd1/dd2") == 0);
    ensure!(stat(c"..")?.ino == dd1.ino, ".. of dd1/dd2 is not dd1");
    ensure!(chdir(c"../..") == 0);
    ensure!(stat(c".")?.ino == root, "../.. of dd1/dd2 is not /");
    ensure!(chdir(c"..") == 0);
    ensure!(stat(c".")?.ino == root, "chdir .. left the root");

    ensure!(unlink(c"dd1/dd2/..") < 0, "unlink dd1/dd2/.. succeeded");
    ensure!(unlink(c"dd1/.") < 0, "unlink dd1/. succeeded");
    ensure!(unlink(c"dd1") < 0, "unlink of non-empty dd1 succeeded");
    ensure!(unlink(c"dd1/dd2") == 0);
    let nlink = stat(c"dd1")?.nlink;
    ensure!(
        nlink == 1,
        "dd1 has nlink {nlink} after its subdirectory went"
    );
    ensure!(unlink(c"dd1") == 0);
    Ok(())
}

/// Files and directories in subdirectories, paths through `..`, and every
/// way a path can name something that is not a directory where one is
/// needed.
fn subdir() -> TestResult {
    unlink(c"ff");
    ensure!(mkdir(c"dd") == 0);
    make_file(c"dd/ff", b"ff")?;
    ensure!(unlink(c"dd") < 0, "unlink dd (non-empty dir) succeeded");
    ensure!(mkdir(c"/dd/dd") == 0);
    make_file(c"dd/dd/ff", b"FF")?;
    let data = read_file(c"dd/dd/../ff")?;
    ensure!(data == b"ff", "dd/dd/../ff holds \"{}\"", Text(&data));

    ensure!(link(c"dd/dd/ff", c"dd/dd/ffff") == 0);
    ensure!(unlink(c"dd/dd/ff") == 0);
    ensure!(!exists(c"dd/dd/ff"), "open (unlinked) dd/dd/ff succeeded");

    ensure!(chdir(c"dd") == 0);
    ensure!(chdir(c"dd/../../dd") == 0);
    ensure!(chdir(c"dd/../../../dd") == 0);
    ensure!(chdir(c"./..") == 0);
    let data = read_file(c"dd/dd/ffff")?;
    ensure!(data == b"FF", "dd/dd/ffff holds \"{}\"", Text(&data));
    ensure!(!exists(c"dd/dd/ff"), "open (unlinked) dd/dd/ff succeeded");

    let refusals: [(&str, bool); 15] = [
        ("create dd/ff/ff", open(c"dd/ff/ff", O_CREATE | O_RDWR) >= 0),
        ("create dd/xx/ff", open(c"dd/xx/ff", O_CREATE | O_RDWR) >= 0),
        ("create dd", open(c"dd", O_CREATE) >= 0),
        ("open dd for O_RDWR", open(c"dd", O_RDWR) >= 0),
        ("open dd for O_WRONLY", open(c"dd", O_WRONLY) >= 0),
        (
            "link dd/ff/ff dd/dd/xx",
            link(c"dd/ff/ff", c"dd/dd/xx") == 0,
        ),
        (
            "link dd/xx/ff dd/dd/xx",
            link(c"dd/xx/ff", c"dd/dd/xx") == 0,
        ),
        ("link dd/ff dd/dd/ffff", link(c"dd/ff", c"dd/dd/ffff") == 0),
        ("mkdir dd/ff/ff", mkdir(c"dd/ff/ff") == 0),
        ("mkdir dd/xx/ff", mkdir(c"dd/xx/ff") == 0),
        ("mkdir dd/dd/ffff", mkdir(c"dd/dd/ffff") == 0),
        ("unlink dd/xx/ff", unlink(c"dd/xx/ff") == 0),
        ("unlink dd/ff/ff", unlink(c"dd/ff/ff") == 0),
        ("chdir dd/ff", chdir(c"dd/ff") == 0),
        ("chdir dd/xx", chdir(c"dd/xx") == 0),
    ];
    for (what, succeeded) in refusals {
        ensure!(!succeeded, "{what} succeeded");
    }

    ensure!(unlink(c"dd/dd/ffff") == 0);
    ensure!(unlink(c"dd/ff") == 0);
    ensure!(unlink(c"dd") < 0, "unlink of non-empty dd succeeded");
    ensure!(unlink(c"dd/dd") == 0);
    ensure!(unlink(c"dd") == 0);
    Ok(())
}

/// `.` and `..` cannot be unlinked, from inside or outside.
fn rmdot() -> TestResult {
    ensure!(mkdir(c"dots") == 0);
    ensure!(chdir(c"dots") == 0);
    ensure!(unlink(c".") < 0, "unlink . succeeded");
    ensure!(unlink(c"..") < 0, "unlink .. succeeded");
    ensure!(chdir(c"/") == 0);
    ensure!(unlink(c"dots/.") < 0, "unlink dots/. succeeded");
    ensure!(unlink(c"dots/..") < 0, "unlink dots/.. succeeded");
    ensure!(unlink(c"dots") == 0);
    Ok(())
}

/// A directory removed while it is the current one takes no new name, as
/// in Unix: creating a file, a directory, a device or a link in it fails
/// (else the new inodes would be lost with it), and so does `..`, whose
/// parent may be gone or reused. `/` still works, and once the process
/// leaves, the directory's inode is free: nothing leaked.
fn removeddir() -> TestResult {
    let before = count_free(c"/rmdir.count")?;
    let readme_links = stat(c"README")?.nlink;
    ensure!(mkdir(c"/removeddir") == 0);
    ensure!(chdir(c"/removeddir") == 0);
    ensure!(
        unlink(c"/removeddir") == 0,
        "unlink of the current directory failed"
    );
    ensure!(
        open(c"f", O_CREATE | O_RDWR) < 0,
        "a file was made in a removed directory"
    );
    ensure!(
        mkdir(c"sub") < 0,
        "a directory was made in a removed directory"
    );
    ensure!(
        mknod(c"dev", 1, 1) < 0,
        "a device was made in a removed directory"
    );
    ensure!(
        link(c"/README", c"x") < 0,
        "a link was made in a removed directory"
    );
    ensure!(
        chdir(c"..") < 0,
        "chdir .. from a removed directory succeeded"
    );
    let dot = open(c".", O_RDONLY);
    ensure!(dot >= 0, "open . in a removed directory failed");
    close(dot);
    ensure!(chdir(c"/") == 0, "chdir / from a removed directory failed");
    ensure!(
        stat(c"README")?.nlink == readme_links,
        "README's link count changed"
    );
    let after = count_free(c"/rmdir.count")?;
    ensure!(
        before == after,
        "free (inodes, blocks): {before:?} before, {after:?} after"
    );
    Ok(())
}

/// A file is not a directory: it cannot be entered or looked inside; and a
/// directory cannot be opened for writing.
fn dirfile() -> TestResult {
    let fd = open(c"dirfile", O_CREATE);
    ensure!(fd >= 0, "create dirfile failed");
    close(fd);
    ensure!(chdir(c"dirfile") < 0, "chdir dirfile succeeded");
    ensure!(!exists(c"dirfile/xx"), "open dirfile/xx succeeded");
    ensure!(
        open(c"dirfile/xx", O_CREATE) < 0,
        "create dirfile/xx succeeded"
    );
    ensure!(mkdir(c"dirfile/xx") < 0, "mkdir dirfile/xx succeeded");
    ensure!(unlink(c"dirfile/xx") < 0, "unlink dirfile/xx succeeded");
    ensure!(
        link(c"dirfile", c"dirfile/xx") < 0,
        "link to dirfile/xx succeeded"
    );
    ensure!(unlink(c"dirfile") == 0);

    ensure!(open(c".", O_RDWR) < 0, "open . for writing succeeded");
    let fd = open(c".", O_RDONLY);
    ensure!(fd >= 0, "open . failed");
    let n = write(fd, b"x");
    close(fd);
    ensure!(n < 1, "write to . returned {n}");
    Ok(())
}

/// Does chdir put the old current directory (iput) correctly when that
/// directory was unlinked while we were in it?
fn iputtest() -> TestResult {
    ensure!(mkdir(c"iputdir") == 0);
    ensure!(chdir(c"iputdir") == 0);
    ensure!(unlink(c"../iputdir") == 0);
    ensure!(chdir(c"/") == 0);
    Ok(())
}

/// Does exit put the current directory correctly when it was unlinked?
fn exitiputtest() -> TestResult {
    let child = spawn_check(|| {
        ensure!(mkdir(c"iputdir") == 0);
        ensure!(chdir(c"iputdir") == 0);
        ensure!(unlink(c"../iputdir") == 0);
        Ok(())
    })?;
    child.join()
}

/// Does open's error path (a directory opened for writing) put the inode
/// correctly while another process unlinks the directory?
fn openiputtest() -> TestResult {
    ensure!(mkdir(c"oidir") == 0);
    let child = spawn_check(|| {
        ensure!(
            open(c"oidir", O_RDWR) < 0,
            "open directory for write succeeded"
        );
        Ok(())
    })?;
    sleep(1);
    ensure!(unlink(c"oidir") == 0);
    child.join()
}

/// Each system call that looks up a path must put every inode it got:
/// walking into more nested directories than the inode cache holds
/// (NINODE = 50) would otherwise run it dry. Empty names are refused.
fn iref() -> TestResult {
    const DEPTH: usize = 50 + 1;
    for _ in 0..DEPTH {
        ensure!(mkdir(c"irefd") == 0);
        ensure!(chdir(c"irefd") == 0);
        ensure!(mkdir(c"") < 0, "mkdir of an empty name succeeded");
        ensure!(link(c"/echo", c"") < 0, "link to an empty name succeeded");
        ensure!(open(c"", O_CREATE) < 0, "create of an empty name succeeded");
        close(create(c"xx")?);
        ensure!(unlink(c"xx") == 0);
    }
    for _ in 0..DEPTH {
        ensure!(chdir(c"..") == 0);
        ensure!(unlink(c"irefd") == 0);
    }
    Ok(())
}

/// A directory of 500 entries (8 blocks), all links to one file.
fn bigdir() -> TestResult {
    const N: usize = 500;
    ensure!(mkdir(c"bigdir") == 0);
    ensure!(chdir(c"bigdir") == 0);
    make_file(c"bd", b"")?;
    for i in 0..N {
        ensure!(
            link(c"bd", &path!("x{i:03}")) == 0,
            "link bd x{i:03} failed"
        );
    }
    let names = dir_names(c".")?;
    ensure!(
        names.len() == N + 3,
        "bigdir lists {} names, expected {}",
        names.len(),
        N + 3
    );
    ensure!(stat(c"bd")?.nlink as usize == N + 1, "bd's nlink is wrong");
    for i in 0..N {
        ensure!(unlink(&path!("x{i:03}")) == 0, "unlink x{i:03} failed");
    }
    ensure!(unlink(c"bd") == 0);
    ensure!(chdir(c"..") == 0);
    ensure!(unlink(c"bigdir") == 0);
    Ok(())
}

// ---------------------------------------------------------------------------
// Pipes.

/// The byte at position `i` of the test streams sent through pipes.
fn stream_byte(i: usize) -> u8 {
    (i % 251) as u8
}

/// Data sent through a pipe in 1033-byte writes arrives whole and in order,
/// however the reader slices it.
fn pipe1() -> TestResult {
    const N: usize = 5;
    const SZ: usize = 1033;
    let mut ends = [0; 2];
    ensure!(pipe(&mut ends) == 0);
    let [read_end, write_end] = ends;
    let child = spawn_check(|| {
        close(read_end);
        let mut buf = [0u8; SZ];
        for n in 0..N {
            for (i, byte) in buf.iter_mut().enumerate() {
                *byte = stream_byte(n * SZ + i);
            }
            write_all(write_end, &buf)?;
        }
        Ok(())
    })?;
    close(write_end);
    let mut buf = vec![0u8; 4096];
    let (mut total, mut want) = (0, 1);
    loop {
        let n = read(read_end, &mut buf[..want]);
        ensure!(n >= 0, "read from the pipe failed");
        if n == 0 {
            break;
        }
        for (i, &byte) in buf[..n as usize].iter().enumerate() {
            ensure!(
                byte == stream_byte(total + i),
                "byte {} is {byte}, expected {}",
                total + i,
                stream_byte(total + i)
            );
        }
        total += n as usize;
        want = (want * 2).min(buf.len());
    }
    close(read_end);
    ensure!(total == N * SZ, "read {total} bytes, sent {}", N * SZ);
    child.join()
}

/// One write of three and a half times the pipe's buffer arrives whole:
/// the writer sleeps while the buffer is full and the reader wakes it.
fn pipebig() -> TestResult {
    const SIZE: usize = 3 * PIPESIZE + PIPESIZE / 2;
    let mut ends = [0; 2];
    ensure!(pipe(&mut ends) == 0);
    let [read_end, write_end] = ends;
    let child = spawn_check(|| {
        close(read_end);
        let data: Vec<u8> = (0..SIZE).map(stream_byte).collect();
        write_all(write_end, &data)
    })?;
    close(write_end);
    let mut received = Vec::with_capacity(SIZE);
    let mut buf = [0u8; 700];
    let mut want = 1;
    loop {
        let n = read(read_end, &mut buf[..want]);
        ensure!(n >= 0, "read from the pipe failed");
        if n == 0 {
            break;
        }
        received.extend_from_slice(&buf[..n as usize]);
        want = want % buf.len() + 97;
        want = want.min(buf.len());
    }
    close(read_end);
    ensure!(
        received.len() == SIZE,
        "read {} bytes, sent {SIZE}",
        received.len()
    );
    let wrong = (0..SIZE).find(|&i| received[i] != stream_byte(i));
    ensure!(wrong.is_none(), "byte {} arrived wrong", wrong.unwrap_or(0));
    child.join()
}

/// What each end of a pipe sees when the other closes: the reader gets the
/// data still buffered and then end-of-file; a writer gets -1 once no
/// reader is left, even one asleep on a full pipe.
fn pipeclose() -> TestResult {
    // Writer closes: buffered data, then 0.
    let mut ends = [0; 2];
    ensure!(pipe(&mut ends) == 0);
    write_all(ends[1], b"hello")?;
    close(ends[1]);
    let mut buf = [0u8; 16];
    let n = read(ends[0], &mut buf);
    ensure!(n == 5, "read {n} bytes of the 5 buffered");
    let n = read(ends[0], &mut buf);
    ensure!(n == 0, "read after the writer closed returned {n}, not 0");
    close(ends[0]);

    // Reader closes: a write fails (rather than killing the writer).
    ensure!(pipe(&mut ends) == 0);
    close(ends[0]);
    let n = write(ends[1], b"x");
    ensure!(n == -1, "write with no reader returned {n}");
    close(ends[1]);

    // A reader asleep on an empty pipe wakes up when the writer closes.
    ensure!(pipe(&mut ends) == 0);
    let [read_end, write_end] = ends;
    let child = spawn_check(|| {
        close(write_end);
        let mut buf = [0u8; 16];
        let n = read(read_end, &mut buf);
        ensure!(n == 0, "the sleeping reader's read returned {n}, not 0");
        Ok(())
    })?;
    close(read_end);
    sleep(5);
    close(write_end);
    child.join()?;

    // A writer asleep on a full pipe wakes up, with -1, when the reader
    // closes.
    ensure!(pipe(&mut ends) == 0);
    let [read_end, write_end] = ends;
    let child = spawn_check(|| {
        close(read_end);
        // More than the pipe holds, so the writer must sleep; xv6 returns
        // -1, having written part; either way, not all.
        let n = write(write_end, &vec![7u8; 2 * PIPESIZE]);
        ensure!(
            n < 2 * PIPESIZE as isize,
            "a write cut off by the reader returned {n}"
        );
        Ok(())
    })?;
    close(write_end);
    sleep(5);
    let n = read(read_end, &mut buf);
    ensure!(n > 0, "reading from the full pipe returned {n}");
    close(read_end);
    child.join()
}

// ---------------------------------------------------------------------------
// Processes.

/// exec runs a program with the arguments given, in the same process, with
/// the same open files: echo's output lands in the file we opened as its
/// standard output.
fn exectest() -> TestResult {
    unlink(c"echo-ok");
    let child = spawn_check(|| {
        close(1);
        let fd = open(c"echo-ok", O_CREATE | O_WRONLY);
        ensure!(fd == 1, "the output file got descriptor {fd}, not 1");
        exec_args("/echo", &["echo", "hello", "world"]);
        Err(String::from("exec echo failed"))
    })?;
    child.join()?;
    let output = read_file(c"echo-ok")?;
    ensure!(unlink(c"echo-ok") == 0);
    ensure!(
        output == b"hello world\n",
        "echo wrote \"{}\"",
        Text(&output)
    );
    Ok(())
}

/// The exit status with which a child reports that exec returned -1: one
/// that no program it might wrongly have run would exit with.
const EXEC_REFUSED: i32 = 77;

/// Runs `attempt`, an exec that must fail, in a child, which passes by
/// exiting with `EXEC_REFUSED` when it returns -1. A child that exec
/// replaced exits otherwise; `what` names the attempt in the verdict.
fn expect_exec_refused(what: &str, attempt: impl FnOnce() -> i32) -> TestResult {
    let pid = spawn(|| if attempt() == -1 { EXEC_REFUSED } else { 1 })?;
    match wait_for(pid)? {
        EXEC_REFUSED => Ok(()),
        status => Err(format!(
            "{what} did not return -1 (the child exited with status {status})"
        )),
    }
}

/// exec refuses what is not a program, too many arguments and too long a
/// path, and returns -1 to the caller, whose memory is unchanged.
fn execbad() -> TestResult {
    make_file(c"execbad.txt", b"#!/bin/sh\necho this is not an ELF file\n")?;
    make_file(c"execbad.nil", b"")?;
    // Not a checking child (`spawn_check`), whose success is exit status
    // 0: a bad exec that wrongly ran echo would exit with 0 too. So the
    // child passes with EXEC_REFUSED, and fails by sending why on a pipe of
    // its own.
    let mut report = Pipe::new()?;
    let pid = spawn(|| match execbad_checks() {
        Ok(()) => EXEC_REFUSED,
        verdict => {
            send_verdict(report.write_end(), &verdict);
            1
        }
    })?;
    report.close_write();
    let status = wait_for(pid)?;
    unlink(c"execbad.txt");
    unlink(c"execbad.nil");
    match status {
        EXEC_REFUSED => Ok(()),
        1 => match receive_verdict(report.read_end()) {
            Some(Err(why)) => Err(format!("in the child: {why}")),
            _ => Err(String::from("the child failed without saying why")),
        },
        status => Err(format!(
            "a bad exec did not return (child exited with status {status})"
        )),
    }
}

/// The bad execs of [`execbad`], in its child: if one wrongly succeeds, the
/// child runs something else and does not exit with `EXEC_REFUSED`.
fn execbad_checks() -> TestResult {
    let x = c"x".as_ptr().cast::<u8>();
    let argv = [x, ptr::null()];
    let cases: [(&str, &CStr); 4] = [
        ("a missing program", c"/no-such-program"),
        ("a text file", c"execbad.txt"),
        ("an empty file", c"execbad.nil"),
        ("a directory", c"/"),
    ];
    for (what, path) in cases {
        ensure!(exec(path, &argv) == -1, "exec of {what} did not return -1");
    }
    let mut many = vec![x; 40];
    many.push(ptr::null());
    ensure!(
        exec(c"/echo", &many) == -1,
        "exec with 40 arguments did not return -1"
    );
    let long = CString::new(vec![b'e'; 200]).expect("no NUL");
    ensure!(
        exec(&long, &argv) == -1,
        "exec of a 200-byte path did not return -1"
    );
    // The process still works after all that.
    in_child(|| Ok(()))
}

/// exec copies big arguments intact: echo, run with MAXARG - 2 arguments
/// of MAXPATH - 1 bytes (the longest an argument may be), prints them all.
/// Arguments that cannot fit in the page where exec gathers them (MAXARG
/// such arguments: with the path, more than a page) make exec return -1
/// to a caller that carries on.
fn bigargtest() -> TestResult {
    let argument = |i: usize| vec![b'a' + i as u8; MAXPATH - 1];
    let mut argv: Vec<Vec<u8>> = vec![b"echo".to_vec()];
    argv.extend((0..MAXARG - 2).map(argument));
    let mut expected = argv[1..].join(&b' ');
    expected.push(b'\n');

    unlink(c"bigarg.out");
    let child = spawn_check(|| {
        close(1);
        let fd = open(c"bigarg.out", O_CREATE | O_WRONLY);
        ensure!(fd == 1, "the output file got descriptor {fd}, not 1");
        exec_args("/echo", &argv);
        Err(String::from("exec echo with big arguments failed"))
    })?;
    child.join()?;
    let output = read_file(c"bigarg.out")?;
    ensure!(unlink(c"bigarg.out") == 0);
    ensure!(
        output == expected,
        "echo printed {} bytes, not the {} of its arguments",
        output.len(),
        expected.len()
    );

    let too_much: Vec<Vec<u8>> = (0..MAXARG).map(argument).collect();
    expect_exec_refused("exec with more arguments than a page holds", || {
        exec_args("/echo", &too_much)
    })
}

/// Two children exiting at the same moment are both reaped.
fn twochildren() -> TestResult {
    for _ in 0..1000 {
        let first = spawn(|| 0)?;
        let second = spawn(|| 0)?;
        let mut reaped = [wait(None), wait(None)];
        reaped.sort_unstable();
        let mut expected = [first, second];
        expected.sort_unstable();
        ensure!(
            reaped == expected,
            "reaped {reaped:?}, expected {expected:?}"
        );
    }
    Ok(())
}

/// Two processes forking and waiting at the same time.
fn forkfork() -> TestResult {
    let mut children = Vec::new();
    for _ in 0..2 {
        children.push(spawn_check(|| {
            for _ in 0..200 {
                in_child(|| Ok(()))?;
            }
            Ok(())
        })?);
    }
    join_all(children)
}

/// Spins without system calls until the clock reaches `deadline` (in
/// ticks), looking at it only every few million turns; then returns 0.
fn spin_until(deadline: i32) -> i32 {
    while uptime() < deadline {
        let mut spins = 0u64;
        while black_box(spins) < 1 << 22 {
            spins += 1;
        }
    }
    0
}

/// Processes that spin without making a system call are preempted: with
/// three of them, more than there are CPUs (`make test` boots 1 and 2),
/// the parent still gets to run, and kills them all. The spinners give up
/// after ten seconds, so that a kernel that never preempts fails this test
/// (they exit with 0, not killed) instead of hanging it.
fn preempt() -> TestResult {
    let deadline = uptime() + 1000;
    let mut pids = vec![
        spawn(|| spin_until(deadline))?,
        spawn(|| spin_until(deadline))?,
    ];
    // The third tells us that it runs, once the other two already spin.
    let mut running = Pipe::new()?;
    pids.push(spawn(|| {
        running.send(b'x');
        running.close_write();
        spin_until(deadline)
    })?);
    running.close_write();
    let started = running.receive();
    for &pid in &pids {
        kill(pid);
    }
    let statuses = wait_all(&pids)?;
    ensure!(started == Some(b'x'), "the third spinner sent nothing");
    ensure!(
        statuses.iter().all(|&status| status == -1),
        "the spinners exited with {statuses:?}, not killed"
    );
    Ok(())
}

/// A process has NOFILE = 16 descriptors: open fails once all are in use,
/// closing one frees that very slot, and several processes can each fill
/// their own table at once.
fn fdtable() -> TestResult {
    make_file(c"fdtable.f", b"x")?;
    let fill = || -> Result<Vec<i32>, String> {
        let mut fds = Vec::with_capacity(NOFILE + 1);
        loop {
            let fd = open(c"fdtable.f", O_RDONLY);
            if fd < 0 {
                return Ok(fds);
            }
            fds.push(fd);
            ensure!(fds.len() <= NOFILE, "open gave out a 17th descriptor");
        }
    };
    // How many descriptors this process has free: dup takes the lowest
    // free one, so dup until it fails, then give them back.
    let free_descriptors = || {
        let dups: Vec<i32> = core::iter::from_fn(|| Some(dup(0)).filter(|&fd| fd >= 0)).collect();
        for &fd in &dups {
            close(fd);
        }
        dups.len()
    };
    let fds = fill()?;
    let free = free_descriptors();
    ensure!(
        free == 0,
        "open failed although {free} descriptors were free"
    );
    ensure!(dup(0) < 0, "dup succeeded with a full table");
    ensure!(!fds.is_empty(), "no descriptor was free to begin with");
    let victim = fds[fds.len() / 2];
    close(victim);
    let fd = open(c"fdtable.f", O_RDONLY);
    ensure!(fd == victim, "open after closing {victim} returned {fd}");
    ensure!(
        open(c"fdtable.f", O_RDONLY) < 0,
        "open succeeded with a full table"
    );
    for &fd in &fds {
        close(fd);
    }

    // Now four processes fill their tables at the same time, each opening
    // as many descriptors as it had free. (Not as many as we could: a child
    // also holds its report pipe and its older siblings'.)
    let mut children = Vec::new();
    for _ in 0..4 {
        children.push(spawn_check(move || {
            let free = free_descriptors();
            let fds = fill()?;
            ensure!(
                fds.len() == free,
                "a child could open {} files, not the {free} it had free",
                fds.len()
            );
            sleep(5);
            let mut byte = [0u8];
            for fd in fds {
                ensure!(read(fd, &mut byte) == 1, "reading descriptor {fd} failed");
            }
            Ok(())
        })?);
    }
    join_all(children)?;
    ensure!(unlink(c"fdtable.f") == 0);
    Ok(())
}

// ---------------------------------------------------------------------------
// The log and locks under concurrency.

/// Two processes write through one shared descriptor: the offset is shared,
/// so neither overwrites the other, and every byte lands.
fn sharedfd() -> TestResult {
    const N: usize = 1000;
    const SZ: usize = 10;
    unlink(c"sharedfd");
    let fd = create(c"sharedfd")?;
    let child = spawn_check(|| {
        for _ in 0..N {
            write_all(fd, &[b'c'; SZ])?;
        }
        Ok(())
    })?;
    for _ in 0..N {
        write_all(fd, &[b'p'; SZ])?;
    }
    child.join()?;
    close(fd);
    let data = read_file(c"sharedfd")?;
    ensure!(unlink(c"sharedfd") == 0);
    let children = data.iter().filter(|&&c| c == b'c').count();
    let parents = data.iter().filter(|&&c| c == b'p').count();
    ensure!(
        children == N * SZ && parents == N * SZ && data.len() == 2 * N * SZ,
        "found {children} c's and {parents} p's in {} bytes",
        data.len()
    );
    Ok(())
}

/// Four processes write four files at once, competing for free blocks.
fn fourfiles() -> TestResult {
    const NCHILD: u8 = 4;
    const N: usize = 12;
    const SZ: usize = 500;
    let mut children = Vec::new();
    for child in 0..NCHILD {
        let name = path!("f{child}");
        unlink(&name);
        children.push(spawn_check(move || {
            let fd = create(&name)?;
            let piece = [b'0' + child; SZ];
            for _ in 0..N {
                write_all(fd, &piece)?;
            }
            close(fd);
            Ok(())
        })?);
    }
    join_all(children)?;
    for child in 0..NCHILD {
        let name = path!("f{child}");
        let data = read_file(&name)?;
        ensure!(data.len() == N * SZ, "f{child} has {} bytes", data.len());
        ensure!(
            data.iter().all(|&c| c == b'0' + child),
            "f{child} holds another file's data"
        );
        ensure!(unlink(&name) == 0, "unlink f{child} failed");
    }
    Ok(())
}

/// Four processes create and delete files in one directory at once.
/// Process p makes files pN for N in 0..20, and after making each even N
/// deletes p(N/2); so in the end exactly p0 and p10..p19 remain.
fn createdelete() -> TestResult {
    const NCHILD: u8 = 4;
    const N: usize = 20;
    let name = |child: u8, i: usize| path!("{}{i}", (b'p' + child) as char);
    let mut children = Vec::new();
    for child in 0..NCHILD {
        children.push(spawn_check(move || {
            for i in 0..N {
                close(create(&name(child, i))?);
                if i > 0 && i % 2 == 0 {
                    ensure!(unlink(&name(child, i / 2)) == 0);
                }
            }
            Ok(())
        })?);
    }
    join_all(children)?;
    for i in 0..N {
        for child in 0..NCHILD {
            let should_exist = i == 0 || i >= N / 2;
            ensure!(
                exists(&name(child, i)) == should_exist,
                "{}{i} {}",
                (b'p' + child) as char,
                if should_exist {
                    "is missing"
                } else {
                    "was not deleted"
                }
            );
        }
    }
    for i in 0..N {
        for child in 0..NCHILD {
            unlink(&name(child, i));
        }
    }
    Ok(())
}

/// Two processes create, link and unlink the same names at once; the
/// directory must end up with each name exactly once, never twice.
fn concreate() -> TestResult {
    const N: usize = 40;
    let name = |i: usize| path!("C{i}");
    for i in 0..N {
        let file = name(i);
        unlink(&file);
        let pid = fork();
        ensure!(pid >= 0, "fork failed");
        let ok = if (pid > 0 && i % 3 == 1) || (pid == 0 && i % 5 == 1) {
            // The link may lose to the other process's create or link.
            link(c"C0", &file);
            true
        } else {
            let fd = open(&file, O_CREATE | O_RDWR);
            close(fd);
            fd >= 0
        };
        if pid == 0 {
            exit(if ok { 0 } else { 1 });
        }
        ensure!(ok, "create C{i} failed");
        expect_status(pid, 0)?;
    }

    let mut seen = [false; N];
    for entry in dir_names(c".")? {
        let Some(digits) = entry.to_bytes().strip_prefix(b"C") else {
            continue;
        };
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            continue;
        }
        let i = ulib::string::atoi(digits) as usize;
        ensure!(i < N, "weird file C{i}");
        ensure!(!seen[i], "duplicate entry C{i}");
        seen[i] = true;
    }
    let missing = seen.iter().position(|&seen| !seen);
    ensure!(missing.is_none(), "C{} is missing", missing.unwrap_or(0));

    for i in 0..N {
        let file = name(i);
        let pid = fork();
        ensure!(pid >= 0, "fork failed");
        if (i % 3 == 0 && pid == 0) || (i % 3 == 1 && pid != 0) {
            for _ in 0..6 {
                close(open(&file, O_RDONLY));
            }
        } else {
            for _ in 0..6 {
                unlink(&file);
            }
        }
        if pid == 0 {
            exit(0);
        }
        wait(None);
    }
    for i in 0..N {
        ensure!(!exists(&name(i)), "C{i} survived the unlinks");
    }
    Ok(())
}

/// Two processes create, link and unlink one name at random, to look for
/// deadlocks between the three.
fn linkunlink() -> TestResult {
    make_file(c"lusrc", b"source")?;
    unlink(c"x");
    let pid = fork();
    ensure!(pid >= 0, "fork failed");
    // A linear congruential generator, seeded differently in each process.
    let mut x: u32 = if pid != 0 { 1 } else { 97 };
    for _ in 0..100 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        match x % 3 {
            0 => close(open(c"x", O_RDWR | O_CREATE)),
            1 => link(c"lusrc", c"x"),
            _ => unlink(c"x"),
        };
    }
    if pid == 0 {
        exit(0);
    }
    expect_status(pid, 0)?;
    unlink(c"x");
    ensure!(unlink(c"lusrc") == 0);
    Ok(())
}

/// Four processes write files at once, over and over, through the log:
/// process `c` writes its file `c + 1` times per round, each time a
/// buffer bigger than the log from the start, reads it back and removes
/// it at the end of the round. Meant to catch deadlocks in the disk
/// driver and the log; every byte is checked too.
fn manywrites() -> TestResult {
    const NCHILD: u8 = 4;
    const ROUNDS: usize = 10;
    const SIZE: usize = (MAXOPBLOCKS + 2) * BSIZE;
    let mut children = Vec::new();
    for child in 0..NCHILD {
        let name = path!("mw{child}");
        unlink(&name);
        children.push(spawn_check(move || {
            let data = vec![b'a' + child; SIZE];
            for round in 0..ROUNDS {
                for _ in 0..=child {
                    let fd = open(&name, O_CREATE | O_RDWR);
                    ensure!(fd >= 0, "cannot create mw{child}");
                    let n = write(fd, &data);
                    close(fd);
                    ensure!(n == SIZE as isize, "write({SIZE}) returned {n}");
                }
                let back = read_file(&name)?;
                ensure!(
                    back == data,
                    "round {round}: mw{child} did not read back as written"
                );
                ensure!(unlink(&name) == 0, "unlink mw{child} failed");
            }
            Ok(())
        })?);
    }
    join_all(children)
}

// ---------------------------------------------------------------------------
// Memory.

/// Allocates `layout`-sized blocks until the allocator says no, linking
/// each to the one before through its first word. Returns how many it got
/// and the last one (null if none).
fn allocate_all(layout: Layout) -> (usize, *mut u8) {
    let mut last: *mut u8 = ptr::null_mut();
    let mut count = 0;
    loop {
        // SAFETY: the layout is not zero-sized.
        let block = unsafe { alloc::alloc::alloc(layout) };
        if block.is_null() {
            return (count, last);
        }
        // SAFETY: the block is ours, aligned for a pointer and bigger than
        // one.
        unsafe { block.cast::<*mut u8>().write(last) };
        last = block;
        count += 1;
    }
}

/// Frees every block of a chain that [`allocate_all`] made.
///
/// # Safety
/// `last` must be what `allocate_all(layout)` returned, and nothing may
/// use its blocks any more.
unsafe fn free_all(layout: Layout, mut last: *mut u8) {
    while !last.is_null() {
        // SAFETY: each block holds the one before it (the caller's promise).
        let before = unsafe { last.cast::<*mut u8>().read() };
        // SAFETY: the block came from `alloc` with this layout and is no
        // longer used.
        unsafe { alloc::alloc::dealloc(last, layout) };
        last = before;
    }
}

/// A process allocates 10 001-byte blocks, as xv6's test does, until
/// memory runs out, frees them all, and allocates again: the freed memory
/// is all there, so it gets at least as many blocks the second time, and
/// then a 20 KiB block. (Nothing here may allocate between the counts: the
/// messages are made afterwards.) Tens of thousands of blocks, of a size
/// that does not divide the allocator's 64 KiB growth: the allocator must
/// not leave a piece of every growth behind to walk (umalloc.rs).
fn mem() -> TestResult {
    let layout = Layout::from_size_align(10_001, 8).expect("a valid layout");
    let (first, chain) = allocate_all(layout);
    // SAFETY: the chain was just made, and nothing else refers to it.
    unsafe { free_all(layout, chain) };
    let (second, chain) = allocate_all(layout);
    // SAFETY: as above.
    unsafe { free_all(layout, chain) };
    let big = Layout::from_size_align(20 * 1024, 8).expect("a valid layout");
    // SAFETY: the layout is not zero-sized.
    let block = unsafe { alloc::alloc::alloc(big) };
    let got_big = !block.is_null();
    if got_big {
        // SAFETY: the block was just allocated with this layout.
        unsafe { alloc::alloc::dealloc(block, big) };
    }
    ensure!(
        first > 100,
        "only {first} blocks of 10 001 bytes could be allocated"
    );
    ensure!(
        second >= first,
        "{first} blocks the first time, only {second} after freeing them"
    );
    ensure!(
        got_big,
        "a 20 KiB block could not be allocated after freeing"
    );
    Ok(())
}

/// Processes that take all memory and sit on it: while they do, fork fails
/// cleanly; once they are killed, every page comes back.
fn sbrkfail() -> TestResult {
    const HOGS: usize = 4;
    // Allocated first: while the hogs hold all memory we could not grow the
    // heap, and growing it after the first count would look like a leak.
    let mut hogs = Vec::with_capacity(HOGS);
    let before = countfree();
    let mut ends = [0; 2];
    ensure!(pipe(&mut ends) == 0);
    let [read_end, write_end] = ends;
    for _ in 0..HOGS {
        match fork() {
            0 => {
                grab_all_memory();
                write(write_end, b"1");
                loop {
                    sleep(1000);
                }
            }
            // Out of memory, or of process slots: fork must just fail.
            pid if pid < 0 => {}
            pid => {
                hogs.push(pid);
                let mut byte = [0u8];
                read(read_end, &mut byte);
            }
        }
    }
    let forked = hogs.len();
    for &pid in &hogs {
        kill(pid);
    }
    for _ in 0..forked {
        wait(None);
    }
    close(read_end);
    close(write_end);
    let after = countfree();
    ensure!(forked > 0, "no process could be forked");
    ensure!(
        before > 0 && after == before,
        "{before} free pages before the hogs, {after} after they were killed"
    );
    Ok(())
}

/// exec with almost no memory left: it must either fail cleanly or run the
/// program, never crash or leak.
fn execout() -> TestResult {
    for spare in [0, 16, 128] {
        let pid = fork();
        if pid == 0 {
            // Echo's output goes to a file, made before memory runs out.
            close(1);
            if open(c"execout.out", O_CREATE | O_WRONLY | O_TRUNC) != 1 {
                exit(2);
            }
            // exec's arguments are built before memory runs out, too.
            let argv = [
                c"echo".as_ptr().cast::<u8>(),
                c"x".as_ptr().cast::<u8>(),
                ptr::null(),
            ];
            grab_all_memory();
            // SAFETY: this gives back pages grab_all_memory took, which
            // nothing refers to.
            unsafe { sbrk(-((spare * PGSIZE) as isize)) };
            exec(c"/echo", &argv);
            exit(0);
        }
        ensure!(pid > 0, "fork failed");
        let status = wait_for(pid)?;
        ensure!(
            status == 0,
            "with {spare} pages spare, the child exited with status {status}"
        );
    }
    let output = read_file(c"execout.out")?;
    ensure!(unlink(c"execout.out") == 0);
    ensure!(
        output == b"x\n",
        "with 128 pages spare, echo wrote \"{}\"",
        Text(&output)
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// Running out of disk.

/// Creates files `zzN` in the current directory until a create fails or
/// `limit` exist; returns how many it made.
fn create_until_full(limit: usize) -> usize {
    (0..limit)
        .take_while(|i| {
            let fd = open(&path!("zz{i}"), O_CREATE | O_RDWR);
            close(fd);
            fd >= 0
        })
        .count()
}

/// Removes the files `zz0` .. `zz{count - 1}`.
fn remove_zz(count: usize) -> TestResult {
    for i in 0..count {
        ensure!(unlink(&path!("zz{i}")) == 0, "unlink zz{i} failed");
    }
    Ok(())
}

/// Files are created until no inode is left: the create fails with -1
/// (before NINODES files, which the disk's own files share). Once they are
/// removed, exactly as many can be created again: none leaked.
fn outofinodes() -> TestResult {
    const LIMIT: usize = NINODES as usize;
    ensure!(mkdir(c"inodes.d") == 0);
    ensure!(chdir(c"inodes.d") == 0);
    let first = create_until_full(LIMIT);
    remove_zz(first)?;
    let second = create_until_full(LIMIT);
    remove_zz(second)?;
    ensure!(chdir(c"..") == 0);
    ensure!(unlink(c"inodes.d") == 0);
    ensure!(
        first < LIMIT,
        "{first} files were created: inodes never ran out"
    );
    ensure!(first > 0, "no file could be created");
    ensure!(
        second == first,
        "{first} files could be created, then {second} once they were gone"
    );
    Ok(())
}

/// Fills the disk with files `bigN` of up to MAXFILE blocks, in the
/// current directory, until a write comes up short; checks that each file
/// holds what the writes said they wrote. Returns how many files it made
/// and how many blocks' worth of data they hold.
fn fill_disk() -> Result<(usize, usize), String> {
    let block = [0x5au8; BSIZE];
    let mut blocks = 0;
    // The disk holds fewer than this many full files.
    for file in 0..FSSIZE as usize / MAXFILE + 1 {
        let name = path!("big{file}");
        let fd = create(&name)?;
        let mut bytes = 0;
        let mut full = false;
        for _ in 0..MAXFILE {
            let n = write(fd, &block);
            ensure!(n <= BSIZE as isize, "a write of {BSIZE} bytes returned {n}");
            bytes += n.max(0) as usize;
            if n < BSIZE as isize {
                full = true;
                break;
            }
        }
        close(fd);
        let size = stat(&name)?.size;
        ensure!(
            size == bytes as u64,
            "big{file} has {size} bytes, but its writes said {bytes}"
        );
        blocks += bytes.div_ceil(BSIZE);
        if full {
            return Ok((file + 1, blocks));
        }
    }
    Err(String::from("the disk never filled up"))
}

/// Removes the files `big0` .. `big{count - 1}`.
fn remove_big(count: usize) -> TestResult {
    for file in 0..count {
        ensure!(unlink(&path!("big{file}")) == 0, "unlink big{file} failed");
    }
    Ok(())
}

/// The disk fills up cleanly. Files are written until a write comes up
/// short; then new names go into the directory until it needs a block it
/// cannot have, and a new directory (which needs a block) cannot be made.
/// Each refusal is a -1 or a short count, not a panic. Once everything is
/// removed, the disk takes exactly as many blocks again: none leaked.
fn diskfull() -> TestResult {
    ensure!(mkdir(c"diskfull.d") == 0);
    ensure!(chdir(c"diskfull.d") == 0);
    let (files, blocks) = fill_disk()?;
    // A directory block holds BSIZE / 16 = 64 entries.
    let names = create_until_full(BSIZE / DirEntry::SIZE + 1);
    let made_dir = mkdir(c"sub") == 0;
    remove_zz(names)?;
    if made_dir {
        unlink(c"sub");
    }
    remove_big(files)?;
    ensure!(
        names <= BSIZE / DirEntry::SIZE,
        "{names} names fit in a directory on a full disk"
    );
    ensure!(!made_dir, "mkdir succeeded on a full disk");

    let (files_again, blocks_again) = fill_disk()?;
    remove_big(files_again)?;
    ensure!(chdir(c"..") == 0);
    ensure!(unlink(c"diskfull.d") == 0);
    ensure!(blocks > 0, "no block could be written");
    ensure!(
        blocks_again == blocks,
        "{blocks} blocks fit on the disk, then {blocks_again} once the files were gone"
    );
    Ok(())
}
