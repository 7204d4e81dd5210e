//! Checking an existing image: a small `fsck` that reports, never repairs.
//!
//! The check runs in passes, each trusting only what the earlier ones
//! established, so that a corrupt image yields a list of [`Problem`]s rather
//! than a panic:
//!
//! 1. **Superblock.** The magic number, and a layout that adds up: the log
//!    right after the superblock and big enough for one operation, then the
//!    inode blocks (enough for `ninodes`), then the bitmap (a bit for every
//!    block), then exactly `nblocks` data blocks to the end of a `size`-block
//!    disk that fits in the image. If the layout does not add up, nothing
//!    else can be located and the check stops there. A bad magic number
//!    alone does not stop it.
//! 2. **Log.** [`check`] wants the log empty: a committed transaction that
//!    was not yet installed means the rest of the disk is not the file
//!    system the kernel will see after recovery. [`check_after_recovery`]
//!    instead does what the kernel's recovery does (kernel/src/log.rs), in
//!    memory: it copies each block of a committed transaction to its home,
//!    and checks the result. A machine that stops in the middle of a commit
//!    leaves exactly that, so this is the check for a disk after a power
//!    cut. It first checks the header's claims, which recovery would act
//!    on blindly: no more blocks than the log area holds after its header
//!    (nor than a header can name), and every home block past the log,
//!    among the inodes, the bitmap or the data, the only blocks an
//!    operation writes. If the header is wrong, nothing is installed.
//! 3. **Inodes.** Every inode's type is free, `T_DIR`, `T_FILE` or
//!    `T_DEVICE`. Every block address (direct, indirect, and in the indirect
//!    block) is in the data area and used by one inode only. A file or
//!    directory has a block for each `BSIZE` bytes of its size and none
//!    beyond (xv6 never makes holes, and frees blocks when it truncates). A
//!    device has no size and no blocks.
//! 4. **Bitmap.** A block's bit is set exactly when it is in use: metadata
//!    (everything before the data area) or a data block some inode points to.
//! 5. **Tree.** Starting from the root (inode `ROOTINO`, which must be a
//!    directory), every directory's size is a whole number of entries, its
//!    first entry is `.` naming itself, its second is `..` naming its parent
//!    (the root's parent is itself), and no other entry is `.` or `..`. Every
//!    other entry names an allocated inode, no name appears twice in a
//!    directory, and no directory has two names. Then every allocated inode
//!    must have been reached, and its `nlink` must equal its links.
//!
//! **How links are counted**, following xv6's kernel: `mkdir` gives a new
//! directory one link (for its entry in the parent) and adds one to the
//! parent (for the new directory's `..`); a directory's own `.` is never
//! counted, since that would be a reference cycle. So an inode's links are
//! the entries naming it, not counting any `.` entry nor the root's `..`
//! (which names the root itself); the root gets one extra link, which `mkfs`
//! gave it for the parent it does not have. A file has one link per name; a
//! directory has 1 plus its number of subdirectories.

use std::collections::{HashSet, VecDeque};
use std::fmt;

use abi::fs::{
    BSIZE, DirEntry, DiskInode, FSMAGIC, LOGSIZE, LogHeader, MAXFILE, NDIRECT, NINDIRECT, ROOTINO,
    SuperBlock,
};
use abi::stat::{T_DEVICE, T_DIR, T_FILE};

use crate::image::{Image, read_u32};

/// What a clean image holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Allocated inodes, the root included.
    pub inodes: u32,
    /// Blocks in use, metadata included.
    pub blocks_used: u32,
    /// Blocks of a committed transaction that [`check_after_recovery`]
    /// installed before checking; always 0 for [`check`].
    pub installed_from_log: u32,
}

/// What pass 2 does with a committed transaction in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LogRule {
    /// Report it: the image is not yet the file system the kernel sees.
    MustBeEmpty,
    /// Install it first, as the kernel's recovery will.
    Recover,
}

