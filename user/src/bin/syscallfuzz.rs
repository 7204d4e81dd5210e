//! syscallfuzz: throws random system calls at the kernel and checks that it
//! survives them.
//!
//! The claim under test is the kernel's promise to user programs: nothing a
//! program does — no call, no argument, no order of calls — can panic the
//! kernel, wedge it, or make it lose memory. Each `fuzz_seed_N` check runs a
//! few rounds; a round forks a *fuzz child* that makes
//! [`CALLS_PER_ROUND`] system calls chosen by a pseudo-random generator
//! seeded from N, the round number and the seed given on the command line
//! (`syscallfuzz [SEED]`, 0 without one), so every run with the same seed
//! makes the same calls with the same arguments and a failure can be
//! reproduced.
//!
//! # Valid and hostile calls
//!
//! A call that fails at the first check of its arguments tests little, so
//! the fuzz child keeps track of its own state ([`Fuzzer`]): which file
//! descriptors it has open and what they are (files, directories, both
//! ends of pipes, dup'ed or closed, and how many bytes wait in each pipe),
//! which shared-memory objects it has open, sized and mapped, which
//! children it has forked, how deep below its starting directory it is.
//! About half of its calls are *valid*: made from that state, with the
//! arguments a correct program would pass, so that they reach the
//! interesting states: objects really mapped, touched (every page read,
//! the writable ones written) and closed, by this process and by children
//! that inherited the mappings; pipes written, read, drained, and
//! broken; files created, linked, written, read at their end, unlinked
//! while open. The rest are *hostile*, with arguments drawn from pools of
//! values that tend to find bugs ([`Fuzzer::argument`]): 0, -1, 16,
//! `i32::MAX`, `u64::MAX`, 2³²; pointers to a real buffer, with a fitting or
//! an enormous length, to its last byte, to the last byte of the stack and
//! of the heap, to page 0, to the guard page below the stack, into the
//! shared-memory window, to the last user address, to the first
//! non-canonical address and into the kernel; paths from a small pool
//! (`fa`, `fa/fb`, `.`, `..`, the empty path, a name of exactly `DIRSIZ`
//! bytes and one longer, a string that runs into an unmapped page); argv
//! arrays with a bad element or without their terminating null; every
//! `open` flag; shared-memory names that are empty or too long. Now and
//! then an argument comes from the wrong pool altogether. Numbers no call
//! has (0, 28, 1000, `u64::MAX`) must return -1, which the child checks.
//!
//! # The processes it forks
//!
//! Every `fork` makes a child of one of a few kinds, each of which ends by
//! itself within a few ticks ([`Fuzzer::be_child`]): one that exits at
//! once with a hostile status; one that touches every mapping it inherited
//! and closes the objects; one that runs `echo` while objects are mapped
//! and descriptors open (`exec` closes the one and keeps the other); one
//! that sleeps, for the fuzz child to `kill` and `wait` for; and, for
//! `shm_wait`, one that changes the word its parent waits on and wakes
//! it. Once in a while a round forks sleepers until `fork` fails, because
//! the process table is full.
//!
//! # What is left out or tamed
//!
//! Some arguments would reach beyond the fuzz child, or stop it for good:
//!
//! - `kill` gets only pids no live process has (children already reaped,
//!   0, -1, init's, which the kernel refuses) or, as a valid call, a
//!   sleeper of its own: any other pid might be the test program or its
//!   watchdog.
//! - `mknod` never gets the console's major number: a console device file
//!   would let the child read the keyboard and write the serial line.
//! - `chdir` never gets `/`, and `..` only below where the child started,
//!   so the child stays inside [`FUZZDIR`] and every file it makes is there
//!   for the clean-up to find.
//! - `exit` is made by the children, not by the fuzz child, whose rounds
//!   would end early.
//! - A `read` or `write` that could block for ever (an empty pipe whose
//!   write end the child holds, a pipe that would fill), and a `shm_wait`
//!   on a word that holds what it expects with nobody to wake it, get an
//!   argument that makes them fail instead ([`Fuzzer::tame`]).
//! - No argument points into the coverage page, and `shm_close` never
//!   gets its descriptor (see below).
//!
//! # Coverage
//!
//! Every process of every round counts each call it makes, by number, as
//! a success or a failure (-1), on one page of shared memory ([`Coverage`])
//! that the test program maps before the rounds; the `coverage` check then
//! prints one line per call, `syscallfuzz: coverage NAME(N) ok=X err=Y`,
//! and fails if any call succeeded or failed fewer than [`MIN_COUNT`]
//! times (except for the calls that cannot fail, [`CANNOT_FAIL`]).
//!
//! # Why the child closes descriptors 0, 1 and 2
//!
//! They are the console, and the test harness reads the serial line for
//! `PASS` and `FAIL` lines. Random writes to them would put noise, or a
//! forged verdict, into that log. Closed, the descriptor numbers are free
//! for the files and pipes the child opens.
//!
//! # Why a watchdog
//!
//! Some random calls rightly block for ever: a sleep of `i32::MAX` ticks,
//! a `shm_wait` on a word of a mapping the child cannot follow. So each
//! round forks, besides the fuzz child, a watchdog that sleeps
//! [`WATCHDOG_TICKS`] and then kills the fuzz child. The test waits for the
//! fuzz child, then kills and reaps the watchdog. What the round asserts
//! is that the child ended, by finishing its calls or by the watchdog's
//! hand (never by a fault: it touches only memory it knows it has), that
//! the kernel is still alive to say so, and that no process is left over.
//!
//! # The fuzz child's own memory
//!
//! The kernel may write wherever a pointer argument lets it, so the child
//! keeps what it relies on where no hostile pointer reaches. Its state
//! lives in the frame of [`fuzz_loop`]; the buffer it lends the kernel
//! lives in the frame of its caller, [`fuzz_child`], higher on the stack,
//! so a read that overruns the buffer runs away from that state, into
//! frames the child never returns to and into the heap, which it no longer
//! uses: after `fork` it allocates nothing. (Valid calls do pass pointers
//! into the frame: to a `Stat`, an `int` for `wait`, two for `pipe`, a
//! word for `shm_map`'s address, each exactly as big as the kernel
//! writes.) The paths it passes are string literals, in read-only memory,
//! and its unterminated string sits on a shared-memory page mapped
//! read-only ([`read_only_page`]): nothing the kernel writes for a call
//! can turn them into a name the clean-up does not expect.
//!
//! # Random instructions
//!
//! `random_instructions` fuzzes the other way into the kernel: not system
//! calls but whatever the CPU can be made to do in user mode. The program
//! carries [`FUZZ_CODE`], `SLOTS` short runs of pseudo-random bytes in its
//! own text (made at compile time, so every build runs the same bytes),
//! each followed by a landing: a few `nop`s to fall back into step, then
//! an `exit(RAN_THROUGH)`. [`SEQUENCES`] times a child sets every
//! general-purpose register to a value from a pool of interesting ones
//! (zero, all ones, its own stack and text, the shared-memory window, the
//! last user address, the first non-canonical one, the kernel's direct map
//! and image) and jumps into a slot. Most sequences fault at once (an
//! invalid opcode, a privileged instruction, a wild pointer) and the kernel
//! kills the child with a trap line; some run into the landing; a few
//! loop, and a single watchdog process, told each child's pid and start
//! time through a shared-memory page, kills any that runs too long. The
//! check asserts that every child ended, and prints how they did.
//!
//! # Afterwards
//!
//! When a check's rounds are done, the test removes everything in
//! [`FUZZDIR`], then the directory itself; a name the fuzzer could not
//! have made fails the check. `shm_table_empty` then shows that every
//! slot of the shared-memory table is free again, `kernel_still_works`
//! that files, pipes, shared memory, `fork` and `exec` still work, and the
//! runner's `no_leaks` that no page of memory went missing. Just before
//! that, `fork_while_closing` races two calls that the fuzz children
//! caught deadlocking each other now and then, so that the deadlock, if it
//! is there, shows in every run.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::arch::asm;
use core::ffi::CStr;
use core::hint::black_box;
use core::ptr;
use core::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use abi::device::CONSOLE;
use abi::fcntl::{NOFILE, O_CREATE, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, PIPESIZE};
use abi::memlayout::{DIRECT_MAP, KERNBASE, USER_TOP};
use abi::shm::{NSHMPROC, SHM_END, SHM_MAXSIZE, slot_address};
use abi::splitmix::SplitMix;
use abi::stat::{Stat, T_DIR};
use abi::syscall::*;
use ulib::shm::{Shm, shm_close, shm_map, shm_open, shm_trunc};
use ulib::string::Text;
use ulib::testing::{
    Check, CheckResult, Pipe, dir_names, fill_shm_table, in_child, join_all, make_file, probe_read,
    probe_write, read_file, run_checks, spawn, spawn_check, stat, wait_for,
};
use ulib::usys::syscall3;
use ulib::{
    Args, PGSIZE, SHMBASE, USER_STACK_PAGES, chdir, close, ensure, eprintln, exec_args, exit, fork,
    fstat, kill, mkdir, open, pipe, println, read, sbrk, sleep, unlink, uptime, wait, write,
};

ulib::entry!(main);

/// Every check, in the order they run.
const CHECKS: &[Check] = &[
    ("fuzz_seed_1", || fuzz(1)),
    ("fuzz_seed_2", || fuzz(2)),
    ("fuzz_seed_3", || fuzz(3)),
    ("fuzz_seed_4", || fuzz(4)),
    ("fuzz_seed_5", || fuzz(5)),
    ("fuzz_seed_6", || fuzz(6)),
    ("fuzz_seed_7", || fuzz(7)),
    ("fuzz_seed_8", || fuzz(8)),
    // After every fuzz check: it prints and judges their counts.
    ("coverage", coverage),
    ("random_instructions", random_instructions),
    ("shm_table_empty", shm_table_empty),
    ("kernel_still_works", kernel_still_works),
    // Last: a kernel with the lock-order bug this looks for wedges every
    // CPU, and the checks after it would never report.
    ("fork_while_closing", fork_while_closing),
];

/// Rounds per seed: a fresh fuzz child each.
const ROUNDS: u64 = 6;

/// System calls each fuzz child makes.
const CALLS_PER_ROUND: usize = 200;

/// How long a fuzz child may run before the watchdog kills it: several
/// times what a round takes at one CPU.
const WATCHDOG_TICKS: i32 = 100;

/// Exit statuses by which a fuzz child reports that it could not set up
/// (move into [`FUZZDIR`], grow its heap by a page), or that a call with
/// an invalid number did not return -1. (The fuzz child makes no random
/// `exit`; its children's statuses go to it, not to the test.)
const SETUP_FAILED: i32 = 0x0BAD_5E70;
const INVALID_CALL_ACCEPTED: i32 = 0x0BAD_CA11;

/// The directory the fuzz children work in, and its name as the clean-up
/// builds paths from it.
const FUZZDIR: &CStr = c"/fuzzdir";

/// The names a fuzz child can give a file or directory: the last element
/// of every path in [`PATHS`] that the kernel accepts, cut to `DIRSIZ`
/// bytes.
const NAMES: [&[u8]; 3] = [b"fa", b"fb", b"fourteen_chars"];

/// Bytes of the buffer a fuzz child lends the kernel.
const BUFFER_LEN: usize = 512;

/// The last address of the user half, and the first address past it: the
/// first non-canonical address.
const LAST_USER: usize = USER_TOP - 1;
const FIRST_NON_CANONICAL: usize = USER_TOP;

