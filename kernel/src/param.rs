//! Every limit of the kernel, in one place.

/// Most CPUs the kernel will start (more in the ACPI tables are ignored).
pub const NCPU: usize = 8;

/// Size of a page, the unit of the page allocator and of page tables
/// (user programs see it too, so it lives in abi).
pub use abi::memlayout::PGSIZE;

/// Timer interrupts per second.
pub const TICKS_PER_SECOND: u64 = 100;

/// Pages of every kernel stack: each process's, and each CPU's scheduler's.
pub const KSTACK_PAGES: usize = 4;

/// Size of the process table.
pub const NPROC: usize = 64;

/// Pages of each process's user stack (part of the user memory layout, so
/// it lives in abi).
pub use abi::memlayout::USER_STACK_PAGES;

/// Most arguments `exec` passes to a program (part of the user contract,
/// so it lives in abi).
pub use abi::syscall::MAXARG;

/// Longest path, or argument string of `exec`, with its NUL (part of the
/// user contract, so it lives in abi).
pub use abi::syscall::MAXPATH;

/// Bytes of a process name kept for debugging (Ctrl-P, fault messages).
pub const PROC_NAME_LEN: usize = 16;

/// Open files per process (part of the user contract, so it lives in abi).
pub use abi::fcntl::NOFILE;

/// Open files in the whole system.
pub const NFILE: usize = 100;

/// Inodes in memory at once: as many as the disk has, so that no amount
/// of opening, linking or chdir-ing by user programs can exhaust the cache.
pub const NINODE: usize = abi::fs::NINODES as usize;

/// Blocks in the buffer cache. The log pins up to LOGSIZE of them until it
/// commits, and every process may hold a few while it works (an inode
/// block, an indirect block, a bitmap block): room for all of that, so
/// that the cache never runs dry.
pub const NBUF: usize = abi::fs::LOGSIZE + 3 * NPROC;

/// Device number of the disk holding the file system (the IDE primary
/// slave: QEMU's second drive).
pub const ROOTDEV: u32 = 1;

/// The limits of shared memory (docs/shm.md) are defined once, in
/// `abi::shm`, because user programs check them too: NSHM objects in the
/// table, NSHMPROC descriptors per process, SHM_MAXPAGES pages per object
/// (used by the `shmtable` crate), SHM_NAME_MAX bytes in a name, and
/// NSHMWAIT processes waiting in `shm_wait` at once.
pub use abi::shm::{NSHMWAIT, SHM_NAME_MAX};
