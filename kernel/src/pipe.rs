//! Pipes: a ring buffer between writers and readers, and copies straight
//! from a writer's memory to a reader's when one of them waits.
//!
//! A pipe is created by `pipe()` with both ends open; each end is a `File`
//! (file.rs). When the last writer closes, readers see end-of-file once
//! the bytes are gone; when the last reader closes, writers get an error
//! (and what they wrote before stays written). The pipe's memory is freed
//! when both ends are closed.
//!
//! ## The ring
//!
//! [`PIPESIZE`] bytes (64 KiB, Linux's default), in [`RING_PAGES`] pages
//! from kalloc that need not be contiguous: stream byte `i` lives at ring
//! position `i % PIPESIZE`, in page `position / PGSIZE`. `nread` and
//! `nwrite` count the bytes ever read and written (they wrap, as xv6's
//! do; PIPESIZE divides 2³², so a position survives the wrap), and the
//! ring holds `nwrite - nread` of them. Memory per pipe is the trade-off:
//! 17 pages (one for this `Pipe`), where xv6 takes one. A smaller ring
//! makes a writer that is ahead wait sooner; 64 KiB lets a writer of small
//! messages run 1000 of them ahead of its reader, where a one-page ring
//! made the two take turns every 64.
//!
//! ## Loans: one copy, one wake-up
//!
//! A copy through the ring is two copies, and a message larger than the
//! ring makes its writer and reader take turns, one sleep and one wake-up
//! per ringful. So whichever side has to wait lends the other its buffer:
//!
//! - A **reader** that finds nothing to read records a [`Loan`] in the
//!   pipe: where its buffer is (its address space, the address, the
//!   length), and sleeps. A writer that finds the loan copies from its own
//!   memory straight into that buffer (`vm::copy_between`), as much as it
//!   has or the buffer takes, and only then puts the rest in the ring; it
//!   wakes the reader once per write, however much it copied.
//! - A **writer** that finds no room for the rest of its bytes lends them:
//!   it records where they are, and sleeps. A reader takes what the ring
//!   holds, then copies straight from the writer's memory into its own;
//!   the writer is woken once, when all it lent has been taken.
//!
//! A 128 KiB message to a waiting reader thus costs one copy and one
//! wake-up, where a one-page ring cost two copies and 32 of each.
//!
//! A loan points into its lender's address space, which holds still while
//! the lender sleeps: only a process changes its own page table, and a
//! sleeping one changes nothing. Its buffer was checked whole before it
//! was lent, and a reader's was made writable now (`vm::prepare_write`:
//! a copy-on-write page in it is copied first), so that a writer can copy
//! into it, and nothing (a fork, which only the sleeping reader could
//! make) can make it copy-on-write again before the loan is back. The
//! lender takes its loan back, under the lock, before it returns, whether
//! it was woken because the loan was used, because the other end closed,
//! or because it was killed; so no one else ever uses a loan whose lender
//! has gone.
//!
//! ## Order, and the atomicity guarantee
//!
//! Bytes arrive in the order they were written: a reader's loan is filled
//! only while the ring is empty (a reader lends only when there is nothing
//! to read, and a writer serves the loan before the ring), and a writer's
//! loan holds bytes that come after the ring's (it lends only what did
//! not fit). While a writer's loan is out, other writers wait for it to be
//! taken, so that nothing of theirs overtakes it.
//!
//! A write of at most [`PIPE_BUF`] bytes (4096, POSIX's minimum and
//! Linux's) is never interleaved with another writer's bytes, as POSIX
//! requires: whatever of it goes to a reader's loan and into the ring goes
//! under one hold of the lock, and the rest is lent, and no other writer
//! writes until that loan has been taken. (Longer writes are not
//! interleaved either, but programs should not count on it.) A write cut
//! short, by the readers closing or by a kill, returns how much went in.
//!
//! A read returns what is there, the ring's bytes and then a waiting
//! writer's, up to [`TRANSFER_MAX`] bytes; it waits only when there is
//! nothing.
//!
//! ## Locking
//!
//! The pipe's spin lock guards everything in it: the ring, the counters,
//! the open ends and both loans. Every copy happens with it held, and so
//! with interrupts off; so that no call keeps them off for long, a copy is
//! at most [`TRANSFER_MAX`] bytes (a read, or a writer's copy into a loan)
//! plus a ringful. Sleepers wait on one of four channels, so that each
//! wake-up wakes only whom it concerns: a lending reader on its loan, a
//! lending writer on its loan, other readers on `nread` (for a reader's
//! loan to be free again, or for bytes), other writers on `nwrite` (for a
//! writer's loan to be free again).