/// The top of the stack (where the heap starts), found in `main`, for the
/// fuzz children's pointer pool.
static STACK_TOP: AtomicUsize = AtomicUsize::new(0);

fn main(args: Args) -> i32 {
    // At most a number. That also stops at once a copy of us that a fuzz
    // child managed to `exec`, with one of its argv arrays.
    let seed = match args.get(1) {
        None => Some(0),
        Some(seed) => core::str::from_utf8(seed)
            .ok()
            .and_then(|seed| seed.parse().ok()),
    };
    let Some(seed) = seed.filter(|_| args.len() <= 2) else {
        eprintln!("usage: syscallfuzz [SEED]");
        return 2;
    };
    BASE_SEED.store(seed, Ordering::Relaxed);
    // exec put our name at the top of the stack, on its last page.
    if let Some(name) = args.get_c_str(0) {
        let top = name.as_ptr().addr().next_multiple_of(PGSIZE);
        STACK_TOP.store(top, Ordering::Relaxed);
    }
    run_checks("syscallfuzz", CHECKS)
}

// ---------------------------------------------------------------------------
// The pseudo-random generator.

/// xorshift64*: small, fast, and the same sequence for the same seed on
/// every run.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        // Start from splitmix64's first number for the seed, so that
        // seeds 1, 2, 3 start far apart; the state must never be 0.
        Rng(SplitMix(seed).next_u64() | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True once in `n` times.
    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

// ---------------------------------------------------------------------------
// What to call, and with what.

/// What an argument means to the kernel, which decides the pool of values
/// it is drawn from when the call is hostile.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Arg {
    /// Any number or bad address.
    Any,
    /// A file descriptor.
    Fd,
    /// Memory the kernel reads or writes.
    Address,
    /// A length of memory at an `Address`.
    Length,
    /// A path.
    Path,
    /// A path for `chdir`: never one that leaves [`FUZZDIR`].
    DirPath,
    /// `open`'s flags.
    OpenFlags,
    /// `mknod`'s major device number: never the console's.
    Major,
    /// `exec`'s argv array.
    Argv,
    /// `sbrk`'s increment.
    Increment,
    /// `sleep`'s ticks.
    Ticks,
    /// A pid for `kill` that no live process has: never drawn from another
    /// pool, so that a hostile `kill` cannot hit the test program, its
    /// watchdog or init (which the kernel refuses to kill anyway).
    DeadPid,
    /// A shared-memory name.
    ShmName,
    /// A shared-memory descriptor.
    Od,
    /// `shm_trunc`'s size.
    ShmSize,
    /// `shm_map`'s flags.
    ShmFlags,
}

use Arg::*;

/// A system call the fuzzer makes: its number and name, what its
/// arguments mean, and how often to make it relative to the others.
struct Call {
    number: usize,
    name: &'static str,
    args: &'static [Arg],
    weight: usize,
}

const fn call(number: usize, name: &'static str, args: &'static [Arg], weight: usize) -> Call {
    Call {
        number,
        name,
        args,
        weight,
    }
}

/// The last number in the kernel's table (`abi::syscall`). A call added
/// after it must be added here and to [`CALLS`]; until it is, its number
/// counts as one no call has, and the first time it succeeds the fuzz
/// child exits with [`INVALID_CALL_ACCEPTED`], which fails the check.
const LAST_CALL: usize = SYS_TSC_HZ;

/// Every call, with its weight: the fuzz child makes a call `weight` times
/// in about 1400 calls. `exit` has weight 0: the fuzz child's own `exit`
/// would end its round, so every process it forks makes it instead (with
/// a hostile status). The invalid numbers include 2³² + `SYS_GETPID`,
/// which a kernel may read as `getpid` (if it looks only at the low 32
/// bits, as C's `int` would) or refuse; no number is chosen whose low 32
/// bits would be `kill`.
const CALLS: &[Call] = &[
    call(SYS_FORK, "fork", &[], 40),
    call(SYS_EXIT, "exit", &[Any], 0),
    call(SYS_WAIT, "wait", &[Address], 40),
    call(SYS_PIPE, "pipe", &[Address], 30),
    call(SYS_READ, "read", &[Fd, Address, Length], 120),
    call(SYS_KILL, "kill", &[DeadPid], 30),
    call(SYS_EXEC, "exec", &[Path, Argv], 40),
    call(SYS_FSTAT, "fstat", &[Fd, Address], 40),
    call(SYS_CHDIR, "chdir", &[DirPath], 30),
    call(SYS_DUP, "dup", &[Fd], 40),
    call(SYS_GETPID, "getpid", &[], 10),
    call(SYS_SBRK, "sbrk", &[Increment], 30),
    call(SYS_SLEEP, "sleep", &[Ticks], 20),
    call(SYS_UPTIME, "uptime", &[], 10),
    call(SYS_OPEN, "open", &[Path, OpenFlags], 120),
    call(SYS_WRITE, "write", &[Fd, Address, Length], 120),
    call(SYS_MKNOD, "mknod", &[Path, Major, Any], 30),
    call(SYS_UNLINK, "unlink", &[Path], 70),
    call(SYS_LINK, "link", &[Path, Path], 60),
    call(SYS_MKDIR, "mkdir", &[Path], 50),
    call(SYS_CLOSE, "close", &[Fd], 80),
    call(SYS_SHM_OPEN, "shm_open", &[ShmName], 80),
    call(SYS_SHM_TRUNC, "shm_trunc", &[Od, ShmSize], 70),
    call(SYS_SHM_MAP, "shm_map", &[Od, Address, ShmFlags], 70),
    call(SYS_SHM_CLOSE, "shm_close", &[Od], 60),
    call(SYS_SHM_WAIT, "shm_wait", &[Address, Any], 30),
    call(SYS_SHM_WAKE, "shm_wake", &[Address, Any], 30),
    call(SYS_TSC_HZ, "tsc_hz", &[], 10),
    call(0, "unknown", &[Any, Any, Any], 1),
    call(LAST_CALL + 1, "unknown", &[Any, Any, Any], 1),
    call(1000, "unknown", &[Any, Any, Any], 1),
    call(usize::MAX, "unknown", &[Any, Any, Any], 1),
    call((1 << 32) | SYS_GETPID, "unknown", &[Any, Any, Any], 1),
];

/// [`CALLS`] names every call of the table, in order, at its number.
const _: () = {
    let mut number = 1;
    while number <= LAST_CALL {
        assert!(CALLS[number - 1].number == number);
        number += 1;
    }
};

/// Whether no system call has `number`, however the kernel reads it: all
/// 64 bits, or only the low 32, as C's `int` would.
fn no_such_call(number: usize) -> bool {
    !(SYS_FORK..=LAST_CALL).contains(&(number as u32 as usize))
}

/// Numbers worth trying anywhere: the edges of `int`, of `u32` and of the
/// registers, and the descriptor limit with its neighbours.
const NUMBERS: [usize; 15] = [
    0,
    1,
    2,
    3,
    15,
    16,
    17,
    usize::MAX,
    i32::MAX as usize,
    i32::MIN as usize,
    u32::MAX as usize,
    1 << 31,
    1 << 32,
    (1 << 32) | 1,
    1 << 63,
];

/// Paths; the kernel cuts the 15-byte and the 100-byte name (longer than
/// `DIRSIZ`) to their first 14 bytes, `fourteen_chars`, as xv6 does, and
/// makes nothing for `.`, `..`, `/` or the empty path.
const PATHS: [&CStr; 12] = [
    c"fa",
    c"fb",
    c"fa/fb",
    c"fb/fa",
    c"fa/",
    c"fourteen_chars",
    c"fourteen_chars_",
    c".",
    c"..",
    c"",
    c"/",
    c"fourteen_chars456789c123456789d123456789e123456789f123456789g123456789h123456789i123456789j123456789",
];

/// The paths `chdir` may get, with how many levels each goes down: every
/// one in [`PATHS`] that stays inside the current directory, and `..`,
/// which a valid `chdir` uses only below the directory the child started
/// in (see [`Fuzzer::depth`]).
const DIR_PATHS: [(&CStr, isize); 9] = [
    (c"fa", 1),
    (c"fb", 1),
    (c"fa/fb", 2),
    (c"fb/fa", 2),
    (c"fa/", 1),
    (c"fourteen_chars", 1),
    (c".", 0),
    (c"", 0),
    (c"..", -1),
];

/// Where `..` is in [`DIR_PATHS`]: the hostile pool stops before it.
const UP: usize = 8;

/// The paths a valid call names: the names of [`NAMES`] and one path two
/// levels deep.
const VALID_PATHS: [&CStr; 4] = [c"fa", c"fb", c"fourteen_chars", c"fa/fb"];

/// Shared-memory names: short ones, the empty one, the longest (63 bytes)
/// and one byte more. Not "fuzz-tail", the child's read-only page: a
/// writable mapping of it would let calls change the string there.
const SHM_NAMES: [&CStr; 8] = [
    c"fz",
    c"fy",
    c"fx",
    c"fw",
    c"fv",
    c"",
    c"a123456789b123456789c123456789d123456789e123456789f123456789ghi",
    c"a123456789b123456789c123456789d123456789e123456789f123456789ghij",
];

/// The names in [`SHM_NAMES`] that a valid `shm_open` uses.
const VALID_SHM_NAMES: usize = 5;
// ---------------------------------------------------------------------------
// The coverage page.

/// The counts of calls that succeeded and failed, by call, on a page of
/// shared memory that the test program maps before the fuzz children are
/// forked, so that every process of every round counts into it (atomic
/// adds: they may run at once). Slot 0 counts the numbers no call has;
/// slot N, call N. Words `2N` and `2N + 1` hold call N's successes and
/// failures.
///
/// Nothing but the counting touches the page: it is the object in the
/// shared-memory window's first slot, and [`Fuzzer::shield`] moves every
/// argument that would point into that slot somewhere else, so that no
/// call writes it; a hostile `shm_close` never gets its descriptor.
#[derive(Clone, Copy)]
struct Coverage {
    page: usize,
}

/// The slots of the coverage page: the invalid numbers, then each call.
const SLOTS_COUNTED: usize = LAST_CALL + 1;

impl Coverage {
    /// The slot that counts system call `number`.
    fn slot(number: usize) -> usize {
        if (1..=LAST_CALL).contains(&number) {
            number
        } else {
            0
        }
    }

    fn word(&self, number: usize, succeeded: bool) -> &AtomicU32 {
        let index = 2 * Coverage::slot(number) + usize::from(!succeeded);
        let word: *mut u32 = ptr::with_exposed_provenance_mut(self.page + 4 * index);
        // SAFETY: the page is mapped read-write in every process that has a
        // Coverage, for as long as it has one (no call unmaps it or writes
        // it: see above); the word is aligned and inside it, and it is only
        // ever reached through atomics.
        unsafe { AtomicU32::from_ptr(word) }
    }

    /// Counts a call of `number` that returned `result`.
    fn count(&self, number: usize, result: isize) {
        self.word(number, result != -1)
            .fetch_add(1, Ordering::Relaxed);
    }

    /// Takes back a success counted for `number` and counts a failure:
    /// for `exec`, whose success is counted before the call, because a
    /// successful `exec` never returns to say so.
    fn recount_as_failure(&self, number: usize) {
        self.word(number, true).fetch_sub(1, Ordering::Relaxed);
        self.word(number, false).fetch_add(1, Ordering::Relaxed);
    }

