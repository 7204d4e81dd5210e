//! What `fstat` reports about a file.

/// The kind of an inode, as stored on disk and reported by `fstat`.
pub const T_DIR: u16 = 1;
pub const T_FILE: u16 = 2;
pub const T_DEVICE: u16 = 3;

/// `fstat`'s result. The kernel copies it to user memory as plain bytes, so
/// its layout is fixed (`repr(C)`) and it has no padding the kernel could leak.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stat {
    /// File system's disk device.
    pub dev: u32,
    /// Inode number.
    pub ino: u32,
    /// `T_DIR`, `T_FILE` or `T_DEVICE`.
    pub kind: u16,
    /// Number of links to the file.
    pub nlink: u16,
    /// Explicit padding, always zero.
    pub pad: u32,
    /// Size of the file in bytes.
    pub size: u64,
}
