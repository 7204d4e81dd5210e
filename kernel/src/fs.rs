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
//!
//! ## Damaged disks
//!
//! The disk is input, like a system call's arguments: a damaged one must
//! not crash the kernel, nor let one bad file spoil the others. So nothing
//! read from the disk is trusted before it is checked, at the place it is
//! used, and the call that meets the damage fails (-1 for the user) after
//! printing one line, `fs: ...`, naming the inode or block (`damaged`):
//!
//! - an inode, when `Inode::lock` reads it: a type that exists, a size a
//!   file can have (`check_inode`);
//! - a block address, when the file uses it: in the data area, never the
//!   log, the inodes or the bitmap, nor past the disk (`check_address`);
//! - a file's data: no block missing below its size (`read_block`);
//! - a directory, when a path goes through it or a name is removed from
//!   it: whole entries, `.` then `..` first (`check_dir`), and entries that
//!   name inodes the disk has (`find`);
//! - the bitmap, before blocks are freed: each must be marked in use
//!   (`check_in_use`), or it would be freed twice; a file's blocks are all
//!   checked before any is freed, so a damaged file is refused whole;
//! - a directory entry that names its own directory (any name but ".",
//!   and the root's ".."): locking what it names would lock the directory
//!   a second time (`find`); and one that names a directory whose ".."
//!   is not the directory holding the entry: a second name or a cycle,
//!   which `unlink` must not remove the directory through
//!   (`check_parent`). A cycle can also turn the parent-before-child lock
//!   order around, so `unlink` only tries the child's lock (sysfile.rs);
//! - link counts, where they are used, with checked arithmetic:
//!   `add_link` refuses a count of 0 on an inode that has a name, and a
//!   directory's count at its limit (it is one plus the subdirectories);
//!   `remove_link` refuses to count below 0; removing a subdirectory needs
//!   its parent's count to be at least 2 (`check_subdirectory_link`), so
//!   a count that is too low never frees a directory that is still named;
//!   and a directory with a count of 0 that a name leads to takes no new
//!   name (`check_accepts_names`).
//!
//! What "no links" means, which decides when an inode is freed, is one
//! rule: the kernel saw the last link go (`InodeData::unlinked`: `unlink`,
//! a `create` that failed, or the mount's scan, below). A count of 0 read
//! from the disk is not enough: an inode with a count of 0 that a
//! directory names is damage, which the mount's scan repairs for a file
//! (below) and keeps for a directory. A removed directory (unlinked,
//! and some process's current directory) takes no new name, as in Unix,
//! and finds nothing but ".", not even "..": its parent may be gone.
//!
//! A disk error (ide.rs) fails the call the same way. Some things are found
//! once, at mount: a superblock that cannot be right, which is refused
//! there (`init`); used blocks that the bitmap marks free, which `balloc`
//! would give to a second file: `scan_inodes` reports them and keeps
//! `balloc` off them; inodes with no links, which it frees if no
//! directory names them (a crash's orphans); and files that more entries
//! name than their link count says, or fewer, whose count it sets to the
//! number of entries: removing one name would otherwise free the file
//! under the others, or removing them all leave it allocated for good.

use abi::fs::{
    BPB, BSIZE, DIRSIZ, DirEntry, DiskInode, MAXFILE, NDIRECT, NINDIRECT, ROOTINO,
    SUPERBLOCK_BLOCK, SuperBlock, bitmap_block, bitmap_position, inode_block, inode_offset,
};
use abi::stat::{InodeKind, Stat};
use core::fmt;
use spin::Once;

use crate::bio::{Buf, bread};
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
/// (it sleeps for the disk). A disk whose superblock cannot be read or
/// cannot be right is refused here, with a panic that says why: nothing
/// can run without a file system.
pub fn init(device: u32) {
    let superblock_buf = bread(device, SUPERBLOCK_BLOCK)
        .unwrap_or_else(|_| panic!("fs: cannot read the superblock of disk {device}"));
    let sb = SuperBlock::decode(superblock_buf.data());
    drop(superblock_buf);
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
    let sb = SUPERBLOCK.call_once(|| sb);
    log::init(device, sb);
    scan_inodes(device);
}

/// The blocks `balloc` must not hand out although the bitmap says they are
/// free: blocks that an inode uses (found by `scan_inodes` at mount).
static RESERVED: SpinLock<BlockSet> = SpinLock::new("reserved", BitSet::new());

/// The blocks that two inodes use (found by `scan_inodes`): neither may
/// free one, or the other would be left using a free block.
static SHARED: SpinLock<BlockSet> = SpinLock::new("shared", BitSet::new());

/// The blocks `scan_inodes` has seen used so far, to find those used
/// twice. Only the mount's scan touches it.
static SEEN: SpinLock<BlockSet> = SpinLock::new("seen", BitSet::new());

/// The most blocks `scan_inodes` keeps track of (a 64 Ki-bit set, 8 KiB);
/// a larger disk has its first `SCANNED_BLOCKS` blocks checked.
const SCANNED_BLOCKS: usize = 1 << 16;

/// A set of block numbers below `SCANNED_BLOCKS`.
type BlockSet = BitSet<{ SCANNED_BLOCKS / 64 }>;

