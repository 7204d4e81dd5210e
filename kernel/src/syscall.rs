//! System-call dispatch and argument fetching.
//!
//! A user program puts the call's number in `rax` and up to six arguments
//! in `rdi`, `rsi`, `rdx`, `r10`, `r8`, `r9` (the numbers live in the `abi`
//! crate, shared with the user library). `syscall` copies the arguments out
//! of the trap frame into [`Args`], finds the handler (in `sysproc`,
//! `sysfile` or `sysshm`), and writes what it returns, a [`SysResult`],
//! into `rax`: here, at the boundary, an error becomes -1, as xv6 programs
//! expect.
//!
//! This is also where a system call takes hold of the calling process's
//! private state (`proc::Private`: its address space, files, current
//! directory, shared-memory descriptors), once, and lends it to the
//! handler as `me: &mut Private`. A handler passes it, or the part it
//! needs, down to whatever it calls; nothing below reaches for the
//! process's state by itself, so there is never a second reference to it.
//! The trap frame is lent the same way: `syscall_trap` (trap.rs) hands its
//! one `&mut TrapFrame` to `syscall`, which lends it to the two calls that
//! need the caller's registers, `fork` (the child's copy) and `exec` (the
//! new program's, which therefore goes back through `iretq`: trapasm.S).
//!
//! `exit` has no handler: it never returns, and a call that never returns
//! would keep the borrows above alive for ever, while the parent's `wait`
//! frees the same process. So `syscall` returns [`Outcome::Exit`] instead,
//! its borrows end, and `syscall_trap` calls `proc::exit` with none left.
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

use crate::arch::trapframe::TrapFrame;
use crate::error::Error;
use crate::proc;
use crate::vm::{self, AddressSpace, UserAddr};
use crate::{sysfile, sysproc, sysshm};

/// The arguments of a system call, copied from the caller's trap frame.
pub struct Args {
    registers: [u64; 6],
}

impl Args {
    /// The arguments in `frame`, in the order of the calling convention.
    fn of(frame: &TrapFrame) -> Args {
        Args {
            registers: [
                frame.rdi, frame.rsi, frame.rdx, frame.r10, frame.r8, frame.r9,
            ],
        }
    }

    /// The raw value of argument `n` (0..6).
    pub fn raw(&self, n: usize) -> u64 {
        *self
            .registers
            .get(n)
            .expect("system calls have six arguments")
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

/// What becomes of the calling process once `syscall` returns.
pub enum Outcome {
    /// It goes back to user mode, with the call's result in `rax`.
    Resume,
    /// It called `exit` with this status; `syscall_trap` ends it.
    Exit(i32),
}

/// Carries out the system call described by `frame` and puts its result in
/// `frame.rax`. Inlined into trap.rs's `syscall_trap`, on the system
/// call's page of code (see there).
#[inline(always)]
pub fn syscall(frame: &mut TrapFrame) -> Outcome {
    let number = frame.rax as usize;
    let args = Args::of(frame);
    if number == SYS_EXIT {
        return Outcome::Exit(args.int(0));
    }
    // SAFETY: a system call is a boundary where the process's own kernel
    // thread enters the kernel (see `Proc::private`); this borrow is the
    // only one, the handlers get it lent, and it ends when this function
    // returns.
    let me = unsafe { proc::current().private() };
    let result = match number {
        SYS_FORK => sysproc::fork(me, frame),
        SYS_WAIT => sysproc::wait(&args, me),
        SYS_KILL => sysproc::kill(&args),
        SYS_EXEC => sysproc::exec(&args, me, frame),
        SYS_GETPID => sysproc::getpid(),
        SYS_SBRK => sysproc::sbrk(&args, me),
        SYS_SLEEP => sysproc::sleep(&args),
        SYS_UPTIME => sysproc::uptime(),
        SYS_TSC_HZ => sysproc::tsc_hz(),
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
        SYS_SHM_OPEN => sysshm::open(&args, me),
        SYS_SHM_TRUNC => sysshm::trunc(&args, me),
        SYS_SHM_MAP => sysshm::map(&args, me),
        SYS_SHM_CLOSE => sysshm::close(&args, me),
        SYS_SHM_WAIT => sysshm::wait(&args, me),
        SYS_SHM_WAKE => sysshm::wake(&args, me),
        _ => {
            report_unknown(number);
            Err(Error::InvalidArgument)
        }
    };
    frame.rax = match result {
        Ok(value) => value as u64,
        Err(_) => u64::MAX, // -1
    };
    Outcome::Resume
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
    let now = proc::ticks();
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
