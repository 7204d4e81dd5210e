//! Building a fresh file system image, as xv6's `mkfs` does.
//!
//! The build has two phases, so that bad input never leaves half an image
//! behind:
//!
//! 1. **Validate.** Every name and size is checked, and the blocks the whole
//!    image will need are counted, before anything is allocated. Each
//!    refusal is one [`BuildError`].
//! 2. **Lay out.** In a zeroed in-memory [`Image`], allocate inodes and
//!    blocks strictly in order, as xv6's `mkfs` does: the root directory is
//!    inode [`ROOTINO`] and gets `.` and `..`; then for each file, its inode,
//!    its entry appended to the root, and its contents. Appending allocates a
//!    data block the first time a block index is touched, and the indirect
//!    block just before the first block past [`NDIRECT`]. Finally the root's
//!    size is rounded up to a whole block, and the bitmap marks every block
//!    below the first unallocated one: boot, superblock, log, inodes, bitmap
//!    and all data written.
//!
//! The caller writes the returned bytes to disk in one go.
//!
//! Every inode starts with `nlink = 1`, the root included: nothing names the
//! root but its own `.` and `..`, and the kernel counts neither (see
//! `check`), so its one link stands for the parent it doesn't have.
//!
//! One departure from xv6: xv6 rounds the root's size up with
//! `(size / BSIZE + 1) * BSIZE`, which adds a whole block that was never
//! allocated when the size is already a multiple of `BSIZE`. Here the size is
//! rounded up to the next multiple only when it is not one already, so it
//! always matches the blocks the root owns.

use std::collections::HashSet;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use abi::fs::{
    BPB, BSIZE, DIRSIZ, DirEntry, DiskInode, FSMAGIC, IPB, LOGSIZE, MAXFILE, NDIRECT, NINODES,
    ROOTINO, SuperBlock,
};
use abi::stat::{T_DIR, T_FILE};

use crate::image::{Image, read_u32, write_u32};

/// One file to copy into the root directory.
pub struct InputFile {
    /// Where it came from; its base name becomes the name in the image (see
    /// [`entry_name`]).
    pub path: PathBuf,
    /// Its contents.
    pub data: Vec<u8>,
}

/// Why `mkfs` refused to build an image.
#[derive(Debug)]
pub enum BuildError {
    /// An input file could not be read.
    Unreadable { path: PathBuf, error: io::Error },
    /// The path has no base name, or the name is just `_`.
    EmptyName { path: PathBuf },
    /// The name does not fit in a directory entry.
    NameTooLong { path: PathBuf },
    /// Two inputs map to the same name, or a name is `.` or `..`.
    DuplicateName { path: PathBuf },
    /// The file needs more than `MAXFILE` blocks.
    FileTooLarge { path: PathBuf, bytes: usize },
    /// There are not enough inodes for all the files.
    TooManyFiles { files: usize, max: usize },
    /// The root directory would need more than `MAXFILE` blocks.
    RootDirectoryFull { files: usize },
    /// The image has fewer blocks than the metadata and files need.
    ImageTooSmall { size: u32, needed: u64 },
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::Unreadable { path, error } => {
                write!(f, "cannot read {}: {error}", path.display())
            }
            BuildError::EmptyName { path } => {
                write!(
                    f,
                    "{}: the name in the image would be empty",
                    path.display()
                )
            }
            BuildError::NameTooLong { path } => write!(
                f,
                "{}: name is longer than {DIRSIZ} bytes (DIRSIZ)",
                path.display()
            ),
            BuildError::DuplicateName { path } => write!(
                f,
                "{}: another file, `.` or `..` already has this name in the image",
                path.display()
            ),
            BuildError::FileTooLarge { path, bytes } => write!(
                f,
                "{}: {bytes} bytes is larger than the largest file ({} bytes, MAXFILE blocks)",
                path.display(),
                MAXFILE * BSIZE
            ),
            BuildError::TooManyFiles { files, max } => write!(
                f,
                "too many files: {files} given, but {NINODES} inodes hold at most {max}"
            ),
            BuildError::RootDirectoryFull { files } => write!(
                f,
                "too many files: {files} entries do not fit in the root directory"
            ),
            BuildError::ImageTooSmall { size, needed } => write!(
                f,
                "the image is too small: it has {size} blocks but needs {needed}"
            ),
        }
    }
}