/// A set of inode numbers (the disk has at most `NINODE`).
type InodeSet = BitSet<{ NINODE.div_ceil(64) }>;

/// A set of numbers below `64 * WORDS`, as bits; a number past the end is
/// never in it, and inserting one does nothing.
struct BitSet<const WORDS: usize>([u64; WORDS]);

impl<const WORDS: usize> BitSet<WORDS> {
    const fn new() -> Self {
        BitSet([0; WORDS])
    }

    fn contains(&self, n: u32) -> bool {
        let n = n as usize;
        n < 64 * WORDS && self.0[n / 64] & (1 << (n % 64)) != 0
    }

    fn insert(&mut self, n: u32) {
        let n = n as usize;
        if n < 64 * WORDS {
            self.0[n / 64] |= 1 << (n % 64);
        }
    }
}

/// Reads every inode once, at mount, for what only a look at all of them
/// finds:
///
/// - **Orphans.** A file removed while it was open keeps its inode (and
///   blocks) until the last close; if the machine stops first, the disk
///   holds an inode that no directory names and nothing can ever free.
///   After recovery nothing is open, so an allocated inode with no links
///   that no directory names is such an orphan: it is freed, as its last
///   close would have.
/// - **A file's link count that is not its names.** A file's link count
///   is the number of directory entries that name it. One that is too low
///   loses the file: removing one name counts it down to 0 and frees the
///   inode while another name still leads to it (and to whatever reuses
///   it). One that is too high leaks it: removing every name leaves it
///   allocated, with nothing naming it. So the scan counts the entries of
///   every directory, and a file or device that some entry names gets its
///   count set to the number of entries, on disk, with a line saying so.
///   The count errs on the side that loses nothing: an entry in a
///   directory that no path reaches is counted too (so the file may
///   outlive its last reachable name: a leak, not a loss), and a count is
///   lowered only if every directory was read whole (a directory block
///   the scan could not read might hold a name).
/// - **Directories named with no links.** A directory's count is one for
///   its name plus one for each subdirectory's `..`, which a damaged tree
///   cannot be trusted to tell; so a count of 0 on a directory that an
///   entry names is reported and kept (freeing it would leave the name
///   pointing at a free inode), and the calls that use a directory's count
///   check it where they use it (`check_subdirectory_link`,
///   `check_accepts_names`).
/// - **Used blocks the bitmap calls free.** `balloc` would hand such a
///   block to a second file, which would overwrite the first file's data.
///   Each is reported once, here, and kept in `RESERVED`, which `balloc`
///   skips. (The bitmap is not repaired: freeing the file still fails, by
///   `check_in_use`, as for any damage.)
/// - **Blocks two inodes use.** Freeing one file would free the block
///   under the other, and `balloc` would hand it to a third. Each is
///   reported once, here, and kept in `SHARED`: `check_in_use` refuses to
///   free it, so both files are refused whole when they would be freed.
///
/// The scan reads the inode blocks, each file's indirect block and each
/// directory's entries: a few dozen blocks for the default disk. An
/// address outside the data area is reported here (`check_address`), and
/// again whenever a call uses it.
fn scan_inodes(device: u32) {
    let sb = superblock();
    // Per inode number: the entries naming it ("." and ".." aside), and,
    // for an inode in use, its link count on disk and whether it is a
    // directory.
    let mut names = [0u32; NINODE];
    let mut links = [0u16; NINODE];
    let mut in_use = InodeSet::new();
    let mut dirs = InodeSet::new();
    // Whether every directory's entries were read: `names` is then at least
    // the names a path can reach.
    let mut every_name_seen = true;
    for inum in ROOTINO..sb.ninodes {
        let Ok(buf) = bread(device, inode_block(inum, sb)) else {
            // ide.rs said why; the inode's calls will fail too.
            every_name_seen = false;
            continue;
        };
        let offset = inode_offset(inum);
        let disk = DiskInode::decode(&buf.data()[offset..offset + DiskInode::SIZE]);
        drop(buf);
        if disk.kind == 0 {
            continue;
        }
        in_use.insert(inum);
        links[inum as usize] = disk.nlink;
        let is_dir = InodeKind::from_disk(disk.kind) == Some(InodeKind::Dir);
        if is_dir {
            dirs.insert(inum);
        }
        // A bad address ends the walk of this inode (with its line): there
        // is nothing after it worth keeping back.
        let walked = each_block(device, inum, &disk, |block, index| {
            if !bitmap_marks_used(device, block)? && !RESERVED.lock().contains(block) {
                println!(
                    "fs: inode {inum} uses block {block}, but the bitmap marks it free; it will \
                     not be handed out"
                );
                RESERVED.lock().insert(block);
            }
            let seen_before = {
                let mut seen = SEEN.lock();
                let before = seen.contains(block);
                seen.insert(block);
                before
            };
            if seen_before && !SHARED.lock().contains(block) {
                println!(
                    "fs: inode {inum} uses block {block}, which another inode uses too; neither \
                     will free it"
                );
                SHARED.lock().insert(block);
            }
            if is_dir && let Some(index) = index {
                note_names(device, block, index, disk.size, &mut names)?;
            }
            Ok(())
        });
        if is_dir && walked.is_err() {
            every_name_seen = false;
        }
    }
    // The root has no name but "/", and its count is its own business.
    for inum in ROOTINO + 1..sb.ninodes {
        if !in_use.contains(inum) {
            continue;
        }
        let (named, nlink) = (names[inum as usize], links[inum as usize]);
        let wrong = named > u32::from(nlink) || (every_name_seen && named < u32::from(nlink));
        if !dirs.contains(inum) && named > 0 && wrong {
            let count = u16::try_from(named).unwrap_or(u16::MAX);
            let entries = if named == 1 {
                "entry names"
            } else {
                "entries name"
            };
            repair_at_mount(device, inum, |guard| {
                guard.set_link_count(count)?;
                println!(
                    "fs: inode {inum}: {named} directory {entries} it, but its link count is \
                     {nlink}; the count is now {count}"
                );
                Ok(())
            });
        } else if nlink == 0 && named > 0 {
            println!("fs: inode {inum} has no links, but a directory names it; it is kept");
        } else if nlink == 0 {
            // Marking it unlinked is what lets the last drop free it.
            repair_at_mount(device, inum, |guard| {
                guard.unlink_all();
                println!(
                    "fs: inode {inum} has no links (removed while open, before a crash): freed"
                );
                Ok(())
            });
        }
    }
}

