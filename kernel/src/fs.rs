//! The file system: blocks, inodes, directories and path names.
//!
//! xv6's file system in five layers, each using the ones below it:
//!
//! 1. blocks: the buffer cache (bio.rs) and the allocator of data blocks
//!    (`balloc`/`bfree`, over the free bitmap);
//! 2. the log (log.rs), which makes each system call's writes atomic;
//! 3. inodes: files and directories as numbered objects with a size and a
//!    list of blocks (`Inode`, this file);
//! 4. directories: inodes whose data is a list of `DirEntry` records;
//! 5. path names: `namei` walks "/a/b/c" through the directories.
//!
//! The disk layout (boot block, superblock, log, inodes, bitmap, data) is
//! defined once, in `abi::fs`, shared with mkfs.
//!
//! ## Inodes in memory
//!
//! `NINODE` slots cache inodes. An [`Inode`] value is a counted reference
//! to a slot (like xv6's `struct inode *`): cloning it adds a reference
//! (`idup`), dropping it removes one (`iput`). While a reference exists,
//! the slot keeps its inode; when the last reference to an inode with no
//! links goes, the inode and its blocks are freed on disk, so **an `Inode`
//! must be dropped inside a log operation** (between `begin_op` and
//! `end_op`), as in xv6.
//!
//! Locking: `ITABLE` (a spin lock) guards which inode each slot holds and
//! its reference count. The inode's contents (type, size, block list, ...)
//! are guarded by the slot's sleep lock: `Inode::lock` returns an
//! [`InodeGuard`], and it first reads the inode from disk if the slot does
//! not have it yet. All reading and writing of file data happens through
//! the guard.
//!
//! `iget` and `iput` take a slot's sleep lock while holding `ITABLE`, but
//! only when no other reference exists: then nobody holds the sleep lock
//! (so taking it does not sleep) and nobody waits for it (so releasing it
//! calls no `wakeup`, which must not run under `ITABLE`: `wakeup` takes
//! every process lock, see "Lock order" in proc.rs).

use abi::fs::{
    BPB, BSIZE, DIRSIZ, DirEntry, DiskInode, MAXFILE, NDIRECT, NINDIRECT, ROOTINO, SuperBlock,
    bitmap_block, bitmap_position, inode_block, inode_offset,
};
use abi::stat::{InodeKind, Stat};
use spin::Once;

use crate::bio::bread;
use crate::error::Error;
use crate::log;
use crate::param::{NINODE, ROOTDEV};
use crate::sleeplock::{SleepLock, SleepLockGuard};
use crate::spinlock::SpinLock;
use crate::vm::{self, AddressSpace, UserAddr};

static SUPERBLOCK: Once<SuperBlock> = Once::new();

fn superblock() -> &'static SuperBlock {
    SUPERBLOCK.get().expect("fs::init has not run")
}

/// Reads the superblock and recovers the log. Runs in the first process
/// (it sleeps for the disk).
pub fn init(device: u32) {
    let sb = SuperBlock::decode(bread(device, 1).data());
    assert_eq!(
        sb.magic,
        abi::fs::FSMAGIC,
        "fs: disk {device} holds no xv6 file system"
    );
    // A superblock whose regions do not add up would send the kernel
    // reading and writing blocks that are not what it thinks they are.
    let disk_blocks = crate::ide::disk_blocks().into();
    if let Some(error) = sb.layout_errors(disk_blocks).next() {
        panic!("fs: disk {device} has a corrupt superblock: {error}");
    }
    assert!(
        sb.ninodes as usize <= NINODE,
        "fs: the disk has {} inodes, more than the kernel's inode cache",
        sb.ninodes
    );
    let sb = *SUPERBLOCK.call_once(|| sb);
    log::init(device, sb.logstart, sb.nlog);
}

// ---------------------------------------------------------------- blocks

/// Allocates a zeroed data block; `None` when the disk is full.
fn balloc(device: u32) -> Option<u32> {
    let sb = superblock();
    for base in (0..sb.size).step_by(BPB) {
        let mut bitmap = bread(device, bitmap_block(base, sb));
        let last = (base + BPB as u32).min(sb.size);
        for block in base.max(sb.datastart())..last {
            let (byte, mask) = bitmap_position(block);
            if bitmap.data()[byte] & mask == 0 {
                bitmap.data_mut()[byte] |= mask;
                log::write(&bitmap);
                drop(bitmap);
                let mut zeroed = bread(device, block);
                zeroed.data_mut().fill(0);
                log::write(&zeroed);
                return Some(block);
            }
        }
    }
    None
}

