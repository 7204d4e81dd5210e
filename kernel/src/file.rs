//! Open files: the system-wide table of files that processes have open.
//!
//! A file descriptor in a process (`Private::files`) refers to a [`File`],
//! and several descriptors, in one process or many, can share one (after
//! `dup` or `fork`): they share the offset too. A file is one of
//!
//! - an inode (a regular file or a directory), read and written at the
//!   file's offset;
//! - a device inode, whose reads and writes go to the device's driver
//!   (only the console, major 1, exists);
//! - one end of a pipe.
//!
//! [`File`] is a counted reference to a slot of the table: cloning it is
//! `dup`, dropping the last one closes the file (and its pipe end or
//! inode). The table's spin lock guards the reference counts. A slot's
//! contents are written only while its count goes from 0 to 1 (by `alloc`)
//! or from 1 to 0 (by the last drop), so every holder of a reference can
//! read them without a lock, except the offset: it is an atomic, changed
//! under the inode's sleep lock so that reads and writes through a shared
//! file are not interleaved.

use core::cell::UnsafeCell;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicU32, Ordering};

use abi::fs::WRITE_PIECE;
use abi::stat::{InodeKind, Stat};

use crate::console;
use crate::error::Error;
use crate::fs::{Inode, Source, Target};
use crate::log;
use crate::param::NFILE;
use crate::param::NOFILE;
use crate::pipe::Pipe;
use crate::spinlock::SpinLock;
use crate::vm::{self, AddressSpace, UserAddr};

pub enum Kind {
    Inode(Inode),
    Device { inode: Inode, major: u16 },
    Pipe(NonNull<Pipe>),
}

pub struct OpenFile {
    pub kind: Kind,
    pub readable: bool,
    pub writable: bool,
    /// Byte offset for inode files.
    offset: AtomicU32,
}

struct Slot(UnsafeCell<Option<OpenFile>>);

// SAFETY: see the module doc: a slot's contents change only when its
// reference count goes 0 -> 1 or 1 -> 0, when exactly one thread can see
// it; otherwise it is only read (the offset is atomic).
unsafe impl Sync for Slot {}

static REFERENCES: SpinLock<[u32; NFILE]> = SpinLock::new("ftable", [0; NFILE]);
static SLOTS: [Slot; NFILE] = [const { Slot(UnsafeCell::new(None)) }; NFILE];

/// A counted reference to an open file.
pub struct File {
    slot: usize,
}

/// Opens a file of the given kind; fails when the table is full. On
/// failure `kind` is dropped, closing what it holds.
pub fn alloc(kind: Kind, readable: bool, writable: bool) -> Result<File, (Error, Kind)> {
    let mut references = REFERENCES.lock();
    let Some(slot) = references.iter().position(|&count| count == 0) else {
        return Err((Error::OutOfResources, kind));
    };
    references[slot] = 1;
    // SAFETY: the count just went 0 -> 1 under the lock: nobody else
    // can see the slot.
    unsafe {
        *SLOTS[slot].0.get() = Some(OpenFile {
            kind,
            readable,
            writable,
            offset: AtomicU32::new(0),
        })
    };
    Ok(File { slot })
}

impl File {
    fn open_file(&self) -> &OpenFile {
        // SAFETY: we hold a reference, so the slot is filled and does not
        // change until the last reference goes (module doc).
        unsafe { (*SLOTS[self.slot].0.get()).as_ref() }.expect("an open file slot is filled")
    }

    pub fn stat(&self) -> Result<Stat, Error> {
        match &self.open_file().kind {
            Kind::Inode(inode) | Kind::Device { inode, .. } => Ok(inode.lock()?.stat()),
            Kind::Pipe(_) => Err(Error::InvalidArgument),
        }
    }

    /// Reads up to `n` bytes to user address `dst` in `space`.
    pub fn read(&self, space: &mut AddressSpace, dst: UserAddr, n: usize) -> Result<usize, Error> {
        let file = self.open_file();
        if !file.readable {
            return Err(Error::InvalidArgument);
        }
        match &file.kind {
            // SAFETY: the pipe lives while this read end is open.
            Kind::Pipe(pipe) => unsafe { pipe.as_ref() }.read(space, dst, n),
            Kind::Device { major, .. } => device_read(*major, space, dst, n),
            Kind::Inode(inode) => {
                let mut guard = inode.lock()?;
                let offset = file.offset.load(Ordering::Relaxed);
                let read = guard.read(Target::User(space, dst), offset, n)?;
                file.offset.store(offset + read as u32, Ordering::Relaxed);
                Ok(read)
            }
        }
    }

