//! cowtest: checks copy-on-write `fork` (kernel/src/vm.rs, "Copy-on-write
//! fork"), in the manner of xv6's cowtest.
//!
//! `fork` copies no page: parent and child share every page of memory
//! until one of them writes to it, and only then does the writer get a copy
//! of that one page. Each check below shows one consequence, and runs in a
//! child of its own ([`ulib::testing::run_checks_in_children`]), so that
//! the memory it grows ends with it. The checks:
//!
//! - fork itself allocates far fewer pages than the process has, and a
//!   process may fork while it holds more memory than is left free, which
//!   no copying fork could do;
//! - parent and children writing most of a heap larger than half of free
//!   memory, at once, each see their own values, and a parent reading
//!   while its children write sees its own;
//! - the kernel's own writes into a shared page (`read` from a pipe or a
//!   file) copy it first, so only the reader sees the bytes;
//! - `exec` after `fork`, and a storm of forks whose children write a
//!   little, leave the parent's memory intact and give back every page;
//! - shared memory (`shm_map`) stays truly shared across `fork`: it is
//!   never copied;
//! - when there is no memory for a copy, the writer dies (the kernel prints
//!   `pid N NAME: out of memory copying the copy-on-write page at ...--kill
//!   proc`), or its `read` fails, and the parent and the kernel carry on.
//!
//! Sizes are fractions of the free memory, counted as the harness counts it
//! ([`countfree`]: a child takes every free page), so the checks mean the
//! same whatever memory QEMU has. The heap is written and read one 64-bit
//! word per page, the page's *tag*: enough to tell whose copy a page is,
//! and cheap under emulation.
//!
//! `cowtest --exec-child` is what the exec check runs; it is not meant to
//! be typed.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::hint::black_box;
use core::ops::Range;
use core::ptr;

use abi::fcntl::O_RDONLY;
use ulib::shm::Shm;
use ulib::testing::{
    Check, CheckResult, Pipe, countfree, expect_killed, expect_status, grab_all_memory, grow_heap,
    in_child, join_all, make_file, run_checks_in_children, spawn, spawn_check, wait_all,
};
use ulib::{
    Args, PGSIZE, ensure, ensure_eq, eprintln, exec_args, exit, fork, open, read, unlink, wait,
    write,
};

ulib::entry!(main);

/// Every check, in the order they run.
const CHECKS: &[Check] = &[
    ("fork_allocates_few_pages", fork_allocates_few_pages),
    ("fork_more_than_free_memory", fork_more_than_free_memory),
    ("parent_and_child_write", parent_and_child_write),
    ("children_write_parent_reads", children_write_parent_reads),
    ("pipe_read_into_shared_page", pipe_read_into_shared_page),
    ("file_read_into_shared_page", file_read_into_shared_page),
    ("exec_after_fork", exec_after_fork),
    ("fork_storm", fork_storm),
    ("shared_memory_stays_shared", shared_memory_stays_shared),
    ("out_of_memory_kills_writer", out_of_memory_kills_writer),
    ("out_of_memory_fails_read", out_of_memory_fails_read),
];

/// The argument with which the exec check runs this program again.
const EXEC_CHILD: &[u8] = b"--exec-child";

fn main(args: Args) -> i32 {
    match args.get(1) {
        None => run_checks_in_children("cowtest", CHECKS),
        Some(EXEC_CHILD) => match exec_child() {
            Ok(()) => 0,
            Err(why) => {
                eprintln!("cowtest --exec-child: {why}");
                1
            }
        },
        Some(_) => {
            eprintln!("usage: cowtest");
            1
        }
    }
}

// ---------------------------------------------------------------------------
// The heap, a tag per page.

/// Pages of heap grown for a check. Page `i` holds, in its first word, a
/// tag saying who wrote it last: [`tag`]`(writer, i)`.
struct Heap {
    base: usize,
    pages: usize,
}

/// Who wrote a page: the owner's number in the high half, the page's
/// index in the low one, so that no two pages, nor two writers, share a
/// tag (and a zero page has none).
fn tag(writer: u64, page: usize) -> u64 {
    (writer << 32) | page as u64
}

/// The tag of pages that the process which grew the heap wrote.
const ORIGINAL: u64 = 1;

