//! The on-disk layout of the file system, shared by the kernel and `mkfs`.
//!
//! The disk is an array of `BSIZE`-byte blocks, laid out as in xv6:
//!
//! ```text
//! [ boot | super | log ...      | inodes ...      | bitmap ... | data ...        ]
//!   0      1       logstart=2     inodestart        bmapstart    size - nblocks
//! ```
//!
//! - Block 0 is left for a boot loader and never used by the file system.
//! - Block 1 holds the [`SuperBlock`], which records where every other region
//!   starts, so that the kernel needs no layout constants beyond this file.
//! - The log (`nlog` blocks from `logstart`) makes multi-block updates atomic.
//!   Its first block holds the [`LogHeader`]: how many blocks a committed
//!   transaction wrote and where each one belongs. The header's blocks follow
//!   in the log, in the same order.
//! - The inode blocks hold [`IPB`] on-disk inodes ([`DiskInode`]) each. Inode
//!   `i` lives in block [`inode_block`]`(i)` at byte [`inode_offset`]`(i)`.
//!   Inode 0 is never used, so an inode number of 0 can mean "none";
//!   [`ROOTINO`] is the root directory.
//! - The free bitmap has one bit per block of the whole disk (metadata
//!   included): set means in use. Block `b`'s bit lives in bitmap block
//!   [`bitmap_block`]`(b)` at the position [`bitmap_position`]`(b)` gives.
//! - The data blocks hold file contents, directories and indirect blocks.
//!
//! A file's blocks are found through its inode: `addrs[0..NDIRECT]` name the
//! first [`NDIRECT`] blocks directly, and `addrs[NDIRECT]` names an indirect
//! block holding the numbers of the next [`NINDIRECT`]. A 0 address means "not
//! allocated" (block 0 is the boot block, so no file can own it). A directory
//! is a file whose contents are an array of [`DirEntry`]s.
//!
//! Every multi-byte number on disk is little-endian. Each on-disk type has a
//! `SIZE` and converts itself with `decode` (from bytes) and `encode` (to
//! bytes), one field at a time. That is a little more code than casting a
//! block to a `repr(C)` struct, but it needs no `unsafe`, no alignment
//! assumptions, and reads the same on any host `mkfs` runs on.

use core::fmt;

use crate::stat::T_DIR;

/// Block size in bytes; also the unit of disk transfer.
pub const BSIZE: usize = 1024;
/// Size of the default file system image, in blocks.
pub const FSSIZE: u32 = 2000;
/// The most blocks one file-system operation may write. Bounds the log: a
/// transaction must fit in it.
pub const MAXOPBLOCKS: usize = 10;
/// Number of log blocks, header included: room for three maximal operations.
pub const LOGSIZE: usize = MAXOPBLOCKS * 3;
/// The most bytes of a `write` one log operation carries; a bigger write
/// is split into pieces of this size, each atomic on its own. Half of what
/// is left of MAXOPBLOCKS after the inode, an indirect block and two
/// blocks for a piece that straddles block boundaries (a bitmap block per
/// new data block is the other half): 3072 bytes.
pub const WRITE_PIECE: usize = ((MAXOPBLOCKS - 1 - 1 - 2) / 2) * BSIZE;
/// Number of inodes in the default image.
pub const NINODES: u32 = 200;
/// Inode number of the root directory.
pub const ROOTINO: u32 = 1;
/// The superblock's block (block 0 is left for a boot loader).
pub const SUPERBLOCK_BLOCK: u32 = 1;
/// The superblock's first word, identifying an xv6 file system.
pub const FSMAGIC: u32 = 0x1020_3040;

/// Number of block addresses held directly in an inode.
pub const NDIRECT: usize = 12;
/// Number of block addresses held in the indirect block.
pub const NINDIRECT: usize = BSIZE / 4;
/// Largest file size, in blocks.
pub const MAXFILE: usize = NDIRECT + NINDIRECT;
/// Longest name a directory entry holds.
pub const DIRSIZ: usize = 14;

/// Inodes per inode block.
pub const IPB: usize = BSIZE / DiskInode::SIZE;
/// Bitmap bits per bitmap block.
pub const BPB: usize = BSIZE * 8;

/// The block holding inode `inum`.
pub const fn inode_block(inum: u32, sb: &SuperBlock) -> u32 {
    inum / IPB as u32 + sb.inodestart
}

