//! System calls about processes: fork, exit, wait, kill, getpid, sbrk,
//! sleep and uptime.

use x86::bits64::paging::PTFlags;

use crate::error::{Error, SysResult};
use crate::memlayout::SHMBASE;
use crate::param::PGSIZE;
use crate::proc::{self, Private, WaitError};
use crate::syscall::Args;
use crate::trap;
use crate::vm;

pub fn fork(me: &mut Private) -> SysResult {
    proc::fork(me)
        .map(|pid| pid as usize)
        .ok_or(Error::OutOfResources)
}

pub fn exit(args: &Args, me: &mut Private) -> SysResult {
    proc::exit(me, args.int(0))
}

/// wait(&status): a null pointer means "don't report the status".
pub fn wait(args: &Args, me: &mut Private) -> SysResult {
    let status_addr = args.addr(0);
    let space = me.space();
    let report = |status: i32| {
        if status_addr.0 == 0 {
            Ok(())
        } else {
            vm::copy_out(space, status_addr, &status.to_ne_bytes()).map_err(Error::from)
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

pub fn getpid() -> SysResult {
    Ok(proc::current().lock.lock().pid as usize)
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
    let mut ticks = trap::TICKS.lock();
    let start = *ticks;
    while *ticks - start < wanted {
        if p.killed() {
            return Err(Error::Interrupted);
        }
        ticks = proc::sleep(trap::ticks_channel(), ticks);
    }
    Ok(0)
}

pub fn uptime() -> SysResult {
    Ok(trap::ticks() as usize)
}
