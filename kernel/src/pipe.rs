//! Pipes: a 512-byte ring buffer between a writing and a reading file.
//!
//! A pipe lives in a page of its own from kalloc, created by `pipe()` with
//! both ends open; each end is a `File` (file.rs). Writers and readers copy
//! as many bytes as fit in one go, not one byte at a time: a writer fills
//! whatever space is free and sleeps only when the buffer is full; a reader
//! takes whatever is there and sleeps only when it is empty. When the last
//! writer closes, readers see end-of-file; when the last reader closes,
//! writers get an error. The page is freed when both ends are closed.
//!
//! Locking: the pipe's spin lock guards everything in it. `nread` and
//! `nwrite` count bytes ever read and written (they wrap, as xv6's do); the
//! buffer holds `nwrite - nread` bytes. Readers sleep on `nread`'s address,
//! writers on `nwrite`'s.

use core::ptr::NonNull;

use crate::error::Error;
use crate::kalloc::{kalloc, kfree};
use crate::memlayout::{phys_to_virt, virt_to_phys};
use crate::proc;
use crate::spinlock::SpinLock;
use crate::vm::{self, AddressSpace, UserAddr};

const PIPESIZE: usize = 512;

struct State {
    data: [u8; PIPESIZE],
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
    let pipe = phys_to_virt(page) as *mut Pipe;
    // SAFETY: a fresh page, large enough (checked above) and aligned to a
    // page, which suits Pipe; nobody else knows it yet.
    unsafe {
        pipe.write(Pipe {
            state: SpinLock::new(
                "pipe",
                State {
                    data: [0; PIPESIZE],
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
            proc::wakeup(&state.nread as *const u32 as usize);
        } else {
            state.read_open = false;
            proc::wakeup(&state.nwrite as *const u32 as usize);
        }
        let both_closed = !state.read_open && !state.write_open;
        drop(state);
        if both_closed {
            // SAFETY: both ends are closed, so no file refers to the pipe.
            unsafe { kfree(virt_to_phys(pipe.as_ptr() as usize)) };
        }
    }

    /// Writes `n` bytes from user address `src`; returns how many were
    /// written before the reading end closed or the writer was killed.
    pub fn write(&self, space: &AddressSpace, src: UserAddr, n: usize) -> Result<usize, Error> {
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
            let used = state.nwrite.wrapping_sub(state.nread) as usize;
            if used == PIPESIZE {
                proc::wakeup(&state.nread as *const u32 as usize);
                state = proc::sleep(&state.nwrite as *const u32 as usize, state);
                continue;
            }
            // Copy as much as fits before the buffer's end wraps around.
            let start = state.nwrite as usize % PIPESIZE;
            let len = (PIPESIZE - used).min(PIPESIZE - start).min(n - done);
            let at = src.0.checked_add(done).ok_or(Error::BadAddress)?;
            if let Err(error) =
                vm::copy_in(space, &mut state.data[start..start + len], UserAddr(at))
            {
                return if done > 0 {
                    Ok(done)
                } else {
                    Err(error.into())
                };
            }
            state.nwrite = state.nwrite.wrapping_add(len as u32);
            done += len;
        }
        proc::wakeup(&state.nread as *const u32 as usize);
        Ok(done)
    }

    /// Reads up to `n` bytes to user address `dst`, waiting while the pipe
    /// is empty and a writer remains; 0 means end of file.
    pub fn read(&self, space: &AddressSpace, dst: UserAddr, n: usize) -> Result<usize, Error> {
        let mut state = self.state.lock();
        while state.nread == state.nwrite && state.write_open {
            if proc::current().killed() {
                return Err(Error::Interrupted);
            }
            state = proc::sleep(&state.nread as *const u32 as usize, state);
        }
        let mut done = 0;
        while done < n && state.nread != state.nwrite {
            let available = state.nwrite.wrapping_sub(state.nread) as usize;
            let start = state.nread as usize % PIPESIZE;
            let len = available.min(PIPESIZE - start).min(n - done);
            let at = dst.0.checked_add(done).ok_or(Error::BadAddress)?;
            if let Err(error) = vm::copy_out(space, UserAddr(at), &state.data[start..start + len]) {
                if done == 0 {
                    return Err(error.into());
                }
                break;
            }
            state.nread = state.nread.wrapping_add(len as u32);
            done += len;
        }
        proc::wakeup(&state.nwrite as *const u32 as usize);
        Ok(done)
    }
}
