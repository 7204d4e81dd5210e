//! System-call numbers.
//!
//! A user program puts the number in `rax` and the arguments in `rdi`, `rsi`,
//! `rdx`, `r10`, `r8`, `r9`, then executes `syscall`; the result comes back in
//! `rax`, -1 on error. The numbers are xv6's, so that xv6's documentation
//! applies; shared memory follows at 22..=27 (see docs/shm.md), then
//! `tsc_hz` at 28, the time-stamp counter's rate in cycles per second.

pub const SYS_FORK: usize = 1;
pub const SYS_EXIT: usize = 2;
pub const SYS_WAIT: usize = 3;
pub const SYS_PIPE: usize = 4;
pub const SYS_READ: usize = 5;
pub const SYS_KILL: usize = 6;
pub const SYS_EXEC: usize = 7;
pub const SYS_FSTAT: usize = 8;
pub const SYS_CHDIR: usize = 9;
pub const SYS_DUP: usize = 10;
pub const SYS_GETPID: usize = 11;
pub const SYS_SBRK: usize = 12;
pub const SYS_SLEEP: usize = 13;
pub const SYS_UPTIME: usize = 14;
pub const SYS_OPEN: usize = 15;
pub const SYS_WRITE: usize = 16;
pub const SYS_MKNOD: usize = 17;
pub const SYS_UNLINK: usize = 18;
pub const SYS_LINK: usize = 19;
pub const SYS_MKDIR: usize = 20;
pub const SYS_CLOSE: usize = 21;
pub const SYS_SHM_OPEN: usize = 22;
pub const SYS_SHM_TRUNC: usize = 23;
pub const SYS_SHM_MAP: usize = 24;
pub const SYS_SHM_CLOSE: usize = 25;
pub const SYS_SHM_WAIT: usize = 26;
pub const SYS_SHM_WAKE: usize = 27;
pub const SYS_TSC_HZ: usize = 28;

/// Most arguments `exec` passes to a program (argv[0] included); one more
/// and exec fails with -1.
pub const MAXARG: usize = 32;

/// Longest path a system call accepts, and longest argument string `exec`
/// accepts, counting the NUL: a longer one fails with -1, never cut short.
pub const MAXPATH: usize = 128;