/// One inconsistency. Inode and block numbers are as on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    ImageTooShort { bytes: usize },
    BadMagic { found: u32 },
    BadLayout { reason: String },
    LogNotEmpty { n: u32 },
    LogTooLong { n: u32, capacity: u32 },
    LogHomeOutOfRange { index: u32, block: u32 },
    BadKind { inum: u32, kind: u16 },
    BlockOutOfRange { inum: u32, block: u32 },
    BlockUsedTwice { block: u32, first: u32, second: u32 },
    FileTooLarge { inum: u32, size: u32 },
    MissingBlock { inum: u32, index: usize, size: u32 },
    BlockBeyondSize { inum: u32, index: usize, size: u32 },
    UnneededIndirect { inum: u32, size: u32 },
    DeviceHasData { inum: u32 },
    MarkedFree { block: u32 },
    MarkedUsed { block: u32 },
    RootNotDirectory { kind: u16 },
    BadDirSize { dir: u32, size: u32 },
    BadDot { dir: u32 },
    BadDotDot { dir: u32, parent: u32 },
    StrayDotEntry { dir: u32, slot: usize },
    DanglingEntry { dir: u32, name: String, inum: u32 },
    DuplicateEntry { dir: u32, name: String },
    DirectoryLinkedTwice { inum: u32 },
    Unreachable { inum: u32 },
    WrongNlink { inum: u32, nlink: u16, links: u32 },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::ImageTooShort { bytes } => {
                write!(
                    f,
                    "the image is {bytes} bytes, too short to hold a superblock"
                )
            }
            Problem::BadMagic { found } => {
                write!(f, "superblock: magic is {found:#x}, not {FSMAGIC:#x}")
            }
            Problem::BadLayout { reason } => write!(f, "superblock: {reason}"),
            Problem::LogNotEmpty { n } => write!(
                f,
                "log: holds a committed transaction of {n} blocks not yet installed \
                 (boot xv6 to recover it, then check again)"
            ),
            Problem::LogTooLong { n, capacity } => write!(
                f,
                "log: the header claims {n} blocks, but the log holds at most {capacity}"
            ),
            Problem::LogHomeOutOfRange { index, block } => write!(
                f,
                "log: logged block {index} belongs at block {block}, which is not \
                 an inode, bitmap or data block"
            ),
            Problem::BadKind { inum, kind } => write!(f, "inode {inum}: invalid type {kind}"),
            Problem::BlockOutOfRange { inum, block } => {
                write!(f, "inode {inum}: block {block} is outside the data area")
            }
            Problem::BlockUsedTwice {
                block,
                first,
                second,
            } => write!(
                f,
                "block {block} is used by inode {first} and again by inode {second}"
            ),
            Problem::FileTooLarge { inum, size } => write!(
                f,
                "inode {inum}: size {size} is larger than the largest file ({} bytes)",
                MAXFILE * BSIZE
            ),
            Problem::MissingBlock { inum, index, size } => write!(
                f,
                "inode {inum}: has no block {index}, though its size {size} needs one"
            ),
            Problem::BlockBeyondSize { inum, index, size } => {
                write!(
                    f,
                    "inode {inum}: has a block {index}, beyond its size {size}"
                )
            }
            Problem::UnneededIndirect { inum, size } => write!(
                f,
                "inode {inum}: has an indirect block, though its size {size} needs none"
            ),
            Problem::DeviceHasData { inum } => {
                write!(f, "inode {inum}: a device, but it has a size or blocks")
            }
            Problem::MarkedFree { block } => {
                write!(f, "bitmap: block {block} is in use but marked free")
            }
            Problem::MarkedUsed { block } => {
                write!(f, "bitmap: block {block} is free but marked in use")
            }
            Problem::RootNotDirectory { kind } => {
                write!(
                    f,
                    "inode {ROOTINO}: the root is not a directory (type {kind})"
                )
            }
            Problem::BadDirSize { dir, size } => write!(
                f,
                "directory {dir}: size {size} is not a multiple of {} (one entry)",
                DirEntry::SIZE
            ),
            Problem::BadDot { dir } => write!(
                f,
                "directory {dir}: the first entry is not `.` naming the directory itself"
            ),
            Problem::BadDotDot { dir, parent } => write!(
                f,
                "directory {dir}: the second entry is not `..` naming its parent, inode {parent}"
            ),
            Problem::StrayDotEntry { dir, slot } => write!(
                f,
                "directory {dir}: entry {slot} is `.` or `..`, which belong in entries 0 and 1"
            ),
            Problem::DanglingEntry { dir, name, inum } => write!(
                f,
                "directory {dir}: `{name}` names inode {inum}, which is not allocated"
            ),
            Problem::DuplicateEntry { dir, name } => {
                write!(
                    f,
                    "directory {dir}: the name `{name}` appears more than once"
                )
            }
            Problem::DirectoryLinkedTwice { inum } => write!(
                f,
                "directory {inum}: has more than one name (xv6 forbids links to directories)"
            ),
            Problem::Unreachable { inum } => {
                write!(f, "inode {inum}: allocated but not reachable from the root")
            }
            Problem::WrongNlink { inum, nlink, links } => {
                write!(
                    f,
                    "inode {inum}: nlink is {nlink}, but its link count is {links}"
                )
            }
        }
    }
}

