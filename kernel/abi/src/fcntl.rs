//! Flags for `open`, also used by `shm_map` (`O_RDONLY` or `O_RDWR` only),
//! and how many descriptors a process has.

pub const O_RDONLY: u32 = 0x000;
pub const O_WRONLY: u32 = 0x001;
pub const O_RDWR: u32 = 0x002;
pub const O_CREATE: u32 = 0x200;
pub const O_TRUNC: u32 = 0x400;

/// Open files per process: descriptors are 0..NOFILE.
pub const NOFILE: usize = 16;
