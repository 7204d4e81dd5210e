//! System-call dispatch and argument fetching.
//!
//! A user program puts the call's number in `rax` and up to six arguments
//! in `rdi`, `rsi`, `rdx`, `r10`, `r8`, `r9` (the numbers live in the `abi`
//! crate, shared with the user library). `syscall` finds the handler, which
//! reads its arguments from the trap frame with [`Args`] and returns a
//! [`SysResult`]; here, at the boundary, an error becomes -1 in `rax`, as
//! xv6 programs expect.
//!
//! This is also where a system call takes hold of the calling process's
//! private state (`proc::Private`: its address space, files, current
//! directory, shared-memory descriptors), once, and lends it to the
//! handler as `me: &mut Private`. A handler passes it, or the part it
//! needs, down to whatever it calls; nothing below reaches for the
//! process's state by itself, so there is never a second reference to it.
//!
//! Handlers never dereference user pointers: pointer arguments come out of
//! `Args` as `UserAddr`, and only vm.rs's copy helpers reach the memory
//! behind them, in the address space they are given, after checking it.
//!
//! A number no call has is an ordinary error, -1 like any other. xv6 also
//! prints `PID NAME: unknown sys call N`, and so do we, because that line
//! is how a student who added a call but forgot its entry in the table
//! below finds out. But a program can make millions of such calls (a
//! fuzzer does, on purpose), and a console flooded with them hides every
//! other message. So the line is rate-limited, the way Linux's
//! `printk_ratelimit` limits its messages: at most one per
//! [`QUIET_TICKS`], and the next one printed says how many were not.
//! The first unknown call always prints.

use core::sync::atomic::{AtomicU64, Ordering};

use abi::syscall::*;

use crate::error::Error;
use crate::proc;
use crate::trap::TrapFrame;
use crate::vm::{self, AddressSpace, UserAddr};
use crate::{shm, sysfile, sysproc, trap};

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

    /// Copies in the NUL-terminated string at argument `n` from the
    /// caller's memory `space`; returns its bytes (without the NUL), which
    /// must fit in `buffer`.
    pub fn str<'b>(
        &self,
        n: usize,
        space: &AddressSpace,
        buffer: &'b mut [u8],
    ) -> Result<&'b [u8], Error> {
        let len = vm::copy_in_str(space, buffer, self.addr(n))?;
        Ok(&buffer[..len])
    }
}

/// Dispatches the system call described by `frame`; returns what goes back
/// in `rax`.
pub fn syscall(frame: &TrapFrame) -> isize {
    let number = frame.rax as usize;
    let args = Args { frame };
    // SAFETY: a system call is a boundary where the process's own kernel
    // thread enters the kernel (see `Proc::private`); this borrow is the
    // only one, and the handlers get it lent.
    let me = unsafe { proc::current().private() };
    let result = match number {
        SYS_FORK => sysproc::fork(me),
        SYS_EXIT => sysproc::exit(&args, me),
        SYS_WAIT => sysproc::wait(&args, me),
        SYS_KILL => sysproc::kill(&args),
        SYS_EXEC => crate::exec::sys_exec(&args, me),
        SYS_GETPID => sysproc::getpid(),
        SYS_SBRK => sysproc::sbrk(&args, me),
        SYS_SLEEP => sysproc::sleep(&args),
        SYS_UPTIME => sysproc::uptime(),
        SYS_PIPE => sysfile::pipe(&args, me),
        SYS_READ => sysfile::read(&args, me),
        SYS_FSTAT => sysfile::fstat(&args, me),
        SYS_CHDIR => sysfile::chdir(&args, me),
        SYS_DUP => sysfile::dup(&args, me),
        SYS_OPEN => sysfile::open(&args, me),
        SYS_WRITE => sysfile::write(&args, me),
        SYS_MKNOD => sysfile::mknod(&args, me),
        SYS_UNLINK => sysfile::unlink(&args, me),
        SYS_LINK => sysfile::link(&args, me),
        SYS_MKDIR => sysfile::mkdir(&args, me),
        SYS_CLOSE => sysfile::close(&args, me),
        SYS_SHM_OPEN => shm::sys_open(&args, me),
        SYS_SHM_TRUNC => shm::sys_trunc(&args, me),
        SYS_SHM_MAP => shm::sys_map(&args, me),
        SYS_SHM_CLOSE => shm::sys_close(&args, me),
        SYS_SHM_WAIT => shm::sys_wait(&args, me),
        SYS_SHM_WAKE => shm::sys_wake(&args, me),
        _ => {
            report_unknown(number);
            Err(Error::InvalidArgument)
        }
    };
    match result {
        Ok(value) => value as isize,
        Err(_) => -1,
    }
}

/// Ticks (10 seconds) between two `unknown sys call` lines.
const QUIET_TICKS: u64 = 1000;

/// The tick from which the next `unknown sys call` line may print, and how
/// many unknown calls have gone unreported since the last line.
static NEXT_REPORT: AtomicU64 = AtomicU64::new(0);
static UNREPORTED: AtomicU64 = AtomicU64::new(0);

/// Prints the `unknown sys call` line for `number`, unless one was printed
/// less than [`QUIET_TICKS`] ago; then only counts it.
fn report_unknown(number: usize) {
    let now = trap::ticks();
    let next = NEXT_REPORT.load(Ordering::Relaxed);
    // Of two CPUs that both find the time has come, the exchange lets one
    // print; the other counts its call.
    let turn = now >= next
        && NEXT_REPORT
            .compare_exchange(
                next,
                now + QUIET_TICKS,
                Ordering::Relaxed,
                Ordering::Relaxed,
            )
            .is_ok();
    if !turn {
        UNREPORTED.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let (pid, name) = proc::current().pid_and_name();
    match UNREPORTED.swap(0, Ordering::Relaxed) {
        0 => println!("{pid} {name}: unknown sys call {number}"),
        more => {
            println!("{pid} {name}: unknown sys call {number} ({more} more since the last line)")
        }
    }
}