impl std::error::Error for BuildError {}

/// The name a file gets in the image: its base name, without a leading `_`.
/// xv6 names user programs `_sh`, `_cat`, ... so that the host never runs
/// them by mistake in place of its own `sh` and `cat`.
pub fn entry_name(path: &Path) -> &[u8] {
    let name = path
        .file_name()
        .map_or(&[][..], |name| name.as_encoded_bytes());
    name.strip_prefix(b"_").unwrap_or(name)
}

/// Reads every input file into memory.
pub fn read_inputs(paths: &[impl AsRef<Path>]) -> Result<Vec<InputFile>, BuildError> {
    paths
        .iter()
        .map(|path| {
            let path = path.as_ref().to_path_buf();
            match std::fs::read(&path) {
                Ok(data) => Ok(InputFile { path, data }),
                Err(error) => Err(BuildError::Unreadable { path, error }),
            }
        })
        .collect()
}

/// Builds an image of `size` blocks holding `files` in its root directory,
/// or explains why it cannot.
pub fn build(files: &[InputFile], size: u32) -> Result<Vec<u8>, BuildError> {
    let entries = validate(files)?;
    let sb = superblock(size, files)?;

    let mut builder = Builder {
        image: Image::format(sb),
        next_inode: ROOTINO,
        next_block: sb.datastart(),
    };
    let root = builder.alloc_inode(T_DIR);
    let root_entry = root as u16;
    for name in [&b"."[..], b".."] {
        let entry = DirEntry::new(root_entry, name).expect("`.` and `..` are valid names");
        builder.append_entry(root, &entry);
    }
    for (file, mut entry) in files.iter().zip(entries) {
        let inum = builder.alloc_inode(T_FILE);
        // `validate` checked that every inode number fits in a `u16`.
        entry.inum = inum as u16;
        builder.append_entry(root, &entry);
        builder.append(inum, &file.data);
    }
    builder.round_up_size(root);
    builder.write_bitmap();
    Ok(builder.image.into_bytes())
}

/// Phase 1 for names and sizes: one directory entry per file (its `inum` is
/// filled in when the inode is allocated), or the first problem found.
fn validate(files: &[InputFile]) -> Result<Vec<DirEntry>, BuildError> {
    // Inode 0 is never used and the root takes one more.
    let max_files = NINODES as usize - 2;
    if files.len() > max_files {
        return Err(BuildError::TooManyFiles {
            files: files.len(),
            max: max_files,
        });
    }
    // Implied by the inode limit while NINODES is small, but the root is a
    // file like any other and must stay within MAXFILE blocks.
    if (2 + files.len()) * DirEntry::SIZE > MAXFILE * BSIZE {
        return Err(BuildError::RootDirectoryFull { files: files.len() });
    }

    let mut seen: HashSet<&[u8]> = HashSet::from([&b"."[..], b".."]);
    let mut entries = Vec::with_capacity(files.len());
    for file in files {
        let path = || file.path.clone();
        let name = entry_name(&file.path);
        // A base name from the host holds no `/` and no NUL, so `new` can
        // only refuse it for its length.
        let entry = DirEntry::new(0, name).ok_or_else(|| {
            if name.is_empty() {
                BuildError::EmptyName { path: path() }
            } else {
                BuildError::NameTooLong { path: path() }
            }
        })?;
        if !seen.insert(name) {
            return Err(BuildError::DuplicateName { path: path() });
        }
        if file.data.len() > MAXFILE * BSIZE {
            return Err(BuildError::FileTooLarge {
                path: path(),
                bytes: file.data.len(),
            });
        }
        entries.push(entry);
    }
    Ok(entries)
}

