//! syscallfuzz: throws random system calls at the kernel and checks that it
//! survives them.
//!
//! The claim under test is the kernel's promise to user programs: nothing a
//! program does — no call, no argument, no order of calls — can panic the
//! kernel, wedge it, or make it lose memory. Each `fuzz_seed_N` check runs a
//! few rounds; a round forks a *fuzz child* that makes
//! [`CALLS_PER_ROUND`] system calls chosen by a pseudo-random generator
//! seeded from N and the round number, so every run makes the same calls
//! with the same arguments and a failure can be reproduced.
//!
//! # What the fuzz child calls
//!
//! Every system call, with arguments drawn from pools of values that tend
//! to find bugs ([`Memory::argument`]): 0, -1, 16, `i32::MAX`, `u64::MAX`,
//! 2³²; pointers to a real buffer, with a fitting or an enormous length, to
//! its last byte, to the last byte of the stack and of the heap, to page 0,
//! to the guard page below the stack, into the shared-memory window, to the
//! last user address, to the first non-canonical address and into the
//! kernel; paths from a small pool (`fa`, `fa/fb`, `.`, `..`, the empty
//! path, a name of exactly `DIRSIZ` bytes and one longer, a string that
//! runs into an unmapped page); argv arrays with a bad element or without
//! their terminating null; every `open` flag; shared-memory names that are
//! empty or too long. Now and then an argument comes from the wrong pool
//! altogether. Numbers no call has (0, 28, 1000, `u64::MAX`) must return
//! -1, which the child checks.
//!
//! Some calls are left out or tamed, because their effect would reach
//! beyond the fuzz child:
//!
//! - `kill` is never made: any pid it could name might be the test program
//!   itself, `init`, or the watchdog, and killing `init` ends the run.
//! - `fork` is made, but the new process exits at once, so no copy of the
//!   fuzzer runs loose.
//! - `mknod` never gets the console's major number: a console device file
//!   would let the child read the keyboard and write the serial line.
//! - `chdir` never gets `..` or `/`, so the child stays inside
//!   [`FUZZDIR`] and every file it makes is there for the clean-up to find.
//! - `exit` is rare, so that few rounds end early by their own choice.
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
//! Some random calls rightly block forever: a read from a pipe whose write
//! end the child holds itself, a write to a full pipe nobody reads, a sleep
//! of `i32::MAX` ticks, a `shm_wait` on a word that holds what it expects. So each round forks, besides the fuzz child, a
//! watchdog that sleeps [`WATCHDOG_TICKS`] and then kills the fuzz child.
//! The test waits for the fuzz child, however it ended (it exited, or was
//! killed by the watchdog or for a fault), then kills and reaps the
//! watchdog. What the round asserts is that the child ended, that
//! the kernel is still alive to say so, and that no process is left over.
//!
//! # The fuzz child's own memory
//!
//! The kernel may write wherever a pointer argument lets it, so the child
//! keeps what it relies on where no pointer argument reaches. Its state
//! (generator, pools, argv arrays) lives in the frame of [`fuzz_loop`];
//! the buffer it lends the kernel lives in the frame of its caller,
//! [`fuzz_child`], higher on the stack, so a read that overruns the buffer
//! runs away from that state, into frames the child never returns to and
//! into the heap, which it no longer uses: after `fork` it allocates
//! nothing. The paths it passes are string literals, in read-only memory,
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
use core::sync::atomic::{AtomicUsize, Ordering};