/// Frees a data block.
fn bfree(device: u32, block: u32) {
    let mut bitmap = bread(device, bitmap_block(block, superblock()));
    let (byte, mask) = bitmap_position(block);
    assert!(
        bitmap.data()[byte] & mask != 0,
        "bfree: block {block} is free"
    );
    bitmap.data_mut()[byte] &= !mask;
    log::write(&bitmap);
}

// ---------------------------------------------------------------- inodes

#[derive(Clone, Copy)]
struct Slot {
    device: u32,
    inum: u32,
    references: u32,
}

static ITABLE: SpinLock<[Slot; NINODE]> = SpinLock::new(
    "itable",
    [Slot {
        device: 0,
        inum: 0,
        references: 0,
    }; NINODE],
);

/// An inode's contents in memory, guarded by the slot's sleep lock.
pub struct InodeData {
    /// Has the inode been read from disk into this slot?
    valid: bool,
    pub disk: DiskInode,
}

static INODES: [SleepLock<InodeData>; NINODE] = [const {
    SleepLock::new(
        "inode",
        InodeData {
            valid: false,
            disk: DiskInode {
                kind: 0,
                major: 0,
                minor: 0,
                nlink: 0,
                size: 0,
                addrs: [0; NDIRECT + 1],
            },
        },
    )
}; NINODE];

/// A counted reference to an in-memory inode (see the module doc).
pub struct Inode {
    slot: usize,
    device: u32,
    inum: u32,
}

/// An inode locked for reading and writing its contents.
pub struct InodeGuard<'a> {
    inode: &'a Inode,
    data: SleepLockGuard<'static, InodeData>,
}

/// Finds the slot of inode `inum` on `device`, or recycles a free slot for
/// it, and takes a reference. Does not read the disk.
fn iget(device: u32, inum: u32) -> Inode {
    let mut table = ITABLE.lock();
    let existing = table
        .iter()
        .position(|s| s.references > 0 && s.device == device && s.inum == inum);
    let slot = match existing {
        Some(slot) => slot,
        None => {
            let slot = table
                .iter()
                .position(|s| s.references == 0)
                .expect("iget: no free inode slots");
            table[slot] = Slot {
                device,
                inum,
                references: 0,
            };
            // Nobody holds a reference, so nobody holds or waits for the
            // sleep lock: taking it cannot sleep, nor releasing it wake
            // anyone (module doc). It marks the slot's contents stale.
            INODES[slot].lock().valid = false;
            slot
        }
    };
    table[slot].references += 1;
    Inode { slot, device, inum }
}

/// Allocates an inode of the given kind on `device`.
pub fn ialloc(device: u32, kind: InodeKind) -> Result<Inode, Error> {
    let sb = superblock();
    for inum in 1..sb.ninodes {
        let mut buf = bread(device, inode_block(inum, sb));
        let offset = inode_offset(inum);
        let mut disk = DiskInode::decode(&buf.data()[offset..offset + DiskInode::SIZE]);
        if disk.kind == 0 {
            disk = DiskInode {
                kind: kind.to_disk(),
                ..DiskInode::default()
            };
            disk.encode(&mut buf.data_mut()[offset..offset + DiskInode::SIZE]);
            log::write(&buf);
            drop(buf);
            return Ok(iget(device, inum));
        }
    }
    Err(Error::OutOfResources)
}

impl Inode {
    pub fn inum(&self) -> u32 {
        self.inum
    }

    pub fn device(&self) -> u32 {
        self.device
    }

    /// Locks the inode, reading it from disk first if needed.
    pub fn lock(&self) -> InodeGuard<'_> {
        let mut data = INODES[self.slot].lock();
        if !data.valid {
            let sb = superblock();
            let buf = bread(self.device, inode_block(self.inum, sb));
            let offset = inode_offset(self.inum);
            data.disk = DiskInode::decode(&buf.data()[offset..offset + DiskInode::SIZE]);
            data.valid = true;
            assert!(
                data.disk.kind != 0,
                "ilock: inode {} has no type",
                self.inum
            );
        }
        InodeGuard { inode: self, data }
    }
}

impl Clone for Inode {
    /// Another reference to the same inode (xv6's `idup`).
    fn clone(&self) -> Inode {
        ITABLE.lock()[self.slot].references += 1;
        Inode {
            slot: self.slot,
            device: self.device,
            inum: self.inum,
        }
    }
}