/// The byte offset of inode `inum` within its block ([`inode_block`]).
pub const fn inode_offset(inum: u32) -> usize {
    (inum as usize % IPB) * DiskInode::SIZE
}

/// The bitmap block holding the bit for block `b`.
pub const fn bitmap_block(b: u32, sb: &SuperBlock) -> u32 {
    b / BPB as u32 + sb.bmapstart
}

/// Where block `b`'s bit sits within its bitmap block ([`bitmap_block`]):
/// the byte index and the mask for the bit. Bits are numbered from the least
/// significant bit of byte 0, as xv6 does.
pub const fn bitmap_position(b: u32) -> (usize, u8) {
    let bit = b as usize % BPB;
    (bit / 8, 1 << (bit % 8))
}

/// Block [`SUPERBLOCK_BLOCK`]: where each region of the disk starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SuperBlock {
    /// Must be [`FSMAGIC`].
    pub magic: u32,
    /// Size of the file system, in blocks (all regions).
    pub size: u32,
    /// Number of data blocks; they are the last `nblocks` of the disk.
    pub nblocks: u32,
    /// Number of inodes.
    pub ninodes: u32,
    /// Number of log blocks, header included.
    pub nlog: u32,
    /// First log block (the log header).
    pub logstart: u32,
    /// First inode block.
    pub inodestart: u32,
    /// First bitmap block.
    pub bmapstart: u32,
}

impl SuperBlock {
    /// Encoded size in bytes: eight `u32`s. The rest of block 1 is zero.
    pub const SIZE: usize = 8 * 4;

    /// Reads a superblock from the start of `bytes`.
    ///
    /// # Panics
    /// If `bytes` is shorter than [`SuperBlock::SIZE`].
    pub fn decode(bytes: &[u8]) -> Self {
        SuperBlock {
            magic: read_u32(bytes, 0),
            size: read_u32(bytes, 4),
            nblocks: read_u32(bytes, 8),
            ninodes: read_u32(bytes, 12),
            nlog: read_u32(bytes, 16),
            logstart: read_u32(bytes, 20),
            inodestart: read_u32(bytes, 24),
            bmapstart: read_u32(bytes, 28),
        }
    }

    /// Writes this superblock to the start of `out`.
    ///
    /// # Panics
    /// If `out` is shorter than [`SuperBlock::SIZE`].
    pub fn encode(&self, out: &mut [u8]) {
        write_u32(out, 0, self.magic);
        write_u32(out, 4, self.size);
        write_u32(out, 8, self.nblocks);
        write_u32(out, 12, self.ninodes);
        write_u32(out, 16, self.nlog);
        write_u32(out, 20, self.logstart);
        write_u32(out, 24, self.inodestart);
        write_u32(out, 28, self.bmapstart);
    }

    /// The first data block: the data region fills the end of the disk.
    ///
    /// # Panics
    /// If `nblocks > size`, which only a corrupt superblock claims.
    pub const fn datastart(&self) -> u32 {
        self.size - self.nblocks
    }

    /// Every way in which the regions this superblock describes fail to
    /// add up on a disk of `disk_blocks` blocks: the whole file system on
    /// the disk, the log right after the superblock and big enough for one
    /// operation, then the inodes, the bitmap (one bit per block of the
    /// disk) and the data, in that order, none overlapping the next. A
    /// superblock with none of these problems can be followed without
    /// reading outside the disk.
    ///
    /// The kernel refuses to mount a disk with any of them; `mkfs --check`
    /// reports them all.
    pub fn layout_errors(&self, disk_blocks: u64) -> impl Iterator<Item = LayoutError> {
        // In u64, so that garbage values cannot overflow the sums.
        let [
            size,
            nblocks,
            ninodes,
            nlog,
            logstart,
            inodestart,
            bmapstart,
        ] = [
            self.size,
            self.nblocks,
            self.ninodes,
            self.nlog,
            self.logstart,
            self.inodestart,
            self.bmapstart,
        ]
        .map(u64::from);
        let inode_blocks = ninodes.div_ceil(IPB as u64);
        let bitmap_blocks = size.div_ceil(BPB as u64);
        let errors = [
            (size > disk_blocks).then_some(LayoutError::LargerThanDisk { size, disk_blocks }),
            (logstart != 2).then_some(LayoutError::LogStart { logstart }),
            (nlog < MAXOPBLOCKS as u64 + 1).then_some(LayoutError::LogTooSmall { nlog }),
            (inodestart != logstart + nlog).then_some(LayoutError::InodesNotAfterLog {
                inodestart,
                log_end: logstart + nlog,
            }),
            (ninodes <= u64::from(ROOTINO)).then_some(LayoutError::NoRoomForRoot { ninodes }),
            (bmapstart < inodestart + inode_blocks).then_some(LayoutError::BitmapInInodes {
                bmapstart,
                inodestart,
                inode_blocks,
            }),
            (nblocks > size).then_some(LayoutError::DataTooBig { nblocks, size }),
            size.checked_sub(nblocks)
                .filter(|&datastart| datastart < bmapstart + bitmap_blocks)
                .map(|datastart| LayoutError::DataInBitmap {
                    datastart,
                    bmapstart,
                    bitmap_blocks,
                }),
        ];
        errors.into_iter().flatten()
    }
}