/// Runs one repair of the mount's scan on inode `inum`, locked, inside a
/// log operation of its own (the inode's last drop, which may free it,
/// included). An inode that `lock` cannot read is left alone: `lock` said
/// what is wrong with it, and its calls will fail the same way.
fn repair_at_mount(
    device: u32,
    inum: u32,
    repair: impl FnOnce(&mut InodeGuard<'_>) -> Result<(), Error>,
) {
    log::begin_op();
    let inode = iget(device, inum);
    if let Ok(mut guard) = inode.lock() {
        // A disk error has printed its line; nothing more to do here.
        let _ = repair(&mut guard);
    }
    drop(inode);
    log::end_op();
}

/// Counts in `names` the inodes that the entries of a directory's block
/// `index` (at disk block `block`; the directory is `size` bytes long)
/// name, but for "." and "..", which name the directory and its parent.
/// An inode number past the table is not counted (`find` refuses it).
fn note_names(
    device: u32,
    block: u32,
    index: usize,
    size: u32,
    names: &mut [u32; NINODE],
) -> Result<(), Error> {
    let start = index * BSIZE;
    let end = (size as usize).min(start + BSIZE);
    if end <= start {
        return Ok(());
    }
    let buf = bread(device, block)?;
    for bytes in buf.data()[..end - start].chunks_exact(DirEntry::SIZE) {
        let entry = DirEntry::decode(bytes);
        if entry.inum != 0
            && entry.name() != b"."
            && entry.name() != b".."
            && let Some(count) = names.get_mut(usize::from(entry.inum))
        {
            *count = count.saturating_add(1);
        }
    }
    Ok(())
}

/// Calls `f` with every block inode `inum` (read as `disk`) has, and its
/// place in the file: its direct blocks, the blocks its indirect block
/// lists, and the indirect block itself (place `None`), each address
/// checked first (`check_address`); stops at the first error, a bad
/// address or `f`'s.
fn each_block(
    device: u32,
    inum: u32,
    disk: &DiskInode,
    mut f: impl FnMut(u32, Option<usize>) -> Result<(), Error>,
) -> Result<(), Error> {
    for (n, &address) in disk.addrs[..NDIRECT].iter().enumerate() {
        if address != 0 {
            f(check_address(inum, address, Some(n))?, Some(n))?;
        }
    }
    let indirect = disk.addrs[NDIRECT];
    if indirect != 0 {
        let indirect = check_address(inum, indirect, None)?;
        let buf = bread(device, indirect)?;
        // Copied out, so that `f` may read blocks of its own.
        let mut addresses = [0u32; NINDIRECT];
        for (address, entry) in addresses.iter_mut().zip(buf.data().chunks_exact(4)) {
            *address = u32::from_le_bytes(entry.try_into().expect("4 bytes"));
        }
        drop(buf);
        for (index, &address) in addresses.iter().enumerate() {
            if address != 0 {
                let n = NDIRECT + index;
                f(check_address(inum, address, Some(n))?, Some(n))?;
            }
        }
        f(indirect, None)?;
    }
    Ok(())
}

/// Does the bitmap mark `block` in use?
fn bitmap_marks_used(device: u32, block: u32) -> Result<bool, Error> {
    let bitmap = bread(device, bitmap_block(block, superblock()))?;
    let (byte, mask) = bitmap_position(block);
    Ok(bitmap.data()[byte] & mask != 0)
}

// ---------------------------------------------------------------- damage

/// Reports damage the file system met on disk: prints one line, "fs: "
/// and what is wrong, naming the inode or block, and returns the error for
/// the system call to fail with.
fn damaged(what: fmt::Arguments) -> Error {
    println!("fs: {what}");
    Error::Corrupt
}

/// Checks a block address that inode `inum` holds: a file's blocks and its
/// indirect block must be in the data area, or a write could land on the
/// log, an inode or the bitmap, and a read could run off the disk. `index`
/// is the block's place in the file (`None` for the indirect block), for
/// the message.
fn check_address(inum: u32, address: u32, index: Option<usize>) -> Result<u32, Error> {
    let sb = superblock();
    if (sb.datastart()..sb.size).contains(&address) {
        return Ok(address);
    }
    let (start, end) = (sb.datastart(), sb.size);
    Err(match index {
        Some(n) => damaged(format_args!(
            "inode {inum}: block {n} of the file is block {address}, outside the data blocks \
             ({start}..{end})"
        )),
        None => damaged(format_args!(
            "inode {inum}: its indirect block is block {address}, outside the data blocks \
             ({start}..{end})"
        )),
    })
}

// ---------------------------------------------------------------- blocks

/// Allocates a zeroed data block; `Ok(None)` when the disk is full.
fn balloc(device: u32) -> Result<Option<u32>, Error> {
    let sb = superblock();
    for base in (0..sb.size).step_by(BPB) {
        let mut bitmap = bread(device, bitmap_block(base, sb))?;
        let last = (base + BPB as u32).min(sb.size);
        for block in base.max(sb.datastart())..last {
            let (byte, mask) = bitmap_position(block);
            if bitmap.data()[byte] & mask == 0 && !RESERVED.lock().contains(block) {
                bitmap.data_mut()[byte] |= mask;
                log::write(&bitmap);
                drop(bitmap);
                let mut zeroed = bread(device, block)?;
                zeroed.data_mut().fill(0);
                log::write(&zeroed);
                return Ok(Some(block));
            }
        }
    }
    Ok(None)
}

/// Checks that inode `inum` may free `block`, which it uses: the bitmap
/// must mark it in use (else the two disagree, and freeing it would free
/// it twice), and no other inode may use it (`SHARED`).
fn check_in_use(device: u32, inum: u32, block: u32) -> Result<(), Error> {
    if !bitmap_marks_used(device, block)? {
        return Err(marked_free(inum, block));
    }
    if SHARED.lock().contains(block) {
        return Err(damaged(format_args!(
            "inode {inum} uses block {block}, which another inode uses too"
        )));
    }
    Ok(())
}

/// The damage of a block that inode `inum` uses and the bitmap calls free.
fn marked_free(inum: u32, block: u32) -> Error {
    damaged(format_args!(
        "inode {inum} uses block {block}, but the bitmap marks it free"
    ))
}

/// Frees data block `block` of inode `inum`; refuses a block the bitmap
/// already calls free (freeing it would hide the damage).
fn bfree(device: u32, inum: u32, block: u32) -> Result<(), Error> {
    let mut bitmap = bread(device, bitmap_block(block, superblock()))?;
    let (byte, mask) = bitmap_position(block);
    if bitmap.data()[byte] & mask == 0 {
        return Err(marked_free(inum, block));
    }
    bitmap.data_mut()[byte] &= !mask;
    log::write(&bitmap);
    Ok(())
}

/// The block at `*address` (one of inode `inum`'s addresses, checked); or,
/// if there is none and `allocate` is set, a new block, stored there.
/// `Ok(None)`: no block, or the disk is full.
fn fill(
    device: u32,
    inum: u32,
    address: &mut u32,
    index: Option<usize>,
    allocate: bool,
) -> Result<Option<u32>, Error> {
    if *address != 0 {
        return check_address(inum, *address, index).map(Some);
    }
    if allocate && let Some(block) = balloc(device)? {
        *address = block;
        return Ok(Some(block));
    }
    Ok(None)
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
    /// Did the kernel itself take the inode's last link away (`unlink`, a
    /// `create` that failed, or the mount's scan, which found no directory
    /// naming it)? Only then is a link count of 0 true, and the last
    /// reference frees the inode. A count of 0 read from the disk for an
    /// inode a directory names is damage, and such an inode is never freed
    /// (module doc, "Damaged disks").
    unlinked: bool,
    pub disk: DiskInode,
}

static INODES: [SleepLock<InodeData>; NINODE] = [const {
    SleepLock::new(
        "inode",
        InodeData {
            valid: false,
            unlinked: false,
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
        let mut buf = bread(device, inode_block(inum, sb))?;
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

/// Checks an inode just read from disk for what the rest of this file
/// relies on: a type that exists, and a size a file can have. (Its block
/// addresses are checked when they are used, by `check_address`.)
fn check_inode(inum: u32, disk: &DiskInode) -> Result<(), Error> {
    if disk.kind == 0 {
        return Err(damaged(format_args!(
            "inode {inum} is in use, but it is free on disk"
        )));
    }
    if InodeKind::from_disk(disk.kind).is_none() {
        return Err(damaged(format_args!(
            "inode {inum} has type {}, which is no kind of inode",
            disk.kind
        )));
    }
    if disk.size as usize > MAXFILE * BSIZE {
        return Err(damaged(format_args!(
            "inode {inum}: size {} is more than a file can hold ({} bytes)",
            disk.size,
            MAXFILE * BSIZE
        )));
    }
    Ok(())
}

impl Inode {
    pub fn inum(&self) -> u32 {
        self.inum
    }

    pub fn device(&self) -> u32 {
        self.device
    }

    /// Locks the inode, reading it from disk first if needed. Fails if the
    /// disk cannot be read, or holds an inode that cannot be right
    /// (`check_inode`); then the slot stays unread, and the next `lock`
    /// tries again.
    pub fn lock(&self) -> Result<InodeGuard<'_>, Error> {
        self.read_in(INODES[self.slot].lock())
    }

    /// `lock`, but only if nobody holds the inode's lock now: `Ok(None)`,
    /// without waiting, if anyone does. For taking a child's lock while
    /// holding its parent's (see sleeplock.rs, "No silent deadlock").
    pub fn try_lock(&self) -> Result<Option<InodeGuard<'_>>, Error> {
        match INODES[self.slot].try_lock() {
            None => Ok(None),
            Some(data) => self.read_in(data).map(Some),
        }
    }

    /// Makes a guard of the slot's locked contents, reading the inode from
    /// disk first if the slot does not have it.
    fn read_in(
        &self,
        mut data: SleepLockGuard<'static, InodeData>,
    ) -> Result<InodeGuard<'_>, Error> {
        if !data.valid {
            let buf = bread(self.device, inode_block(self.inum, superblock()))?;
            let offset = inode_offset(self.inum);
            let disk = DiskInode::decode(&buf.data()[offset..offset + DiskInode::SIZE]);
            drop(buf);
            check_inode(self.inum, &disk)?;
            data.disk = disk;
            data.valid = true;
            data.unlinked = false;
        }
        Ok(InodeGuard { inode: self, data })
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
    /// whose last link the kernel took away (`InodeData::unlinked`) frees
    /// it on disk: so drop inodes inside a log operation.
    fn drop(&mut self) {
        let mut table = ITABLE.lock();
        if table[self.slot].references == 1 {
            // Ours is the only reference, so nobody holds or waits for the
            // sleep lock: taking it under the table's spin lock cannot
            // sleep, nor releasing it wake anyone (module doc).
            let data = INODES[self.slot].lock();
            if data.valid && data.unlinked {
                // No links and no other references: free it. Nobody can
                // find this inode meanwhile: it is in no directory, and the
                // reference we still hold keeps the slot.
                drop(table);
                let mut guard = InodeGuard { inode: self, data };
                // If the inode's blocks are damaged, or the disk fails,
                // the reason is printed and the inode stays allocated, with
                // no links: lost, but nothing is freed twice. (`unlink`
                // checks the blocks before it removes a last link, so this
                // is rare.)
                let _ = guard.free();
                guard.data.valid = false;
                drop(guard);
                table = ITABLE.lock();
            }
        }
        table[self.slot].references -= 1;
    }
}

impl InodeGuard<'_> {
    /// The inode's number.
    pub fn inum(&self) -> u32 {
        self.inode.inum
    }

    /// What the inode is.
    pub fn kind(&self) -> InodeKind {
        InodeKind::from_disk(self.data.disk.kind).expect("`lock` checked the inode's type")
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

    /// Counts one more link: a new name, or a new subdirectory's `..`.
    /// The count was read from the disk. A count of 0 on an inode that
    /// has a name is damage. A directory's count cannot be near its limit
    /// (it is one plus its subdirectories, fewer than the disk's inodes),
    /// so reaching the limit is damage too; a file may have that many
    /// names, and gets no more. Call `update` after.
    pub fn add_link(&mut self) -> Result<(), Error> {
        let nlink = self.data.disk.nlink;
        if nlink == 0 {
            return Err(damaged(format_args!(
                "inode {} has a name but no links",
                self.inode.inum
            )));
        }
        self.data.disk.nlink = match nlink.checked_add(1) {
            Some(more) => more,
            None if self.kind() == InodeKind::Dir => {
                return Err(damaged(format_args!(
                    "directory inode {}: link count {nlink} cannot grow",
                    self.inode.inum
                )));
            }
            None => return Err(Error::OutOfResources),
        };
        Ok(())
    }

    /// Counts one link fewer. A count already 0 is damage (something named
    /// an inode that has no links). When the count reaches 0, the last
    /// reference frees the inode. Call `update` after.
    pub fn remove_link(&mut self) -> Result<(), Error> {
        let inum = self.inode.inum;
        let nlink = self
            .data
            .disk
            .nlink
            .checked_sub(1)
            .ok_or_else(|| damaged(format_args!("inode {inum} has a name but no links")))?;
        self.data.disk.nlink = nlink;
        self.data.unlinked = nlink == 0;
        Ok(())
    }

    /// Takes every link away at once: a directory whose name is removed
    /// (it is empty, and a directory has one name: its other links are its
    /// subdirectories' `..`), or a new inode whose creation failed. The
    /// last reference frees the inode. Call `update` after.
    pub fn unlink_all(&mut self) {
        self.data.disk.nlink = 0;
        self.data.unlinked = true;
    }

    /// Sets the link count to `count` and writes the inode (the mount's
    /// repair of a count that is not the file's names, `scan_inodes`).
    fn set_link_count(&mut self, count: u16) -> Result<(), Error> {
        self.data.disk.nlink = count;
        self.data.unlinked = count == 0;
        self.update()
    }

    /// A new inode's first link. Call `update` after.
    pub fn set_first_link(&mut self) {
        self.data.disk.nlink = 1;
        self.data.unlinked = false;
    }

    pub fn set_device(&mut self, major: u16, minor: u16) {
        self.data.disk.major = major;
        self.data.disk.minor = minor;
    }

    /// Writes the in-memory copy of the inode to disk (through the log).
    /// Call after every change to a field that lives on disk.
    pub fn update(&mut self) -> Result<(), Error> {
        let inode = self.inode;
        let mut buf = bread(inode.device, inode_block(inode.inum, superblock()))?;
        let offset = inode_offset(inode.inum);
        self.data
            .disk
            .encode(&mut buf.data_mut()[offset..offset + DiskInode::SIZE]);
        log::write(&buf);
        Ok(())
    }

    /// The disk block holding byte `n * BSIZE` of the file, allocating it
    /// (and the indirect block) if `allocate` is set. `Ok(None)` if there is
    /// no such block (or the disk is full); an error if an address on disk
    /// is damaged.
    fn block_map(&mut self, n: usize, allocate: bool) -> Result<Option<u32>, Error> {
        let (device, inum) = (self.inode.device, self.inode.inum);
        if n < NDIRECT {
            return fill(
                device,
                inum,
                &mut self.data.disk.addrs[n],
                Some(n),
                allocate,
            );
        }
        let index = n - NDIRECT;
        assert!(
            index < NINDIRECT,
            "bmap: block {n} is past the largest file"
        );
        let indirect = &mut self.data.disk.addrs[NDIRECT];
        let Some(indirect) = fill(device, inum, indirect, None, allocate)? else {
            return Ok(None);
        };
        let mut buf = bread(device, indirect)?;
        let entry = index * 4..index * 4 + 4;
        let mut address =
            u32::from_le_bytes(buf.data()[entry.clone()].try_into().expect("4 bytes"));
        let before = address;
        let block = fill(device, inum, &mut address, Some(n), allocate)?;
        if address != before {
            buf.data_mut()[entry].copy_from_slice(&address.to_le_bytes());
            log::write(&buf);
        }
        Ok(block)
    }

    /// Checks that the file's blocks can be freed: every address in the
    /// data area, and every block marked in use in the bitmap.
    pub fn check_blocks(&self) -> Result<(), Error> {
        let (device, inum) = (self.inode.device, self.inode.inum);
        each_block(device, inum, &self.data.disk, |block, _| {
            check_in_use(device, inum, block)
        })
    }

    /// Frees every block of the file and sets its size to 0. The blocks
    /// are checked first, so a damaged inode is refused whole, not freed
    /// half-way.
    pub fn truncate(&mut self) -> Result<(), Error> {
        self.check_blocks()?;
        let (device, inum) = (self.inode.device, self.inode.inum);
        each_block(device, inum, &self.data.disk, |block, _| {
            bfree(device, inum, block)
        })?;
        self.data.disk.addrs = [0; NDIRECT + 1];
        self.data.disk.size = 0;
        self.update()
    }

    /// Frees the inode and its blocks on disk (its last link and
    /// reference are gone).
    fn free(&mut self) -> Result<(), Error> {
        self.truncate()?;
        self.data.disk.kind = 0;
        self.update()
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
    /// read (fewer at the end of the file). If damage or a disk error stops
    /// it part-way, it returns what it read before, and the next read
    /// fails.
    pub fn read(&mut self, mut dst: Target<'_>, offset: u32, n: usize) -> Result<usize, Error> {
        let size = self.data.disk.size;
        if offset > size {
            return Ok(0);
        }
        let n = n.min((size - offset) as usize);
        let mut done = 0;
        while done < n {
            let position = offset as usize + done;
            let copied = self.read_block(position).and_then(|buf| {
                let within = position % BSIZE;
                let len = (BSIZE - within).min(n - done);
                dst.put(done, &buf.data()[within..within + len])?;
                Ok(len)
            });
            match copied {
                Ok(len) => done += len,
                Err(error) if done == 0 => return Err(error),
                Err(_) => break,
            }
        }
        Ok(done)
    }

    /// The block holding byte `position`, which is inside the file.
    fn read_block(&mut self, position: usize) -> Result<Buf, Error> {
        match self.block_map(position / BSIZE, false)? {
            Some(block) => bread(self.inode.device, block),
            // xv6 files have no holes: the size is wrong.
            None => Err(damaged(format_args!(
                "inode {}: size {} but no block for byte {position}",
                self.inode.inum, self.data.disk.size
            ))),
        }
    }

    /// Writes `n` bytes from `src` at `offset`, growing the file; returns
    /// how many were written (fewer if the disk fills up, or if damage, a
    /// disk error or a bad user address stops it part-way: then the next
    /// write fails). Must run inside a log operation.
    pub fn write(&mut self, src: Source<'_>, offset: u32, n: usize) -> Result<usize, Error> {
        let end = (offset as usize)
            .checked_add(n)
            .filter(|&end| offset <= self.data.disk.size && end <= MAXFILE * BSIZE)
            .ok_or(Error::InvalidArgument)?;
        let mut done = 0;
        let mut result = Ok(());
        while done < n {
            let position = offset as usize + done;
            let block = match self.block_map(position / BSIZE, true) {
                Ok(Some(block)) => block,
                Ok(None) => break, // the disk is full
                Err(error) => {
                    result = Err(error);
                    break;
                }
            };
            let within = position % BSIZE;
            let len = (BSIZE - within).min(n - done);
            let copied = bread(self.inode.device, block).and_then(|mut buf| {
                src.get(done, &mut buf.data_mut()[within..within + len])?;
                log::write(&buf);
                Ok(())
            });
            if let Err(error) = copied {
                result = Err(error);
                break;
            }
            done += len;
        }
        let new_end = offset as usize + done;
        debug_assert!(new_end <= end);
        if new_end > self.data.disk.size as usize {
            self.data.disk.size = new_end as u32;
        }
        // Write the inode back even if the size did not change: block_map
        // may have added blocks to the list.
        self.update()?;
        match result {
            Err(error) if done == 0 => Err(error),
            _ => Ok(done),
        }
    }

    // ------------------------------------------------------ directories

    /// Looks for `name` in this directory, after checking the directory's
    /// start (`check_dir`); returns the inode and the offset of its entry.
    /// In a removed directory only "." is found: its ".." names a parent
    /// that may be gone (or reused), and it holds nothing else.
    pub fn lookup(&mut self, name: &[u8]) -> Result<Option<(Inode, u32)>, Error> {
        self.check_dir()?;
        if self.data.unlinked && name != b"." {
            return Err(Error::NotFound);
        }
        self.find(name)
    }

    /// Checks that this directory may take a new name: not a removed one
    /// (as in Unix, creating in it fails as if it were not there), and not
    /// one whose link count on disk is 0 while a name still leads here
    /// (damage: the count would say it is free to go).
    pub fn check_accepts_names(&self) -> Result<(), Error> {
        if self.data.unlinked {
            return Err(Error::NotFound);
        }
        if self.data.disk.nlink == 0 {
            return Err(damaged(format_args!(
                "directory inode {} has a link count of 0 but a name",
                self.inode.inum
            )));
        }
        Ok(())
    }

    /// Checks that this directory's ".." names `parent`, in which `name`
    /// names this directory. A directory has one name, in its parent: an
    /// entry anywhere else that names it (a second name, or one that makes
    /// a cycle, naming an ancestor) is damage, and removing the directory
    /// through it would leave its true name pointing at a freed inode.
    pub fn check_parent(&mut self, parent: u32, name: &[u8]) -> Result<(), Error> {
        self.check_dir()?;
        let dotdot = u32::from(self.entry_at(DirEntry::SIZE as u32)?.inum);
        if dotdot != parent {
            return Err(damaged(format_args!(
                "directory inode {}: its '..' is inode {dotdot}, but directory inode {parent} \
                 names it '{}'",
                self.inode.inum,
                name.escape_ascii()
            )));
        }
        Ok(())
    }

    /// Checks that this directory's link count allows removing one of its
    /// subdirectories: at least 2 (its own name, and the subdirectory's
    /// ".."). A lower count read from the disk is damage: counting it
    /// down would free the directory while its name still leads to it.
    pub fn check_subdirectory_link(&self) -> Result<(), Error> {
        let nlink = self.data.disk.nlink;
        if nlink < 2 {
            return Err(damaged(format_args!(
                "directory inode {}: link count {nlink} is too low for a subdirectory",
                self.inode.inum
            )));
        }
        Ok(())
    }

    /// `lookup` without the check: `add_entry` uses it on a new directory,
    /// which has no "." yet.
    fn find(&mut self, name: &[u8]) -> Result<Option<(Inode, u32)>, Error> {
        assert_eq!(self.kind(), InodeKind::Dir, "lookup in a non-directory");
        let mut offset = 0;
        while offset < self.size() {
            let entry = self.entry_at(offset)?;
            if entry.inum != 0 && entry.name() == name {
                let inum = u32::from(entry.inum);
                let ninodes = superblock().ninodes;
                if inum >= ninodes {
                    return Err(damaged(format_args!(
                        "directory inode {}: entry '{}' names inode {inum}, but the disk has \
                         {ninodes} inodes",
                        self.inode.inum,
                        name.escape_ascii()
                    )));
                }
                // Only "." names the directory itself (and the root's "..",
                // the root being its own parent). Any other such entry
                // would lead a caller that holds this directory's lock to
                // lock it again.
                let own_parent = name == b".." && inum == ROOTINO;
                if inum == self.inode.inum && name != b"." && !own_parent {
                    return Err(damaged(format_args!(
                        "directory inode {inum}: entry '{}' names the directory itself",
                        name.escape_ascii()
                    )));
                }
                return Ok(Some((iget(self.inode.device, inum), offset)));
            }
            offset += DirEntry::SIZE as u32;
        }
        Ok(None)
    }

    /// Checks what every directory on disk starts with: a size of whole
    /// entries, "." naming the directory itself, then ".." naming an inode
    /// the disk has. `unlink` relies on the first two entries being these,
    /// and a path through a directory without them is not what it seems.
    fn check_dir(&mut self) -> Result<(), Error> {
        let inum = self.inode.inum;
        let size = self.size();
        let entry = DirEntry::SIZE as u32;
        if !size.is_multiple_of(entry) || size < 2 * entry {
            return Err(damaged(format_args!(
                "directory inode {inum}: size {size} is not a whole number of entries, with '.' \
                 and '..'"
            )));
        }
        let dot = self.entry_at(0)?;
        if dot.name() != b"." || u32::from(dot.inum) != inum {
            return Err(damaged(format_args!(
                "directory inode {inum}: its first entry is not '.'"
            )));
        }
        let dotdot = self.entry_at(entry)?;
        if dotdot.name() != b".."
            || dotdot.inum == 0
            || u32::from(dotdot.inum) >= superblock().ninodes
        {
            return Err(damaged(format_args!(
                "directory inode {inum}: its second entry is not '..'"
            )));
        }
        Ok(())
    }

    /// The directory entry at `offset`.
    fn entry_at(&mut self, offset: u32) -> Result<DirEntry, Error> {
        let mut bytes = [0u8; DirEntry::SIZE];
        let read = self.read(Target::Kernel(&mut bytes), offset, DirEntry::SIZE)?;
        if read != DirEntry::SIZE {
            return Err(damaged(format_args!(
                "directory inode {}: the entry at offset {offset} is cut short",
                self.inode.inum
            )));
        }
        Ok(DirEntry::decode(&bytes))
    }

    /// Adds the entry `name` -> `inum` to this directory, after checking
    /// it (`check_dir`, `check_accepts_names`). Fails if the name is there
    /// already or the disk is full.
    pub fn link(&mut self, name: &[u8], inum: u32) -> Result<(), Error> {
        self.check_dir()?;
        self.check_accepts_names()?;
        self.add_entry(name, inum)
    }

    /// Gives a new, empty directory its "." (itself) and ".." (`parent`).
    pub fn link_dots(&mut self, parent: u32) -> Result<(), Error> {
        self.add_entry(b".", self.inode.inum)?;
        self.add_entry(b"..", parent)
    }

    /// `link` without the check, which a new directory would fail.
    fn add_entry(&mut self, name: &[u8], inum: u32) -> Result<(), Error> {
        if self.find(name)?.is_some() {
            return Err(Error::AlreadyExists);
        }
        let entry = DirEntry::new(inum as u16, name).ok_or(Error::InvalidArgument)?;
        // Reuse the first free entry, or append.
        let mut offset = 0;
        while offset < self.size() && self.entry_at(offset)?.inum != 0 {
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

    /// Clears the entry at `offset` (from `lookup`). The entry's block
    /// exists, so this needs no new block.
    pub fn erase_entry(&mut self, offset: u32) -> Result<(), Error> {
        let zero = [0u8; DirEntry::SIZE];
        self.write(Source::Kernel(&zero), offset, DirEntry::SIZE)?;
        Ok(())
    }

    /// Is this directory empty but for "." and ".."?
    pub fn is_empty_dir(&mut self) -> Result<bool, Error> {
        self.check_dir()?;
        let mut offset = 2 * DirEntry::SIZE as u32;
        while offset < self.size() {
            if self.entry_at(offset)?.inum != 0 {
                return Ok(false);
            }
            offset += DirEntry::SIZE as u32;
        }
        Ok(true)
    }
}

/// Where `InodeGuard::read` puts the bytes: kernel memory, or a user
/// address in the address space of the process that asked.
pub enum Target<'a> {
    Kernel(&'a mut [u8]),
    User(&'a mut AddressSpace, UserAddr),
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
                vm::copy_out(space, UserAddr(dst), bytes)
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
/// "///a//bb" -> ("a", "bb"), "" and "///" -> None.
///
/// An element longer than DIRSIZ names the file by its first DIRSIZ
/// bytes, as in xv6: "12345678901234567/x" -> ("12345678901234", "x").
/// A directory entry holds no more, so the cut name is the one any
/// lookup, create or unlink of the long name finds or makes; xv6's
/// programs (usertests' `fourteen`) count on it.
fn next_element(path: &[u8]) -> Option<Split<'_>> {
    let start = path.iter().position(|&b| b != b'/')?;
    let path = &path[start..];
    let end = path.iter().position(|&b| b == b'/').unwrap_or(path.len());
    let (name, rest) = path.split_at(end);
    let rest_start = rest.iter().position(|&b| b != b'/').unwrap_or(rest.len());
    Some((&name[..name.len().min(DIRSIZ)], &rest[rest_start..]))
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
    while let Some((name, remaining)) = next_element(rest) {
        let mut guard = inode.lock()?;
        if guard.kind() != InodeKind::Dir {
            return Err(Error::NotFound);
        }
        if parent && remaining.is_empty() {
            drop(guard);
            return Ok((inode, name));
        }
        let (next, _) = guard.lookup(name)?.ok_or(Error::NotFound)?;
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