impl Drop for Inode {
    /// Drops a reference (xv6's `iput`). The last reference to an inode
    /// with no links left frees it on disk: so drop inodes inside a log
    /// operation.
    fn drop(&mut self) {
        let mut table = ITABLE.lock();
        if table[self.slot].references == 1 {
            // Ours is the only reference, so nobody holds or waits for the
            // sleep lock: taking it under the table's spin lock cannot
            // sleep, nor releasing it wake anyone (module doc).
            let data = INODES[self.slot].lock();
            if data.valid && data.disk.nlink == 0 {
                // No links and no other references: free it. Nobody can
                // find this inode meanwhile: it is in no directory, and the
                // reference we still hold keeps the slot.
                drop(table);
                let mut guard = InodeGuard { inode: self, data };
                guard.truncate();
                guard.data.disk.kind = 0;
                guard.update();
                guard.data.valid = false;
                drop(guard);
                table = ITABLE.lock();
            }
        }
        table[self.slot].references -= 1;
    }
}

impl InodeGuard<'_> {
    /// What the inode is; `None` only for a type number no kind has,
    /// which only a damaged disk holds.
    pub fn kind(&self) -> Option<InodeKind> {
        InodeKind::from_disk(self.data.disk.kind)
    }

    pub fn major(&self) -> u16 {
        self.data.disk.major
    }

    pub fn size(&self) -> u32 {
        self.data.disk.size
    }

    pub fn nlink(&self) -> u16 {
        self.data.disk.nlink
    }

    pub fn set_nlink(&mut self, nlink: u16) {
        self.data.disk.nlink = nlink;
    }

    pub fn set_device(&mut self, major: u16, minor: u16) {
        self.data.disk.major = major;
        self.data.disk.minor = minor;
    }

    /// Writes the in-memory copy of the inode to disk (through the log).
    /// Call after every change to a field that lives on disk.
    pub fn update(&mut self) {
        let inode = self.inode;
        let mut buf = bread(inode.device, inode_block(inode.inum, superblock()));
        let offset = inode_offset(inode.inum);
        self.data
            .disk
            .encode(&mut buf.data_mut()[offset..offset + DiskInode::SIZE]);
        log::write(&buf);
    }

    /// The disk block holding byte `n * BSIZE` of the file, allocating it
    /// (and the indirect block) if `allocate` is set. `None` if there is no
    /// such block (or the disk is full).
    fn block_map(&mut self, n: usize, allocate: bool) -> Option<u32> {
        let device = self.inode.device;
        let get = |address: &mut u32| -> Option<u32> {
            if *address == 0 && allocate {
                *address = balloc(device)?;
            }
            (*address != 0).then_some(*address)
        };
        if n < NDIRECT {
            return get(&mut self.data.disk.addrs[n]);
        }
        let n = n - NDIRECT;
        assert!(n < NINDIRECT, "bmap: block {n} is past the largest file");
        let mut indirect_address = self.data.disk.addrs[NDIRECT];
        let indirect = get(&mut indirect_address)?;
        if indirect_address != self.data.disk.addrs[NDIRECT] {
            self.data.disk.addrs[NDIRECT] = indirect_address;
        }
        let mut buf = bread(device, indirect);
        let entry = &mut buf.data_mut()[n * 4..n * 4 + 4];
        let mut address = u32::from_le_bytes(entry.try_into().expect("4 bytes"));
        let before = address;
        let block = get(&mut address);
        if address != before {
            buf.data_mut()[n * 4..n * 4 + 4].copy_from_slice(&address.to_le_bytes());
            log::write(&buf);
        }
        block
    }

    /// Frees every block of the file and sets its size to 0.
    pub fn truncate(&mut self) {
        let device = self.inode.device;
        for address in &mut self.data.disk.addrs[..NDIRECT] {
            if *address != 0 {
                bfree(device, *address);
                *address = 0;
            }
        }
        let indirect = self.data.disk.addrs[NDIRECT];
        if indirect != 0 {
            let buf = bread(device, indirect);
            for entry in buf.data().chunks_exact(4) {
                let address = u32::from_le_bytes(entry.try_into().expect("4 bytes"));
                if address != 0 {
                    bfree(device, address);
                }
            }
            drop(buf);
            bfree(device, indirect);
            self.data.disk.addrs[NDIRECT] = 0;
        }
        self.data.disk.size = 0;
        self.update();
    }

    pub fn stat(&self) -> Stat {
        Stat {
            dev: self.inode.device,
            ino: self.inode.inum,
            kind: self.data.disk.kind,
            nlink: self.data.disk.nlink,
            pad: 0,
            size: u64::from(self.data.disk.size),
        }
    }

    /// Reads up to `n` bytes at `offset` into `dst`; returns how many were
    /// read (fewer at the end of the file).
    pub fn read(&mut self, mut dst: Target<'_>, offset: u32, n: usize) -> Result<usize, Error> {
        let size = self.data.disk.size;
        if offset > size {
            return Ok(0);
        }
        let n = n.min((size - offset) as usize);
        let mut done = 0;
        while done < n {
            let position = offset as usize + done;
            let Some(block) = self.block_map(position / BSIZE, false) else {
                break;
            };
            let buf = bread(self.inode.device, block);
            let within = position % BSIZE;
            let len = (BSIZE - within).min(n - done);
            dst.put(done, &buf.data()[within..within + len])?;
            done += len;
        }
        Ok(done)
    }

    /// Writes `n` bytes from `src` at `offset`, growing the file; returns
    /// how many were written (fewer if the disk fills up). Must run inside a
    /// log operation.
    pub fn write(&mut self, src: Source<'_>, offset: u32, n: usize) -> Result<usize, Error> {
        let end = (offset as usize)
            .checked_add(n)
            .filter(|&end| offset <= self.data.disk.size && end <= MAXFILE * BSIZE)
            .ok_or(Error::InvalidArgument)?;
        let mut done = 0;
        let mut result = Ok(());
        while done < n {
            let position = offset as usize + done;
            let Some(block) = self.block_map(position / BSIZE, true) else {
                break;
            };
            let mut buf = bread(self.inode.device, block);
            let within = position % BSIZE;
            let len = (BSIZE - within).min(n - done);
            if let Err(error) = src.get(done, &mut buf.data_mut()[within..within + len]) {
                result = Err(error);
                break;
            }
            log::write(&buf);
            done += len;
        }
        let new_end = offset as usize + done;
        debug_assert!(new_end <= end);
        if new_end > self.data.disk.size as usize {
            self.data.disk.size = new_end as u32;
        }
        // Write the inode back even if the size did not change: block_map
        // may have added blocks to the list.
        self.update();
        result.map(|()| done)
    }

    // ------------------------------------------------------ directories

    /// Looks for `name` in this directory; returns the inode and the offset
    /// of its entry.
    pub fn lookup(&mut self, name: &[u8]) -> Option<(Inode, u32)> {
        assert_eq!(
            self.kind(),
            Some(InodeKind::Dir),
            "lookup in a non-directory"
        );
        let mut offset = 0;
        while offset < self.size() {
            let entry = self.entry_at(offset);
            if entry.inum != 0 && entry.name() == name {
                return Some((iget(self.inode.device, u32::from(entry.inum)), offset));
            }
            offset += DirEntry::SIZE as u32;
        }
        None
    }

    /// The directory entry at `offset`.
    fn entry_at(&mut self, offset: u32) -> DirEntry {
        let mut bytes = [0u8; DirEntry::SIZE];
        let read = self
            .read(Target::Kernel(&mut bytes), offset, DirEntry::SIZE)
            .expect("reading a directory into the kernel cannot fail");
        assert_eq!(read, DirEntry::SIZE, "directory entry cut short");
        DirEntry::decode(&bytes)
    }

    /// Adds the entry `name` -> `inum` to this directory. Fails if the name
    /// is there already or the disk is full.
    pub fn link(&mut self, name: &[u8], inum: u32) -> Result<(), Error> {
        if self.lookup(name).is_some() {
            return Err(Error::AlreadyExists);
        }
        let entry = DirEntry::new(inum as u16, name).ok_or(Error::InvalidArgument)?;
        // Reuse the first free entry, or append.
        let mut offset = 0;
        while offset < self.size() && self.entry_at(offset).inum != 0 {
            offset += DirEntry::SIZE as u32;
        }
        let mut bytes = [0u8; DirEntry::SIZE];
        entry.encode(&mut bytes);
        let written = self.write(Source::Kernel(&bytes), offset, DirEntry::SIZE)?;
        if written != DirEntry::SIZE {
            return Err(Error::OutOfResources);
        }
        Ok(())
    }

    /// Clears the entry at `offset` (from `lookup`).
    pub fn erase_entry(&mut self, offset: u32) {
        let zero = [0u8; DirEntry::SIZE];
        let written = self
            .write(Source::Kernel(&zero), offset, DirEntry::SIZE)
            .expect("overwriting an entry needs no new block");
        assert_eq!(written, DirEntry::SIZE, "erase_entry: short write");
    }

    /// Is this directory empty but for "." and ".."?
    pub fn is_empty_dir(&mut self) -> bool {
        let mut offset = 2 * DirEntry::SIZE as u32;
        while offset < self.size() {
            if self.entry_at(offset).inum != 0 {
                return false;
            }
            offset += DirEntry::SIZE as u32;
        }
        true
    }
}