/// One way in which a superblock's regions fail to add up (see
/// [`SuperBlock::layout_errors`]). The numbers are the superblock's, widened
/// so that sums of them cannot overflow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayoutError {
    /// The file system claims more blocks than the disk has.
    LargerThanDisk { size: u64, disk_blocks: u64 },
    /// The log must start right after the superblock.
    LogStart { logstart: u64 },
    /// The log must hold its header and one whole operation.
    LogTooSmall { nlog: u64 },
    /// The inodes must start right after the log.
    InodesNotAfterLog { inodestart: u64, log_end: u64 },
    /// Inode 0 is never used, and the root needs one.
    NoRoomForRoot { ninodes: u64 },
    /// The bitmap starts inside the inode blocks.
    BitmapInInodes {
        bmapstart: u64,
        inodestart: u64,
        inode_blocks: u64,
    },
    /// More data blocks than blocks.
    DataTooBig { nblocks: u64, size: u64 },
    /// The data blocks start inside the bitmap.
    DataInBitmap {
        datastart: u64,
        bmapstart: u64,
        bitmap_blocks: u64,
    },
}

impl fmt::Display for LayoutError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match *self {
            LayoutError::LargerThanDisk { size, disk_blocks } => write!(
                f,
                "size is {size} blocks, but the disk holds only {disk_blocks}"
            ),
            LayoutError::LogStart { logstart } => write!(
                f,
                "the log starts at block {logstart}, not 2 (right after the superblock)"
            ),
            LayoutError::LogTooSmall { nlog } => write!(
                f,
                "the log's {nlog} blocks cannot hold its header and one \
                 {MAXOPBLOCKS}-block operation"
            ),
            LayoutError::InodesNotAfterLog {
                inodestart,
                log_end,
            } => write!(
                f,
                "the inodes start at block {inodestart}, not right after the log ({log_end})"
            ),
            LayoutError::NoRoomForRoot { ninodes } => {
                write!(f, "{ninodes} inodes leave no room for the root")
            }
            LayoutError::BitmapInInodes {
                bmapstart,
                inodestart,
                inode_blocks,
            } => write!(
                f,
                "the bitmap starts at block {bmapstart}, inside the {inode_blocks} inode \
                 blocks from {inodestart}"
            ),
            LayoutError::DataTooBig { nblocks, size } => {
                write!(f, "{nblocks} data blocks do not fit in {size} blocks")
            }
            LayoutError::DataInBitmap {
                datastart,
                bmapstart,
                bitmap_blocks,
            } => write!(
                f,
                "the data blocks start at block {datastart}, inside the {bitmap_blocks} \
                 bitmap blocks from {bmapstart}"
            ),
        }
    }
}

/// An inode as stored on disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DiskInode {
    /// 0 for a free inode, else `T_DIR`, `T_FILE` or `T_DEVICE`
    /// (see [`crate::stat`]).
    pub kind: u16,
    /// Major device number (`T_DEVICE` only).
    pub major: u16,
    /// Minor device number (`T_DEVICE` only).
    pub minor: u16,
    /// Number of links to this inode, as xv6's kernel counts them: one per
    /// directory entry naming it, except that a directory's own `.` and the
    /// root's `..` never count. So a directory has 1 (its name in the parent;
    /// for the root, set by `mkfs`) plus one per subdirectory (its `..`).
    pub nlink: u16,
    /// Size of the file in bytes.
    pub size: u32,
    /// `NDIRECT` direct block addresses, then the indirect block's address.
    pub addrs: [u32; NDIRECT + 1],
}

