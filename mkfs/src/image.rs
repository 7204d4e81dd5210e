//! A file system image held in memory: blocks, inodes, the bitmap, file data.
//!
//! [`Image`] owns the bytes of a whole disk and the superblock that describes
//! them. It knows where things live (through `abi::fs`) but has no policy:
//! the builder decides what to allocate, the checker decides what is wrong.
//!
//! Every accessor takes block and inode numbers the caller has already
//! checked against the superblock, and panics otherwise, as slice indexing
//! does. The builder only produces valid numbers; the checker validates each
//! number it reads from disk before following it.

use abi::fs::{
    BSIZE, DirEntry, DiskInode, NDIRECT, SUPERBLOCK_BLOCK, SuperBlock, bitmap_block,
    bitmap_position, inode_block, inode_offset,
};

/// A whole disk in memory.
pub struct Image {
    bytes: Vec<u8>,
    sb: SuperBlock,
}

impl Image {
    /// A zeroed disk of `sb.size` blocks with `sb` written to block 1.
    pub fn format(sb: SuperBlock) -> Image {
        let mut image = Image {
            bytes: vec![0; sb.size as usize * BSIZE],
            sb,
        };
        sb.encode(image.block_mut(SUPERBLOCK_BLOCK));
        image
    }

    /// An existing disk, described by the superblock in its block 1.
    ///
    /// # Panics
    /// If `bytes` is too short to hold block 1. The superblock itself is not
    /// validated: that is the checker's job.
    pub fn open(bytes: Vec<u8>) -> Image {
        let sb = SuperBlock::decode(&bytes[BSIZE..2 * BSIZE]);
        Image { bytes, sb }
    }

    /// The disk's bytes, ready to be written to a file.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// The superblock this image was formatted or opened with.
    pub fn superblock(&self) -> &SuperBlock {
        &self.sb
    }

    /// Block `b`'s bytes.
    pub fn block(&self, b: u32) -> &[u8] {
        let start = b as usize * BSIZE;
        &self.bytes[start..start + BSIZE]
    }

    /// Block `b`'s bytes, for writing.
    pub fn block_mut(&mut self, b: u32) -> &mut [u8] {
        let start = b as usize * BSIZE;
        &mut self.bytes[start..start + BSIZE]
    }

    /// Inode `inum` as stored on disk.
    pub fn inode(&self, inum: u32) -> DiskInode {
        let offset = inode_offset(inum);
        DiskInode::decode(&self.block(inode_block(inum, &self.sb))[offset..])
    }

    /// Stores inode `inum`.
    pub fn write_inode(&mut self, inum: u32, inode: &DiskInode) {
        let offset = inode_offset(inum);
        let block = inode_block(inum, &self.sb);
        inode.encode(&mut self.block_mut(block)[offset..]);
    }

    /// Does the bitmap mark block `b` as in use?
    pub fn bitmap_bit(&self, b: u32) -> bool {
        let (byte, mask) = bitmap_position(b);
        self.block(bitmap_block(b, &self.sb))[byte] & mask != 0
    }

    /// Marks block `b` as in use or free in the bitmap.
    pub fn set_bitmap_bit(&mut self, b: u32, in_use: bool) {
        let (byte, mask) = bitmap_position(b);
        let block = bitmap_block(b, &self.sb);
        let bits = &mut self.block_mut(block)[byte];
        if in_use {
            *bits |= mask;
        } else {
            *bits &= !mask;
        }
    }

    /// The disk block holding block `n` of a file (the `n`-th `BSIZE` bytes),
    /// or 0 if the file has none there. This is the kernel's `bmap` without
    /// the allocation.
    pub fn file_block(&self, inode: &DiskInode, n: usize) -> u32 {
        if n < NDIRECT {
            return inode.addrs[n];
        }
        match inode.addrs[NDIRECT] {
            0 => 0,
            indirect => read_u32(self.block(indirect), n - NDIRECT),
        }
    }

    /// A file's contents, `inode.size` bytes. A missing block reads as
    /// zeros, as a hole would.
    pub fn read_file(&self, inode: &DiskInode) -> Vec<u8> {
        let size = inode.size as usize;
        let mut data = vec![0; size];
        for (n, chunk) in data.chunks_mut(BSIZE).enumerate() {
            let b = self.file_block(inode, n);
            if b != 0 {
                chunk.copy_from_slice(&self.block(b)[..chunk.len()]);
            }
        }
        data
    }

    /// A directory's entries, free slots included, in order.
    pub fn dir_entries(&self, dir: &DiskInode) -> Vec<DirEntry> {
        self.read_file(dir)
            .chunks_exact(DirEntry::SIZE)
            .map(DirEntry::decode)
            .collect()
    }
}

/// The `index`-th little-endian `u32` of a block: an indirect block is an
/// array of them.
pub fn read_u32(block: &[u8], index: usize) -> u32 {
    let at = index * 4;
    u32::from_le_bytes([block[at], block[at + 1], block[at + 2], block[at + 3]])
}

/// Sets the `index`-th little-endian `u32` of a block.
pub fn write_u32(block: &mut [u8], index: usize, value: u32) {
    let at = index * 4;
    block[at..at + 4].copy_from_slice(&value.to_le_bytes());
}