/// Where `InodeGuard::read` puts the bytes: kernel memory, or a user
/// address in the address space of the process that asked.
pub enum Target<'a> {
    Kernel(&'a mut [u8]),
    User(&'a AddressSpace, UserAddr),
}

impl Target<'_> {
    /// Copies `bytes` to position `at` of the target.
    fn put(&mut self, at: usize, bytes: &[u8]) -> Result<(), Error> {
        match self {
            Target::Kernel(buffer) => {
                buffer[at..at + bytes.len()].copy_from_slice(bytes);
                Ok(())
            }
            Target::User(space, address) => {
                let dst = address.0.checked_add(at).ok_or(Error::BadAddress)?;
                Ok(vm::copy_out(space, UserAddr(dst), bytes)?)
            }
        }
    }
}

/// Where `InodeGuard::write` takes the bytes from, as for [`Target`].
pub enum Source<'a> {
    Kernel(&'a [u8]),
    User(&'a AddressSpace, UserAddr),
}

impl Source<'_> {
    /// Fills `bytes` from position `at` of the source.
    fn get(&self, at: usize, bytes: &mut [u8]) -> Result<(), Error> {
        match self {
            Source::Kernel(buffer) => {
                bytes.copy_from_slice(&buffer[at..at + bytes.len()]);
                Ok(())
            }
            Source::User(space, address) => {
                let src = address.0.checked_add(at).ok_or(Error::BadAddress)?;
                Ok(vm::copy_in(space, bytes, UserAddr(src))?)
            }
        }
    }
}

