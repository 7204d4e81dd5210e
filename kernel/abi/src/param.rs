//! The kernel's limits that a program may want to know (xv6's param.h).
//!
//! The kernel takes these from here (`kernel/src/param.rs` re-exports
//! them with its other limits), so a C program that includes `param.h`
//! sees the kernel's own numbers; `make test` checks the header against
//! this file. The limits that are part of a system call's contract live
//! with that call (`MAXARG` in [`crate::syscall`], `NOFILE` in
//! [`crate::fcntl`]), and the file system's with the disk layout
//! ([`crate::fs`]).

use crate::fs::{LOGSIZE, NINODES};

/// Most CPUs the kernel will start (more in the ACPI tables are ignored).
pub const NCPU: usize = 16;

/// Size of the process table.
pub const NPROC: usize = 64;

/// Pages of every kernel stack: each process's, and each CPU's scheduler's.
pub const KSTACK_PAGES: usize = 4;

/// Open files in the whole system.
pub const NFILE: usize = 100;

/// Inodes in memory at once: as many as the disk has, so that no amount
/// of opening, linking or chdir-ing by user programs can exhaust the cache.
pub const NINODE: usize = NINODES as usize;

/// Blocks in the buffer cache. The log pins up to LOGSIZE of them until it
/// commits, and every process may hold a few while it works (an inode
/// block, an indirect block, a bitmap block): room for all of that, so
/// that the cache never runs dry.
pub const NBUF: usize = LOGSIZE + 3 * NPROC;

/// Device number of the disk holding the file system (the IDE primary
/// slave: QEMU's second drive).
pub const ROOTDEV: u32 = 1;