impl Heap {
    /// Grows the heap by `pages` pages (page-aligned) and tags each one
    /// [`ORIGINAL`], so that all of them are really allocated.
    fn grow(pages: usize) -> Result<Heap, String> {
        // One page more, in case the break is not page-aligned.
        let start = grow_heap((pages + 1) * PGSIZE);
        ensure!(start != -1, "sbrk of {} pages failed", pages + 1);
        let heap = Heap {
            base: (start as usize).next_multiple_of(PGSIZE),
            pages,
        };
        heap.write(0..pages, ORIGINAL);
        Ok(heap)
    }

    /// The address of page `i`.
    fn page(&self, i: usize) -> usize {
        assert!(i < self.pages, "page {i} of a heap of {}", self.pages);
        self.base + i * PGSIZE
    }

    /// Writes `writer`'s tag to every page of `pages`.
    fn write(&self, pages: Range<usize>, writer: u64) {
        for i in pages {
            let word: *mut u64 = ptr::with_exposed_provenance_mut(self.page(i));
            // SAFETY: sbrk gave this process the page, which nothing else
            // of the program uses; the write is volatile so that it
            // happens, and faults if it must, exactly where it stands.
            unsafe { word.write_volatile(tag(writer, i)) };
        }
    }

    /// The tag page `i` holds.
    fn read(&self, i: usize) -> u64 {
        let word: *const u64 = ptr::with_exposed_provenance(self.page(i));
        // SAFETY: as in `write`; a read.
        unsafe { word.read_volatile() }
    }

    /// Checks that every page of `pages` holds `writer`'s tag; `who` says
    /// whose view it is.
    fn expect(&self, pages: Range<usize>, writer: u64, who: &str) -> CheckResult {
        for i in pages {
            let got = self.read(i);
            ensure!(
                got == tag(writer, i),
                "{who} sees {got:#x} in page {i} of {}, expected {:#x}",
                self.pages,
                tag(writer, i)
            );
        }
        Ok(())
    }
}

/// The free pages, as the harness counts them.
fn free_pages() -> Result<usize, String> {
    usize::try_from(countfree()).map_err(|_| String::from("counting the free pages failed"))
}

/// `free` pages times `numerator / denominator`.
fn part(free: usize, numerator: usize, denominator: usize) -> usize {
    free * numerator / denominator
}

/// Writes to a few pages of stack below this call, so that a child copies
/// them now, while there is memory, rather than in the middle of a deed
/// that needs every free page.
fn touch_stack() {
    let mut below = [0u8; 4 * PGSIZE];
    black_box(&mut below);
}

// ---------------------------------------------------------------------------
// Sharing instead of copying.

/// A fork of a process with a heap of a quarter of free memory allocates
/// only page tables and the few pages the child writes, far fewer than
/// the heap has; the parent's count of free pages comes back once the
/// child is gone.
fn fork_allocates_few_pages() -> CheckResult {
    let heap = Heap::grow(part(free_pages()?, 1, 4))?;
    let before = free_pages()?;
    let mut hold = Pipe::new()?;
    let child = spawn_check(|| {
        hold.close_write();
        // Holds its share of the heap, writing nothing, until the parent
        // has counted.
        hold.receive();
        heap.expect(0..heap.pages, ORIGINAL, "the child")
    })?;
    hold.close_read();
    let during = free_pages()?;
    hold.close_write();
    child.join()?;
    let after = free_pages()?;
    let allocated = before.saturating_sub(during);
    ensure!(
        allocated < heap.pages / 16,
        "fork of a process with a {}-page heap allocated {allocated} pages \
         ({before} free before, {during} while the child lived)",
        heap.pages
    );
    ensure_eq!(after, before, "free pages once the child had exited");
    heap.expect(0..heap.pages, ORIGINAL, "the parent")
}

/// With two thirds of free memory in its heap, a process can still fork
/// (a fork that copied would need more memory than is left), and parent
/// and child each see their own writes.
fn fork_more_than_free_memory() -> CheckResult {
    let heap = Heap::grow(part(free_pages()?, 2, 3))?;
    let last = heap.pages - 1;
    in_child(|| {
        heap.expect(0..heap.pages, ORIGINAL, "the child")?;
        heap.write(0..16, 2);
        heap.write(last..last + 1, 2);
        heap.expect(0..16, 2, "the child, after its writes")
    })?;
    heap.expect(0..heap.pages, ORIGINAL, "the parent, after the child wrote")?;
    heap.write(0..heap.pages, 3);
    heap.expect(0..heap.pages, 3, "the parent, after its own writes")
}