/// Phase 1 for space: the superblock of a `size`-block image, if the
/// metadata and every block the files will need fit in it.
fn superblock(size: u32, files: &[InputFile]) -> Result<SuperBlock, BuildError> {
    // As in xv6's mkfs: one bitmap block and one inode block more than the
    // quotient, which is enough whether or not the division is exact.
    let ninodeblocks = NINODES / IPB as u32 + 1;
    let nbitmap = size / BPB as u32 + 1;
    let nlog = LOGSIZE as u32;
    let nmeta = 2 + nlog + ninodeblocks + nbitmap;

    let root_bytes = (2 + files.len()) * DirEntry::SIZE;
    let data_blocks: u64 = std::iter::once(root_bytes)
        .chain(files.iter().map(|file| file.data.len()))
        .map(blocks_for)
        .sum();
    let needed = u64::from(nmeta) + data_blocks;
    if needed > u64::from(size) {
        return Err(BuildError::ImageTooSmall { size, needed });
    }

    Ok(SuperBlock {
        magic: FSMAGIC,
        size,
        nblocks: size - nmeta,
        ninodes: NINODES,
        nlog,
        logstart: 2,
        inodestart: 2 + nlog,
        bmapstart: 2 + nlog + ninodeblocks,
    })
}

/// Data blocks a file of `bytes` bytes occupies, its indirect block included.
fn blocks_for(bytes: usize) -> u64 {
    let blocks = bytes.div_ceil(BSIZE);
    let indirect = usize::from(blocks > NDIRECT);
    (blocks + indirect) as u64
}

/// Phase 2: the image being laid out and the next free inode and block.
struct Builder {
    image: Image,
    next_inode: u32,
    next_block: u32,
}

impl Builder {
    /// A new inode of the given kind with one link, as xv6's `ialloc`.
    fn alloc_inode(&mut self, kind: u16) -> u32 {
        let inum = self.next_inode;
        self.next_inode += 1;
        let inode = DiskInode {
            kind,
            nlink: 1,
            ..DiskInode::default()
        };
        self.image.write_inode(inum, &inode);
        inum
    }

    /// The next data block. The image is zeroed, so the block is too.
    fn alloc_block(&mut self) -> u32 {
        let b = self.next_block;
        // `superblock` counted every block in advance, so running out here
        // is a bug in that count, not bad input.
        assert!(
            b < self.image.superblock().size,
            "mkfs miscounted the blocks it needs"
        );
        self.next_block += 1;
        b
    }

    fn append_entry(&mut self, dir: u32, entry: &DirEntry) {
        let mut bytes = [0; DirEntry::SIZE];
        entry.encode(&mut bytes);
        self.append(dir, &bytes);
    }

    /// Appends `data` to the end of file `inum`, allocating blocks as it
    /// goes (xv6's `iappend`).
    fn append(&mut self, inum: u32, mut data: &[u8]) {
        let mut inode = self.image.inode(inum);
        let mut offset = inode.size as usize;
        while !data.is_empty() {
            let n = offset / BSIZE;
            let b = self.block_for_append(&mut inode, n);
            let within = offset % BSIZE;
            let len = data.len().min(BSIZE - within);
            self.image.block_mut(b)[within..within + len].copy_from_slice(&data[..len]);
            data = &data[len..];
            offset += len;
        }
        inode.size = offset as u32;
        self.image.write_inode(inum, &inode);
    }

    /// The disk block for block `n` of a file, allocated (with the indirect
    /// block, if needed) the first time it is asked for.
    fn block_for_append(&mut self, inode: &mut DiskInode, n: usize) -> u32 {
        if n < NDIRECT {
            if inode.addrs[n] == 0 {
                inode.addrs[n] = self.alloc_block();
            }
            return inode.addrs[n];
        }
        if inode.addrs[NDIRECT] == 0 {
            inode.addrs[NDIRECT] = self.alloc_block();
        }
        let indirect = inode.addrs[NDIRECT];
        let index = n - NDIRECT;
        let mut b = read_u32(self.image.block(indirect), index);
        if b == 0 {
            b = self.alloc_block();
            write_u32(self.image.block_mut(indirect), index, b);
        }
        b
    }

    /// Rounds a directory's size up to a whole block, so that the kernel
    /// finds the rest of its last block as free slots (see the module doc
    /// for how this differs from xv6).
    fn round_up_size(&mut self, inum: u32) {
        let mut inode = self.image.inode(inum);
        inode.size = (inode.size as usize).next_multiple_of(BSIZE) as u32;
        self.image.write_inode(inum, &inode);
    }

    /// Marks every block allocated so far, metadata included, as in use.
    fn write_bitmap(&mut self) {
        for b in 0..self.next_block {
            self.image.set_bitmap_bit(b, true);
        }
    }
}

// `build` stores inode numbers in directory entries, which hold a `u16`.
const _: () = assert!(NINODES <= u16::MAX as u32);