/// Checks an image, returning what it holds, or every problem found. The
/// log must be empty.
pub fn check(bytes: &[u8]) -> Result<Summary, Vec<Problem>> {
    check_with(bytes, LogRule::MustBeEmpty)
}

/// Checks an image as the kernel will see it once it has mounted it: with
/// a committed transaction in the log installed first (in memory; `bytes`
/// are not changed).
pub fn check_after_recovery(bytes: &[u8]) -> Result<Summary, Vec<Problem>> {
    check_with(bytes, LogRule::Recover)
}

fn check_with(bytes: &[u8], log_rule: LogRule) -> Result<Summary, Vec<Problem>> {
    let mut problems = Vec::new();
    let Some(sb) = check_superblock(bytes, &mut problems) else {
        return Err(problems);
    };
    let mut checker = Checker {
        image: Image::open(bytes.to_vec()),
        sb,
        problems,
        inodes: Vec::new(),
        owners: vec![None; sb.size as usize],
    };
    let installed_from_log = checker.check_log(log_rule);
    checker.check_inodes();
    let blocks_used = checker.check_bitmap();
    checker.check_tree();

    if checker.problems.is_empty() {
        Ok(Summary {
            inodes: checker.inodes.iter().flatten().count() as u32,
            blocks_used,
            installed_from_log,
        })
    } else {
        Err(checker.problems)
    }
}

/// Pass 1. Returns the superblock if the regions it describes can be
/// located safely, even if other things about it (the magic) are wrong.
fn check_superblock(bytes: &[u8], problems: &mut Vec<Problem>) -> Option<SuperBlock> {
    if bytes.len() < 2 * BSIZE {
        problems.push(Problem::ImageTooShort { bytes: bytes.len() });
        return None;
    }
    let sb = SuperBlock::decode(&bytes[BSIZE..]);
    if sb.magic != FSMAGIC {
        problems.push(Problem::BadMagic { found: sb.magic });
    }

    let blocks_in_image = (bytes.len() / BSIZE) as u64;
    let before = problems.len();
    problems.extend(
        sb.layout_errors(blocks_in_image)
            .map(|error| Problem::BadLayout {
                reason: error.to_string(),
            }),
    );
    (problems.len() == before).then_some(sb)
}

/// What passes 3 to 5 learn about one allocated inode.
struct InodeInfo {
    disk: DiskInode,
    /// Its blocks can be read without leaving the disk: its type is valid
    /// and every address it holds is in range.
    readable: bool,
}

/// The state shared by passes 2 to 5, over an image whose layout pass 1
/// found sound: every region lies within the image.
struct Checker {
    image: Image,
    sb: SuperBlock,
    problems: Vec<Problem>,
    /// Indexed by inode number: `None` for a free inode.
    inodes: Vec<Option<InodeInfo>>,
    /// Indexed by block number: the inode that points to the block, if any.
    owners: Vec<Option<u32>>,
}