impl DiskInode {
    /// Encoded size in bytes; divides `BSIZE` so no inode straddles blocks.
    pub const SIZE: usize = 4 * 2 + 4 + (NDIRECT + 1) * 4;

    /// Is this inode in use?
    pub const fn is_allocated(&self) -> bool {
        self.kind != 0
    }

    /// Is this inode a directory?
    pub const fn is_dir(&self) -> bool {
        self.kind == T_DIR
    }

    /// Reads an inode from the start of `bytes`.
    ///
    /// # Panics
    /// If `bytes` is shorter than [`DiskInode::SIZE`].
    pub fn decode(bytes: &[u8]) -> Self {
        let mut addrs = [0; NDIRECT + 1];
        for (i, addr) in addrs.iter_mut().enumerate() {
            *addr = read_u32(bytes, 12 + 4 * i);
        }
        DiskInode {
            kind: read_u16(bytes, 0),
            major: read_u16(bytes, 2),
            minor: read_u16(bytes, 4),
            nlink: read_u16(bytes, 6),
            size: read_u32(bytes, 8),
            addrs,
        }
    }

    /// Writes this inode to the start of `out`.
    ///
    /// # Panics
    /// If `out` is shorter than [`DiskInode::SIZE`].
    pub fn encode(&self, out: &mut [u8]) {
        write_u16(out, 0, self.kind);
        write_u16(out, 2, self.major);
        write_u16(out, 4, self.minor);
        write_u16(out, 6, self.nlink);
        write_u32(out, 8, self.size);
        for (i, &addr) in self.addrs.iter().enumerate() {
            write_u32(out, 12 + 4 * i, addr);
        }
    }
}

/// One entry of a directory. An entry whose `inum` is 0 is a free slot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DirEntry {
    /// The inode this name refers to, or 0 for a free slot.
    pub inum: u16,
    /// The name, padded with NULs. A name of exactly `DIRSIZ` bytes has no
    /// terminating NUL, so never treat this as a C string.
    pub name: [u8; DIRSIZ],
}

impl DirEntry {
    /// Encoded size in bytes; divides `BSIZE` so no entry straddles blocks.
    pub const SIZE: usize = 2 + DIRSIZ;

    /// An entry naming inode `inum`, or `None` if `name` cannot be stored:
    /// it is empty, longer than `DIRSIZ`, or holds a NUL (which would end it
    /// early) or a `/` (which path lookup would split on).
    pub fn new(inum: u16, name: &[u8]) -> Option<Self> {
        if name.is_empty() || name.len() > DIRSIZ || name.iter().any(|&c| c == 0 || c == b'/') {
            return None;
        }
        let mut entry = DirEntry {
            inum,
            name: [0; DIRSIZ],
        };
        entry.name[..name.len()].copy_from_slice(name);
        Some(entry)
    }

    /// The name without its NUL padding.
    pub fn name(&self) -> &[u8] {
        let len = self.name.iter().position(|&c| c == 0).unwrap_or(DIRSIZ);
        &self.name[..len]
    }

    /// Reads an entry from the start of `bytes`.
    ///
    /// # Panics
    /// If `bytes` is shorter than [`DirEntry::SIZE`].
    pub fn decode(bytes: &[u8]) -> Self {
        let mut name = [0; DIRSIZ];
        name.copy_from_slice(&bytes[2..Self::SIZE]);
        DirEntry {
            inum: read_u16(bytes, 0),
            name,
        }
    }

    /// Writes this entry to the start of `out`.
    ///
    /// # Panics
    /// If `out` is shorter than [`DirEntry::SIZE`].
    pub fn encode(&self, out: &mut [u8]) {
        write_u16(out, 0, self.inum);
        out[2..Self::SIZE].copy_from_slice(&self.name);
    }
}

