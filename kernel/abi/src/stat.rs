//! What `fstat` reports about a file.

/// The kind of an inode, as stored on disk and reported by `fstat`.
pub const T_DIR: u16 = 1;
pub const T_FILE: u16 = 2;
pub const T_DEVICE: u16 = 3;

/// The kinds of inode, as a type: what the numbers above mean.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InodeKind {
    Dir,
    File,
    Device,
}

impl InodeKind {
    /// The kind stored on disk as `number`; `None` for 0 (a free inode)
    /// and for numbers no kind has (a damaged disk).
    pub const fn from_disk(number: u16) -> Option<InodeKind> {
        match number {
            T_DIR => Some(InodeKind::Dir),
            T_FILE => Some(InodeKind::File),
            T_DEVICE => Some(InodeKind::Device),
            _ => None,
        }
    }

    /// The number stored on disk for this kind.
    pub const fn to_disk(self) -> u16 {
        match self {
            InodeKind::Dir => T_DIR,
            InodeKind::File => T_FILE,
            InodeKind::Device => T_DEVICE,
        }
    }
}

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

impl Stat {
    /// Bytes of a `Stat` in user memory: its `repr(C)` size.
    pub const SIZE: usize = 24;

    /// The bytes the kernel copies to user memory: the fields in their
    /// `repr(C)` places, little-endian like everything on x86_64.
    pub fn encode(&self) -> [u8; Stat::SIZE] {
        let mut bytes = [0u8; Stat::SIZE];
        bytes[0..4].copy_from_slice(&self.dev.to_le_bytes());
        bytes[4..8].copy_from_slice(&self.ino.to_le_bytes());
        bytes[8..10].copy_from_slice(&self.kind.to_le_bytes());
        bytes[10..12].copy_from_slice(&self.nlink.to_le_bytes());
        bytes[12..16].copy_from_slice(&self.pad.to_le_bytes());
        bytes[16..24].copy_from_slice(&self.size.to_le_bytes());
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `encode` puts each field where a `repr(C)` `Stat` has it, which is
    /// how user programs read it (Rust's ulib and C's stat.h).
    #[test]
    fn encode_matches_the_repr_c_layout() {
        assert_eq!(size_of::<Stat>(), Stat::SIZE);
        let stat = Stat {
            dev: 0x0102_0304,
            ino: 0x1112_1314,
            kind: 0x2122,
            nlink: 0x3132,
            pad: 0,
            size: 0x4142_4344_4546_4748,
        };
        let bytes = stat.encode();
        // SAFETY: a `Stat` is plain integers: any 24 bytes are one.
        let decoded: Stat = unsafe { core::mem::transmute(bytes) };
        assert_eq!(decoded, stat);
    }

    #[test]
    fn kinds_round_trip() {
        for kind in [InodeKind::Dir, InodeKind::File, InodeKind::Device] {
            assert_eq!(InodeKind::from_disk(kind.to_disk()), Some(kind));
        }
        assert_eq!(InodeKind::from_disk(0), None);
        assert_eq!(InodeKind::from_disk(4), None);
    }
}
