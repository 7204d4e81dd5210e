//! stressfs: several processes write and read files at the same time.
//!
//! Five processes (the first and four it forks, in a chain) each write a
//! file of their own, `stressfs0` to `stressfs4`, in 512-byte pieces, then
//! read it back and check it. Their system calls interleave in the kernel,
//! so the file system's locks and its log see concurrent transactions on
//! one directory and one free-block bitmap. Each process removes its file
//! at the end and waits for the process it forked, so the first exits last;
//! the exit status says whether everyone succeeded.

#![no_std]
#![no_main]

use abi::fcntl::{O_CREATE, O_RDONLY, O_RDWR};
use ulib::{Args, close, fork, open, println, read, unlink, wait, write};

ulib::entry!(main);

/// Processes writing at once.
const WRITERS: u8 = 5;
/// Pieces each writes.
const PIECES: usize = 20;
/// Size of a piece.
const PIECE: usize = 512;

fn main(_args: Args) -> i32 {
    println!("stressfs starting");
    // Each process forks the next; `me` is its place in the chain. The one
    // that does not fork (the last, or any whose fork failed) is a leaf.
    let mut me = 0;
    while me + 1 < WRITERS && fork() == 0 {
        me += 1;
    }
    let mut path = *b"stressfs0\0";
    path[8] += me;
    let path = core::ffi::CStr::from_bytes_with_nul(&path).expect("one NUL, at the end");
    let fill = b'a' + me;

    println!("write {me}");
    let mut ok = true;
    let fd = open(path, O_CREATE | O_RDWR);
    ok &= fd >= 0;
    let piece = [fill; PIECE];
    for _ in 0..PIECES {
        ok &= write(fd, &piece) == PIECE as isize;
    }
    close(fd);

    println!("read {me}");
    let fd = open(path, O_RDONLY);
    ok &= fd >= 0;
    let mut piece = [0u8; PIECE];
    for _ in 0..PIECES {
        ok &= read(fd, &mut piece) == PIECE as isize && piece.iter().all(|&c| c == fill);
    }
    close(fd);
    ok &= unlink(path) == 0;
    if !ok {
        println!("stressfs: {me} failed");
    }

    // Wait for the process we forked, if any, and pass on its verdict.
    let mut status = 0;
    if wait(Some(&mut status)) >= 0 && status != 0 {
        ok = false;
    }
    if me == 0 && ok {
        println!("stressfs ok");
    }
    if ok { 0 } else { 1 }
}