use abi::device::CONSOLE;
use abi::fcntl::{NOFILE, O_CREATE, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY};
use abi::memlayout::{DIRECT_MAP, KERNBASE, USER_TOP};
use abi::shm::SHM_END;
use abi::stat::T_DIR;
use abi::syscall::*;
use ulib::shm::{Shm, shm_close, shm_map, shm_open, shm_trunc};
use ulib::string::Text;
use ulib::testing::{
    Check, CheckResult, Pipe, dir_names, fill_shm_table, in_child, join_all, make_file, read_file,
    run_checks, spawn, spawn_check, stat, wait_for,
};
use ulib::usys::syscall3;
use ulib::{
    Args, PGSIZE, SHMBASE, USER_STACK_PAGES, chdir, close, ensure, eprintln, exec_args, exit, fork,
    kill, mkdir, open, println, read, sbrk, sleep, unlink, uptime, wait, write,
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
    ("random_instructions", random_instructions),
    ("shm_table_empty", shm_table_empty),
    ("kernel_still_works", kernel_still_works),
    // Last: a kernel with the lock-order bug this looks for wedges every
    // CPU, and the checks after it would never report.
    ("fork_while_closing", fork_while_closing),
];

/// Rounds per seed: a fresh fuzz child each.
const ROUNDS: u64 = 8;

/// System calls each fuzz child makes.
const CALLS_PER_ROUND: usize = 300;

/// How long a fuzz child may run before the watchdog kills it.
const WATCHDOG_TICKS: i32 = 30;

/// Exit statuses by which a fuzz child reports that it could not set up
/// (move into [`FUZZDIR`], grow its heap by a page), or that a call with
/// an invalid number did not return -1. (A random `exit` could only give
/// one of these with a random 64-bit argument whose low half matched.)
const SETUP_FAILED: i32 = 0x0BAD_5E70;
const INVALID_CALL_ACCEPTED: i32 = 0x0BAD_CA11;

/// The directory the fuzz children work in, and its name as the clean-up
/// builds paths from it.
const FUZZDIR: &CStr = c"/fuzzdir";

/// The names a fuzz child can give a file or directory: the last element
/// of every path in [`PATHS`] that the kernel accepts.
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
    // We take no arguments. That also stops at once a copy of us that a
    // fuzz child managed to `exec`, with one of its argv arrays.
    if args.len() != 1 {
        eprintln!("usage: syscallfuzz");
        return 2;
    }
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
        // Spread the seed's bits with splitmix64's finaliser, so that
        // seeds 1, 2, 3 start far apart; the state must never be 0.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
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
/// it is drawn from.
#[derive(Clone, Copy)]
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
    /// A shared-memory name.
    ShmName,
    /// A shared-memory descriptor, for any call but `shm_map`.
    Od,
    /// A shared-memory descriptor to map: better one that has a size.
    SizedOd,
    /// `shm_trunc`'s size.
    ShmSize,
    /// `shm_map`'s flags.
    ShmFlags,
}

use Arg::*;

/// A system call the fuzzer makes: its number, what its arguments mean,
/// and how often to make it relative to the others.
struct Call {
    number: usize,
    args: &'static [Arg],
    weight: usize,
}

const fn call(number: usize, args: &'static [Arg], weight: usize) -> Call {
    Call {
        number,
        args,
        weight,
    }
}