/// Parent and child write most of a heap of more than half of free memory
/// at the same time, each its own tag: the pages that either writes cost
/// one copy each (the first writer copies, the second takes over the
/// original), and each sees its own writes and the original tag elsewhere.
fn parent_and_child_write() -> CheckResult {
    let heap = Heap::grow(part(free_pages()?, 11, 20))?;
    // What is left free (9/20) holds a copy of the written part (3/4 of
    // 11/20) with room to spare for page tables.
    let written = part(heap.pages, 3, 4);
    let mut go = Pipe::new()?;
    let child = spawn_check(|| {
        go.close_write();
        go.receive();
        heap.write(0..written, 2);
        heap.expect(0..written, 2, "the child")?;
        heap.expect(written..heap.pages, ORIGINAL, "the child")
    })?;
    go.close_read();
    go.close_write(); // the child starts as the parent does
    heap.write(0..written, 3);
    heap.expect(0..written, 3, "the parent")?;
    heap.expect(written..heap.pages, ORIGINAL, "the parent")?;
    child.join()
}

/// Two children write all but a few pages of a heap of a quarter of free
/// memory while the parent reads it, over and over: the parent sees only
/// its own tags, each child only its own; then the parent writes too.
fn children_write_parent_reads() -> CheckResult {
    let heap = Heap::grow(part(free_pages()?, 1, 4))?;
    let written = heap.pages - 10;
    let children = (2..4)
        .map(|writer| {
            spawn_check(|| {
                heap.write(0..written, writer);
                heap.expect(0..written, writer, "a child")?;
                heap.expect(written..heap.pages, ORIGINAL, "a child")
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    for _ in 0..3 {
        heap.expect(
            0..heap.pages,
            ORIGINAL,
            "the parent, while its children write",
        )?;
    }
    join_all(children)?;
    heap.write(0..heap.pages, 4);
    heap.expect(0..heap.pages, 4, "the parent, after its own writes")
}

// ---------------------------------------------------------------------------
// The kernel writing into shared pages.

/// The bytes a reader expects: different for every offset and message.
fn message(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| seed.wrapping_mul(37).wrapping_add(i as u8) | 1)
        .collect()
}

/// The `len` bytes at address `at`.
fn bytes_at(at: usize, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| {
            let byte: *const u8 = ptr::with_exposed_provenance(at + i);
            // SAFETY: the checks pass addresses inside their heap.
            unsafe { byte.read_volatile() }
        })
        .collect()
}

/// A buffer of `len` bytes at `at`, for `read` to fill.
///
/// # Safety
/// `at..at + len` must be heap pages of this process that no other Rust
/// reference points into while the slice lives.
unsafe fn buffer_at<'a>(at: usize, len: usize) -> &'a mut [u8] {
    // SAFETY: per the caller's promise.
    unsafe { core::slice::from_raw_parts_mut(ptr::with_exposed_provenance_mut(at), len) }
}

/// How many bytes of each read straddle a page boundary: the kernel's copy
/// into user memory must copy both pages first.
const STRADDLE: usize = 300;

/// A child `read`s from a pipe into two pages it shares with its parent,
/// across their boundary: the kernel copies the pages before it writes, so
/// the child gets the bytes and the parent's pages keep their tags. Then
/// the parent reads into its pages while another child still shares them.
fn pipe_read_into_shared_page() -> CheckResult {
    let heap = Heap::grow(2)?;
    let at = heap.page(1) - STRADDLE;
    let sent = message(5, 2 * STRADDLE);
    let pipe = Pipe::new()?;
    in_child(|| {
        // SAFETY: heap pages, and no reference points into them.
        let buffer = unsafe { buffer_at(at, sent.len()) };
        write(pipe.write_end(), &sent);
        ensure_eq!(read(pipe.read_end(), buffer), sent.len() as isize, "read");
        ensure!(
            bytes_at(at, sent.len()) == sent,
            "the child read other bytes"
        );
        Ok(())
    })?;
    heap.expect(0..2, ORIGINAL, "the parent, after its child's read")?;

    let mut hold = Pipe::new()?;
    let child = spawn_check(|| {
        hold.close_write();
        hold.receive();
        heap.expect(0..2, ORIGINAL, "a child, after its parent's read")
    })?;
    hold.close_read();
    // SAFETY: as above.
    let buffer = unsafe { buffer_at(at, sent.len()) };
    write(pipe.write_end(), &sent);
    let got = read(pipe.read_end(), buffer);
    hold.close_write();
    child.join()?;
    ensure_eq!(got, sent.len() as isize, "the parent's read");
    ensure!(
        bytes_at(at, sent.len()) == sent,
        "the parent read other bytes"
    );
    Ok(())
}

/// The same with a file: a child's `read` from a file into shared pages
/// gives it the file's bytes, and leaves the parent's pages as they were.
fn file_read_into_shared_page() -> CheckResult {
    const PATH: &core::ffi::CStr = c"cowtest.file";
    let contents = message(9, 2 * STRADDLE);
    make_file(PATH, &contents)?;
    let heap = Heap::grow(2)?;
    let at = heap.page(1) - STRADDLE;
    let verdict = in_child(|| {
        let fd = open(PATH, O_RDONLY);
        ensure!(fd >= 0, "cannot open the file");
        // SAFETY: heap pages, and no reference points into them.
        let buffer = unsafe { buffer_at(at, contents.len()) };
        ensure_eq!(read(fd, buffer), contents.len() as isize, "read");
        ensure!(
            bytes_at(at, contents.len()) == contents,
            "the child read other bytes"
        );
        Ok(())
    });
    unlink(PATH);
    verdict?;
    heap.expect(0..2, ORIGINAL, "the parent, after its child's read")
}

// ---------------------------------------------------------------------------
// Processes coming and going.

/// A child that `exec`s right after `fork` lets go of the pages it shared
/// with its parent: the parent's heap keeps its tags, and once the new
/// program (this one, with `--exec-child`, which forks and writes a heap of
/// its own) has exited, every page is back.
fn exec_after_fork() -> CheckResult {
    let heap = Heap::grow(64)?;
    let before = free_pages()?;
    let pid = spawn(|| {
        let args = ["cowtest", "--exec-child"];
        exec_args("cowtest", &args);
        exec_args("/cowtest", &args);
        eprintln!("cowtest: exec of cowtest failed");
        1
    })?;
    expect_status(pid, 0).map_err(|why| format!("the exec'd program: {why}"))?;
    heap.expect(0..heap.pages, ORIGINAL, "the parent")?;
    ensure_eq!(
        free_pages()?,
        before,
        "free pages after the exec'd program exited"
    );
    Ok(())
}

/// The program the exec check runs: copy-on-write in a process that exec
/// made, one level down.
fn exec_child() -> CheckResult {
    let heap = Heap::grow(32)?;
    in_child(|| {
        heap.write(0..16, 2);
        heap.expect(0..16, 2, "the exec'd program's child")
    })?;
    heap.expect(0..heap.pages, ORIGINAL, "the exec'd program")
}

/// Rounds of children, forked at once, each writing a page of the heap
/// and its stack, some forking a grandchild that writes too; then the
/// parent's heap is unchanged and every page is back.
///
/// The pages are counted after the first round: this process is a child
/// too (of the runner, which shares its pages), so the first time it
/// writes a page of its own stack or heap, the page is copied. The first
/// round makes every write the others make, so that what the count then
/// sees is the storm alone.
fn fork_storm() -> CheckResult {
    const ROUNDS: usize = 8;
    const CHILDREN: usize = 20;
    let heap = Heap::grow(CHILDREN)?;
    storm_round(&heap, 0)?;
    let before = free_pages()?;
    for round in 1..ROUNDS {
        storm_round(&heap, round)?;
    }
    heap.expect(0..heap.pages, ORIGINAL, "the parent")?;
    ensure_eq!(free_pages()?, before, "free pages after the storm");
    Ok(())
}

/// One round of [`fork_storm`]: a child for each page of `heap`.
fn storm_round(heap: &Heap, round: usize) -> CheckResult {
    let writer = 2 + round as u64;
    let mut pids = Vec::new();
    for i in 0..heap.pages {
        pids.push(spawn(|| {
            heap.write(i..i + 1, writer);
            if i % 4 == 0 {
                match fork() {
                    0 => {
                        heap.write(i..i + 1, writer + 100);
                        exit(0)
                    }
                    pid if pid < 0 => return 2,
                    _ => {
                        let mut status = -1;
                        wait(Some(&mut status));
                        if status != 0 {
                            return 3;
                        }
                    }
                }
            }
            i32::from(heap.read(i) != tag(writer, i))
        })?);
    }
    let statuses = wait_all(&pids)?;
    ensure!(
        statuses.iter().all(|&status| status == 0),
        "round {round}: children exited with {statuses:?}"
    );
    Ok(())
}

/// Shared memory is never copied: what a child writes into an object it
/// inherited the mapping of, its parent sees, and the other way round,
/// while a private heap page the child writes stays the parent's own.
fn shared_memory_stays_shared() -> CheckResult {
    let mut shm = Shm::open("cowtest").map_err(|e| format!("shm_open: {e}"))?;
    shm.trunc(2 * PGSIZE)
        .map_err(|e| format!("shm_trunc: {e}"))?;
    let mapping = shm.map_rw().map_err(|e| format!("shm_map: {e}"))?;
    mapping.fill(0..2 * PGSIZE, 1);
    let heap = Heap::grow(1)?;
    let mut go = Pipe::new()?;
    let child = spawn_check(|| {
        go.close_write();
        heap.write(0..1, 2);
        mapping.fill(0..PGSIZE, 2);
        go.receive();
        ensure!(
            (PGSIZE..2 * PGSIZE).all(|i| mapping.load(i) == 3),
            "the child does not see its parent's writes to shared memory"
        );
        Ok(())
    })?;
    go.close_read();
    mapping.fill(PGSIZE..2 * PGSIZE, 3);
    go.close_write();
    child.join()?;
    ensure!(
        (0..PGSIZE).all(|i| mapping.load(i) == 2),
        "the parent does not see its child's writes to shared memory"
    );
    heap.expect(0..1, ORIGINAL, "the parent")
}

// ---------------------------------------------------------------------------
// Out of memory.

/// A child that has taken every free page and then writes to a page it
/// shares with its parent cannot get a copy: the kernel kills it (and
/// says so on the console), the parent's page keeps its tag, and every
/// page comes back.
fn out_of_memory_kills_writer() -> CheckResult {
    let heap = Heap::grow(1)?;
    let before = free_pages()?;
    expect_killed("writing a shared page with no memory free", || {
        touch_stack();
        grab_all_memory();
        heap.write(0..1, 2);
        Ok(())
    })?;
    heap.expect(0..1, ORIGINAL, "the parent")?;
    ensure_eq!(free_pages()?, before, "free pages after the writer died");
    Ok(())
}

/// With no memory free, a `read` into a page the reader shares fails (-1)
/// and writes nothing: the reader lives on, and the bytes stay in the
/// pipe for the next reader.
fn out_of_memory_fails_read() -> CheckResult {
    let heap = Heap::grow(1)?;
    let sent = message(7, 64);
    let pipe = Pipe::new()?;
    write(pipe.write_end(), &sent);
    let before = free_pages()?;
    in_child(|| {
        touch_stack();
        grab_all_memory();
        // SAFETY: a heap page, and no reference points into it.
        let buffer = unsafe { buffer_at(heap.page(0) + 64, sent.len()) };
        let got = read(pipe.read_end(), buffer);
        ensure_eq!(got, -1, "a read into a shared page with no memory free");
        heap.expect(0..1, ORIGINAL, "the reader, after its read failed")
    })?;
    let mut again = [0u8; 64];
    ensure_eq!(
        read(pipe.read_end(), &mut again),
        sent.len() as isize,
        "reading what the failed read left"
    );
    ensure!(again[..] == sent[..], "the pipe lost or changed bytes");
    ensure_eq!(free_pages()?, before, "free pages after the reader exited");
    Ok(())
}