    /// Writes `n` bytes from user address `src` in `space`.
    pub fn write(&self, space: &AddressSpace, src: UserAddr, n: usize) -> Result<usize, Error> {
        let file = self.open_file();
        if !file.writable {
            return Err(Error::InvalidArgument);
        }
        match &file.kind {
            // SAFETY: the pipe lives while this write end is open.
            Kind::Pipe(pipe) => unsafe { pipe.as_ref() }.write(space, src, n),
            Kind::Device { major, .. } => device_write(*major, space, src, n),
            Kind::Inode(inode) => {
                if inode.lock()?.kind() == InodeKind::Dir {
                    return Err(Error::IsDirectory);
                }
                // Write a few blocks at a time, each piece in its own log
                // operation, so that no operation exceeds MAXOPBLOCKS (see
                // WRITE_PIECE).
                let max_piece = WRITE_PIECE;
                let mut done = 0;
                while done < n {
                    let piece = (n - done).min(max_piece);
                    let at = src.0.checked_add(done).ok_or(Error::BadAddress)?;
                    log::begin_op();
                    let result = inode.lock().and_then(|mut guard| {
                        let offset = file.offset.load(Ordering::Relaxed);
                        let written =
                            guard.write(Source::User(space, UserAddr(at)), offset, piece)?;
                        file.offset
                            .store(offset + written as u32, Ordering::Relaxed);
                        Ok(written)
                    });
                    log::end_op();
                    match result {
                        Ok(written) if written == piece => done += written,
                        Ok(written) => return Ok(done + written),
                        Err(error) if done == 0 => return Err(error),
                        Err(_) => return Ok(done),
                    }
                }
                Ok(n)
            }
        }
    }

    /// Copies `fstat`'s result for this file to user address `dst` in
    /// `space`.
    pub fn stat_to(&self, space: &mut AddressSpace, dst: UserAddr) -> Result<(), Error> {
        let stat = self.stat()?;
        vm::copy_out(space, dst, &stat.encode())
    }
}

fn device_read(
    major: u16,
    space: &mut AddressSpace,
    dst: UserAddr,
    n: usize,
) -> Result<usize, Error> {
    match major {
        abi::device::CONSOLE => console::read(space, dst, n),
        _ => Err(Error::NotFound),
    }
}

fn device_write(major: u16, space: &AddressSpace, src: UserAddr, n: usize) -> Result<usize, Error> {
    match major {
        abi::device::CONSOLE => console::write(space, src, n),
        _ => Err(Error::NotFound),
    }
}

impl Clone for File {
    /// Another reference to the same open file (xv6's `filedup`).
    fn clone(&self) -> File {
        REFERENCES.lock()[self.slot] += 1;
        File { slot: self.slot }
    }
}

impl Drop for File {
    /// Drops a reference; the last one closes the file.
    fn drop(&mut self) {
        let mut references = REFERENCES.lock();
        references[self.slot] -= 1;
        if references[self.slot] > 0 {
            return;
        }
        // SAFETY: the count went 1 -> 0 under the lock, so we were the last
        // holder; we empty the slot before releasing the lock, so `alloc`
        // finds it empty when it reuses it.
        let file = unsafe { (*SLOTS[self.slot].0.get()).take() }.expect("closing an empty slot");
        drop(references);
        match file.kind {
            // SAFETY: this was the last reference to this end.
            Kind::Pipe(pipe) => unsafe { Pipe::close(pipe, file.writable) },
            Kind::Inode(inode) | Kind::Device { inode, .. } => {
                log::begin_op();
                drop(inode);
                log::end_op();
            }
        }
    }
}

/// Descriptors 0..NOFILE, shared with a child (fork): another reference
/// to each open file.
pub fn dup_all(files: &[Option<File>; NOFILE]) -> [Option<File>; NOFILE] {
    core::array::from_fn(|fd| files[fd].clone())
}

/// Closes every descriptor in `files` and drops the current directory
/// `cwd` (exit), the directory inside a log operation as inodes must be.
pub fn close_all(files: &mut [Option<File>; NOFILE], cwd: &mut Option<Inode>) {
    for file in files {
        drop(file.take());
    }
    log::begin_op();
    drop(cwd.take());
    log::end_op();
}