/// The calls, with their weights: a call is made `weight` times in about
/// 1200 calls, so `exit` ends about one round in five early. `kill` is
/// missing on purpose (see the module documentation). The invalid numbers
/// include 2³² + `SYS_GETPID`, which a kernel may read as `getpid` (if it
/// looks only at the low 32 bits, as C's `int` would) or refuse; no number
/// is chosen whose low 32 bits would be `kill`.
const CALLS: &[Call] = &[
    call(SYS_FORK, &[], 10),
    call(SYS_EXIT, &[Any], 1),
    call(SYS_WAIT, &[Address], 20),
    call(SYS_PIPE, &[Address], 8),
    call(SYS_READ, &[Fd, Address, Length], 120),
    call(SYS_EXEC, &[Path, Argv], 20),
    call(SYS_FSTAT, &[Fd, Address], 60),
    call(SYS_CHDIR, &[DirPath], 40),
    call(SYS_DUP, &[Fd], 40),
    call(SYS_GETPID, &[], 10),
    call(SYS_SBRK, &[Increment], 30),
    call(SYS_SLEEP, &[Ticks], 10),
    call(SYS_UPTIME, &[], 10),
    call(SYS_OPEN, &[Path, OpenFlags], 120),
    call(SYS_WRITE, &[Fd, Address, Length], 120),
    call(SYS_MKNOD, &[Path, Major, Any], 30),
    call(SYS_UNLINK, &[Path], 80),
    call(SYS_LINK, &[Path, Path], 50),
    call(SYS_MKDIR, &[Path], 60),
    call(SYS_CLOSE, &[Fd], 80),
    call(SYS_SHM_OPEN, &[ShmName], 60),
    call(SYS_SHM_TRUNC, &[Od, ShmSize], 50),
    call(SYS_SHM_MAP, &[SizedOd, Address, ShmFlags], 50),
    call(SYS_SHM_CLOSE, &[Od], 50),
    call(SYS_SHM_WAIT, &[Address, Any], 10),
    call(SYS_SHM_WAKE, &[Address, Any], 20),
    call(0, &[Any, Any, Any], 1),
    call(28, &[Any, Any, Any], 1),
    call(1000, &[Any, Any, Any], 1),
    call(usize::MAX, &[Any, Any, Any], 1),
    call((1 << 32) | SYS_GETPID, &[Any, Any, Any], 1),
];

/// Whether no system call has `number`, however the kernel reads it: all
/// 64 bits, or only the low 32, as C's `int` would.
fn no_such_call(number: usize) -> bool {
    !(SYS_FORK..=SYS_SHM_WAKE).contains(&(number as u32 as usize))
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

/// Paths; the kernel refuses the 15-byte and the 100-byte name (longer
/// than `DIRSIZ`) and makes nothing for `.`, `..`, `/` or the empty path.
const PATHS: [&CStr; 12] = [
    c"fa",
    c"fb",
    c"fa/fb",
    c"fb/fa",
    c"fa/",
    c"fourteen_chars",
    c"fifteen_chars__",
    c".",
    c"..",
    c"",
    c"/",
    c"a123456789b123456789c123456789d123456789e123456789f123456789g123456789h123456789i123456789j123456789",
];

/// The paths `chdir` may get: every one in [`PATHS`] that stays inside
/// the current directory.
const DIR_PATHS: [&CStr; 8] = [
    c"fa",
    c"fb",
    c"fa/fb",
    c"fb/fa",
    c"fa/",
    c"fourteen_chars",
    c".",
    c"",
];

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

// ---------------------------------------------------------------------------
// The fuzz child.

/// The memory a fuzz child points the kernel at, and the argument pools
/// built on it. Lives in [`fuzz_loop`]'s frame, where no pointer argument
/// reaches.
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
    /// The last `UNTERMINATED` bytes of a read-only shared-memory page: no
    /// NUL, then an unmapped page (0 if the page could not be had).
    unterminated: usize,
    /// argv arrays: `["fa", "fb"]`; one whose second element points into
    /// the kernel; an empty one; one longer than the kernel's `MAXARG` (32).
    good_argv: [usize; 3],
    bad_element_argv: [usize; 3],
    empty_argv: [usize; 1],
    long_argv: [usize; 40],
    /// The last file descriptor a call returned, the last shared-memory
    /// descriptor one returned, and the last one sized: the pools offer
    /// them often, so that calls reach the objects earlier calls made.
    recent_fd: usize,
    recent_od: usize,
    sized_od: usize,
}

/// Pointers in the unterminated argv array at the end of the heap.
const TAIL_ARGV: usize = 8;

/// Bytes of the unterminated string.
const UNTERMINATED: usize = 64;

