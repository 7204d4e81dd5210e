//! System calls about shared memory: shm_open, shm_trunc, shm_map,
//! shm_close, shm_wait and shm_wake.
//!
//! Each handler fetches and checks its arguments, then calls the
//! shared-memory subsystem (shm.rs), which does the work; docs/shm.md is
//! the contract of each call.

use shmtable::Access;

use crate::error::{Error, SysResult};
use crate::param::SHM_NAME_MAX;
use crate::proc::Private;
use crate::shm;
use crate::syscall::Args;

/// Descriptor argument `n`: a C `int`, so anything, negative included;
/// a number that is not a descriptor is refused by the table.
fn od_arg(args: &Args, n: usize) -> Result<usize, Error> {
    usize::try_from(args.int(n)).map_err(|_| Error::BadDescriptor)
}

/// shm_open(name): a descriptor for the object called `name`, created if
/// needed.
pub fn open(args: &Args, me: &mut Private) -> SysResult {
    // One byte more than the longest name, for the NUL: a longer name has
    // no NUL within the buffer and is refused, not cut.
    let mut buffer = [0u8; SHM_NAME_MAX + 1];
    let name = args.str(0, me.space(), &mut buffer)?;
    shm::open(me, name)
}

/// shm_trunc(od, size): gives the object its size and zeroed pages, once.
pub fn trunc(args: &Args, me: &mut Private) -> SysResult {
    let od = od_arg(args, 0)?;
    // The size is a C int: sign-extend the low 32 bits.
    let size = i64::from(args.int(1));
    shm::trunc(me, od, size)
}

/// shm_map(od, &va, flags): maps the whole object at its slot's address
/// and stores that address in `*va`.
pub fn map(args: &Args, me: &mut Private) -> SysResult {
    let od = od_arg(args, 0)?;
    let va_pointer = args.addr(1);
    let access = Access::from_flags(i64::from(args.int(2)))?;
    shm::map(me, od, va_pointer, access)
}

/// shm_close(od): unmaps (if mapped) and frees the descriptor.
pub fn close(args: &Args, me: &mut Private) -> SysResult {
    shm::close(me, od_arg(args, 0)?)
}

/// shm_wait(addr, expected): sleeps while the word at `addr` holds
/// `expected`, until a shm_wake on it.
pub fn wait(args: &Args, me: &mut Private) -> SysResult {
    // The word is compared as the 32 bits the C `int` holds.
    shm::wait(me, args.addr(0), args.int(1) as u32)
}

/// shm_wake(addr, n): wakes up to `n` (at least 1) processes waiting on
/// the word at `addr`.
pub fn wake(args: &Args, me: &mut Private) -> SysResult {
    let n = usize::try_from(args.int(1)).map_err(|_| Error::InvalidArgument)?;
    shm::wake(me, args.addr(0), n)
}
