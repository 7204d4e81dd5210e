//! Every limit of the kernel, in one place.

/// The limits that xv6's param.h gives programs live in abi, so that the
/// C header `param.h` can be checked against them: NCPU CPUs at most,
/// NPROC processes, KSTACK_PAGES pages of each kernel stack, NFILE open
/// files in the system, NINODE inodes and NBUF blocks cached in memory,
/// and ROOTDEV, the disk with the file system (the IDE primary slave).
pub use abi::param::{KSTACK_PAGES, NBUF, NCPU, NFILE, NINODE, NPROC, ROOTDEV};

/// Size of a page, the unit of the page allocator and of page tables
/// (user programs see it too, so it lives in abi).
pub use abi::memlayout::PGSIZE;

/// Timer interrupts per second.
pub const TICKS_PER_SECOND: u64 = 100;

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

/// The limits of shared memory (docs/shm.md) are defined once, in
/// `abi::shm`, because user programs check them too: NSHM objects in the
/// table, NSHMPROC descriptors per process, SHM_MAXPAGES pages per object
/// (used by the `shmtable` crate), SHM_NAME_MAX bytes in a name, and
/// NSHMWAIT processes waiting in `shm_wait` at once (which shm.rs's wait
/// table, the `sync` lab's solution, takes from `abi::shm` itself).
pub use abi::shm::SHM_NAME_MAX;