    /// How many calls of slot `slot` succeeded and failed.
    fn counts(&self, slot: usize) -> (u32, u32) {
        let (ok, err) = (self.word(slot, true), self.word(slot, false));
        (ok.load(Ordering::Relaxed), err.load(Ordering::Relaxed))
    }
}

// ---------------------------------------------------------------------------
// The fuzz child.

/// The memory a fuzz child points the kernel at for hostile calls, and the
/// argument pools built on it. Lives in [`fuzz_loop`]'s frame, where no
/// pointer argument reaches.
struct Memory {
    /// The buffer lent to the kernel: `BUFFER_LEN` bytes, higher on the
    /// stack than this struct.
    buffer: usize,
    /// First byte above the stack (the heap starts here), and the stack's
    /// lowest byte (the guard page is below).
    stack_top: usize,
    stack_bottom: usize,
    /// The break as it was at the start: the first byte past the heap,
    /// unmapped until an `sbrk` grows the heap again.
    heap_end: usize,
    /// The last `TAIL_ARGV` words of the heap: pointers to a path, with no
    /// null after them, only an unmapped page.
    unterminated_argv: usize,
    /// The read-only shared-memory page, and its last `UNTERMINATED`
    /// bytes: no NUL, then an unmapped page (0 if the page could not be
    /// had).
    tail_page: usize,
    unterminated: usize,
    /// argv arrays: `["fa", "fb"]`; one whose second element points into
    /// the kernel; an empty one; one longer than the kernel's `MAXARG` (32).
    good_argv: [usize; 3],
    bad_element_argv: [usize; 3],
    empty_argv: [usize; 1],
    long_argv: [usize; 40],
}

/// Pointers in the unterminated argv array at the end of the heap.
const TAIL_ARGV: usize = 8;

/// Bytes of the unterminated string.
const UNTERMINATED: usize = 64;

impl Memory {
    /// Grows the heap by a page whose end holds the unterminated argv
    /// array, and maps a read-only page ending in the unterminated string.
    /// Returns `None` if the heap cannot grow, and the descriptor of the
    /// read-only page (-1 if there is none).
    fn set_up(buffer: usize) -> Option<(Memory, i32)> {
        let fa = c"fa".as_ptr().addr();
        // SAFETY: sbrk(0) only reports the break.
        let old = unsafe { sbrk(0) } as usize;
        let heap_end = old.next_multiple_of(PGSIZE) + PGSIZE;
        // SAFETY: growing the heap maps fresh memory nothing refers to.
        if unsafe { sbrk((heap_end - old) as isize) } < 0 {
            return None;
        }
        let unterminated_argv = heap_end - TAIL_ARGV * size_of::<usize>();
        for i in 0..TAIL_ARGV {
            let word: *mut usize =
                ptr::with_exposed_provenance_mut(unterminated_argv + i * size_of::<usize>());
            // SAFETY: sbrk just mapped these bytes for us, above everything
            // the allocator handed out, so nothing else refers to them.
            unsafe { word.write(fa) };
        }
        let tail = read_only_page(c"fuzz-tail", |page| {
            for i in PGSIZE - UNTERMINATED..PGSIZE {
                let byte: *mut u8 = ptr::with_exposed_provenance_mut(page + i);
                // SAFETY: the page was just mapped, writable, for this
                // process alone, and nothing else refers to it.
                unsafe { byte.write(b'x') };
            }
        });
        let (tail_page, tail_od) = tail.unwrap_or((0, -1));

        let stack_top = STACK_TOP.load(Ordering::Relaxed);
        let memory = Memory {
            buffer,
            stack_top,
            stack_bottom: stack_top - USER_STACK_PAGES * PGSIZE,
            heap_end,
            unterminated_argv,
            tail_page,
            unterminated: if tail_page == 0 {
                0
            } else {
                tail_page + PGSIZE - UNTERMINATED
            },
            good_argv: [fa, c"fb".as_ptr().addr(), 0],
            bad_element_argv: [fa, DIRECT_MAP, 0],
            empty_argv: [0],
            // 39 arguments, then the null.
            long_argv: core::array::from_fn(|i| if i < 39 { fa } else { 0 }),
        };
        Some((memory, tail_od))
    }

    /// A number, or an address that is bad for every call.
    fn any(&self, rng: &mut Rng) -> usize {
        match rng.below(4) {
            0 => rng.pick(&NUMBERS),
            1 => rng.below(64),
            2 => rng.next() as usize,
            _ => self.bad_address(rng),
        }
    }

    /// An address where nothing of this process is or ever will be mapped,
    /// or that is not a user address at all.
    fn bad_address(&self, rng: &mut Rng) -> usize {
        rng.pick(&[
            0,
            PGSIZE - 1,
            self.stack_bottom - 1,
            SHM_END,
            LAST_USER,
            FIRST_NON_CANONICAL,
            DIRECT_MAP,
            KERNBASE,
            usize::MAX,
        ])
    }

    /// A string the kernel must refuse to read: unterminated, or at a bad
    /// address.
    fn bad_string(&self, rng: &mut Rng) -> usize {
        match rng.below(2) {
            0 => self.unterminated,
            _ => self.bad_address(rng),
        }
    }

    /// Memory for the kernel to read or write: mostly the buffer, else the
    /// edges of the stack and heap, the shared-memory window, read-only
    /// memory (code, a path, the read-only page), or a bad address.
    fn address(&self, rng: &mut Rng) -> usize {
        match rng.below(16) {
            0..=3 => self.buffer,
            4 | 5 => self.buffer + rng.below(BUFFER_LEN),
            6 => self.buffer + BUFFER_LEN - 1,
            7 => self.stack_top - 1,
            8 => self.stack_top,
            9 => rng.pick(&[self.heap_end - 1, self.heap_end, self.unterminated_argv]),
            10 => slot_address(1 + rng.below(4)),
            11 => SHMBASE + rng.below(SHM_END - SHMBASE),
            12 => rng.pick(&[
                main as fn(Args) -> i32 as usize,
                PATHS[0].as_ptr().addr(),
                self.unterminated,
            ]),
            _ => self.bad_address(rng),
        }
    }
}

/// Creates the one-page shared-memory object `name`, lets `fill` write it
/// (given its address), and maps it again read-only; returns its address
/// and the descriptor that maps it.
///
/// Read-only, the page is one the kernel must never write for a system
/// call, so a path kept there stays the path it was whatever the fuzzer
/// does: otherwise a random call could turn it into a name that nobody
/// expects to find in [`FUZZDIR`]. A process maps an object only once, so
/// the object is opened twice: written through one descriptor, which is
/// then closed, and mapped read-only through the other.
fn read_only_page(name: &CStr, fill: impl FnOnce(usize)) -> Option<(usize, i32)> {
    let (writer, reader) = (shm_open(name), shm_open(name));
    let mut page = 0;
    if writer < 0
        || reader < 0
        || shm_trunc(writer, PGSIZE as i32) != PGSIZE as i32
        || shm_map(writer, &mut page, O_RDWR) != 0
    {
        return None;
    }
    fill(page);
    // SAFETY: `fill` is done with the writable mapping, and nothing else
    // refers to it.
    unsafe { shm_close(writer) };
    (shm_map(reader, &mut page, O_RDONLY) == 0).then_some((page, reader))
}

/// What a file descriptor of the fuzz child holds, as far as it knows.
/// Every call that makes or closes a descriptor reports which one, and
/// the kernel always hands out the lowest free number, so the table is
/// exact; [`Open::Unknown`] is there in case it is not.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Open {
    Closed,
    /// A file, directory or device, opened by path.
    File,
    /// The read or write end of pipe N (an index into
    /// [`Fuzzer::buffered`]).
    PipeRead(usize),
    PipeWrite(usize),
    /// Open, but made by a call whose result the child could not follow.
    Unknown,
}

/// What a shared-memory descriptor of the fuzz child holds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Od {
    Closed,
    /// The object called `SHM_NAMES[i]`.
    Name(usize),
    /// One the fuzzer leaves alone: the coverage page, the read-only page,
    /// or one opened by a call it could not follow.
    Other,
}

/// What the fuzz child knows of the shared-memory object called
/// `SHM_NAMES[i]`, while it has a descriptor of it open (when it closes the
/// last, it forgets: the object may be gone).
#[derive(Clone, Copy)]
struct Object {
    /// Its size, once known to be sized: what `shm_trunc` returned, or a
    /// page (every sized object has one) when a `shm_trunc` failed because
    /// someone else had sized it.
    size: Option<usize>,
    /// Where this process maps it, if it does.
    mapping: Option<Mapped>,
}

#[derive(Clone, Copy)]
struct Mapped {
    /// Its address, or 0 if the call that mapped it stored the address
    /// where the child could not read it back.
    address: usize,
    writable: bool,
    /// The descriptor that mapped it: closing that one unmaps it.
    od: usize,
}

const NO_OBJECT: Object = Object {
    size: None,
    mapping: None,
};

/// What a process the fuzz child forks does: see [`Fuzzer::be_child`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Exiter,
    Toucher,
    Exec,
    Sleeper,
    /// Wakes the waiter on the word at `word`, which holds `value`.
    Waker {
        word: usize,
        value: u32,
    },
}

/// The kinds of process a `fork` makes, equally often.
const FORK_KINDS: [Kind; 4] = [Kind::Exiter, Kind::Toucher, Kind::Exec, Kind::Sleeper];

/// A child of the fuzz child, until it is reaped (pid 0: a free entry).
#[derive(Clone, Copy)]
struct Child {
    pid: i32,
    sleeper: bool,
}

/// Children the fuzz child keeps track of at once: more than the process
/// table holds, so that filling the table is never cut short.
const MAX_CHILDREN: usize = 80;

/// Pids of children reaped lately: `kill` must fail for them (pids are
/// never reused).
const REAPED: usize = 8;

/// Ticks a sleeper sleeps before it exits by itself.
const SLEEPER_TICKS: usize = 8;

/// Calls, on average, between two touches of every mapped page, and
/// between two attempts to fill the process table (at most one a round).
const TOUCH_ONE_IN: usize = 16;
const FILL_ONE_IN: usize = 800;

/// Percent of calls made with valid arguments drawn from the child's
/// state; the rest are hostile.
const VALID_PERCENT: usize = 55;

/// The fuzz child's state: its generator, its hostile pools, and what it
/// knows about what it has open, mapped and forked. Lives in
/// [`fuzz_loop`]'s frame; the processes it forks get a copy.
struct Fuzzer {
    rng: Rng,
    memory: Memory,
    coverage: Coverage,
    /// What each file descriptor holds.
    files: [Open; NOFILE],
    /// Bytes waiting in each pipe, by the number in `Open::Pipe*`.
    buffered: [usize; NOFILE],
    /// What each shared-memory descriptor holds, and what is known of
    /// each object in [`SHM_NAMES`].
    ods: [Od; NSHMPROC],
    objects: [Object; SHM_NAMES.len()],
    /// The descriptor of the coverage page, which no call may close, and
    /// of the read-only page, which a hostile call may.
    coverage_od: i32,
    tail_od: i32,
    children: [Child; MAX_CHILDREN],
    reaped: [i32; REAPED],
    reaped_next: usize,
    /// How many levels below its starting directory, in [`FUZZDIR`], the
    /// child is: a valid `chdir("..")` is made only while this is above 0,
    /// so the child never leaves [`FUZZDIR`] and every file it makes is
    /// there for the clean-up to find.
    depth: isize,
    /// Whether this round has filled the process table.
    filled: bool,
}