impl Memory {
    /// Grows the heap by a page whose end holds the unterminated argv
    /// array, and maps a read-only page ending in the unterminated string.
    /// Returns `None` if the heap cannot grow.
    fn set_up(buffer: usize) -> Option<Memory> {
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
        let unterminated = read_only_page(c"fuzz-tail", |page| {
            for i in PGSIZE - UNTERMINATED..PGSIZE {
                let byte: *mut u8 = ptr::with_exposed_provenance_mut(page + i);
                // SAFETY: the page was just mapped, writable, for this
                // process alone, and nothing else refers to it.
                unsafe { byte.write(b'x') };
            }
        });

        let stack_top = STACK_TOP.load(Ordering::Relaxed);
        Some(Memory {
            buffer,
            stack_top,
            stack_bottom: stack_top - USER_STACK_PAGES * PGSIZE,
            heap_end,
            unterminated_argv,
            unterminated: unterminated.map_or(0, |page| page + PGSIZE - UNTERMINATED),
            good_argv: [fa, c"fb".as_ptr().addr(), 0],
            bad_element_argv: [fa, DIRECT_MAP, 0],
            empty_argv: [0],
            // 39 arguments, then the null.
            long_argv: core::array::from_fn(|i| if i < 39 { fa } else { 0 }),
            recent_fd: 0,
            recent_od: 0,
            sized_od: 0,
        })
    }