impl Checker {
    /// Pass 2. Returns how many blocks it installed from the log.
    fn check_log(&mut self, rule: LogRule) -> u32 {
        let header = LogHeader::decode(self.image.block(self.sb.logstart));
        if header.n == 0 {
            return 0;
        }
        if rule == LogRule::MustBeEmpty {
            self.problems.push(Problem::LogNotEmpty { n: header.n });
            return 0;
        }
        // As the kernel's log::init: the blocks after the header, as many
        // as a header can name.
        let capacity = (self.sb.nlog - 1).min(LOGSIZE as u32);
        if header.n > capacity {
            self.problems.push(Problem::LogTooLong {
                n: header.n,
                capacity,
            });
            return 0;
        }
        let homes = &header.blocks[..header.n as usize];
        let before = self.problems.len();
        for (index, &block) in homes.iter().enumerate() {
            if block < self.sb.inodestart || block >= self.sb.size {
                self.problems.push(Problem::LogHomeOutOfRange {
                    index: index as u32,
                    block,
                });
            }
        }
        if self.problems.len() > before {
            return 0;
        }
        for (index, &home) in homes.iter().enumerate() {
            let logged = self
                .image
                .block(self.sb.logstart + 1 + index as u32)
                .to_vec();
            self.image.block_mut(home).copy_from_slice(&logged);
        }
        header.n
    }

    /// Pass 3: types, block addresses and sizes of every inode.
    fn check_inodes(&mut self) {
        for inum in 0..self.sb.ninodes {
            let disk = self.image.inode(inum);
            let info = match disk.kind {
                0 => None,
                T_DIR | T_FILE | T_DEVICE => Some(self.check_blocks(inum, disk)),
                kind => {
                    self.problems.push(Problem::BadKind { inum, kind });
                    Some(InodeInfo {
                        disk,
                        readable: false,
                    })
                }
            };
            self.inodes.push(info);
        }
    }

    /// Claims every block `disk` points to for inode `inum` and checks them
    /// against its size.
    fn check_blocks(&mut self, inum: u32, disk: DiskInode) -> InodeInfo {
        // Which blocks of the file have an address, valid or not.
        let mut present = [false; MAXFILE];
        let mut readable = true;
        for (n, &block) in disk.addrs[..NDIRECT].iter().enumerate() {
            if block != 0 {
                present[n] = true;
                readable &= self.claim(inum, block);
            }
        }
        let indirect = disk.addrs[NDIRECT];
        if indirect != 0 {
            if self.claim(inum, indirect) {
                for i in 0..NINDIRECT {
                    let block = read_u32(self.image.block(indirect), i);
                    if block != 0 {
                        present[NDIRECT + i] = true;
                        readable &= self.claim(inum, block);
                    }
                }
            } else {
                readable = false;
            }
        }

        let size = disk.size;
        if disk.kind == T_DEVICE {
            if size != 0 || disk.addrs.iter().any(|&block| block != 0) {
                self.problems.push(Problem::DeviceHasData { inum });
            }
        } else if size as usize > MAXFILE * BSIZE {
            self.problems.push(Problem::FileTooLarge { inum, size });
        } else {
            let needed = (size as usize).div_ceil(BSIZE);
            for (index, &has_block) in present.iter().enumerate() {
                if index < needed && !has_block {
                    self.problems
                        .push(Problem::MissingBlock { inum, index, size });
                } else if index >= needed && has_block {
                    self.problems
                        .push(Problem::BlockBeyondSize { inum, index, size });
                }
            }
            if indirect != 0 && needed <= NDIRECT {
                self.problems.push(Problem::UnneededIndirect { inum, size });
            }
        }
        InodeInfo { disk, readable }
    }

    /// Records that inode `inum` points to `block`. Returns whether the
    /// block is in the data area, and so safe to read.
    fn claim(&mut self, inum: u32, block: u32) -> bool {
        if block < self.sb.datastart() || block >= self.sb.size {
            self.problems.push(Problem::BlockOutOfRange { inum, block });
            return false;
        }
        let owner = &mut self.owners[block as usize];
        match *owner {
            Some(first) => self.problems.push(Problem::BlockUsedTwice {
                block,
                first,
                second: inum,
            }),
            None => *owner = Some(inum),
        }
        true
    }

    /// Pass 4. Returns the number of blocks in use.
    fn check_bitmap(&mut self) -> u32 {
        let mut used = 0;
        for block in 0..self.sb.size {
            let in_use = block < self.sb.datastart() || self.owners[block as usize].is_some();
            match (in_use, self.image.bitmap_bit(block)) {
                (true, false) => self.problems.push(Problem::MarkedFree { block }),
                (false, true) => self.problems.push(Problem::MarkedUsed { block }),
                _ => {}
            }
            used += u32::from(in_use);
        }
        used
    }

