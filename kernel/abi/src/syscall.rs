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

/// Every system call, by number, with its name: for tools that must know
/// them all (the test runner checks that syscallfuzz covers each one).
/// A new call goes here as well as above; a unit test checks that none is
/// missing.
pub const ALL: &[(usize, &str)] = &[
    (SYS_FORK, "fork"),
    (SYS_EXIT, "exit"),
    (SYS_WAIT, "wait"),
    (SYS_PIPE, "pipe"),
    (SYS_READ, "read"),
    (SYS_KILL, "kill"),
    (SYS_EXEC, "exec"),
    (SYS_FSTAT, "fstat"),
    (SYS_CHDIR, "chdir"),
    (SYS_DUP, "dup"),
    (SYS_GETPID, "getpid"),
    (SYS_SBRK, "sbrk"),
    (SYS_SLEEP, "sleep"),
    (SYS_UPTIME, "uptime"),
    (SYS_OPEN, "open"),
    (SYS_WRITE, "write"),
    (SYS_MKNOD, "mknod"),
    (SYS_UNLINK, "unlink"),
    (SYS_LINK, "link"),
    (SYS_MKDIR, "mkdir"),
    (SYS_CLOSE, "close"),
    (SYS_SHM_OPEN, "shm_open"),
    (SYS_SHM_TRUNC, "shm_trunc"),
    (SYS_SHM_MAP, "shm_map"),
    (SYS_SHM_CLOSE, "shm_close"),
    (SYS_SHM_WAIT, "shm_wait"),
    (SYS_SHM_WAKE, "shm_wake"),
    (SYS_TSC_HZ, "tsc_hz"),
];

/// Most arguments `exec` passes to a program (argv[0] included); one more
/// and exec fails with -1.
pub const MAXARG: usize = 32;

/// Longest path a system call accepts, and longest argument string `exec`
/// accepts, counting the NUL: a longer one fails with -1, never cut short.
pub const MAXPATH: usize = 128;

#[cfg(test)]
mod tests {
    use super::ALL;

    /// Every `SYS_` constant of this file is in [`ALL`] under its own
    /// number and its name in lower case.
    #[test]
    fn all_lists_every_call() {
        let source = include_str!("syscall.rs");
        let mut constants = 0;
        for line in source.lines() {
            let Some(rest) = line.strip_prefix("pub const SYS_") else {
                continue;
            };
            let (name, number) = rest.split_once(": usize = ").expect("a SYS_ constant");
            let number: usize = number.trim_end_matches(';').parse().expect("a number");
            let name = name.to_ascii_lowercase();
            assert!(
                ALL.contains(&(number, name.as_str())),
                "ALL lacks ({number}, {name:?})"
            );
            constants += 1;
        }
        assert_eq!(ALL.len(), constants, "ALL has a call with no constant");
    }
}
