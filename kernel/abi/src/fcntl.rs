//! Flags for `open`, also used by `shm_map` (`O_RDONLY` or `O_RDWR` only),
//! how many descriptors a process has, and how much a pipe holds.

pub const O_RDONLY: u32 = 0x000;
pub const O_WRONLY: u32 = 0x001;
pub const O_RDWR: u32 = 0x002;
pub const O_CREATE: u32 = 0x200;
pub const O_TRUNC: u32 = 0x400;

/// Open files per process: descriptors are 0..NOFILE.
pub const NOFILE: usize = 16;

/// Bytes a pipe's buffer holds (Linux's default too): a writer that
/// writes more than there is room for waits for readers.
pub const PIPESIZE: usize = 65536;

/// A write of at most this many bytes goes into a pipe whole, never
/// interleaved with another writer's (POSIX's `PIPE_BUF`; Linux's too).
pub const PIPE_BUF: usize = 4096;