impl Fuzzer {
    /// Makes system call `number` with `args`, counts it, returns its
    /// result.
    fn call(&self, number: usize, args: [usize; 3]) -> isize {
        // SAFETY: whatever the call does, this child relies on nothing it
        // can change. The memory the kernel may write through an argument
        // is the buffer and what lies above it (frames this child never
        // returns to, the argument strings at the top of the stack), the
        // heap (unused since fork: this child allocates nothing; only the
        // kernel reads the argv array at its end) and the shared-memory
        // window (where Rust code here reaches only mappings through
        // probes, and the coverage page, which `shield` keeps every
        // argument out of): never this function's frame or its callers',
        // nor read-only memory. `sbrk` may unmap heap pages, which only
        // arguments point into, never the stack or the image. `exec`
        // cannot succeed with a file the fuzzer wrote, and if it did, this
        // program would be gone, not corrupted; `exit` ends it.
        let result = unsafe { syscall3(number, args[0], args[1], args[2]) };
        self.counted(number, result)
    }

    /// Counts `result` of a call of `number` made through a safe wrapper;
    /// returns it.
    fn counted(&self, number: usize, result: isize) -> isize {
        self.coverage.count(number, result);
        result
    }

    /// One step: a call, valid or hostile, now and then a touch of every
    /// mapped page, and once in a while the process table filled.
    fn step(&mut self) {
        if self.rng.one_in(TOUCH_ONE_IN) {
            self.touch_mappings();
        }
        if !self.filled && self.rng.one_in(FILL_ONE_IN) {
            self.fill_process_table();
        }
        let call = self.pick_call();
        if self.rng.below(100) < VALID_PERCENT && self.valid(call.number) {
            return;
        }
        self.hostile(call);
    }

