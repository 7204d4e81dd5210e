//! Pipes: a one-page ring buffer between a writing and a reading file.
//!
//! A pipe is two pages from kalloc: one for its state (this `Pipe`), one
//! for the bytes. It is created by `pipe()` with both ends open; each end
//! is a `File` (file.rs). Writers and readers copy whole chunks between the
//! user's buffer and the ring, as many bytes as fit in one go: a reader
//! takes whatever is there and sleeps only when the ring is empty; a writer
//! sleeps only when there is no room. When the last writer closes, readers
//! see end-of-file; when the last reader closes, writers get an error (and
//! what they wrote before stays written). The pages are freed when both
//! ends are closed.
//!
//! Why one page (`PIPESIZE`, 4096 bytes): it is what one kalloc gives, and
//! it is POSIX's usual `PIPE_BUF` (Linux's too), the size up to which a
//! write must not be interleaved with other writers' — xv6's 512 bytes made
//! a writer sleep and wake the reader eight times per 4 KiB.
//!
//! **The atomicity guarantee.** A write of at most `PIPESIZE` bytes goes
//! into the ring in one piece: the writer waits until there is room for all
//! of it, then copies it under the lock, so no other writer's bytes land in
//! the middle. A longer write may be interleaved with others at any point,
//! as POSIX allows. A write cut short (by the reader closing, or a kill)
//! returns how much went in.
//!
//! Locking: the pipe's spin lock guards everything in it. `nread` and
//! `nwrite` count bytes ever read and written (they wrap, as xv6's do); the
//! ring holds `nwrite - nread` bytes. Readers sleep on `nread`'s address,
//! writers on `nwrite`'s.

use core::ptr::NonNull;

use crate::error::Error;
use crate::kalloc::{kalloc, kfree};
use crate::memlayout::{phys_to_virt, virt_to_phys};
use crate::proc::{self, WaitChannel};
use crate::spinlock::SpinLock;
use crate::vm::{self, AddressSpace, UserAddr};

/// Bytes the ring holds: one page (see the module doc), as user programs
/// are told (abi).
use abi::fcntl::PIPESIZE;
const _: () = assert!(PIPESIZE == crate::param::PGSIZE, "the ring is one page");

struct State {
    /// The ring's page, in the direct map.
    data: NonNull<[u8; PIPESIZE]>,
    nread: u32,
    nwrite: u32,
    read_open: bool,
    write_open: bool,
}

pub struct Pipe {
    state: SpinLock<State>,
}

/// Makes a pipe with both ends open.
pub fn alloc() -> Result<NonNull<Pipe>, Error> {
    const { assert!(size_of::<Pipe>() <= crate::param::PGSIZE) };
    let page = kalloc().ok_or(Error::OutOfResources)?;
    let Some(data) = kalloc() else {
        // SAFETY: the page was never used.
        unsafe { kfree(page) };
        return Err(Error::OutOfResources);
    };
    let data = NonNull::new(phys_to_virt(data) as *mut [u8; PIPESIZE])
        .expect("the direct map is not null");
    let pipe = phys_to_virt(page) as *mut Pipe;
    // SAFETY: a fresh page, large enough (checked above) and aligned to a
    // page, which suits Pipe; nobody else knows it yet.
    unsafe {
        pipe.write(Pipe {
            state: SpinLock::new(
                "pipe",
                State {
                    data,
                    nread: 0,
                    nwrite: 0,
                    read_open: true,
                    write_open: true,
                },
            ),
        })
    };
    Ok(NonNull::new(pipe).expect("the direct map is not null"))
}

