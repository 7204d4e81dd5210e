//! ulib: everything a user program links besides its own code.
//!
//! This crate is xv6's user-space runtime — `ulib.c`, `usys.S`, `printf.c`
//! and `umalloc.c` — written for Rust. A program is a `#![no_std]`,
//! `#![no_main]` binary in `src/bin/` that names its `main` with
//! [`entry!`]; from there it has:
//!
//! - [`start`]: how a program begins and ends. The kernel's `exec` jumps to
//!   `_start` (which [`entry!`] defines) with `argc` and `argv`; `_start`
//!   wraps them in [`Args`], calls `main`, and passes its result to
//!   [`exit`]. A panic prints its message and location and exits with -1,
//!   the status the kernel gives a process it kills.
//! - [`syscall`]: every system call as a safe function taking Rust types,
//!   returning -1 on error as in xv6 (re-exported here, so programs write
//!   `ulib::fork()`). Under them, [`usys`] holds the `syscall` instruction
//!   itself, public so that tests can pass the kernel bad pointers.
//! - [`printf`]: `print!`, `println!`, `eprint!`, `eprintln!`, `fprint!` and
//!   `fprintln!`, which format with `core::fmt` and write to a file
//!   descriptor.
//! - [`umalloc`]: the global allocator, a free list over [`sbrk`], so that
//!   `alloc`'s `Vec`, `String` and `Box` work.
//! - [`string`]: the few string helpers `core` and `alloc` lack. (A
//!   NUL-terminated copy of a string is `alloc::ffi::CString`; a C string
//!   literal is `c"..."`.)
//! - [`shm`]: shared memory (docs/shm.md): its system calls, and
//!   [`Shm`](shm::Shm), a descriptor that closes itself when dropped, with
//!   the mapping it hands out.
//! - [`sync`]: a mutex, a semaphore and a byte channel that live in
//!   shared memory and block through `shm_wait`/`shm_wake`.
//! - [`bench`]: the clock, fixed-point figures and CSV rows of the
//!   benchmark programs.
//! - [`testing`]: the harness every test program (`proctest`,
//!   `isolationtest`, `cowtest`, `shmtest`, `synctest`, `syscallfuzz`,
//!   `usertests`) shares: a table of checks run in order, each printing
//!   `PASS` or `FAIL`, with the free memory counted before and after;
//!   [`ensure!`] and [`ensure_eq!`] for writing checks; children that
//!   check something and send back why they failed; the bad pointers every
//!   system call must refuse.
//!
//! A process has exactly one thread, and `fork` gives the child its own copy
//! of everything. The library relies on that: its global state (the
//! allocator's free list) needs no lock.

#![no_std]

extern crate alloc;

pub mod bench;
pub mod printf;
pub mod shm;
pub mod start;
pub mod string;
pub mod sync;
pub mod syscall;
pub mod testing;
pub mod umalloc;
pub mod usys;

pub use printf::{STDERR, STDIN, STDOUT};
pub use start::Args;
pub use syscall::*;

// The user address space, as the kernel lays it out (abi::memlayout): from
// 0x1000 up, the program's text, data and bss, an unmapped guard page, the
// stack, then the heap, which `sbrk` grows up to SHMBASE.
pub use abi::memlayout::{PGSIZE, SHMBASE, USER_STACK_PAGES};