#[cfg(test)]
mod tests {
    use super::*;
    use abi::fs::FSSIZE;

    fn input(path: &str, data: Vec<u8>) -> InputFile {
        InputFile {
            path: PathBuf::from(path),
            data,
        }
    }

    /// Bytes that differ from block to block, so a misplaced block shows.
    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + i / BSIZE) as u8).collect()
    }

    /// The inode that `name` names in the root directory.
    fn lookup(image: &Image, name: &[u8]) -> Option<u32> {
        let root = image.inode(ROOTINO);
        image
            .dir_entries(&root)
            .into_iter()
            .find(|entry| entry.inum != 0 && entry.name() == name)
            .map(|entry| u32::from(entry.inum))
    }

    #[test]
    fn files_read_back_byte_for_byte() {
        let small = pattern(100);
        let multi_block = pattern(5 * BSIZE + 17);
        let indirect = pattern((NDIRECT + 40) * BSIZE + 3);
        let largest = pattern(MAXFILE * BSIZE);
        let files = vec![
            input("build/user/_sh", small.clone()),
            input("cat", multi_block.clone()),
            input("/tmp/big", indirect.clone()),
            input("largest", largest.clone()),
            input("empty", Vec::new()),
        ];
        let image = Image::open(build(&files, FSSIZE).unwrap());

        for (name, data) in [
            (&b"sh"[..], small),
            (b"cat", multi_block),
            (b"big", indirect),
            (b"largest", largest),
            (b"empty", Vec::new()),
        ] {
            let inum = lookup(&image, name).expect("file is in the root directory");
            let inode = image.inode(inum);
            assert_eq!(inode.kind, T_FILE);
            assert_eq!(inode.nlink, 1);
            assert!(image.read_file(&inode) == data, "contents of {name:?}");
        }
        assert!(image.inode(lookup(&image, b"empty").unwrap()).addrs == [0; NDIRECT + 1]);
    }

    #[test]
    fn layout_matches_xv6() {
        let image = Image::open(build(&[input("_init", pattern(3000))], FSSIZE).unwrap());
        let sb = *image.superblock();
        assert_eq!(sb.magic, FSMAGIC);
        assert_eq!((sb.size, sb.nblocks, sb.ninodes), (2000, 1954, 200));
        assert_eq!(
            (sb.nlog, sb.logstart, sb.inodestart, sb.bmapstart),
            (30, 2, 32, 45)
        );

        // The root's block comes first, then init's three, in order.
        let root = image.inode(ROOTINO);
        assert_eq!((root.kind, root.nlink, root.size), (T_DIR, 1, BSIZE as u32));
        assert_eq!(root.addrs[0], 46);
        let entries = image.dir_entries(&root);
        assert_eq!((entries[0].name(), entries[0].inum), (&b"."[..], 1));
        assert_eq!((entries[1].name(), entries[1].inum), (&b".."[..], 1));
        assert_eq!((entries[2].name(), entries[2].inum), (&b"init"[..], 2));
        assert_eq!(image.inode(2).addrs[..4], [47, 48, 49, 0]);

        // Bits 0..50 are set, and no others.
        assert!((0..50).all(|b| image.bitmap_bit(b)));
        assert!((50..sb.size).all(|b| !image.bitmap_bit(b)));
    }

    #[test]
    fn indirect_block_is_allocated_just_before_its_first_block() {
        let image =
            Image::open(build(&[input("big", pattern((NDIRECT + 1) * BSIZE))], FSSIZE).unwrap());
        let inode = image.inode(2);
        let first = inode.addrs[0];
        assert_eq!(inode.addrs[NDIRECT - 1], first + NDIRECT as u32 - 1);
        assert_eq!(inode.addrs[NDIRECT], first + NDIRECT as u32);
        assert_eq!(
            image.file_block(&inode, NDIRECT),
            first + NDIRECT as u32 + 1
        );
    }

    #[test]
    fn root_size_is_rounded_to_whole_blocks() {
        // 62 files and `.`, `..` fill the first block exactly: no extra block.
        let files: Vec<_> = (0..62)
            .map(|i| input(&format!("f{i}"), Vec::new()))
            .collect();
        let image = Image::open(build(&files, FSSIZE).unwrap());
        let root = image.inode(ROOTINO);
        assert_eq!(root.size, BSIZE as u32);
        assert_eq!(root.addrs[1], 0);

        let files: Vec<_> = (0..63)
            .map(|i| input(&format!("f{i}"), Vec::new()))
            .collect();
        let root = Image::open(build(&files, FSSIZE).unwrap()).inode(ROOTINO);
        assert_eq!(root.size, 2 * BSIZE as u32);
    }

    #[test]
    fn file_names_drop_the_directory_and_one_underscore() {
        assert_eq!(entry_name(Path::new("build/user/_sh")), b"sh");
        assert_eq!(entry_name(Path::new("__x")), b"_x");
        assert_eq!(entry_name(Path::new("README")), b"README");
        assert_eq!(entry_name(Path::new("dir/")), b"dir");
        assert_eq!(entry_name(Path::new("/")), b"");
    }

    fn refusal(files: &[InputFile], size: u32) -> BuildError {
        match build(files, size) {
            Ok(_) => panic!("bad input was accepted"),
            Err(error) => error,
        }
    }

    #[test]
    fn refuses_long_empty_and_duplicate_names() {
        let fourteen = input("_fourteen_chars", Vec::new());
        assert!(build(&[fourteen], FSSIZE).is_ok());

        let error = refusal(&[input("fifteen_chars_x", Vec::new())], FSSIZE);
        assert!(matches!(error, BuildError::NameTooLong { .. }), "{error}");
        let error = refusal(&[input("user/_", Vec::new())], FSSIZE);
        assert!(matches!(error, BuildError::EmptyName { .. }), "{error}");
        let error = refusal(&[input("..", Vec::new())], FSSIZE);
        assert!(matches!(error, BuildError::EmptyName { .. }), "{error}");
        let error = refusal(
            &[input("a/_ls", Vec::new()), input("b/ls", Vec::new())],
            FSSIZE,
        );
        assert!(matches!(error, BuildError::DuplicateName { .. }), "{error}");
        let error = refusal(&[input("_.", Vec::new())], FSSIZE);
        assert!(matches!(error, BuildError::DuplicateName { .. }), "{error}");
    }

    #[test]
    fn refuses_a_file_larger_than_maxfile() {
        let error = refusal(&[input("huge", vec![0; MAXFILE * BSIZE + 1])], FSSIZE);
        assert!(matches!(error, BuildError::FileTooLarge { .. }), "{error}");
    }

    #[test]
    fn refuses_more_files_than_inodes() {
        let files: Vec<_> = (0..NINODES as usize - 2)
            .map(|i| input(&format!("f{i}"), Vec::new()))
            .collect();
        assert!(build(&files, FSSIZE).is_ok());

        let files: Vec<_> = (0..NINODES as usize - 1)
            .map(|i| input(&format!("f{i}"), Vec::new()))
            .collect();
        let error = refusal(&files, FSSIZE);
        assert!(matches!(error, BuildError::TooManyFiles { .. }), "{error}");
    }

    #[test]
    fn refuses_data_that_does_not_fit() {
        // 46 metadata blocks + 1 root block leave 53: a 52-block file and
        // its indirect block fit in 100 blocks, a 53-block one needs 101.
        assert!(build(&[input("data", vec![1; 52 * BSIZE])], 100).is_ok());
        let files = [input("data", vec![1; 53 * BSIZE])];
        assert!(build(&files, 101).is_ok());
        let error = refusal(&files, 100);
        assert!(
            matches!(
                error,
                BuildError::ImageTooSmall {
                    size: 100,
                    needed: 101
                }
            ),
            "{error}"
        );
        // Several files that each fit, but not together.
        let files: Vec<_> = (0..8)
            .map(|i| input(&format!("f{i}"), vec![1; MAXFILE * BSIZE]))
            .collect();
        let error = refusal(&files, FSSIZE);
        assert!(matches!(error, BuildError::ImageTooSmall { .. }), "{error}");
    }

    #[test]
    fn refuses_an_unreadable_file() {
        let missing = std::env::temp_dir().join("xv6-mkfs-test-no-such-file");
        let error = match read_inputs(&[missing]) {
            Ok(_) => panic!("a missing file was read"),
            Err(error) => error,
        };
        assert!(matches!(error, BuildError::Unreadable { .. }), "{error}");
    }
}