    fn pick_call(&mut self) -> &'static Call {
        let total: usize = CALLS.iter().map(|call| call.weight).sum();
        let mut choice = self.rng.below(total);
        CALLS
            .iter()
            .find(|call| {
                let found = choice < call.weight;
                choice = choice.saturating_sub(call.weight);
                found
            })
            .expect("the weights add up to the total")
    }

    // -----------------------------------------------------------------
    // Hostile calls.

    /// Makes `call` with arguments from the hostile pools, tamed only
    /// where the call would otherwise reach beyond the child or block it
    /// for good.
    fn hostile(&mut self, call: &Call) {
        if call.number == SYS_FORK {
            let kind = self.rng.pick(&FORK_KINDS);
            self.fork(kind);
            return;
        }
        let mut args = [0; 3];
        for (arg, &kind) in args.iter_mut().zip(call.args) {
            *arg = self.argument(kind);
        }
        self.tame(call.number, &mut args);
        let result = self.call(call.number, args);
        if no_such_call(call.number) && result != -1 {
            self.exit(INVALID_CALL_ACCEPTED);
        }
        self.learn(call.number, args, result);
    }

    /// A value for an argument of kind `kind`. One argument in ten comes
    /// from the wrong pool (never a pid: see [`Arg::DeadPid`]).
    fn argument(&mut self, kind: Arg) -> usize {
        let rng = &mut self.rng;
        let memory = &self.memory;
        if kind != DeadPid && rng.one_in(10) {
            let value = memory.any(rng);
            return self.shield(kind, value);
        }
        let value = match kind {
            Any => memory.any(rng),
            // Mostly an open descriptor or a low number, where open
            // descriptors are.
            Fd | Od => match rng.below(8) {
                0 => rng.pick(&NUMBERS),
                1..=3 if kind == Fd => {
                    let open = self.files.map(|open| open != Open::Closed);
                    pick_true(rng, &open).unwrap_or(0)
                }
                1..=3 => {
                    let open = self.ods.map(|od| od != Od::Closed);
                    pick_true(rng, &open).unwrap_or(0)
                }
                4 | 5 => rng.below(6),
                _ => rng.below(18),
            },
            Address => memory.address(rng),
            Length => match rng.below(6) {
                0 | 1 => rng.below(BUFFER_LEN + 1),
                2 | 3 => rng.pick(&[0, 1, 8, 24, BUFFER_LEN, BUFFER_LEN + 1, PGSIZE]),
                4 => 1 << 16,
                _ => rng.pick(&[i32::MAX as usize, u32::MAX as usize, 1 << 40, usize::MAX]),
            },
            Path => match rng.below(8) {
                0 => memory.bad_string(rng),
                _ => rng.pick(&PATHS).as_ptr().addr(),
            },
            DirPath => match rng.below(8) {
                0 => memory.bad_string(rng),
                _ => DIR_PATHS[rng.below(UP)].0.as_ptr().addr(),
            },
            OpenFlags => match rng.below(8) {
                0 => rng.next() as u32 as usize,
                _ => rng.pick(&[
                    O_RDONLY,
                    O_WRONLY,
                    O_RDWR,
                    O_WRONLY | O_RDWR,
                    O_CREATE,
                    O_CREATE | O_RDWR,
                    O_CREATE | O_WRONLY,
                    O_CREATE | O_TRUNC | O_RDWR,
                    O_TRUNC | O_WRONLY,
                ]) as usize,
            },
            Major => match rng.below(8) {
                0 => rng.next() as usize,
                _ => rng.pick(&[0, 2, 3, 7, 0xFF, 0xFFFF, 0x1_0001]),
            },
            Argv => match rng.below(8) {
                0 => memory.good_argv.as_ptr().addr(),
                1 => memory.bad_element_argv.as_ptr().addr(),
                2 => memory.empty_argv.as_ptr().addr(),
                3 => memory.long_argv.as_ptr().addr(),
                4 | 5 => memory.unterminated_argv,
                _ => memory.bad_address(rng),
            },
            Increment => match rng.below(128) {
                // More than all memory: sbrk must undo it. Rare, because
                // the kernel takes every free page before it gives up.
                0 => 1 << 29,
                1..=24 => rng.below(4 * PGSIZE).wrapping_sub(2 * PGSIZE),
                _ => rng.pick(&[
                    0,
                    1,
                    PGSIZE,
                    3 * PGSIZE + 5,
                    1 << 20,
                    -1isize as usize,
                    -(PGSIZE as isize) as usize,
                    -(3 * PGSIZE as isize) as usize,
                    -(1 << 20) as usize,
                    SHMBASE,
                    isize::MIN as usize,
                    isize::MAX as usize,
                ]),
            },
            Ticks => match rng.below(64) {
                0 => i32::MAX as usize, // the watchdog ends this one
                _ => rng.pick(&[0, 1, 2, -1isize as usize, i32::MIN as usize, 1 << 32]),
            },
            DeadPid => match rng.below(4) {
                0 => {
                    let pid = self.reaped[rng.below(REAPED)];
                    // 0 until that many children were reaped.
                    if pid == 0 {
                        i32::MAX as usize
                    } else {
                        pid as usize
                    }
                }
                // Init's: the kernel refuses to kill it.
                1 => 1,
                _ => rng.pick(&[
                    0,
                    -1isize as usize,
                    i32::MAX as usize,
                    i32::MIN as usize,
                    usize::MAX,
                ]),
            },
            ShmName => match rng.below(8) {
                0 => memory.bad_string(rng),
                _ => rng.pick(&SHM_NAMES).as_ptr().addr(),
            },
            ShmSize => match rng.below(2) {
                0 => rng.below(140_000),
                _ => rng.pick(&[
                    0,
                    1,
                    PGSIZE - 1,
                    PGSIZE,
                    PGSIZE + 1,
                    131_072,
                    131_073,
                    -1isize as usize,
                    i32::MAX as usize,
                    i32::MIN as usize,
                    (1 << 32) | PGSIZE,
                ]),
            },
            ShmFlags => match rng.below(2) {
                0 => rng.pick(&[O_RDONLY, O_RDWR]) as usize,
                _ => rng.pick(&[1, 3, 4, usize::MAX, 0x202, (1 << 32) | 2]),
            },
        };
        self.shield(kind, value)
    }

    /// `value`, moved where it cannot hurt the fuzzer's own bookkeeping:
    /// out of the coverage page's slot (to the next slot: up the window,
    /// away from it), and, for a major device number that the kernel
    /// would read as the console's (it keeps the low 16 bits), to the next
    /// number.
    fn shield(&self, kind: Arg, value: usize) -> usize {
        let coverage = self.coverage.page..self.coverage.page + abi::shm::SLOT_SIZE;
        match kind {
            Major if value as u16 == CONSOLE => value.wrapping_add(1),
            _ if coverage.contains(&value) => value + abi::shm::SLOT_SIZE,
            _ => value,
        }
    }

    /// Changes what would make a hostile call reach beyond the child, or
    /// block it for good: `shm_close` of the coverage page's descriptor;
    /// a `read` from a pipe that is empty while a write end is open, a
    /// `write` to a pipe that may fill while its read end is open (this
    /// child holds the other end, so nobody would ever come), or any of
    /// the two on a descriptor it cannot follow; and a `shm_wait` on a
    /// word that holds what it expects, with nobody to wake it. Each gets
    /// the same call with an argument that makes it fail instead.
    fn tame(&self, number: usize, args: &mut [usize; 3]) {
        match number {
            SYS_SHM_CLOSE if args[0] as i32 == self.coverage_od => args[0] = NSHMPROC,
            SYS_READ | SYS_WRITE if self.may_block(number, args[0] as i32, args[2]) => {
                args[0] = NOFILE;
            }
            SYS_SHM_WAIT => {
                if let Some(value) = self.word_at(args[0])
                    && value == args[1] as u32
                {
                    args[1] = value.wrapping_add(1) as usize;
                }
            }
            _ => {}
        }
    }

    /// Whether a `read` or `write` (`number`) of `len` bytes on `fd` may
    /// wait for another process that will never come.
    fn may_block(&self, number: usize, fd: i32, len: usize) -> bool {
        let Some(&open) = usize::try_from(fd).ok().and_then(|fd| self.files.get(fd)) else {
            return false;
        };
        match (number, open) {
            (_, Open::Unknown) => true,
            (SYS_READ, Open::PipeRead(pipe)) => {
                self.buffered[pipe] == 0 && self.pipe_end_open(Open::PipeWrite(pipe))
            }
            (SYS_WRITE, Open::PipeWrite(pipe)) => {
                len > PIPESIZE - self.buffered[pipe] && self.pipe_end_open(Open::PipeRead(pipe))
            }
            _ => false,
        }
    }

    fn pipe_end_open(&self, end: Open) -> bool {
        self.files.contains(&end)
    }

    /// The aligned word at `address`, if it lies in shared memory this
    /// child knows it maps (its objects, the read-only page).
    fn word_at(&self, address: usize) -> Option<u32> {
        if !address.is_multiple_of(4) {
            return None;
        }
        let tail = (self.memory.tail_page != 0).then_some((self.memory.tail_page, PGSIZE));
        let mapped = self.objects.iter().filter_map(|object| {
            let mapping = object.mapping?;
            (mapping.address != 0).then_some((mapping.address, object.size.unwrap_or(PGSIZE)))
        });
        mapped
            .chain(tail)
            .any(|(start, size)| (start..start + size).contains(&address))
            .then(|| load_word(address))
    }

    /// Takes in what a call of `number` with `args` that returned `result`
    /// changed: descriptors made and closed, bytes in pipes, shared-memory
    /// objects opened, sized, mapped and closed, the current directory,
    /// children reaped.
    fn learn(&mut self, number: usize, args: [usize; 3], result: isize) {
        let ok = result != -1;
        let fd = args[0] as i32 as usize;
        match number {
            SYS_OPEN if ok => self.files[result as usize] = Open::File,
            SYS_DUP if ok => {
                let kind = self.files.get(fd).copied().unwrap_or(Open::Unknown);
                self.files[result as usize] = kind;
            }
            SYS_PIPE if ok => {
                // The kernel gives the read end the lowest free descriptor
                // and the write end the next.
                let pipe = (0..NOFILE)
                    .find(|&pipe| {
                        !self.pipe_end_open(Open::PipeRead(pipe))
                            && !self.pipe_end_open(Open::PipeWrite(pipe))
                    })
                    .expect("a pipe takes two descriptors, so some number is free");
                self.buffered[pipe] = 0;
                for end in [Open::PipeRead(pipe), Open::PipeWrite(pipe)] {
                    match self.files.iter().position(|&open| open == Open::Closed) {
                        Some(free) => self.files[free] = end,
                        None => self.files = [Open::Unknown; NOFILE],
                    }
                }
            }
            SYS_CLOSE if ok => self.files[fd] = Open::Closed,
            SYS_READ if ok => {
                if let Some(Open::PipeRead(pipe)) = self.files.get(fd) {
                    self.buffered[*pipe] = self.buffered[*pipe].saturating_sub(result as usize);
                }
            }
            SYS_WRITE if ok => {
                if let Some(Open::PipeWrite(pipe)) = self.files.get(fd) {
                    self.buffered[*pipe] += result as usize;
                }
            }
            SYS_CHDIR if ok => {
                if let Some(&(_, levels)) = DIR_PATHS
                    .iter()
                    .find(|(path, _)| path.as_ptr().addr() == args[0])
                {
                    self.depth += levels;
                }
            }
            SYS_WAIT if ok => self.forget_child(result as i32),
            SYS_SHM_OPEN if ok => {
                self.ods[result as usize] = match SHM_NAMES
                    .iter()
                    .position(|name| name.as_ptr().addr() == args[0])
                {
                    Some(name) => Od::Name(name),
                    None => Od::Other,
                };
            }
            SYS_SHM_TRUNC => {
                if let Some(&Od::Name(name)) = self.ods.get(fd) {
                    let object = &mut self.objects[name];
                    if ok {
                        object.size = Some(result as usize);
                    } else if object.size.is_none() && valid_shm_size(args[1]) {
                        // A good size was refused: someone sized it first.
                        object.size = Some(PGSIZE);
                    }
                }
            }
            SYS_SHM_MAP if ok => {
                if let Some(&Od::Name(name)) = self.ods.get(fd) {
                    // A hostile call may have stored the address anywhere;
                    // in the buffer, the child can read it back.
                    let address = if (self.memory.buffer..self.memory.buffer + BUFFER_LEN - 8)
                        .contains(&args[1])
                    {
                        read_usize(args[1])
                    } else {
                        0
                    };
                    self.objects[name].mapping = Some(Mapped {
                        address,
                        writable: args[2] as i32 == O_RDWR as i32,
                        od: fd,
                    });
                }
            }
            SYS_SHM_CLOSE if ok => {
                if let Od::Name(name) = self.ods[fd] {
                    let object = &mut self.objects[name];
                    if object.mapping.is_some_and(|mapping| mapping.od == fd) {
                        object.mapping = None;
                    }
                    self.ods[fd] = Od::Closed;
                    if !self.ods.contains(&Od::Name(name)) {
                        self.objects[name] = NO_OBJECT;
                    }
                } else {
                    self.ods[fd] = Od::Closed;
                }
                if fd as i32 == self.tail_od {
                    // Unmapped now: the unterminated string's address is
                    // just a bad one.
                    self.memory.tail_page = 0;
                }
            }
            _ => {}
        }
    }

    // -----------------------------------------------------------------
    // Valid calls.

    /// Makes call `number` with arguments that should make it succeed, as
    /// far as the child knows its state: a descriptor it has open, a name
    /// it may create, an object it has sized. Returns false if the call
    /// has no valid form now (no descriptor open, say); then the caller
    /// makes a hostile one instead.
    fn valid(&mut self, number: usize) -> bool {
        match number {
            SYS_FORK => {
                let kind = self.rng.pick(&FORK_KINDS);
                self.fork(kind);
            }
            SYS_WAIT => self.valid_wait(),
            SYS_PIPE => {
                let mut fds = [0; 2];
                let result = self.counted(SYS_PIPE, pipe(&mut fds) as isize);
                self.learn(SYS_PIPE, [0; 3], result);
            }
            SYS_READ | SYS_WRITE => {
                let len = self.rng.below(BUFFER_LEN + 1);
                let open = self.files.map(|open| {
                    matches!(
                        (number, open),
                        (SYS_READ, Open::File | Open::PipeRead(_))
                            | (SYS_WRITE, Open::File | Open::PipeWrite(_))
                    )
                });
                let usable: [bool; NOFILE] =
                    core::array::from_fn(|fd| open[fd] && !self.may_block(number, fd as i32, len));
                let Some(fd) = pick_true(&mut self.rng, &usable) else {
                    return false;
                };
                let args = [fd, self.memory.buffer, len];
                let result = self.call(number, args);
                self.learn(number, args, result);
            }
            SYS_KILL => {
                let sleepers = self.children.map(|child| child.sleeper);
                let Some(i) = pick_true(&mut self.rng, &sleepers) else {
                    return false;
                };
                self.counted(SYS_KILL, kill(self.children[i].pid) as isize);
            }
            // exec replaces the caller: a child makes it.
            SYS_EXEC => {
                self.fork(Kind::Exec);
            }
            SYS_FSTAT | SYS_DUP | SYS_CLOSE => {
                let open = self.files.map(|open| open != Open::Closed);
                let Some(fd) = pick_true(&mut self.rng, &open) else {
                    return false;
                };
                let result = match number {
                    SYS_FSTAT => {
                        let mut st = Stat::default();
                        self.counted(SYS_FSTAT, fstat(fd as i32, &mut st) as isize)
                    }
                    _ => self.call(number, [fd, 0, 0]),
                };
                self.learn(number, [fd, 0, 0], result);
            }
            SYS_CHDIR => {
                // Down into a directory of the pool, or back up.
                let i = if self.depth > 0 && self.rng.one_in(2) {
                    UP
                } else {
                    self.rng.below(UP)
                };
                let path = DIR_PATHS[i].0.as_ptr().addr();
                let result = self.call(SYS_CHDIR, [path, 0, 0]);
                self.learn(SYS_CHDIR, [path, 0, 0], result);
            }
            SYS_GETPID | SYS_UPTIME | SYS_TSC_HZ => {
                self.call(number, [0; 3]);
            }
            SYS_SBRK => {
                let increment =
                    self.rng
                        .pick(&[0, 1, PGSIZE, 2 * PGSIZE, -(PGSIZE as isize) as usize]);
                self.call(SYS_SBRK, [increment, 0, 0]);
            }
            SYS_SLEEP => {
                let ticks = self.rng.below(2);
                self.call(SYS_SLEEP, [ticks, 0, 0]);
            }
            SYS_OPEN => {
                let path = self.valid_path();
                let flags = self.rng.pick(&[
                    O_CREATE | O_RDWR,
                    O_CREATE | O_WRONLY | O_TRUNC,
                    O_RDONLY,
                    O_RDWR,
                ]) as usize;
                let result = self.call(SYS_OPEN, [path, flags, 0]);
                self.learn(SYS_OPEN, [path, flags, 0], result);
            }
            SYS_MKNOD => {
                let path = self.valid_path();
                let major = self.rng.pick(&[2, 3, 7]);
                self.call(SYS_MKNOD, [path, major, 0]);
            }
            SYS_UNLINK | SYS_MKDIR => {
                let path = self.valid_path();
                self.call(number, [path, 0, 0]);
            }
            SYS_LINK => {
                // A new name for a file (not "fa/fb", which needs fa to be
                // a directory), which must not be the old one.
                let old = self.rng.below(NAMES.len());
                let new = (old + 1 + self.rng.below(VALID_PATHS.len() - 1)) % VALID_PATHS.len();
                let (old, new) = (VALID_PATHS[old], VALID_PATHS[new]);
                self.call(SYS_LINK, [old.as_ptr().addr(), new.as_ptr().addr(), 0]);
            }
            SYS_SHM_OPEN => {
                let name = SHM_NAMES[self.rng.below(VALID_SHM_NAMES)].as_ptr().addr();
                let result = self.call(SYS_SHM_OPEN, [name, 0, 0]);
                self.learn(SYS_SHM_OPEN, [name, 0, 0], result);
            }
            SYS_SHM_TRUNC => {
                let Some(od) = self.pick_od(|object| object.size.is_none()) else {
                    return false;
                };
                let any_size = 1 + self.rng.below(SHM_MAXSIZE);
                let size = self
                    .rng
                    .pick(&[1, PGSIZE, 3 * PGSIZE + 1, SHM_MAXSIZE, any_size]);
                let result = self.call(SYS_SHM_TRUNC, [od, size, 0]);
                self.learn(SYS_SHM_TRUNC, [od, size, 0], result);
            }
            SYS_SHM_MAP => {
                let Some(od) =
                    self.pick_od(|object| object.size.is_some() && object.mapping.is_none())
                else {
                    return false;
                };
                let flags = if self.rng.below(4) < 3 {
                    O_RDWR
                } else {
                    O_RDONLY
                };
                let mut address = 0;
                let result = self.counted(
                    SYS_SHM_MAP,
                    shm_map(od as i32, &mut address, flags) as isize,
                );
                self.learn(SYS_SHM_MAP, [od, 0, flags as usize], result);
                if let (0, Od::Name(name)) = (result, self.ods[od]) {
                    if let Some(mapping) = &mut self.objects[name].mapping {
                        mapping.address = address;
                    }
                    self.touch_mappings();
                }
            }
            SYS_SHM_CLOSE => {
                let Some(od) = self.pick_od(|_| true) else {
                    return false;
                };
                let result = self.call(SYS_SHM_CLOSE, [od, 0, 0]);
                self.learn(SYS_SHM_CLOSE, [od, 0, 0], result);
            }
            SYS_SHM_WAIT => return self.valid_wait_on_word(),
            SYS_SHM_WAKE => {
                let Some((word, _)) = self.pick_word(false) else {
                    return false;
                };
                let n = self.rng.pick(&[1, 2, i32::MAX as usize]);
                self.call(SYS_SHM_WAKE, [word, n, 0]);
            }
            // exit is made by every child; numbers no call has have no
            // valid form.
            _ => return false,
        }
        true
    }

    /// A path for a valid call, in the current directory.
    fn valid_path(&mut self) -> usize {
        self.rng.pick(&VALID_PATHS).as_ptr().addr()
    }

    /// An open descriptor of one of the child's own objects for which
    /// `wanted` holds.
    fn pick_od(&mut self, wanted: impl Fn(&Object) -> bool) -> Option<usize> {
        let usable = self
            .ods
            .map(|od| matches!(od, Od::Name(name) if wanted(&self.objects[name])));
        pick_true(&mut self.rng, &usable)
    }

    /// An aligned word of a mapping at a known address (a writable one if
    /// `writable`), and its size.
    fn pick_word(&mut self, writable: bool) -> Option<(usize, usize)> {
        let usable = self.objects.map(|object| {
            object
                .mapping
                .is_some_and(|mapping| mapping.address != 0 && (mapping.writable || !writable))
        });
        let object = self.objects[pick_true(&mut self.rng, &usable)?];
        let size = object.size.unwrap_or(PGSIZE);
        let mapping = object.mapping?;
        let word = mapping.address + 4 * self.rng.below(size / 4);
        Some((word, size))
    }

    /// `wait` for a child: one that will exit soon, after killing a
    /// sleeper if only sleepers are left; with no children at all, `wait`
    /// fails.
    fn valid_wait(&mut self) {
        let live = self.children.iter().filter(|child| child.pid != 0);
        if live.clone().all(|child| child.sleeper)
            && let Some(child) = live.clone().next()
        {
            let pid = child.pid;
            self.counted(SYS_KILL, kill(pid) as isize);
        }
        let mut status = 0;
        let result = if self.rng.one_in(2) {
            wait(Some(&mut status))
        } else {
            wait(None)
        };
        let result = self.counted(SYS_WAIT, result as isize);
        self.learn(SYS_WAIT, [0; 3], result);
    }

    /// `shm_wait` on a word of a writable mapping, with a child forked to
    /// change the word and wake the waiter a tick later. If the child
    /// changes the word before this process sleeps, the wait returns -1 at
    /// once: no wake-up is lost either way.
    fn valid_wait_on_word(&mut self) -> bool {
        let Some((word, _)) = self.pick_word(true) else {
            return false;
        };
        let value = load_word(word);
        if self.fork(Kind::Waker { word, value }) <= 0 {
            return false;
        }
        self.call(SYS_SHM_WAIT, [word, value as usize, 0]);
        true
    }

    // -----------------------------------------------------------------
    // Processes.

    /// Forks a child of `kind`; returns fork's result in the parent.
    fn fork(&mut self, kind: Kind) -> isize {
        let Some(entry) = self.children.iter().position(|child| child.pid == 0) else {
            // Too many to follow: reap one instead.
            self.valid_wait();
            return -1;
        };
        let pid = fork();
        if pid == 0 {
            self.be_child(kind);
        }
        self.counted(SYS_FORK, pid as isize);
        if pid > 0 {
            self.children[entry] = Child {
                pid,
                sleeper: kind == Kind::Sleeper,
            };
        }
        pid as isize
    }

    /// What a child of the fuzz child does, by its kind, and exits. Every
    /// kind ends by itself within a few ticks, so that none outlives its
    /// round by much even if the fuzz child is killed:
    ///
    /// - an exiter exits at once, with a hostile status;
    /// - a toucher closes its files, touches every page it inherited a
    ///   mapping of (the same pages as its parent's), and closes every
    ///   shared-memory descriptor of the fuzzer's objects;
    /// - an exec child makes its standard output a file and runs `echo`,
    ///   with every mapping and descriptor it inherited still there (now
    ///   and then an `exec` that must fail instead);
    /// - a sleeper closes its files and sleeps a few ticks, for the fuzz
    ///   child to kill (or to fill the process table);
    /// - a waker changes a word and wakes its parent waiting on it.
    fn be_child(&mut self, kind: Kind) -> ! {
        match kind {
            Kind::Exiter => {
                let status = self.argument(Any) as i32;
                self.exit(status)
            }
            Kind::Toucher => {
                self.close_files();
                self.touch_mappings();
                for od in 0..NSHMPROC {
                    if matches!(self.ods[od], Od::Name(_)) {
                        let result = self.call(SYS_SHM_CLOSE, [od, 0, 0]);
                        self.learn(SYS_SHM_CLOSE, [od, 0, 0], result);
                    }
                }
                self.exit(0)
            }
            Kind::Exec => {
                for fd in [1, 2] {
                    let result = self.call(SYS_CLOSE, [fd, 0, 0]);
                    self.learn(SYS_CLOSE, [fd, 0, 0], result);
                }
                // The lowest free descriptor, 1 if 0 is taken: echo writes
                // to it, or fails to if it is not open.
                let flags = (O_CREATE | O_WRONLY | O_TRUNC) as usize;
                self.call(SYS_OPEN, [c"fa".as_ptr().addr(), flags, 0]);
                let echo = c"/echo".as_ptr().addr();
                let argv = [c"echo".as_ptr().addr(), c"fuzz".as_ptr().addr(), 0];
                let (path, argv) = match self.rng.below(6) {
                    0 => (c"fa".as_ptr().addr(), argv.as_ptr().addr()),
                    1 => (echo, self.memory.long_argv.as_ptr().addr()),
                    _ => (echo, argv.as_ptr().addr()),
                };
                self.exec(path, argv)
            }
            Kind::Sleeper => {
                self.close_files();
                let ticks = 1 + self.rng.below(SLEEPER_TICKS);
                self.call(SYS_SLEEP, [ticks, 0, 0]);
                self.exit(0)
            }
            Kind::Waker { word, value } => {
                self.close_files();
                self.call(SYS_SLEEP, [1, 0, 0]);
                store_word(word, value.wrapping_add(1));
                self.call(SYS_SHM_WAKE, [word, 1, 0]);
                self.exit(0)
            }
        }
    }

    /// Closes every file descriptor the child knows is open.
    fn close_files(&mut self) {
        for fd in 0..NOFILE {
            if self.files[fd] != Open::Closed {
                let result = self.call(SYS_CLOSE, [fd, 0, 0]);
                self.learn(SYS_CLOSE, [fd, 0, 0], result);
            }
        }
    }

    /// Reads every page of every mapping at a known address, and writes a
    /// byte of each page of the writable ones.
    fn touch_mappings(&mut self) {
        for object in self.objects {
            let Some(mapping) = object.mapping.filter(|mapping| mapping.address != 0) else {
                continue;
            };
            let size = object.size.unwrap_or(PGSIZE);
            for page in (mapping.address..mapping.address + size).step_by(PGSIZE) {
                let byte = page + self.rng.below(PGSIZE);
                let value = probe_read(byte);
                if mapping.writable {
                    // SAFETY: the byte is in a mapping of one of the
                    // fuzzer's objects, which no Rust code here relies on.
                    unsafe { probe_write(byte, value.wrapping_add(1)) };
                }
            }
        }
    }

    /// Forks sleepers until `fork` fails (the process table is full, or
    /// memory ran out), then kills them all.
    fn fill_process_table(&mut self) {
        self.filled = true;
        while self.fork(Kind::Sleeper) > 0 {}
        self.kill_sleepers();
    }

    fn kill_sleepers(&mut self) {
        for child in self.children {
            if child.pid != 0 && child.sleeper {
                self.counted(SYS_KILL, kill(child.pid) as isize);
            }
        }
    }

    /// Forgets the reaped child `pid`, and keeps its pid for hostile kills.
    fn forget_child(&mut self, pid: i32) {
        if let Some(child) = self.children.iter_mut().find(|child| child.pid == pid) {
            child.pid = 0;
        }
        self.reaped[self.reaped_next] = pid;
        self.reaped_next = (self.reaped_next + 1) % REAPED;
    }

    /// `exec`, counted as a success before the call and recounted as a
    /// failure if it returns; exits when it does.
    fn exec(&self, path: usize, argv: usize) -> ! {
        self.coverage.count(SYS_EXEC, 0);
        // SAFETY: as in `call`; `argv` points at an array in this frame or
        // in `memory`, which exec only reads.
        let result = unsafe { syscall3(SYS_EXEC, path, argv, 0) };
        if result == -1 {
            self.coverage.recount_as_failure(SYS_EXEC);
        }
        self.exit(1)
    }

    /// `exit`, counted before the call, since it never returns.
    fn exit(&self, status: i32) -> ! {
        self.coverage.count(SYS_EXIT, 0);
        exit(status)
    }

    /// The end of a round: kills the sleepers and reaps every child.
    fn finish(&mut self) -> ! {
        self.kill_sleepers();
        loop {
            let result = self.counted(SYS_WAIT, wait(None) as isize);
            if result < 0 {
                break;
            }
            self.forget_child(result as i32);
        }
        self.exit(0)
    }
}

