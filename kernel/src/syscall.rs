//! System-call dispatch and argument fetching.
//!
//! A user program puts the call's number in `rax` and up to six arguments
//! in `rdi`, `rsi`, `rdx`, `r10`, `r8`, `r9` (the numbers live in the `abi`
//! crate, shared with the user library). `syscall` finds the handler, which
//! reads its arguments from the trap frame with [`Args`] and returns
//! `Result<usize, Error>`; here, at the boundary, an error becomes -1 in
//! `rax`, as xv6 programs expect.
//!
//! Handlers never dereference user pointers: pointer arguments come out of
//! `Args` as `UserAddr`, and only vm.rs's `copy_in`, `copy_out` and
//! `copy_in_str` reach the memory behind them, after checking it.

use abi::syscall::*;

use crate::proc;
use crate::trap::TrapFrame;
use crate::vm::{self, AddressSpace, BadAddress, UserAddr};
use crate::{shm, sysfile, sysproc};

/// Why a system call failed. User programs only see -1; the kinds make the
/// kernel's own code say what went wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// A pointer argument is not valid user memory.
    BadAddress,
    /// An argument is out of range.
    InvalidArgument,
    /// No free memory, process slot or table entry.
    OutOfResources,
    /// No such process, program or file.
    NotFound,
    /// The caller has no children to wait for.
    NoChildren,
    /// The program file is not a valid executable.
    BadExecutable,
    /// The caller was killed while it waited.
    Interrupted,
    /// A file descriptor that is out of range or not open.
    BadDescriptor,
    /// A directory where a file is needed.
    IsDirectory,
    /// A file where a directory is needed.
    NotADirectory,
    /// Removing a directory that still has entries.
    NotEmpty,
    /// Creating a name that exists.
    AlreadyExists,
    /// Writing to a pipe nobody reads.
    BrokenPipe,
}

impl From<BadAddress> for Error {
    fn from(_: BadAddress) -> Error {
        Error::BadAddress
    }
}

pub type SysResult = Result<usize, Error>;

/// The arguments of a system call, from the caller's trap frame.
pub struct Args<'a> {
    frame: &'a TrapFrame,
}

impl Args<'_> {
    /// The raw value of argument `n` (0..6).
    pub fn raw(&self, n: usize) -> u64 {
        let frame = self.frame;
        match n {
            0 => frame.rdi,
            1 => frame.rsi,
            2 => frame.rdx,
            3 => frame.r10,
            4 => frame.r8,
            5 => frame.r9,
            _ => panic!("system calls have six arguments"),
        }
    }

    /// Argument `n` as a C `int`.
    pub fn int(&self, n: usize) -> i32 {
        self.raw(n) as i32
    }

    /// Argument `n` as a signed size (sbrk's increment).
    pub fn isize(&self, n: usize) -> isize {
        self.raw(n) as isize
    }

    /// Argument `n` as a length.
    pub fn usize(&self, n: usize) -> usize {
        self.raw(n) as usize
    }

    /// Argument `n` as a user pointer (not checked yet: the copy checks).
    pub fn addr(&self, n: usize) -> UserAddr {
        UserAddr(self.raw(n) as usize)
    }

    /// Copies in the NUL-terminated string at argument `n`; returns its
    /// bytes (without the NUL), which must fit in `buffer`.
    pub fn str<'b>(&self, n: usize, buffer: &'b mut [u8]) -> Result<&'b [u8], Error> {
        let len = with_space(|space| vm::copy_in_str(space, buffer, self.addr(n)))?;
        Ok(&buffer[..len])
    }
}

/// Runs `f` on the calling process's address space.
pub fn with_space<R>(f: impl FnOnce(&mut AddressSpace) -> R) -> R {
    // SAFETY: the calling process's own kernel thread runs this, so it is
    // the only user of its private fields.
    let private = unsafe { proc::current().private() };
    f(private
        .space
        .as_mut()
        .expect("a running process has an address space"))
}

/// Copies `value`'s bytes to user address `dst` of the calling process.
pub fn copy_out_bytes(dst: UserAddr, bytes: &[u8]) -> Result<(), Error> {
    with_space(|space| vm::copy_out(space, dst, bytes)).map_err(Error::from)
}

/// Copies `bytes.len()` bytes from user address `src` of the calling
/// process.
pub fn copy_in_bytes(bytes: &mut [u8], src: UserAddr) -> Result<(), Error> {
    with_space(|space| vm::copy_in(space, bytes, src)).map_err(Error::from)
}

/// Dispatches the system call described by `frame`; returns what goes back
/// in `rax`.
pub fn syscall(frame: &TrapFrame) -> isize {
    let number = frame.rax as usize;
    let args = Args { frame };
    let result = match number {
        SYS_FORK => sysproc::fork(&args),
        SYS_EXIT => sysproc::exit(&args),
        SYS_WAIT => sysproc::wait(&args),
        SYS_KILL => sysproc::kill(&args),
        SYS_EXEC => crate::exec::sys_exec(&args),
        SYS_GETPID => sysproc::getpid(&args),
        SYS_SBRK => sysproc::sbrk(&args),
        SYS_SLEEP => sysproc::sleep(&args),
        SYS_UPTIME => sysproc::uptime(&args),
        SYS_PIPE => sysfile::pipe(&args),
        SYS_READ => sysfile::read(&args),
        SYS_FSTAT => sysfile::fstat(&args),
        SYS_CHDIR => sysfile::chdir(&args),
        SYS_DUP => sysfile::dup(&args),
        SYS_OPEN => sysfile::open(&args),
        SYS_WRITE => sysfile::write(&args),
        SYS_MKNOD => sysfile::mknod(&args),
        SYS_UNLINK => sysfile::unlink(&args),
        SYS_LINK => sysfile::link(&args),
        SYS_MKDIR => sysfile::mkdir(&args),
        SYS_CLOSE => sysfile::close(&args),
        SYS_SHM_OPEN => shm::sys_open(&args),
        SYS_SHM_TRUNC => shm::sys_trunc(&args),
        SYS_SHM_MAP => shm::sys_map(&args),
        SYS_SHM_CLOSE => shm::sys_close(&args),
        _ => {
            let p = proc::current();
            println!(
                "{} {}: unknown sys call {number}",
                p.lock.lock().pid,
                p.name()
            );
            Err(Error::InvalidArgument)
        }
    };
    match result {
        Ok(value) => value as isize,
        Err(_) => -1,
    }
}
