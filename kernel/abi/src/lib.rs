//! The contract between the kernel and everything outside it.
//!
//! The kernel, the user library (`user/`) and the host tool `mkfs` all depend
//! on this crate, so each number below is written exactly once:
//!
//! - [`syscall`]: system-call numbers (xv6's, plus shared memory);
//! - [`fcntl`]: flags for `open` and `shm_map`;
//! - [`stat`]: what `fstat` fills in;
//! - [`device`]: major device numbers;
//! - [`fs`]: the on-disk layout of the file system;
//! - [`memlayout`]: the user address space, and where the kernel is;
//! - [`param`]: the kernel's limits (xv6's param.h);
//! - [`traps`]: interrupt and exception vectors (xv6's traps.h);
//! - [`shm`]: the limits and address window of shared memory;
//! - [`testrun`]: how the test runner asks the test kernel for a run, and
//!   how the run ends;
//! - [`splitmix`]: not a number of the contract but the test tools'
//!   pseudo-random generator, which the host and xv6's programs share.
//!
//! It is `no_std` and has no dependencies, so it builds for the kernel's
//! bare-metal target and for the host alike.

#![no_std]

pub mod device;
pub mod fcntl;
pub mod fs;
pub mod memlayout;
pub mod param;
pub mod shm;
pub mod splitmix;
pub mod stat;
pub mod syscall;
pub mod testrun;
pub mod traps;
