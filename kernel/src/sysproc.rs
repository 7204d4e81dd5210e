//! System calls about processes: fork, exec, wait, kill, getpid, sbrk,
//! sleep and uptime; and the clock programs read themselves, tsc_hz.
//! (`exit` never returns, so `syscall` and `syscall_trap` carry it out
//! themselves: see syscall.rs.)

use x86::bits64::paging::PTFlags;

use crate::arch::trapframe::TrapFrame;
use crate::arch::tsc;
use crate::error::{Error, SysResult};
use crate::exec;
use crate::kalloc::{kalloc, kfree};
use crate::memlayout::{SHMBASE, phys_to_virt};
use crate::param::{MAXARG, MAXPATH, PGSIZE};
use crate::proc::{self, Private, WaitChannel, WaitError};
use crate::syscall::Args;
use crate::vm::{self, AddressSpace, UserAddr};

/// fork(): the child resumes with a copy of the caller's registers,
/// `frame`, and sees 0.
pub fn fork(me: &mut Private, frame: &TrapFrame) -> SysResult {
    proc::fork(me, frame)
        .map(|pid| pid as usize)
        .ok_or(Error::OutOfResources)
}

/// wait(&status): a null pointer means "don't report the status".
pub fn wait(args: &Args, me: &mut Private) -> SysResult {
    let status_addr = args.addr(0);
    let space = me.space_mut();
    let report = |status: i32| {
        if status_addr.0 == 0 {
            Ok(())
        } else {
            vm::copy_out(space, status_addr, &status.to_ne_bytes())
        }
    };
    match proc::wait(report) {
        Ok(pid) => Ok(pid as usize),
        Err(WaitError::NoChildren) => Err(Error::NoChildren),
        Err(WaitError::Killed) => Err(Error::Interrupted),
        Err(WaitError::Report(error)) => Err(error),
    }
}

pub fn kill(args: &Args) -> SysResult {
    if proc::kill(args.int(0)) {
        Ok(0)
    } else {
        Err(Error::NotFound)
    }
}

/// getpid(): no lock, since a process's pid never changes while it runs
/// (proc.rs). Inlined into trap.rs's `syscall_trap`, on the system call's
/// page of code (see there): it is the call that times the path itself.
#[inline(always)]
pub fn getpid() -> SysResult {
    Ok(proc::current().pid() as usize)
}

/// sbrk(n): grows (n > 0) or shrinks (n < 0) the heap by n bytes and
/// returns the old end. The heap may not shrink below its start nor grow
/// into the shared-memory window at SHMBASE.
pub fn sbrk(args: &Args, private: &mut Private) -> SysResult {
    let increment = args.isize(0);
    let old = private.size;
    let new = old
        .checked_add_signed(increment)
        .ok_or(Error::InvalidArgument)?;
    if new < private.heap_start || new > SHMBASE {
        return Err(Error::InvalidArgument);
    }
    let space = private.space_mut();
    let (old_top, new_top) = (old.next_multiple_of(PGSIZE), new.next_multiple_of(PGSIZE));
    if new_top > old_top {
        space
            .map_new(old_top, new_top, PTFlags::RW | PTFlags::XD)
            .map_err(|_| Error::OutOfResources)?;
    } else {
        space.unmap(new_top, old_top);
    }
    private.size = new;
    Ok(old)
}

/// sleep(n): sleeps for n ticks, or until killed.
pub fn sleep(args: &Args) -> SysResult {
    let wanted = u64::try_from(args.int(0)).map_err(|_| Error::InvalidArgument)?;
    let p = proc::current();
    let mut ticks = proc::TICKS.lock();
    let start = *ticks;
    while *ticks - start < wanted {
        if p.killed() {
            return Err(Error::Interrupted);
        }
        ticks = proc::sleep(WaitChannel::of(&proc::TICKS), ticks);
    }
    Ok(0)
}

pub fn uptime() -> SysResult {
    Ok(proc::ticks() as usize)
}

/// tsc_hz(): the time-stamp counter's rate, cycles per second, as the
/// kernel measured it at boot (arch/x86_64/tsc.rs). A program reads the
/// counter itself with `rdtsc`; this turns its cycles into seconds.
pub fn tsc_hz() -> SysResult {
    Ok(tsc::hz() as usize)
}

/// exec(path, argv): `argv` is a user array of string pointers ending in a
/// null pointer. The new program's registers replace the caller's in
/// `frame`; returns argc, which lands in rax of the new image (the program
/// finds argc in rdi).
pub fn exec(args: &Args, me: &mut Private, frame: &mut TrapFrame) -> SysResult {
    // The path and the argument strings are gathered in one page.
    let page = kalloc().ok_or(Error::OutOfResources)?;
    // SAFETY: a fresh page from kalloc, ours until we free it below.
    let buffer = unsafe { core::slice::from_raw_parts_mut(phys_to_virt(page) as *mut u8, PGSIZE) };
    let result =
        gather_arguments(args, me.space(), buffer).and_then(|(path_len, ranges, count)| {
            let mut argv: [&[u8]; MAXARG] = [&[]; MAXARG];
            for (slot, range) in argv.iter_mut().zip(&ranges[..count]) {
                *slot = &buffer[range.clone()];
            }
            *frame = exec::load_into(proc::current(), me, &buffer[..path_len], &argv[..count])?;
            Ok(count)
        });
    // SAFETY: the page was ours and nothing refers to it any more.
    unsafe { kfree(page) };
    result
}

/// Where `gather_arguments` put the path (its length; it starts at 0) and
/// each argument string, and how many arguments there are.
type Gathered = (usize, [core::ops::Range<usize>; MAXARG], usize);

/// Copies exec's path and argument strings from the caller's memory
/// `space` into `buffer`.
fn gather_arguments(
    args: &Args,
    space: &AddressSpace,
    buffer: &mut [u8],
) -> Result<Gathered, Error> {
    let path_len = args.str(0, space, &mut buffer[..MAXPATH])?.len();
    let mut ranges: [core::ops::Range<usize>; MAXARG] = core::array::from_fn(|_| 0..0);
    let mut used = MAXPATH;
    let argv = args.addr(1);
    // Up to MAXARG strings, then the null pointer: MAXARG + 1 pointers are
    // read, and a string where the null pointer should be is one too many.
    for i in 0..=MAXARG {
        let mut pointer = [0u8; 8];
        let at = argv.0.checked_add(i * 8).ok_or(Error::BadAddress)?;
        vm::copy_in(space, &mut pointer, UserAddr(at))?;
        let pointer = u64::from_ne_bytes(pointer) as usize;
        if pointer == 0 {
            return Ok((path_len, ranges, i));
        }
        if i == MAXARG || used >= buffer.len() {
            return Err(Error::InvalidArgument);
        }
        let end = (used + MAXPATH).min(buffer.len());
        let len = vm::copy_in_str(space, &mut buffer[used..end], UserAddr(pointer))?;
        ranges[i] = used..used + len;
        used += len + 1;
    }
    unreachable!("the loop returns at i == MAXARG at the latest")
}