    /// The inode `inum` if it is allocated.
    fn allocated(&self, inum: u32) -> Option<&InodeInfo> {
        self.inodes.get(inum as usize).and_then(Option::as_ref)
    }

    /// Pass 5: directories, reachability and link counts.
    fn check_tree(&mut self) {
        let root_kind = self.allocated(ROOTINO).map_or(0, |root| root.disk.kind);
        if root_kind != T_DIR {
            // Nothing is reachable without a root; saying so of every inode
            // would only bury the cause.
            self.problems
                .push(Problem::RootNotDirectory { kind: root_kind });
            return;
        }

        let ninodes = self.sb.ninodes as usize;
        let mut links = vec![0u32; ninodes];
        let mut reached = vec![false; ninodes];
        links[ROOTINO as usize] = 1;
        reached[ROOTINO as usize] = true;
        // Directories to visit, each with the parent its `..` must name.
        let mut queue = VecDeque::from([(ROOTINO, ROOTINO)]);

        while let Some((dir, parent)) = queue.pop_front() {
            let Some(info) = self.allocated(dir).filter(|info| info.readable) else {
                // Its bad addresses are reported already.
                continue;
            };
            let size = info.disk.size;
            let entries = self.image.dir_entries(&info.disk);
            if !(size as usize).is_multiple_of(DirEntry::SIZE) {
                self.problems.push(Problem::BadDirSize { dir, size });
            }
            if !entries
                .first()
                .is_some_and(|e| e.name() == b"." && u32::from(e.inum) == dir)
            {
                self.problems.push(Problem::BadDot { dir });
            }
            if !entries
                .get(1)
                .is_some_and(|e| e.name() == b".." && u32::from(e.inum) == parent)
            {
                self.problems.push(Problem::BadDotDot { dir, parent });
            }

            let mut names = HashSet::new();
            for (slot, entry) in entries.iter().enumerate() {
                if entry.inum == 0 {
                    continue;
                }
                let target = u32::from(entry.inum);
                let name = entry.name();
                if name == b"." || name == b".." {
                    if slot != usize::from(name == b"..") {
                        self.problems.push(Problem::StrayDotEntry { dir, slot });
                    }
                    // `.` is never a link, nor is the root's `..`; any
                    // other `..` is one for the parent it names.
                    if name == b".." && dir != ROOTINO && self.allocated(target).is_some() {
                        links[target as usize] += 1;
                    }
                    continue;
                }
                let display_name = String::from_utf8_lossy(name).into_owned();
                if !names.insert(name) {
                    self.problems.push(Problem::DuplicateEntry {
                        dir,
                        name: display_name.clone(),
                    });
                }
                let Some(target_info) = self.allocated(target) else {
                    self.problems.push(Problem::DanglingEntry {
                        dir,
                        name: display_name,
                        inum: target,
                    });
                    continue;
                };
                links[target as usize] += 1;
                if target_info.disk.is_dir() {
                    if reached[target as usize] {
                        self.problems
                            .push(Problem::DirectoryLinkedTwice { inum: target });
                    } else {
                        queue.push_back((target, dir));
                    }
                }
                reached[target as usize] = true;
            }
        }

        for (inum, info) in self.inodes.iter().enumerate() {
            let Some(info) = info else { continue };
            let inum = inum as u32;
            if !reached[inum as usize] {
                self.problems.push(Problem::Unreachable { inum });
            } else if u32::from(info.disk.nlink) != links[inum as usize] {
                self.problems.push(Problem::WrongNlink {
                    inum,
                    nlink: info.disk.nlink,
                    links: links[inum as usize],
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::{InputFile, build};
    use crate::image::write_u32;
    use abi::fs::FSSIZE;

    /// An image with a small file (inode 2), a multi-block one (inode 3) and
    /// one that needs the indirect block (inode 4).
    fn sample() -> Image {
        let files = [
            ("_init", 100),
            ("_sh", 3 * BSIZE + 5),
            ("big", (NDIRECT + 3) * BSIZE),
        ]
        .map(|(path, len)| InputFile {
            path: path.into(),
            data: vec![0xa5; len],
        });
        Image::open(build(&files, FSSIZE).unwrap())
    }

    fn problems(image: Image) -> Vec<Problem> {
        match check(&image.into_bytes()) {
            Ok(summary) => panic!("corruption not caught: {summary:?}"),
            Err(problems) => problems,
        }
    }

    /// Adds an entry to the root directory, in its first free slot.
    fn add_root_entry(image: &mut Image, entry: DirEntry) {
        let root = image.inode(ROOTINO);
        let slot = image
            .dir_entries(&root)
            .iter()
            .position(|e| e.inum == 0)
            .unwrap();
        let offset = slot * DirEntry::SIZE;
        let block = image.file_block(&root, offset / BSIZE);
        entry.encode(&mut image.block_mut(block)[offset % BSIZE..]);
    }

    /// Makes inode 20 a subdirectory of the root named `sub`, in the first
    /// free block, as the kernel's `mkdir` would: the root gains a link.
    fn add_subdirectory(image: &mut Image) {
        let block = (0..FSSIZE).find(|&b| !image.bitmap_bit(b)).unwrap();
        image.set_bitmap_bit(block, true);
        for (slot, name) in [&b"."[..], b".."].into_iter().enumerate() {
            let inum = if slot == 0 { 20 } else { ROOTINO as u16 };
            DirEntry::new(inum, name)
                .unwrap()
                .encode(&mut image.block_mut(block)[slot * DirEntry::SIZE..]);
        }
        let mut addrs = [0; NDIRECT + 1];
        addrs[0] = block;
        let sub = DiskInode {
            kind: T_DIR,
            nlink: 1,
            size: 2 * DirEntry::SIZE as u32,
            addrs,
            ..DiskInode::default()
        };
        image.write_inode(20, &sub);
        add_root_entry(image, DirEntry::new(20, b"sub").unwrap());
        let mut root = image.inode(ROOTINO);
        root.nlink += 1;
        image.write_inode(ROOTINO, &root);
    }

    /// Writes `blocks`, each a home block number and its new contents, to
    /// the log as a committed transaction: blocks, then the header.
    fn commit_to_log(image: &mut Image, blocks: &[(u32, Vec<u8>)]) {
        let logstart = image.superblock().logstart;
        let mut header = LogHeader {
            n: blocks.len() as u32,
            ..LogHeader::default()
        };
        for (i, (home, data)) in blocks.iter().enumerate() {
            image
                .block_mut(logstart + 1 + i as u32)
                .copy_from_slice(data);
            header.blocks[i] = *home;
        }
        header.encode(image.block_mut(logstart));
    }

    /// The blocks in which `after` differs from `before`, with `after`'s
    /// contents: the transaction that turns one into the other.
    fn changed_blocks(before: &Image, after: &Image) -> Vec<(u32, Vec<u8>)> {
        (0..FSSIZE)
            .filter(|&b| before.block(b) != after.block(b))
            .map(|b| (b, after.block(b).to_vec()))
            .collect()
    }

    #[test]
    fn recovery_installs_a_committed_transaction_before_checking() {
        // The transaction of a mkdir: the bitmap, two inode blocks, the
        // root's entries and the new directory's.
        let mut after = sample();
        add_subdirectory(&mut after);
        let transaction = changed_blocks(&sample(), &after);
        let n = transaction.len() as u32;
        assert_eq!(n, 5);

        // Committed, none of it installed: the old file system, sound, but
        // not what the kernel will mount.
        let mut image = sample();
        commit_to_log(&mut image, &transaction);
        let bytes = image.into_bytes();
        assert_eq!(check(&bytes), Err(vec![Problem::LogNotEmpty { n }]));
        assert_eq!(
            check_after_recovery(&bytes),
            Ok(Summary {
                inodes: 5,
                blocks_used: 46 + 1 + 1 + 4 + 16 + 1,
                installed_from_log: n,
            })
        );

        // Half installed, as a power cut during the install leaves it: the
        // root names the new directory, whose inode is still free.
        let mut image = sample();
        commit_to_log(&mut image, &transaction);
        let root_entries = image.inode(ROOTINO).addrs[0];
        let (_, data) = transaction
            .iter()
            .find(|(home, _)| *home == root_entries)
            .unwrap();
        image.block_mut(root_entries).copy_from_slice(data);
        let bytes = image.into_bytes();
        let found = check(&bytes).unwrap_err();
        assert!(
            found.contains(&Problem::DanglingEntry {
                dir: ROOTINO,
                name: "sub".into(),
                inum: 20
            }),
            "{found:?}"
        );
        assert_eq!(check_after_recovery(&bytes).map(|s| s.inodes), Ok(5));
    }

    #[test]
    fn recovery_installs_nothing_from_a_header_that_lies() {
        let logstart = sample().superblock().logstart;
        let capacity = (sample().superblock().nlog - 1).min(LOGSIZE as u32);
        let header_problems = |header: LogHeader| {
            let mut image = sample();
            header.encode(image.block_mut(logstart));
            check_after_recovery(&image.into_bytes()).unwrap_err()
        };

        let too_long = LogHeader {
            n: capacity + 1,
            ..LogHeader::default()
        };
        assert_eq!(
            header_problems(too_long),
            [Problem::LogTooLong {
                n: capacity + 1,
                capacity
            }]
        );

        // Installing these would zero the superblock and write past the
        // disk; each is reported instead, and the image checked as it is.
        let mut wild = LogHeader {
            n: 3,
            ..LogHeader::default()
        };
        wild.blocks[..3].copy_from_slice(&[1, sample().superblock().inodestart, FSSIZE]);
        assert_eq!(
            header_problems(wild),
            [
                Problem::LogHomeOutOfRange { index: 0, block: 1 },
                Problem::LogHomeOutOfRange {
                    index: 2,
                    block: FSSIZE
                },
            ]
        );
    }

    #[test]
    fn recovery_of_an_empty_log_checks_the_image_as_it_is() {
        let bytes = sample().into_bytes();
        assert_eq!(check_after_recovery(&bytes), check(&bytes));
        let mut image = sample();
        image.set_bitmap_bit(image.inode(3).addrs[1], false);
        let bytes = image.into_bytes();
        assert_eq!(check_after_recovery(&bytes), check(&bytes));
    }

    #[test]
    fn a_built_image_passes() {
        let summary = check(&sample().into_bytes()).unwrap();
        // 46 metadata blocks, the root's, 1 + 4 + (15 + indirect).
        assert_eq!(
            summary,
            Summary {
                inodes: 4,
                blocks_used: 46 + 1 + 1 + 4 + 16,
                installed_from_log: 0,
            }
        );
        assert_eq!(check(&build(&[], FSSIZE).unwrap()).map(|s| s.inodes), Ok(1));
    }

    #[test]
    fn subdirectories_follow_the_kernels_link_rule() {
        let mut image = sample();
        add_subdirectory(&mut image);
        assert_eq!(check(&image.into_bytes()).map(|s| s.inodes), Ok(5));

        // The root must count the subdirectory's `..`.
        let mut image = sample();
        add_subdirectory(&mut image);
        let mut root = image.inode(ROOTINO);
        root.nlink = 1;
        image.write_inode(ROOTINO, &root);
        assert_eq!(
            problems(image),
            [Problem::WrongNlink {
                inum: ROOTINO,
                nlink: 1,
                links: 2
            }]
        );
    }

    #[test]
    fn catches_a_wrong_dotdot() {
        let mut image = sample();
        add_subdirectory(&mut image);
        let block = image.inode(20).addrs[0];
        DirEntry::new(20, b"..")
            .unwrap()
            .encode(&mut image.block_mut(block)[DirEntry::SIZE..]);
        let found = problems(image);
        assert!(
            found.contains(&Problem::BadDotDot { dir: 20, parent: 1 }),
            "{found:?}"
        );
    }

    #[test]
    fn catches_a_cleared_bitmap_bit() {
        let mut image = sample();
        let block = image.inode(3).addrs[1];
        image.set_bitmap_bit(block, false);
        assert_eq!(problems(image), [Problem::MarkedFree { block }]);
    }

    #[test]
    fn catches_a_block_used_twice() {
        let mut image = sample();
        let mut sh = image.inode(3);
        let shared = image.inode(2).addrs[0];
        let lost = sh.addrs[0];
        sh.addrs[0] = shared;
        image.write_inode(3, &sh);
        assert_eq!(
            problems(image),
            [
                Problem::BlockUsedTwice {
                    block: shared,
                    first: 2,
                    second: 3
                },
                Problem::MarkedUsed { block: lost },
            ]
        );
    }

    #[test]
    fn catches_a_block_used_twice_through_the_indirect_block() {
        let mut image = sample();
        let indirect = image.inode(4).addrs[NDIRECT];
        let shared = image.inode(2).addrs[0];
        let lost = read_u32(image.block(indirect), 0);
        write_u32(image.block_mut(indirect), 0, shared);
        let found = problems(image);
        assert!(
            found.contains(&Problem::BlockUsedTwice {
                block: shared,
                first: 2,
                second: 4
            }),
            "{found:?}"
        );
        assert!(
            found.contains(&Problem::MarkedUsed { block: lost }),
            "{found:?}"
        );
    }

    #[test]
    fn catches_a_dangling_entry() {
        let mut image = sample();
        add_root_entry(&mut image, DirEntry::new(100, b"ghost").unwrap());
        assert_eq!(
            problems(image),
            [Problem::DanglingEntry {
                dir: ROOTINO,
                name: "ghost".into(),
                inum: 100
            }]
        );
    }

    #[test]
    fn catches_a_wrong_nlink() {
        let mut image = sample();
        let mut init = image.inode(2);
        init.nlink = 2;
        image.write_inode(2, &init);
        assert_eq!(
            problems(image),
            [Problem::WrongNlink {
                inum: 2,
                nlink: 2,
                links: 1
            }]
        );
    }

    #[test]
    fn catches_a_bad_magic_number() {
        let mut image = sample();
        let mut sb = *image.superblock();
        sb.magic = 0xdead_beef;
        sb.encode(image.block_mut(1));
        assert_eq!(problems(image), [Problem::BadMagic { found: 0xdead_beef }]);
    }

    #[test]
    fn catches_an_unreachable_inode() {
        let mut image = sample();
        let orphan = DiskInode {
            kind: T_FILE,
            nlink: 1,
            ..DiskInode::default()
        };
        image.write_inode(50, &orphan);
        assert_eq!(problems(image), [Problem::Unreachable { inum: 50 }]);
    }

    #[test]
    fn catches_a_layout_that_does_not_add_up() {
        let mut image = sample();
        let mut sb = *image.superblock();
        sb.nblocks = sb.size + 1;
        sb.encode(image.block_mut(1));
        let found = problems(image);
        assert!(
            matches!(found[..], [Problem::BadLayout { .. }]),
            "{found:?}"
        );

        assert_eq!(
            check(&[0; BSIZE]),
            Err(vec![Problem::ImageTooShort { bytes: BSIZE }])
        );
    }

    #[test]
    fn catches_sizes_that_disagree_with_blocks() {
        let mut image = sample();
        let mut init = image.inode(2);
        init.size = BSIZE as u32 + 1;
        image.write_inode(2, &init);
        let mut sh = image.inode(3);
        sh.size = 100;
        image.write_inode(3, &sh);
        let found = problems(image);
        assert!(
            found.contains(&Problem::MissingBlock {
                inum: 2,
                index: 1,
                size: BSIZE as u32 + 1
            }),
            "{found:?}"
        );
        assert!(
            found.contains(&Problem::BlockBeyondSize {
                inum: 3,
                index: 3,
                size: 100
            }),
            "{found:?}"
        );
    }

    #[test]
    fn catches_bad_kinds_devices_with_blocks_and_a_full_log() {
        let mut image = sample();
        let mut init = image.inode(2);
        init.kind = T_DEVICE;
        image.write_inode(2, &init);
        let mut sh = image.inode(3);
        sh.kind = 9;
        image.write_inode(3, &sh);
        let logstart = image.superblock().logstart;
        let header = LogHeader {
            n: 1,
            ..LogHeader::default()
        };
        header.encode(image.block_mut(logstart));
        let found = problems(image);
        for problem in [
            Problem::DeviceHasData { inum: 2 },
            Problem::BadKind { inum: 3, kind: 9 },
            Problem::LogNotEmpty { n: 1 },
        ] {
            assert!(found.contains(&problem), "{problem:?} not in {found:?}");
        }
    }
}