use core::ptr::NonNull;

use abi::fcntl::{PIPE_BUF, PIPESIZE};

use crate::error::Error;
use crate::kalloc::{kalloc, kfree};
use crate::memlayout::{phys_to_virt, virt_to_phys};
use crate::param::PGSIZE;
use crate::proc::{self, WaitChannel};
use crate::spinlock::SpinLock;
use crate::vm::{self, AddressSpace, UserAddr};

/// Pages of the ring.
const RING_PAGES: usize = PIPESIZE / PGSIZE;
const _: () = assert!(PIPESIZE.is_multiple_of(PGSIZE) && PIPESIZE.is_power_of_two());
const _: () = assert!(PIPE_BUF <= PIPESIZE);

/// The most bytes one read returns, and one reader lends: 128 KiB, so that
/// no copy keeps interrupts off for long (module doc, Locking).
const TRANSFER_MAX: usize = 128 * 1024;

/// A buffer lent by a reader or a writer asleep in the pipe: `len` bytes
/// at `addr` in `space`, of which `done` have been filled (a reader's) or
/// taken (a writer's).
struct Loan {
    space: NonNull<AddressSpace>,
    addr: UserAddr,
    len: usize,
    done: usize,
}

impl Loan {
    /// The loan of `len` bytes at `addr` in `space`, which the caller has
    /// checked.
    fn new(space: &AddressSpace, addr: UserAddr, len: usize) -> Loan {
        Loan {
            space: NonNull::from(space),
            addr,
            len,
            done: 0,
        }
    }

    /// Bytes not yet filled or taken.
    fn rest(&self) -> usize {
        self.len - self.done
    }

    /// Where the next byte goes or comes from. No overflow: the lender
    /// checked all `len` bytes.
    fn next(&self) -> UserAddr {
        UserAddr(self.addr.0 + self.done)
    }

    /// The lender's address space.
    fn space(&self) -> &AddressSpace {
        // SAFETY: a loan sits in the pipe only while its lender sleeps in
        // `read` or `write`, which made it from a shared borrow of its
        // address space and uses that space in no other way until it has
        // taken the loan back (under the pipe's lock, which the caller
        // holds, since it reached the loan). Asleep, its process changes
        // nothing in its address space.
        unsafe { self.space.as_ref() }
    }
}

struct State {
    /// The ring's pages, in the direct map.
    ring: [NonNull<u8>; RING_PAGES],
    nread: u32,
    nwrite: u32,
    read_open: bool,
    write_open: bool,
    /// A reader asleep with nothing to read, and its buffer.
    reader_loan: Option<Loan>,
    /// A writer asleep with no room, and the bytes it has left.
    writer_loan: Option<Loan>,
}

pub struct Pipe {
    state: SpinLock<State>,
}

/// Makes a pipe with both ends open.
pub fn alloc() -> Result<NonNull<Pipe>, Error> {
    const { assert!(size_of::<Pipe>() <= PGSIZE) };
    let page = kalloc().ok_or(Error::OutOfResources)?;
    let mut ring = [NonNull::dangling(); RING_PAGES];
    for i in 0..RING_PAGES {
        let Some(data) = kalloc() else {
            // SAFETY: none of these pages was ever used.
            unsafe {
                for data in &ring[..i] {
                    kfree(virt_to_phys(data.as_ptr() as usize));
                }
                kfree(page);
            }
            return Err(Error::OutOfResources);
        };
        ring[i] = NonNull::new(phys_to_virt(data) as *mut u8).expect("the direct map is not null");
    }
    let pipe = phys_to_virt(page) as *mut Pipe;
    // SAFETY: a fresh page, large enough (checked above) and aligned to a
    // page, which suits Pipe; nobody else knows it yet.
    unsafe {
        pipe.write(Pipe {
            state: SpinLock::new(
                "pipe",
                State {
                    ring,
                    nread: 0,
                    nwrite: 0,
                    read_open: true,
                    write_open: true,
                    reader_loan: None,
                    writer_loan: None,
                },
            ),
        })
    };
    Ok(NonNull::new(pipe).expect("the direct map is not null"))
}