impl Pipe {
    /// Closes one end; frees the pipe when both are closed.
    ///
    /// # Safety
    /// `pipe` must come from `alloc`, and the caller must be closing an end
    /// that is open and that it owns; after the last close nothing may use
    /// the pipe.
    pub unsafe fn close(pipe: NonNull<Pipe>, writable: bool) {
        // SAFETY: the pipe is alive: this end is still open.
        let this = unsafe { pipe.as_ref() };
        let mut state = this.state.lock();
        if writable {
            state.write_open = false;
            proc::wakeup(WaitChannel::of(&state.nread));
        } else {
            state.read_open = false;
            proc::wakeup(WaitChannel::of(&state.nwrite));
        }
        let both_closed = !state.read_open && !state.write_open;
        let data = state.data;
        drop(state);
        if both_closed {
            // SAFETY: both ends are closed, so no file refers to the pipe
            // or its ring.
            unsafe {
                kfree(virt_to_phys(data.as_ptr() as usize));
                kfree(virt_to_phys(pipe.as_ptr() as usize));
            }
        }
    }

    /// Writes `n` bytes from user address `src`; returns how many were
    /// written before the reading end closed or the writer was killed. A
    /// write of at most PIPESIZE bytes goes in whole (module doc).
    pub fn write(&self, space: &AddressSpace, src: UserAddr, n: usize) -> Result<usize, Error> {
        // Check the whole source first, so that a bad pointer writes
        // nothing at all.
        space.check(src, n, false)?;
        let mut done = 0;
        let mut state = self.state.lock();
        while done < n {
            if !state.read_open || proc::current().killed() {
                return if done > 0 {
                    Ok(done)
                } else {
                    Err(Error::BrokenPipe)
                };
            }
            let free = PIPESIZE - state.nwrite.wrapping_sub(state.nread) as usize;
            // A write that fits in the ring waits for room for all of it.
            let wanted = if n <= PIPESIZE { n } else { 1 };
            if free < wanted {
                proc::wakeup(WaitChannel::of(&state.nread));
                state = proc::sleep(WaitChannel::of(&state.nwrite), state);
                continue;
            }
            let len = free.min(n - done);
            let at = src.0.checked_add(done).ok_or(Error::BadAddress)?;
            let start = state.nwrite as usize % PIPESIZE;
            // SAFETY: the ring's page belongs to the pipe, which lives while
            // this end is open, and the pipe's lock (held) guards it.
            let ring = unsafe { &mut *state.data.as_ptr() };
            // The chunk may wrap around the ring's end: two copies.
            let first = len.min(PIPESIZE - start);
            vm::copy_in(space, &mut ring[start..start + first], UserAddr(at))?;
            vm::copy_in(space, &mut ring[..len - first], UserAddr(at + first))?;
            state.nwrite = state.nwrite.wrapping_add(len as u32);
            done += len;
            proc::wakeup(WaitChannel::of(&state.nread));
        }
        Ok(done)
    }

    /// Reads up to `n` bytes to user address `dst`, waiting while the pipe
    /// is empty and a writer remains; 0 means end of file.
    pub fn read(&self, space: &mut AddressSpace, dst: UserAddr, n: usize) -> Result<usize, Error> {
        let mut state = self.state.lock();
        while state.nread == state.nwrite && state.write_open {
            if proc::current().killed() {
                return Err(Error::Interrupted);
            }
            state = proc::sleep(WaitChannel::of(&state.nread), state);
        }
        let available = state.nwrite.wrapping_sub(state.nread) as usize;
        let len = available.min(n);
        let start = state.nread as usize % PIPESIZE;
        // SAFETY: as in write.
        let ring = unsafe { &*state.data.as_ptr() };
        // The bytes may wrap around the ring's end: two parts, in one copy,
        // which writes nothing unless it can write everything. So a
        // destination it cannot write (a bad address, or a copy-on-write
        // page with no memory to copy it to) leaves the bytes in the pipe.
        let first = len.min(PIPESIZE - start);
        vm::copy_out_parts(
            space,
            dst,
            &[&ring[start..start + first], &ring[..len - first]],
        )?;
        state.nread = state.nread.wrapping_add(len as u32);
        let done = len;
        proc::wakeup(WaitChannel::of(&state.nwrite));
        Ok(done)
    }
}