/// One of the indexes whose entry in `usable` is true, or `None`.
fn pick_true(rng: &mut Rng, usable: &[bool]) -> Option<usize> {
    let count = usable.iter().filter(|&&usable| usable).count();
    if count == 0 {
        return None;
    }
    usable
        .iter()
        .enumerate()
        .filter(|&(_, &usable)| usable)
        .nth(rng.below(count))
        .map(|(i, _)| i)
}

/// Whether `shm_trunc` accepts `size` (as the kernel reads it, an `int`).
fn valid_shm_size(size: usize) -> bool {
    (1..=SHM_MAXSIZE as i32).contains(&(size as i32))
}

/// The word at `address`, in shared memory this process maps.
fn load_word(address: usize) -> u32 {
    let word: *mut u32 = ptr::with_exposed_provenance_mut(address);
    // SAFETY: the caller knows the word is mapped; atomics, because other
    // processes may write it at any time.
    unsafe { AtomicU32::from_ptr(word) }.load(Ordering::Relaxed)
}

/// Stores `value` in the word at `address`, in shared memory this process
/// maps writable.
fn store_word(address: usize, value: u32) {
    let word: *mut u32 = ptr::with_exposed_provenance_mut(address);
    // SAFETY: the caller knows the word is mapped writable, in one of the
    // fuzzer's objects that no Rust code relies on.
    unsafe { AtomicU32::from_ptr(word) }.store(value, Ordering::Relaxed)
}

/// The usize at `address` in the buffer, where a call just stored it.
fn read_usize(address: usize) -> usize {
    let bytes: *const usize = ptr::with_exposed_provenance(address);
    // SAFETY: the buffer is this process's memory, and any 8 bytes are a
    // usize.
    unsafe { bytes.read_unaligned() }
}

/// A fuzz child: waits for the go-ahead on `go` (by then the watchdog is
/// running), lets go of every descriptor and moves into [`FUZZDIR`], then
/// fuzzes. Never returns.
fn fuzz_child(go: i32, seed: u64) -> ! {
    let mut byte = [0];
    read(go, &mut byte);
    // Every descriptor it inherited, 0..NOFILE.
    for fd in 0..NOFILE as i32 {
        close(fd);
    }
    if chdir(FUZZDIR) != 0 {
        exit(SETUP_FAILED);
    }
    let mut rng = Rng::new(seed);
    // The buffer lives in this frame, above fuzz_loop's: see the module
    // documentation.
    let mut buffer = [0u8; BUFFER_LEN];
    for byte in &mut buffer {
        *byte = rng.next() as u8;
    }
    let buffer = black_box(&mut buffer).as_mut_ptr().expose_provenance();
    fuzz_loop(rng, buffer)
}