impl State {
    /// Bytes in the ring.
    fn buffered(&self) -> usize {
        self.nwrite.wrapping_sub(self.nread) as usize
    }

    /// Room in the ring.
    fn room(&self) -> usize {
        PIPESIZE - self.buffered()
    }

    /// The ring's bytes from stream position `position` on, up to `len` of
    /// them and up to the end of the page they start in.
    fn piece(&mut self, position: u32, len: usize) -> &mut [u8] {
        let at = position as usize % PIPESIZE;
        let (page, offset) = (at / PGSIZE, at % PGSIZE);
        let len = len.min(PGSIZE - offset);
        // SAFETY: the ring's pages belong to the pipe, which lives while
        // the caller's end is open, and the pipe's lock (held: we have
        // `&mut self`) guards them; `offset + len` stays within the page.
        unsafe { core::slice::from_raw_parts_mut(self.ring[page].as_ptr().add(offset), len) }
    }

    /// Copies `len` bytes from `src` in `space` into the ring, which has
    /// room for them.
    fn fill_ring(&mut self, space: &AddressSpace, src: UserAddr, len: usize) -> Result<(), Error> {
        let mut done = 0;
        while done < len {
            let position = self.nwrite.wrapping_add(done as u32);
            let piece = self.piece(position, len - done);
            let piece_len = piece.len();
            vm::copy_in(space, piece, UserAddr(src.0 + done))?;
            done += piece_len;
        }
        self.nwrite = self.nwrite.wrapping_add(len as u32);
        Ok(())
    }