/// The first log block: the blocks of the committed transaction, if any.
///
/// `n` is 0 when the log is empty. Writing a non-zero `n` is the commit
/// point: from then on, recovery copies log block `logstart + 1 + i` to
/// block `blocks[i]` for each `i < n`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogHeader {
    /// Number of blocks in the committed transaction.
    pub n: u32,
    /// Home block number of each logged block.
    pub blocks: [u32; LOGSIZE],
}

impl LogHeader {
    /// Encoded size in bytes; it must (and does) fit in one block.
    pub const SIZE: usize = 4 + LOGSIZE * 4;

    /// Reads a log header from the start of `bytes`.
    ///
    /// # Panics
    /// If `bytes` is shorter than [`LogHeader::SIZE`].
    pub fn decode(bytes: &[u8]) -> Self {
        let mut blocks = [0; LOGSIZE];
        for (i, block) in blocks.iter_mut().enumerate() {
            *block = read_u32(bytes, 4 + 4 * i);
        }
        LogHeader {
            n: read_u32(bytes, 0),
            blocks,
        }
    }

    /// Writes this log header to the start of `out`.
    ///
    /// # Panics
    /// If `out` is shorter than [`LogHeader::SIZE`].
    pub fn encode(&self, out: &mut [u8]) {
        write_u32(out, 0, self.n);
        for (i, &block) in self.blocks.iter().enumerate() {
            write_u32(out, 4 + 4 * i, block);
        }
    }
}

// The layout above relies on these; checking them here turns a mistaken
// edit into a compile error rather than a corrupt disk.
const _: () = assert!(BSIZE.is_multiple_of(DiskInode::SIZE));
const _: () = assert!(BSIZE.is_multiple_of(DirEntry::SIZE));
const _: () = assert!(LogHeader::SIZE <= BSIZE);
const _: () = assert!(SuperBlock::SIZE <= BSIZE);