/// Makes the calls, then exits. Not inlined, so that its frame, with
/// everything it relies on, stays below `buffer` on the stack.
#[inline(never)]
fn fuzz_loop(rng: Rng, buffer: usize) -> ! {
    let Some((memory, tail_od)) = Memory::set_up(buffer) else {
        exit(SETUP_FAILED);
    };
    let coverage_od = COVERAGE_OD.load(Ordering::Relaxed);
    let mut ods = [Od::Closed; NSHMPROC];
    for od in [coverage_od, tail_od] {
        if let Ok(od) = usize::try_from(od) {
            ods[od] = Od::Other;
        }
    }
    let mut fuzzer = Fuzzer {
        rng,
        memory,
        coverage: Coverage { page: SHMBASE },
        files: [Open::Closed; NOFILE],
        buffered: [0; NOFILE],
        ods,
        objects: [NO_OBJECT; SHM_NAMES.len()],
        coverage_od,
        tail_od,
        children: [Child {
            pid: 0,
            sleeper: false,
        }; MAX_CHILDREN],
        reaped: [0; REAPED],
        reaped_next: 0,
        depth: 0,
        filled: false,
    };
    for _ in 0..CALLS_PER_ROUND {
        fuzzer.step();
    }
    fuzzer.finish()
}
// ---------------------------------------------------------------------------
// Random instructions.

/// Slots of [`FUZZ_CODE`], and the random bytes that start each.
const SLOTS: usize = 1024;
const RANDOM_BYTES: usize = 12;
/// A slot: the random bytes, then the landing.
const SLOT_SIZE: usize = 32;
/// How many children jump into a slot, in all.
const SEQUENCES: usize = 3 * SLOTS;
/// The exit status of a child that ran into a landing.
const RAN_THROUGH: i32 = 0x5A;
/// Ticks a sequence may run before the watchdog kills it.
const SEQUENCE_TICKS: u32 = 3;

/// The landing after each slot's random bytes: eight `nop`s (one-byte
/// instructions, on which a decoder that was out of step with the bytes
/// falls back in), then `mov edi, RAN_THROUGH; mov eax, SYS_EXIT; syscall`,
/// and `ud2` should the exit ever return.
const LANDING: [u8; SLOT_SIZE - RANDOM_BYTES] = {
    let mut landing = [0x90u8; SLOT_SIZE - RANDOM_BYTES];
    let exit = SYS_EXIT as u32;
    let code = [
        0xBF,
        RAN_THROUGH as u8,
        0,
        0,
        0,
        0xB8,
        exit as u8,
        (exit >> 8) as u8,
        (exit >> 16) as u8,
        (exit >> 24) as u8,
        0x0F,
        0x05,
        0x0F,
        0x0B,
    ];
    let start = landing.len() - code.len();
    let mut i = 0;
    while i < code.len() {
        landing[start + i] = code[i];
        i += 1;
    }
    landing
};

/// The random instructions, in the program's text (read-only and
/// executable; the linker script puts every `.text.*` section there).
#[unsafe(link_section = ".text.fuzz_code")]
static FUZZ_CODE: [u8; SLOTS * SLOT_SIZE] = {
    let mut code = [0u8; SLOTS * SLOT_SIZE];
    // xorshift64, as Rng but usable in a constant.
    let mut state: u64 = 0x1234_5678_9ABC_DEF1;
    let mut slot = 0;
    while slot < SLOTS {
        let mut i = 0;
        while i < RANDOM_BYTES {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            code[slot * SLOT_SIZE + i] = (state >> 24) as u8;
            i += 1;
        }
        let mut j = 0;
        while j < LANDING.len() {
            code[slot * SLOT_SIZE + RANDOM_BYTES + j] = LANDING[j];
            j += 1;
        }
        slot += 1;
    }
    code
};

/// The general-purpose registers a sequence starts with, in the order
/// [`run_sequence`] loads them, then the address it jumps to.
#[repr(C)]
struct Start {
    /// rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp, r8 .. r14.
    registers: [u64; 15],
    target: u64,
}

/// Loads `start`'s registers (all but r15, which points at `start`) and
/// jumps to its target. Never returns: the sequence ends the process.
fn run_sequence(start: &Start) -> ! {
    // SAFETY: not safe in any sense Rust knows: the process gives itself
    // to random code. It is a child that exits or is killed, with no
    // descriptors and no shared memory; what the code does to its memory
    // matters to no one.
    unsafe {
        asm!(
            "mov rax, [r15]",
            "mov rbx, [r15 + 8]",
            "mov rcx, [r15 + 16]",
            "mov rdx, [r15 + 24]",
            "mov rsi, [r15 + 32]",
            "mov rdi, [r15 + 40]",
            "mov rbp, [r15 + 48]",
            "mov rsp, [r15 + 56]",
            "mov r8, [r15 + 64]",
            "mov r9, [r15 + 72]",
            "mov r10, [r15 + 80]",
            "mov r11, [r15 + 88]",
            "mov r12, [r15 + 96]",
            "mov r13, [r15 + 104]",
            "mov r14, [r15 + 112]",
            "jmp qword ptr [r15 + 120]",
            in("r15") start,
            options(noreturn),
        )
    }
}

/// Register values for a sequence: mostly numbers and addresses that tend
/// to matter, now and then anything. `rax` is never a small number, so
/// that a `syscall` among the random bytes is an invalid call unless the
/// bytes themselves set it (a fork there would let a copy of the sequence
/// run where the watchdog does not look).
fn sequence_start(rng: &mut Rng, stack: usize, slot: usize) -> Start {
    let text = FUZZ_CODE.as_ptr() as usize;
    let pool = [
        0,
        1,
        u64::MAX as usize,
        0x7F,
        PGSIZE,
        stack,
        text,
        SHMBASE,
        LAST_USER,
        FIRST_NON_CANONICAL,
        DIRECT_MAP,
        KERNBASE,
    ];
    let value = |rng: &mut Rng| {
        if rng.one_in(4) {
            rng.next() as usize
        } else {
            rng.pick(&pool)
        }
    };
    let mut registers: [u64; 15] = core::array::from_fn(|_| value(rng) as u64);
    registers[0] = 1000 + (rng.next() % 1000);
    // rsp: usually the real stack, so that pushes and calls work a while.
    registers[7] = if rng.one_in(4) {
        value(rng) as u64
    } else {
        stack as u64
    };
    let offset = rng.below(RANDOM_BYTES);
    Start {
        registers,
        target: (text + slot * SLOT_SIZE + offset) as u64,
    }
}

/// Words of the page the test shares with the watchdog.
const WATCH_PID: usize = 0;
const WATCH_START: usize = 4;
const WATCH_KILLS: usize = 8;
const WATCH_STOP: usize = 12;

/// The watchdog: every tick, kills the sequence named on the page if it
/// has run for more than SEQUENCE_TICKS. Reading the pid before and after
/// its start time, and pids never being reused, keeps it from pairing
/// one child's pid with another's start.
fn watch_sequences(page: ulib::shm::Mapping<'_>) -> i32 {
    while page.load_u32(WATCH_STOP) == 0 {
        sleep(1);
        let pid = page.load_u32(WATCH_PID);
        let started = page.load_u32(WATCH_START);
        if pid != 0
            && page.load_u32(WATCH_PID) == pid
            && (uptime() as u32).wrapping_sub(started) > SEQUENCE_TICKS
            && kill(pid as i32) == 0
        {
            page.store_u32(WATCH_KILLS, page.load_u32(WATCH_KILLS) + 1);
        }
    }
    0
}

fn random_instructions() -> CheckResult {
    let mut shm = Shm::open("fz-watch").map_err(|why| format!("shm: {why}"))?;
    shm.trunc(PGSIZE).map_err(|why| format!("shm: {why}"))?;
    let page = shm.map_rw().map_err(|why| format!("shm: {why}"))?;
    page.fill(0..16, 0);
    let watchdog = spawn(|| watch_sequences(page))?;
    let od = shm.descriptor();
    let mut rng = Rng::new(0x1A5C);
    let stack_words = black_box([0u64; 64]);
    let stack = stack_words.as_ptr() as usize + 256;
    let (mut killed, mut ran_through, mut exited) = (0, 0, 0);
    let mut result = Ok(());
    for i in 0..SEQUENCES {
        let start = sequence_start(&mut rng, stack, i % SLOTS);
        let pid = fork();
        if pid == 0 {
            for fd in 0..NOFILE as i32 {
                close(fd);
            }
            // SAFETY: this child maps no shared memory from here on, and
            // nothing of it uses the mapping again.
            unsafe { shm_close(od) };
            run_sequence(&start);
        }
        if pid < 0 {
            result = Err(String::from("fork failed"));
            break;
        }
        page.store_u32(WATCH_START, uptime() as u32);
        page.store_u32(WATCH_PID, pid as u32);
        let mut status = 0;
        let reaped = wait(Some(&mut status));
        page.store_u32(WATCH_PID, 0);
        if reaped != pid {
            result = Err(format!("wait returned {reaped}, not the sequence {pid}"));
            break;
        }
        match status {
            -1 => killed += 1,
            RAN_THROUGH => ran_through += 1,
            _ => exited += 1,
        }
    }
    page.store_u32(WATCH_STOP, 1);
    let watchdog_status = wait_for(watchdog);
    let watchdog_kills = page.load_u32(WATCH_KILLS);
    println!(
        "syscallfuzz: {SEQUENCES} random instruction sequences: {} killed by a trap, \
         {watchdog_kills} by the watchdog, {ran_through} ran through, {exited} exited otherwise",
        killed - watchdog_kills as usize
    );
    shm.close().map_err(|why| format!("shm: {why}"))?;
    result?;
    let status = watchdog_status?;
    ensure!(status == 0, "the watchdog exited with status {status}");
    Ok(())
}

// ---------------------------------------------------------------------------
// The checks.

/// Runs [`ROUNDS`] rounds with seeds made from `seed` (and the seed given
/// on the command line, if any), then cleans up [`FUZZDIR`].
fn fuzz(seed: u64) -> CheckResult {
    open_coverage()?;
    ensure!(mkdir(FUZZDIR) == 0, "cannot create /fuzzdir");
    let seed = BASE_SEED.load(Ordering::Relaxed) << 8 | seed;
    let mut result = Ok(());
    for round in 0..ROUNDS {
        if let Err(why) = fuzz_round(seed << 8 | round) {
            result = Err(format!("round {round}: {why}"));
            break;
        }
    }
    let cleaned = remove_fuzzdir();
    result.and(cleaned)
}

/// The exit status of a watchdog that killed its fuzz child.
const WATCHDOG_KILLED: i32 = 1;

/// One round: a fuzz child seeded with `seed` and its watchdog; waits for
/// both and checks that nothing else is left, and that the child ended by
/// finishing its calls or by the watchdog's hand: its own bookkeeping
/// never lets it touch memory it does not have, so a fault would mean
/// the kernel took something away.
fn fuzz_round(seed: u64) -> CheckResult {
    let mut go = Pipe::new()?;
    let child = spawn(|| fuzz_child(go.read_end(), seed))?;
    let watchdog = spawn(|| {
        go.close_read();
        go.close_write();
        // A sleep cut short means the test killed us: the fuzz child
        // is gone and its pid must not be killed.
        if sleep(WATCHDOG_TICKS) == 0 && kill(child) == 0 {
            WATCHDOG_KILLED
        } else {
            0
        }
    });
    let watchdog = match watchdog {
        Ok(watchdog) => watchdog,
        Err(why) => {
            // The fuzz child waits for the go-ahead: end it.
            kill(child);
            return Err(why);
        }
    };
    go.close_read();
    go.send(b'g');
    go.close_write();

    let (mut child_status, mut watchdog_status) = (None, None);
    while child_status.is_none() || watchdog_status.is_none() {
        let mut status = 0;
        match wait(Some(&mut status)) {
            pid if pid == child => {
                child_status = Some(status);
                if watchdog_status.is_none() {
                    kill(watchdog);
                }
            }
            pid if pid == watchdog => watchdog_status = Some(status),
            -1 => return Err(String::from("wait failed while children were left")),
            pid => {
                return Err(format!(
                    "wait returned {pid}, neither the fuzz child nor the watchdog"
                ));
            }
        }
    }
    let left = wait(None);
    ensure!(left == -1, "process {left} was left behind");
    match child_status {
        Some(0) => ROUNDS_FINISHED.fetch_add(1, Ordering::Relaxed),
        Some(-1) if watchdog_status == Some(WATCHDOG_KILLED) => {
            ROUNDS_STOPPED.fetch_add(1, Ordering::Relaxed)
        }
        Some(SETUP_FAILED) => return Err(String::from("the fuzz child could not set up")),
        Some(INVALID_CALL_ACCEPTED) => {
            return Err(String::from(
                "a call with an invalid number did not return -1",
            ));
        }
        Some(-1) => {
            return Err(String::from(
                "the fuzz child was killed, not by the watchdog",
            ));
        }
        status => return Err(format!("the fuzz child exited with status {status:?}")),
    };
    Ok(())
}