    /// Copies `len` of the ring's bytes to `dst` in `space`, which the
    /// caller has made writable (`vm::prepare_write`).
    fn drain_ring(
        &mut self,
        space: &mut AddressSpace,
        dst: UserAddr,
        len: usize,
    ) -> Result<(), Error> {
        let mut done = 0;
        while done < len {
            let position = self.nread.wrapping_add(done as u32);
            let piece = self.piece(position, len - done);
            vm::copy_out(space, UserAddr(dst.0 + done), piece)?;
            done += piece.len();
        }
        self.nread = self.nread.wrapping_add(len as u32);
        Ok(())
    }
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
            proc::wakeup(WaitChannel::of(&state.reader_loan));
            proc::wakeup(WaitChannel::of(&state.nread));
        } else {
            state.read_open = false;
            proc::wakeup(WaitChannel::of(&state.writer_loan));
            proc::wakeup(WaitChannel::of(&state.nwrite));
        }
        let both_closed = !state.read_open && !state.write_open;
        let ring = state.ring;
        drop(state);
        if both_closed {
            // SAFETY: both ends are closed, so no file refers to the pipe
            // or its ring, and no loan is out (its lender would hold an
            // end open).
            unsafe {
                for data in ring {
                    kfree(virt_to_phys(data.as_ptr() as usize));
                }
                kfree(virt_to_phys(pipe.as_ptr() as usize));
            }
        }
    }

    /// Writes `n` bytes from user address `src`: into a waiting reader's
    /// buffer, into the ring, and what does not fit is lent until readers
    /// have taken it (module doc). Returns how many were written, fewer
    /// than `n` if the reading end closed or the writer was killed first.
    pub fn write(&self, space: &AddressSpace, src: UserAddr, n: usize) -> Result<usize, Error> {
        // Check the whole source first, so that a bad pointer writes
        // nothing at all.
        space.check(src, n, false)?;
        let mut state = self.state.lock();
        // Another writer's loan goes first.
        loop {
            if !state.read_open {
                return Err(Error::BrokenPipe);
            }
            if proc::current().killed() {
                return Err(Error::Interrupted);
            }
            if state.writer_loan.is_none() {
                break;
            }
            state = proc::sleep(WaitChannel::of(&state.nwrite), state);
        }
        let mut done = 0;
        // Straight into a reader's loan. It has room only while the ring is
        // empty (module doc, Order), so these bytes come next.
        if let Some(loan) = state.reader_loan.as_mut()
            && loan.rest() > 0
            && n > 0
        {
            let len = loan.rest().min(n);
            vm::copy_between(space, src, loan.space(), loan.next(), len)?;
            loan.done += len;
            done = len;
            proc::wakeup(WaitChannel::of(&state.reader_loan));
        }
        // Into the ring, as much as fits.
        let len = state.room().min(n - done);
        if len > 0 {
            state.fill_ring(space, UserAddr(src.0 + done), len)?;
            done += len;
            proc::wakeup(WaitChannel::of(&state.nread));
        }
        if done == n {
            return Ok(n);
        }
        // Lend the rest, and sleep until readers have taken all of it, or
        // there are none left, or we are killed.
        state.writer_loan = Some(Loan::new(space, UserAddr(src.0 + done), n - done));
        loop {
            state = proc::sleep(WaitChannel::of(&state.writer_loan), state);
            let loan = state
                .writer_loan
                .as_ref()
                .expect("only its lender takes a loan back");
            if loan.rest() == 0 || !state.read_open || proc::current().killed() {
                break;
            }
        }
        let loan = state
            .writer_loan
            .take()
            .expect("only its lender takes a loan back");
        proc::wakeup(WaitChannel::of(&state.nwrite));
        match done + loan.done {
            0 if !state.read_open => Err(Error::BrokenPipe),
            0 => Err(Error::Interrupted),
            written => Ok(written),
        }
    }

    /// Reads up to `n` bytes (at most [`TRANSFER_MAX`]) to user address
    /// `dst`: what the ring holds, then what a waiting writer lent. With
    /// nothing there and a writer left, lends the buffer and waits for a
    /// writer to fill some of it. 0 means end of file.
    pub fn read(&self, space: &mut AddressSpace, dst: UserAddr, n: usize) -> Result<usize, Error> {
        let n = n.min(TRANSFER_MAX);
        if n == 0 {
            return Ok(0);
        }
        let mut state = self.state.lock();
        loop {
            let lent = state.writer_loan.as_ref().map_or(0, Loan::rest);
            let len = (state.buffered() + lent).min(n);
            if len > 0 {
                // Checked, and made writable now, before anything is
                // taken, so that a bad destination (or no memory to copy
                // a copy-on-write page of it) leaves the bytes in the pipe
                // and the copies below cannot fail.
                vm::prepare_write(space, dst, len)?;
                let from_ring = state.buffered().min(len);
                state.drain_ring(space, dst, from_ring)?;
                if let Some(loan) = state.writer_loan.as_mut()
                    && len > from_ring
                {
                    let rest = len - from_ring;
                    vm::copy_between(
                        loan.space(),
                        loan.next(),
                        space,
                        UserAddr(dst.0 + from_ring),
                        rest,
                    )?;
                    loan.done += rest;
                    if loan.rest() == 0 {
                        proc::wakeup(WaitChannel::of(&state.writer_loan));
                    }
                }
                return Ok(len);
            }
            if !state.write_open {
                return Ok(0);
            }
            if proc::current().killed() {
                return Err(Error::Interrupted);
            }
            if state.reader_loan.is_some() {
                // Another reader is lending: wait for it to be done.
                state = proc::sleep(WaitChannel::of(&state.nread), state);
                continue;
            }
            // Lend the buffer, checked whole and made writable now (a
            // writer may fill all of it), and sleep until a writer has put
            // something in it, or there are none left, or we are killed.
            vm::prepare_write(space, dst, n)?;
            state.reader_loan = Some(Loan::new(space, dst, n));
            loop {
                state = proc::sleep(WaitChannel::of(&state.reader_loan), state);
                let loan = state
                    .reader_loan
                    .as_ref()
                    .expect("only its lender takes a loan back");
                if loan.done > 0 || !state.write_open || proc::current().killed() {
                    break;
                }
            }
            let loan = state
                .reader_loan
                .take()
                .expect("only its lender takes a loan back");
            proc::wakeup(WaitChannel::of(&state.nread));
            if loan.done > 0 {
                return Ok(loan.done);
            }
        }
    }
}