    /// A value for an argument of kind `kind`. One argument in ten comes
    /// from the wrong pool.
    fn argument(&self, kind: Arg, rng: &mut Rng) -> usize {
        if rng.one_in(10) {
            return self.major_not_console(kind, self.any(rng));
        }
        let value = match kind {
            Any => self.any(rng),
            // Mostly a recent descriptor or a low number, where open
            // descriptors are.
            Fd | Od | SizedOd => match rng.below(8) {
                0 => rng.pick(&NUMBERS),
                1..=3 => match kind {
                    Fd => self.recent_fd,
                    Od => self.recent_od,
                    _ => self.sized_od,
                },
                4 | 5 => rng.below(6),
                _ => rng.below(18),
            },
            Address => self.address(rng),
            Length => match rng.below(6) {
                0 | 1 => rng.below(BUFFER_LEN + 1),
                2 | 3 => rng.pick(&[0, 1, 8, 24, BUFFER_LEN, BUFFER_LEN + 1, PGSIZE]),
                4 => 1 << 16,
                _ => rng.pick(&[i32::MAX as usize, u32::MAX as usize, 1 << 40, usize::MAX]),
            },
            Path => match rng.below(8) {
                0 => self.bad_string(rng),
                _ => rng.pick(&PATHS).as_ptr().addr(),
            },
            DirPath => match rng.below(8) {
                0 => self.bad_string(rng),
                _ => rng.pick(&DIR_PATHS).as_ptr().addr(),
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
                0 => self.good_argv.as_ptr().addr(),
                1 => self.bad_element_argv.as_ptr().addr(),
                2 => self.empty_argv.as_ptr().addr(),
                3 => self.long_argv.as_ptr().addr(),
                4 | 5 => self.unterminated_argv,
                _ => self.bad_address(rng),
            },
            Increment => match rng.below(64) {
                0 => 1 << 29, // more than all memory: sbrk must undo it
                1..=12 => rng.below(4 * PGSIZE).wrapping_sub(2 * PGSIZE),
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
            Ticks => match rng.below(32) {
                0 => i32::MAX as usize, // the watchdog ends this one
                _ => rng.pick(&[0, 1, 2, -1isize as usize, i32::MIN as usize, 1 << 32]),
            },
            ShmName => match rng.below(8) {
                0 => self.bad_string(rng),
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
        self.major_not_console(kind, value)
    }

    /// `value`, or for a major device number that the kernel would read
    /// as the console's (it keeps the low 16 bits), the next number.
    fn major_not_console(&self, kind: Arg, value: usize) -> usize {
        match kind {
            Major if value as u16 == CONSOLE => value.wrapping_add(1),
            _ => value,
        }
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
            10 => SHMBASE,
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
/// (given its address), and maps it again read-only; returns its address.
///
/// Read-only, the page is one the kernel must never write for a system
/// call, so a path kept there stays the path it was whatever the fuzzer
/// does: otherwise a random call could turn it into a name that nobody
/// expects to find in [`FUZZDIR`]. A process maps an object only once, so
/// the object is opened twice: written through one descriptor, which is
/// then closed, and mapped read-only through the other.
fn read_only_page(name: &CStr, fill: impl FnOnce(usize)) -> Option<usize> {
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
    (shm_map(reader, &mut page, O_RDONLY) == 0).then_some(page)
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

/// Makes the random calls, then exits. Not inlined, so that its frame, with
/// everything it relies on, stays below `buffer` on the stack.
#[inline(never)]
fn fuzz_loop(mut rng: Rng, buffer: usize) -> ! {
    let Some(mut memory) = Memory::set_up(buffer) else {
        exit(SETUP_FAILED);
    };
    let total: usize = CALLS.iter().map(|call| call.weight).sum();
    for _ in 0..CALLS_PER_ROUND {
        let mut choice = rng.below(total);
        let call = CALLS
            .iter()
            .find(|call| {
                let found = choice < call.weight;
                choice = choice.saturating_sub(call.weight);
                found
            })
            .expect("the weights add up to the total");
        let mut args = [0; 3];
        for (arg, &kind) in args.iter_mut().zip(call.args) {
            *arg = memory.argument(kind, &mut rng);
        }
        // SAFETY: whatever the call does, this child relies on nothing it
        // can change. The memory the kernel may write through an argument
        // is the buffer and what lies above it (frames this child never
        // returns to, the argument strings at the top of the stack), the
        // heap (unused since fork: this child allocates nothing; only the
        // kernel reads the argv array at its end) and the shared-memory
        // window (which Rust code here no longer touches): never this
        // function's frame, nor read-only memory. `sbrk` may unmap heap
        // pages, which only arguments point into, never the stack or the
        // image. `exec` cannot succeed with a file the fuzzer wrote, and if
        // it did, this program would be gone, not corrupted; `exit` ends it.
        let result = unsafe { syscall3(call.number, args[0], args[1], args[2]) };
        match call.number {
            SYS_FORK if result == 0 => {
                // The new process: a copy of the fuzzer must not run loose.
                exit(0);
            }
            SYS_OPEN | SYS_DUP if result >= 0 => memory.recent_fd = result as usize,
            SYS_SHM_OPEN if result >= 0 => memory.recent_od = result as usize,
            SYS_SHM_TRUNC if result >= 0 => memory.sized_od = args[0],
            number if no_such_call(number) && result != -1 => exit(INVALID_CALL_ACCEPTED),
            _ => {}
        }
    }
    exit(0)
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

/// Runs [`ROUNDS`] rounds with seeds made from `seed`, then cleans up
/// [`FUZZDIR`].
fn fuzz(seed: u64) -> CheckResult {
    ensure!(mkdir(FUZZDIR) == 0, "cannot create /fuzzdir");
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

/// One round: a fuzz child seeded with `seed` and its watchdog; waits for
/// both and checks that nothing else is left.
fn fuzz_round(seed: u64) -> CheckResult {
    let mut go = Pipe::new()?;
    let child = spawn(|| fuzz_child(go.read_end(), seed))?;
    let watchdog = spawn(|| {
        go.close_read();
        go.close_write();
        // A sleep cut short means the test killed us: the fuzz child
        // is gone and its pid must not be killed.
        if sleep(WATCHDOG_TICKS) == 0 {
            kill(child);
        }
        0
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

    let (mut child_done, mut watchdog_done) = (false, false);
    let mut status = 0;
    while !(child_done && watchdog_done) {
        match wait(Some(&mut status)) {
            pid if pid == child => {
                child_done = true;
                if !watchdog_done {
                    kill(watchdog);
                }
                ensure!(status != SETUP_FAILED, "the fuzz child could not set up");
                ensure!(
                    status != INVALID_CALL_ACCEPTED,
                    "a call with an invalid number did not return -1"
                );
            }
            pid if pid == watchdog => watchdog_done = true,
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