/// The coverage page's shared-memory descriptor in the test program: -1
/// until the first fuzz check opens it, and again once `coverage` has
/// closed it.
static COVERAGE_OD: AtomicI32 = AtomicI32::new(-1);

/// The seed given on the command line, 0 without one.
static BASE_SEED: AtomicU64 = AtomicU64::new(0);

/// How the fuzz rounds ended: by finishing their calls, or by the
/// watchdog (a call blocked: a sleep of `i32::MAX` ticks, say).
static ROUNDS_FINISHED: AtomicU32 = AtomicU32::new(0);
static ROUNDS_STOPPED: AtomicU32 = AtomicU32::new(0);

/// Opens the coverage page (see [`Coverage`]) unless it is open: a fresh
/// object, which must get the window's first slot.
fn open_coverage() -> CheckResult {
    if COVERAGE_OD.load(Ordering::Relaxed) >= 0 {
        return Ok(());
    }
    let od = shm_open(c"fuzz-coverage");
    ensure!(od >= 0, "cannot open the coverage page");
    let mut page = 0;
    ensure!(
        shm_trunc(od, PGSIZE as i32) == PGSIZE as i32 && shm_map(od, &mut page, O_RDWR) == 0,
        "cannot size and map the coverage page"
    );
    ensure!(
        page == SHMBASE,
        "the coverage page is at {page:#x}, not in the first slot: some other object holds it"
    );
    COVERAGE_OD.store(od, Ordering::Relaxed);
    Ok(())
}

/// Calls that must succeed, and fail, at least this often in a run.
const MIN_COUNT: u32 = 10;

/// Calls exempt from failing: `exit` never returns to report a failure
/// (it is counted before the call), `getpid`, `uptime` and `tsc_hz` have
/// nothing that could fail.
const CANNOT_FAIL: [usize; 4] = [SYS_EXIT, SYS_GETPID, SYS_UPTIME, SYS_TSC_HZ];

/// Prints how often each call succeeded and failed over the fuzz rounds,
/// and how the rounds ended; fails if a call succeeded, or failed, fewer
/// than [`MIN_COUNT`] times (unless it cannot fail), or if a number no
/// call has ever succeeded. Then closes the coverage page.
fn coverage() -> CheckResult {
    let od = COVERAGE_OD.load(Ordering::Relaxed);
    ensure!(od >= 0, "no fuzz check opened the coverage page");
    let counts = Coverage { page: SHMBASE };
    let mut short = Vec::new();
    for slot in 0..SLOTS_COUNTED {
        let (ok, err) = counts.counts(slot);
        if slot == 0 {
            println!("syscallfuzz: coverage unknown ok={ok} err={err}");
            if ok > 0 || err < MIN_COUNT {
                short.push(format!("unknown numbers ok={ok} err={err}"));
            }
            continue;
        }
        let name = CALLS[slot - 1].name;
        println!("syscallfuzz: coverage {name}({slot}) ok={ok} err={err}");
        if ok < MIN_COUNT || (err < MIN_COUNT && !CANNOT_FAIL.contains(&slot)) {
            short.push(format!("{name} ok={ok} err={err}"));
        }
    }
    println!(
        "syscallfuzz: {} fuzz rounds: {} made all their calls, the watchdog stopped {}",
        ROUNDS_FINISHED.load(Ordering::Relaxed) + ROUNDS_STOPPED.load(Ordering::Relaxed),
        ROUNDS_FINISHED.load(Ordering::Relaxed),
        ROUNDS_STOPPED.load(Ordering::Relaxed),
    );
    // SAFETY: nothing in this process uses the page after this.
    unsafe { shm_close(od) };
    COVERAGE_OD.store(-1, Ordering::Relaxed);
    ensure!(
        short.is_empty(),
        "fewer than {MIN_COUNT} successes or failures: {}",
        short.join(", ")
    );
    Ok(())
}

/// Removes everything in [`FUZZDIR`], then the directory. Fails if a name
/// there is not one a fuzz child could make, or if something cannot be
/// removed.
fn remove_fuzzdir() -> CheckResult {
    ensure!(chdir(FUZZDIR) == 0, "cannot chdir to /fuzzdir");
    let mut strangers = Vec::new();
    let emptied = empty_directory(&mut Vec::new(), &mut strangers);
    // Back to the root (our directory, as init's) whatever happened.
    chdir(c"/");
    emptied?;
    ensure!(
        unlink(FUZZDIR) == 0,
        "/fuzzdir is empty but cannot be removed"
    );
    ensure!(
        strangers.is_empty(),
        "names no fuzz child can make: {}",
        strangers.join(", ")
    );
    Ok(())
}

/// Removes everything in the current directory, which is `path` below
/// [`FUZZDIR`], recursively, and notes in `strangers` every name not in
/// [`NAMES`]. Works with relative paths (a chdir per level), because a
/// fuzz child may have nested directories deeper than a path can name.
fn empty_directory(path: &mut Vec<u8>, strangers: &mut Vec<String>) -> CheckResult {
    let names = dir_names(c".").map_err(|why| format!("/fuzzdir{}: {why}", Text(path)))?;
    for name in names {
        if name.to_bytes() == b"." || name.to_bytes() == b".." {
            continue;
        }
        let depth = path.len();
        path.push(b'/');
        path.extend_from_slice(name.to_bytes());
        if !NAMES.contains(&name.to_bytes()) {
            strangers.push(format!("/fuzzdir{}", Text(path)));
        }
        // (A device file cannot be opened unless it is the console, so
        // stat fails for it: it counts as not a directory.)
        if stat(&name).is_ok_and(|st| st.kind == T_DIR) {
            ensure!(chdir(&name) == 0, "cannot chdir to /fuzzdir{}", Text(path));
            let emptied = empty_directory(path, strangers);
            ensure!(
                chdir(c"..") == 0,
                "cannot chdir out of /fuzzdir{}",
                Text(path)
            );
            emptied?;
        }
        ensure!(unlink(&name) == 0, "cannot unlink /fuzzdir{}", Text(path));
        path.truncate(depth);
    }
    Ok(())
}

/// Every slot of the shared-memory table is free: a reference the fuzzing
/// leaked would keep a slot.
fn shm_table_empty() -> CheckResult {
    fill_shm_table("fz")
}

/// After all that, the kernel still does real work: files, pipes, shared
/// memory, fork and exec.
fn kernel_still_works() -> CheckResult {
    file_round_trip()?;
    pipe_round_trip()?;
    shm_round_trip()?;
    exec_round_trip()
}

/// Ticks that `fork_while_closing`'s two processes race for.
const RACE_TICKS: i32 = 50;

/// `fork` and the dropping of an inode's last reference, at the same time
/// on two CPUs: one process forks (and reaps) as fast as it can while
/// another opens and closes a file. Both paths take a process's lock and
/// the inode table's lock; taken in opposite orders, two CPUs can each
/// hold one and spin forever on the other with interrupts off, and the run
/// ends only at the harness's timeout. The fuzz children meet this
/// interleaving only now and then; here it comes within a few hundred
/// forks.
fn fork_while_closing() -> CheckResult {
    let deadline = uptime() + RACE_TICKS;
    let forker = spawn_check(move || {
        let mut forks = 0;
        while uptime() < deadline {
            match fork() {
                0 => exit(0),
                pid => ensure!(pid > 0, "fork failed"),
            }
            forks += 1;
            wait(None);
        }
        ensure!(forks > 0, "not one fork finished in time");
        Ok(())
    })?;
    let closer = spawn_check(move || {
        while uptime() < deadline {
            let fd = open(c"/fuzz-race", O_CREATE | O_RDWR);
            ensure!(fd >= 0, "cannot open /fuzz-race");
            close(fd);
        }
        Ok(())
    })?;
    let raced = join_all(alloc::vec![forker, closer]);
    unlink(c"/fuzz-race");
    raced
}

const MESSAGE: &[u8] = b"the kernel survived";

/// Reads the whole file at `path` and removes it.
fn read_and_unlink(path: &CStr) -> Result<Vec<u8>, String> {
    let contents = read_file(path)?;
    ensure!(unlink(path) == 0, "cannot unlink {}", Text(path.to_bytes()));
    Ok(contents)
}

/// A file: create, write, read back, unlink.
fn file_round_trip() -> CheckResult {
    let path = c"/fuzz-survivor";
    make_file(path, MESSAGE)?;
    let contents = read_and_unlink(path)?;
    ensure!(
        contents == MESSAGE,
        "the file holds \"{}\"",
        Text(&contents)
    );
    Ok(())
}

/// A pipe: what goes in comes out.
fn pipe_round_trip() -> CheckResult {
    let pipe = Pipe::new()?;
    let written = write(pipe.write_end(), MESSAGE);
    let mut received = [0u8; MESSAGE.len()];
    let got = read(pipe.read_end(), &mut received);
    ensure!(
        written == MESSAGE.len() as isize && got == MESSAGE.len() as isize && received == MESSAGE,
        "a pipe passed on {got} of {written} bytes"
    );
    Ok(())
}

/// Shared memory: open, size, map, write, read back, close.
fn shm_round_trip() -> CheckResult {
    let mut shm = Shm::open("fuzz-survivor").map_err(|why| format!("shm: {why}"))?;
    shm.trunc(PGSIZE).map_err(|why| format!("shm: {why}"))?;
    let mapping = shm.map_rw().map_err(|why| format!("shm: {why}"))?;
    mapping.write(0, MESSAGE);
    let mut back = [0u8; MESSAGE.len()];
    mapping.read(0, &mut back);
    ensure!(
        back == MESSAGE,
        "shared memory did not keep what was written"
    );
    shm.close().map_err(|why| format!("shm: {why}"))
}

/// fork and exec: `echo` run with its output in a file.
fn exec_round_trip() -> CheckResult {
    let path = c"/fuzz-echo";
    let echoed = in_child(|| {
        close(1);
        // The lowest free descriptor: 1, standard output.
        ensure!(open(path, O_CREATE | O_WRONLY) == 1);
        exec_args("echo", &[b"echo".as_slice(), MESSAGE]);
        Err(String::from("exec of echo failed"))
    });
    if let Err(why) = echoed {
        unlink(path);
        return Err(why);
    }
    let contents = read_and_unlink(path)?;
    ensure!(
        contents.strip_suffix(b"\n") == Some(MESSAGE),
        "echo wrote \"{}\"",
        Text(&contents)
    );
    Ok(())
}