fn read_u16(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn read_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn write_u16(out: &mut [u8], at: usize, value: u16) {
    out[at..at + 2].copy_from_slice(&value.to_le_bytes());
}

fn write_u32(out: &mut [u8], at: usize, value: u32) {
    out[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use crate::stat::T_FILE;

    #[test]
    fn sizes_match_xv6() {
        assert_eq!(SuperBlock::SIZE, 32);
        assert_eq!(DiskInode::SIZE, 64);
        assert_eq!(DirEntry::SIZE, 16);
        assert_eq!(LogHeader::SIZE, 124);
        assert_eq!(IPB, 16);
        assert_eq!(BPB, 8192);
        assert_eq!(NINDIRECT, 256);
        assert_eq!(MAXFILE, 268);
    }

    #[test]
    fn superblock_round_trips_little_endian() {
        let sb = XV6_LAYOUT;
        let mut block = [0u8; BSIZE];
        sb.encode(&mut block);
        assert_eq!(block[..4], [0x40, 0x30, 0x20, 0x10]);
        assert_eq!(SuperBlock::decode(&block), sb);
        assert_eq!(sb.datastart(), 46);
    }

    /// xv6's own layout for a 2000-block disk.
    const XV6_LAYOUT: SuperBlock = SuperBlock {
        magic: FSMAGIC,
        size: 2000,
        nblocks: 1954,
        ninodes: 200,
        nlog: 30,
        logstart: 2,
        inodestart: 32,
        bmapstart: 45,
    };

    #[test]
    fn layout_errors_accept_xv6s_layout() {
        assert_eq!(XV6_LAYOUT.layout_errors(2000).next(), None);
    }

    #[test]
    fn layout_errors_name_each_problem() {
        let errors = |sb: SuperBlock| sb.layout_errors(2000).collect::<std::vec::Vec<_>>();
        assert_eq!(
            XV6_LAYOUT.layout_errors(1999).collect::<std::vec::Vec<_>>(),
            [LayoutError::LargerThanDisk {
                size: 2000,
                disk_blocks: 1999
            }]
        );
        let log_moved = SuperBlock {
            logstart: 3,
            ..XV6_LAYOUT
        };
        assert_eq!(
            errors(log_moved),
            [
                LayoutError::LogStart { logstart: 3 },
                LayoutError::InodesNotAfterLog {
                    inodestart: 32,
                    log_end: 33
                }
            ]
        );
        let tiny_log = SuperBlock {
            nlog: 5,
            inodestart: 7,
            ..XV6_LAYOUT
        };
        assert_eq!(errors(tiny_log), [LayoutError::LogTooSmall { nlog: 5 }]);
        let overlapping = SuperBlock {
            bmapstart: 40,
            ..XV6_LAYOUT
        };
        assert_eq!(
            errors(overlapping),
            [LayoutError::BitmapInInodes {
                bmapstart: 40,
                inodestart: 32,
                inode_blocks: 13
            }]
        );
        // Garbage must not overflow, only be reported.
        let garbage = SuperBlock {
            size: 10,
            nblocks: u32::MAX,
            ninodes: u32::MAX,
            nlog: u32::MAX,
            logstart: u32::MAX,
            inodestart: u32::MAX,
            bmapstart: u32::MAX,
            ..XV6_LAYOUT
        };
        assert!(errors(garbage).contains(&LayoutError::DataTooBig {
            nblocks: u32::MAX.into(),
            size: 10
        }));
        let no_data_room = SuperBlock {
            nblocks: 1960,
            ..XV6_LAYOUT
        };
        assert_eq!(
            errors(no_data_room),
            [LayoutError::DataInBitmap {
                datastart: 40,
                bmapstart: 45,
                bitmap_blocks: 1
            }]
        );
    }

    #[test]
    fn inode_round_trips() {
        let mut addrs = [0; NDIRECT + 1];
        for (i, addr) in addrs.iter_mut().enumerate() {
            *addr = 0x0101_0000 * i as u32 + 7;
        }
        let inode = DiskInode {
            kind: T_FILE,
            major: 3,
            minor: 4,
            nlink: 2,
            size: 0xdead_beef,
            addrs,
        };
        let mut bytes = [0u8; DiskInode::SIZE];
        inode.encode(&mut bytes);
        assert_eq!(bytes[8..12], [0xef, 0xbe, 0xad, 0xde]);
        assert_eq!(DiskInode::decode(&bytes), inode);
        assert!(inode.is_allocated());
        assert!(!inode.is_dir());
        assert!(!DiskInode::default().is_allocated());
    }

    #[test]
    fn dir_entry_round_trips_and_keeps_full_length_names() {
        let entry = DirEntry::new(0x1234, b"fourteen_chars").unwrap();
        let mut bytes = [0u8; DirEntry::SIZE];
        entry.encode(&mut bytes);
        assert_eq!(bytes[..2], [0x34, 0x12]);
        let back = DirEntry::decode(&bytes);
        assert_eq!(back, entry);
        assert_eq!(back.name(), b"fourteen_chars");

        let short = DirEntry::new(1, b"sh").unwrap();
        assert_eq!(short.name(), b"sh");
        assert_eq!(short.name[2..], [0; DIRSIZ - 2]);
    }

    #[test]
    fn dir_entry_rejects_unstorable_names() {
        assert!(DirEntry::new(1, b"").is_none());
        assert!(DirEntry::new(1, b"fifteen_chars_x").is_none());
        assert!(DirEntry::new(1, b"a\0b").is_none());
        assert!(DirEntry::new(1, b"a/b").is_none());
    }

    #[test]
    fn log_header_round_trips() {
        let mut header = LogHeader {
            n: 3,
            ..LogHeader::default()
        };
        header.blocks[..3].copy_from_slice(&[46, 47, 1999]);
        header.blocks[LOGSIZE - 1] = 0xabcd;
        let mut block = [0u8; BSIZE];
        header.encode(&mut block);
        assert_eq!(LogHeader::decode(&block), header);
    }

    #[test]
    fn layout_helpers_find_inodes_and_bits() {
        let sb = SuperBlock {
            inodestart: 32,
            bmapstart: 45,
            ..SuperBlock::default()
        };
        assert_eq!(inode_block(0, &sb), 32);
        assert_eq!(inode_block(15, &sb), 32);
        assert_eq!(inode_block(16, &sb), 33);
        assert_eq!(inode_offset(17), 64);
        assert_eq!(bitmap_block(8191, &sb), 45);
        assert_eq!(bitmap_block(8192, &sb), 46);
        assert_eq!(bitmap_position(0), (0, 1));
        assert_eq!(bitmap_position(13), (1, 1 << 5));
        assert_eq!(bitmap_position(8192 + 9), (1, 1 << 1));
    }
}