// ---------------------------------------------------------------- paths

/// A path split into its first element and the rest.
type Split<'p> = (&'p [u8], &'p [u8]);

/// Splits the first element off a path: "a/bb/c" -> ("a", "bb/c"),
/// "///a//bb" -> ("a", "bb"), "" and "///" -> None. An element longer
/// than DIRSIZ is an error, not silently cut.
fn next_element(path: &[u8]) -> Option<Result<Split<'_>, Error>> {
    let start = path.iter().position(|&b| b != b'/')?;
    let path = &path[start..];
    let end = path.iter().position(|&b| b == b'/').unwrap_or(path.len());
    let (name, rest) = path.split_at(end);
    let rest_start = rest.iter().position(|&b| b != b'/').unwrap_or(rest.len());
    if name.len() > DIRSIZ {
        return Some(Err(Error::InvalidArgument));
    }
    Some(Ok((name, &rest[rest_start..])))
}

/// Walks `path` from the root (if it starts with '/') or from `cwd`.
/// With `parent`, stops one level early and returns the parent directory
/// and the last element's name.
fn walk<'p>(path: &'p [u8], cwd: &Inode, parent: bool) -> Result<(Inode, &'p [u8]), Error> {
    let mut inode = if path.first() == Some(&b'/') {
        iget(ROOTDEV, ROOTINO)
    } else {
        cwd.clone()
    };
    let mut rest = path;
    let mut last: &[u8] = &[];
    while let Some(element) = next_element(rest) {
        let (name, remaining) = element?;
        let mut guard = inode.lock();
        if guard.kind() != Some(InodeKind::Dir) {
            return Err(Error::NotFound);
        }
        if parent && remaining.is_empty() {
            drop(guard);
            return Ok((inode, name));
        }
        let (next, _) = guard.lookup(name).ok_or(Error::NotFound)?;
        drop(guard);
        inode = next;
        rest = remaining;
        last = name;
    }
    if parent {
        // The path had no last element ("/" or "").
        return Err(Error::NotFound);
    }
    Ok((inode, last))
}

/// The inode `path` names. Call inside a log operation (it drops inodes).
pub fn namei(path: &[u8], cwd: &Inode) -> Result<Inode, Error> {
    walk(path, cwd, false).map(|(inode, _)| inode)
}

/// The directory holding `path`'s last element, and that element.
pub fn namei_parent<'p>(path: &'p [u8], cwd: &Inode) -> Result<(Inode, &'p [u8]), Error> {
    walk(path, cwd, true)
}

/// The root directory.
pub fn root() -> Inode {
    iget(ROOTDEV, ROOTINO)
}
