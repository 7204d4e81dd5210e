//! Damaging an image on purpose, for the tests: `mkfs --damage IMAGE`.
//!
//! The kernel must treat a damaged disk as bad input: the system call that
//! meets the damage fails, the console says what is wrong, and everything
//! else keeps working (kernel/src/fs.rs, "Damaged disks"). To test that,
//! [`damage`] adds to a good image one object per kind of damage, each in
//! the root directory under a name that says what is wrong with it, so a
//! test program inside the OS knows what to expect of each:
//!
//! | name        | damage                                                  |
//! |-------------|---------------------------------------------------------|
//! | `badaddr`   | a file whose second block address is past the disk      |
//! | `badmeta`   | a file whose first block address is the superblock      |
//! | `badind`    | a file whose indirect block lists a block past the disk |
//! | `badsize`   | a file whose size claims three blocks; it has one       |
//! | `hugesize`  | a file larger than a file can be                        |
//! | `badtype`   | an inode of a type that does not exist                  |
//! | `ghost`     | a name for an inode that is free                        |
//! | `faraway`   | a name for an inode number the disk does not have       |
//! | `nodot`     | a directory (holding `inner`) whose `.` entry is gone   |
//! | `badbitmap` | a file whose blocks the bitmap marks free               |
//! | `loop`      | a name in the root for the root itself                  |
//! | `cycle`     | directories `ab/c`, where `c/up` names `ab`: a cycle    |
//! | `nlink0`    | a directory (holding `sub`) with a link count of 0      |
//! | `nlink1`    | a directory (holding `sub`) with a link count of 1      |
//! | `toolow`    | a directory (holding `a` and `b`) with a count of 2     |
//! | `maxlink`   | a directory with a link count of 65535                  |
//! | `shareda`   | a file of two blocks, whose first block ...             |
//! | `sharedb`   | ... is this one-block file's block too                  |
//! | `twonames`  | a file of two blocks that `twonames2` names too, with a |
//! |             | link count of 1                                         |
//! | `zerolinks` | a file of one block with a name but a link count of 0   |
//! | `highcount` | a file of one block with one name but a link count of 3 |
//!
//! and, besides, an orphan: a file with no name and no links, as a crash
//! leaves a file that was removed while it was open (the kernel frees it
//! at mount), and a log header that is committed but damaged: it would "install" a
//! block over the superblock, so the kernel must discard it at mount. The
//! damaged files hold the bytes of [`pattern`], so that a test can check
//! the part it can still read.
//!
//! (A directory's true link count is one for its name plus one for each
//! subdirectory's `..`: `nlink1` should have 2, `toolow` 3.)
//!
//! New inodes and blocks come from the free ones, as the kernel would take
//! them. `mkfs --check` must find every one of these problems.

use abi::fs::{BSIZE, DirEntry, DiskInode, LogHeader, MAXFILE, NDIRECT};
use abi::splitmix::SplitMix;
use abi::stat::{T_DIR, T_FILE};

use crate::image::{Image, write_u32};

/// The byte at `offset` of every damaged file: the test reads it back.
pub fn pattern(offset: usize) -> u8 {
    b'a' + (offset % 26) as u8
}

/// Why the image cannot be damaged: it has no room for the objects.
#[derive(Debug)]
pub struct NoRoom;

/// Adds the damaged objects of the module doc to `image`'s root directory;
/// returns a line per object saying what was done, for the log.
pub fn damage(image: &mut Image) -> Result<Vec<String>, NoRoom> {
    let mut damager = Damager {
        image,
        done: Vec::new(),
    };
    damager.run()?;
    Ok(damager.done)
}

/// The inode that [`damage`]'s report (`done`) says it damaged for the
/// object `name`, from its line `NAME: inode N, ...`; `None` if no line
/// names one.
pub fn damaged_inode(done: &[String], name: &str) -> Option<u32> {
    done.iter()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(": inode "))
        .and_then(|rest| rest.split(',').next())
        .and_then(|number| number.parse().ok())
}

/// How many bits [`damage_random`] flips.
pub const RANDOM_FLIPS: usize = 12;

/// The programs a boot needs to run the random-damage walk (`init` starts
/// `fsdamage` on the `console`): [`damage_random`] spares their inodes
/// and their entries in the root, so that every seed tests the kernel
/// meeting damage rather than a boot with nothing to run.
const SPARED: [&str; 3] = ["init", "fsdamage", "console"];

/// For `mkfs --damage-random SEED IMAGE`: adds a tree of directories and
/// files to `image` (so that there is more than the root to damage), then
/// flips [`RANDOM_FLIPS`] bits chosen from `seed` in the metadata: the
/// inodes in use, the directories' entries, the bitmap's bits for the data
/// blocks, and the log header. The same seed damages the same image the
/// same way. Returns a line per change, for the log.
pub fn damage_random(image: &mut Image, seed: u64) -> Result<Vec<String>, NoRoom> {
    let mut damager = Damager {
        image,
        done: Vec::new(),
    };
    damager.populate()?;
    let mut random = SplitMix(seed);
    for _ in 0..RANDOM_FLIPS {
        damager.flip_one(&mut random);
    }
    Ok(damager.done)
}

struct Damager<'a> {
    image: &'a mut Image,
    done: Vec<String>,
}

/// The root directory's inode number.
const ROOT: u32 = abi::fs::ROOTINO;

impl Damager<'_> {
    fn run(&mut self) -> Result<(), NoRoom> {
        let size = self.image.superblock().size;

        let inum = self.file("badaddr", 3)?;
        self.edit(inum, |inode| inode.addrs[1] = size + 100);
        self.note(
            inum,
            format!("block 1 at block {}, past the disk", size + 100),
        );

        let inum = self.file("badmeta", 2)?;
        self.edit(inum, |inode| inode.addrs[0] = 1);
        self.note(inum, "block 0 at block 1, the superblock".into());

        let inum = self.file("badind", NDIRECT + 2)?;
        let indirect = self.image.inode(inum).addrs[NDIRECT];
        write_u32(self.image.block_mut(indirect), 1, size + 7);
        self.note(
            inum,
            format!("block {} at block {}, past the disk", NDIRECT + 1, size + 7),
        );

        let inum = self.file("badsize", 1)?;
        self.edit(inum, |inode| inode.size = 3 * BSIZE as u32);
        self.note(inum, format!("size {} with one block", 3 * BSIZE));

        let inum = self.file("hugesize", 1)?;
        let huge = (MAXFILE * BSIZE + 1) as u32;
        self.edit(inum, |inode| inode.size = huge);
        self.note(inum, format!("size {huge}"));

        let inum = self.file("badtype", 1)?;
        self.edit(inum, |inode| inode.kind = 9);
        self.note(inum, "type 9".into());

        // The last free inode, so that no inode made after this takes it.
        let free = (1..self.image.superblock().ninodes)
            .rev()
            .find(|&inum| self.image.inode(inum).kind == 0)
            .ok_or(NoRoom)?;
        self.link(ROOT, "ghost", free)?;
        self.note(free, "named ghost, but free".into());

        let ninodes = self.image.superblock().ninodes;
        self.link(ROOT, "faraway", ninodes + 5)?;
        self.done.push(format!(
            "faraway: names inode {}, past the last",
            ninodes + 5
        ));

        let dir = self.inode(T_DIR)?;
        self.link(dir, ".", dir)?;
        self.link(dir, "..", ROOT)?;
        let inner = self.file_in(dir, "inner", 1)?;
        self.link(ROOT, "nodot", dir)?;
        self.edit(ROOT, |root| root.nlink += 1); // nodot's ".."
        let first = self.image.inode(dir).addrs[0];
        self.image.block_mut(first)[..DirEntry::SIZE].fill(0);
        self.note(
            dir,
            format!("a directory holding inode {inner}, without '.'"),
        );

        self.link(ROOT, "loop", ROOT)?;
        self.done
            .push(format!("loop: names inode {ROOT}, the root itself"));

        let cycle = self.dir_in(ROOT, "cycle")?;
        let ab = self.dir_in(cycle, "ab")?;
        let c = self.dir_in(ab, "c")?;
        self.link(c, "up", ab)?;
        self.note(
            cycle,
            format!("directories ab (inode {ab}) and ab/c (inode {c}), and c/up names ab"),
        );

        for (name, nlink) in [("nlink0", 0), ("nlink1", 1)] {
            let dir = self.dir_in(ROOT, name)?;
            self.dir_in(dir, "sub")?;
            self.edit(dir, |inode| inode.nlink = nlink);
            self.note(dir, format!("holding sub, with a link count of {nlink}"));
        }

        let toolow = self.dir_in(ROOT, "toolow")?;
        self.dir_in(toolow, "a")?;
        self.dir_in(toolow, "b")?;
        self.edit(toolow, |inode| inode.nlink -= 1);
        self.note(toolow, "holding a and b, with a link count of 2".into());

        let maxlink = self.dir_in(ROOT, "maxlink")?;
        self.edit(maxlink, |inode| inode.nlink = u16::MAX);
        self.note(maxlink, format!("a link count of {}", u16::MAX));

        let shareda = self.file("shareda", 2)?;
        let sharedb = self.file("sharedb", 1)?;
        let block = self.image.inode(shareda).addrs[0];
        let own = self.image.inode(sharedb).addrs[0];
        self.image.set_bitmap_bit(own, false);
        self.edit(sharedb, |inode| inode.addrs[0] = block);
        self.note(
            sharedb,
            format!("block 0 at block {block}, shareda's block 0"),
        );

        let twonames = self.file("twonames", 2)?;
        self.link(ROOT, "twonames2", twonames)?;
        self.note(
            twonames,
            "named twonames2 too, with a link count of 1".into(),
        );

        let zerolinks = self.file("zerolinks", 1)?;
        self.edit(zerolinks, |inode| inode.nlink = 0);
        self.note(zerolinks, "a name, but a link count of 0".into());

        let highcount = self.file("highcount", 1)?;
        self.edit(highcount, |inode| inode.nlink = 3);
        self.note(highcount, "one name, but a link count of 3".into());

        // Made in the root, then its name taken away, as unlink would.
        let inum = self.file("orphan", 2)?;
        self.edit(inum, |inode| inode.nlink = 0);
        self.note(inum, "no links and no name".into());
        self.unlink(ROOT, inum);

        let inum = self.file("badbitmap", 2)?;
        let blocks = self.image.inode(inum).addrs;
        for &block in blocks.iter().filter(|&&b| b != 0) {
            self.image.set_bitmap_bit(block, false);
        }
        self.note(inum, "blocks marked free in the bitmap".into());

        let sb = *self.image.superblock();
        let header = LogHeader {
            n: 2,
            blocks: {
                let mut blocks = [0; abi::fs::LOGSIZE];
                blocks[0] = 1;
                blocks[1] = sb.datastart();
                blocks
            },
        };
        // What the header would install: zeros over the superblock.
        header.encode(self.image.block_mut(sb.logstart));
        self.done
            .push("log: a committed header that installs over the superblock".into());
        Ok(())
    }

    /// The tree that `damage_random` damages: `tree/dN` (N = 0..3), each
    /// holding files of 1 to 14 blocks (the largest with an indirect
    /// block) and a subdirectory with one more file.
    fn populate(&mut self) -> Result<(), NoRoom> {
        let tree = self.dir_in(ROOT, "tree")?;
        for n in 0..3 {
            let dir = self.dir_in(tree, &format!("d{n}"))?;
            for (i, blocks) in [1, 3, NDIRECT + 2].into_iter().enumerate() {
                self.file_in(dir, &format!("f{i}"), blocks)?;
            }
            let sub = self.dir_in(dir, "sub")?;
            self.file_in(sub, "g", 2)?;
        }
        Ok(())
    }

    /// Flips one bit of the metadata (`damage_random`), and says where.
    fn flip_one(&mut self, random: &mut SplitMix) {
        let sb = *self.image.superblock();
        let spared: Vec<u32> = self
            .image
            .dir_entries(&self.image.inode(ROOT))
            .into_iter()
            .filter(|entry| SPARED.iter().any(|name| entry.name() == name.as_bytes()))
            .map(|entry| u32::from(entry.inum))
            .collect();
        let (block, byte, what) = match random.below(4) {
            0 => {
                let inodes: Vec<u32> = (ROOT + 1..sb.ninodes)
                    .filter(|&inum| self.image.inode(inum).kind != 0 && !spared.contains(&inum))
                    .collect();
                let inum = inodes[random.below(inodes.len())];
                let byte = abi::fs::inode_offset(inum) + random.below(DiskInode::SIZE);
                (
                    abi::fs::inode_block(inum, &sb),
                    byte,
                    format!("inode {inum}"),
                )
            }
            1 => {
                // An entry of a directory; in the root, not one of the
                // first two nor a spared program's.
                // Earlier flips may have spoiled a directory's size or
                // addresses: only those whose entries the image holds.
                let allowed_in = |dir: u32| -> Vec<usize> {
                    let inode = self.image.inode(dir);
                    if inode.kind != T_DIR || !self.readable(&inode) {
                        return Vec::new();
                    }
                    let entries = self.image.dir_entries(&inode);
                    (0..entries.len())
                        .filter(|&i| {
                            dir != ROOT || (i >= 2 && !spared.contains(&u32::from(entries[i].inum)))
                        })
                        .collect()
                };
                let dirs: Vec<(u32, Vec<usize>)> = (ROOT..sb.ninodes)
                    .map(|dir| (dir, allowed_in(dir)))
                    .filter(|(_, allowed)| !allowed.is_empty())
                    .collect();
                let (dir, allowed) = &dirs[random.below(dirs.len())];
                let (dir, inode) = (*dir, self.image.inode(*dir));
                let index = allowed[random.below(allowed.len())];
                let offset = index * DirEntry::SIZE + random.below(DirEntry::SIZE);
                let block = self.image.file_block(&inode, offset / BSIZE);
                (
                    block,
                    offset % BSIZE,
                    format!("directory inode {dir}, entry {index}"),
                )
            }
            2 => {
                let data =
                    sb.datastart() + random.below((sb.size - sb.datastart()) as usize) as u32;
                let (byte, _) = abi::fs::bitmap_position(data);
                (
                    abi::fs::bitmap_block(data, &sb),
                    byte,
                    format!("the bitmap, near block {data}"),
                )
            }
            _ => {
                let byte = random.below(4 * (1 + abi::fs::LOGSIZE));
                (sb.logstart, byte, "the log header".into())
            }
        };
        let bit = random.below(8);
        self.image.block_mut(block)[byte] ^= 1 << bit;
        self.done.push(format!(
            "{what}: block {block}, byte {byte}, bit {bit} flipped"
        ));
    }

    /// Whether the image holds all of `inode`'s data: a size a file can
    /// have, and every block below it (the indirect block too) inside the
    /// disk or a hole.
    fn readable(&self, inode: &DiskInode) -> bool {
        let disk = self.image.superblock().size;
        let size = inode.size as usize;
        if size > MAXFILE * BSIZE {
            return false;
        }
        let blocks = size.div_ceil(BSIZE);
        if blocks > NDIRECT && inode.addrs[NDIRECT] >= disk {
            return false;
        }
        (0..blocks).all(|n| self.image.file_block(inode, n) < disk)
    }

    /// Records what was done to inode `inum`, naming the entry for it.
    fn note(&mut self, inum: u32, what: String) {
        let name = self
            .image
            .dir_entries(&self.image.inode(ROOT))
            .into_iter()
            .find(|entry| u32::from(entry.inum) == inum)
            .map(|entry| String::from_utf8_lossy(entry.name()).into_owned())
            .unwrap_or_default();
        self.done.push(format!("{name}: inode {inum}, {what}"));
    }

    fn edit(&mut self, inum: u32, change: impl FnOnce(&mut DiskInode)) {
        let mut inode = self.image.inode(inum);
        change(&mut inode);
        self.image.write_inode(inum, &inode);
    }

    /// A new file of `blocks` blocks of [`pattern`], named `name` in the root.
    fn file(&mut self, name: &str, blocks: usize) -> Result<u32, NoRoom> {
        self.file_in(ROOT, name, blocks)
    }

    fn file_in(&mut self, dir: u32, name: &str, blocks: usize) -> Result<u32, NoRoom> {
        let inum = self.inode(T_FILE)?;
        let data: Vec<u8> = (0..blocks * BSIZE).map(pattern).collect();
        self.append(inum, &data)?;
        self.link(dir, name, inum)?;
        Ok(inum)
    }

    /// A new, empty directory named `name` in directory `parent`, with its
    /// "." and ".." and the links a good disk has.
    fn dir_in(&mut self, parent: u32, name: &str) -> Result<u32, NoRoom> {
        let dir = self.inode(T_DIR)?;
        self.link(dir, ".", dir)?;
        self.link(dir, "..", parent)?;
        self.link(parent, name, dir)?;
        self.edit(parent, |inode| inode.nlink += 1);
        Ok(dir)
    }

    /// A new inode of `kind` with one link.
    fn inode(&mut self, kind: u16) -> Result<u32, NoRoom> {
        let inum = self.free_inode()?;
        let inode = DiskInode {
            kind,
            nlink: 1,
            ..DiskInode::default()
        };
        self.image.write_inode(inum, &inode);
        Ok(inum)
    }

    fn free_inode(&self) -> Result<u32, NoRoom> {
        (1..self.image.superblock().ninodes)
            .find(|&inum| self.image.inode(inum).kind == 0)
            .ok_or(NoRoom)
    }

    /// A free data block, marked in use and zeroed.
    fn block(&mut self) -> Result<u32, NoRoom> {
        let sb = *self.image.superblock();
        let block = (sb.datastart()..sb.size)
            .find(|&b| !self.image.bitmap_bit(b))
            .ok_or(NoRoom)?;
        self.image.set_bitmap_bit(block, true);
        self.image.block_mut(block).fill(0);
        Ok(block)
    }

    /// Appends `data` to file `inum`, in whole blocks (with an indirect
    /// block past NDIRECT).
    fn append(&mut self, inum: u32, data: &[u8]) -> Result<(), NoRoom> {
        let mut inode = self.image.inode(inum);
        for chunk in data.chunks(BSIZE) {
            let n = inode.size as usize / BSIZE;
            let block = self.block()?;
            if n < NDIRECT {
                inode.addrs[n] = block;
            } else {
                if inode.addrs[NDIRECT] == 0 {
                    inode.addrs[NDIRECT] = self.block()?;
                }
                write_u32(
                    self.image.block_mut(inode.addrs[NDIRECT]),
                    n - NDIRECT,
                    block,
                );
            }
            self.image.block_mut(block)[..chunk.len()].copy_from_slice(chunk);
            inode.size += BSIZE as u32;
        }
        self.image.write_inode(inum, &inode);
        Ok(())
    }

    /// Clears the entries of directory `dir` that name `inum`.
    fn unlink(&mut self, dir: u32, inum: u32) {
        let inode = self.image.inode(dir);
        let entries = self.image.dir_entries(&inode);
        for (index, entry) in entries.iter().enumerate() {
            if u32::from(entry.inum) == inum {
                let offset = index * DirEntry::SIZE;
                let block = self.image.file_block(&inode, offset / BSIZE);
                let within = offset % BSIZE;
                self.image.block_mut(block)[within..within + DirEntry::SIZE].fill(0);
            }
        }
    }

    /// Adds the entry `name` -> `inum` to directory `dir`: in a free slot,
    /// or in a new block at the end.
    fn link(&mut self, dir: u32, name: &str, inum: u32) -> Result<(), NoRoom> {
        let entry = DirEntry::new(inum as u16, name.as_bytes()).expect("a short name");
        let mut bytes = [0; DirEntry::SIZE];
        entry.encode(&mut bytes);
        let inode = self.image.inode(dir);
        let free = self
            .image
            .dir_entries(&inode)
            .iter()
            .position(|entry| entry.inum == 0 && entry.name().is_empty());
        let offset = match free {
            Some(index) => index * DirEntry::SIZE,
            None => {
                self.append(dir, &[0; BSIZE])?;
                inode.size as usize
            }
        };
        let inode = self.image.inode(dir);
        let block = self.image.file_block(&inode, offset / BSIZE);
        let within = offset % BSIZE;
        self.image.block_mut(block)[within..within + DirEntry::SIZE].copy_from_slice(&bytes);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{InputFile, Problem, build, check};

    fn damaged_image() -> (Image, Vec<String>) {
        let files = [InputFile {
            path: "README".into(),
            data: b"a good file".to_vec(),
        }];
        let mut image = Image::open(build(&files, abi::fs::FSSIZE).expect("a small image builds"));
        let done = damage(&mut image).expect("there is room");
        (image, done)
    }

    /// The inode number `damage` reported for `name`.
    fn inum_of(done: &[String], name: &str) -> u32 {
        damaged_inode(done, name).unwrap_or_else(|| panic!("no line for {name} in {done:?}"))
    }

    #[test]
    fn check_finds_every_kind_of_damage() {
        let (image, done) = damaged_image();
        let problems = check(&image.into_bytes()).expect_err("the image is damaged");
        let has = |wanted: &dyn Fn(&Problem) -> bool| problems.iter().any(wanted);
        assert!(has(&|p| matches!(p, Problem::LogNotEmpty { n: 2 })));
        for name in ["badaddr", "badmeta", "badind"] {
            let inum = inum_of(&done, name);
            assert!(
                has(&|p| matches!(p, Problem::BlockOutOfRange { inum: i, .. } if *i == inum)),
                "{name}: {problems:?}"
            );
        }
        let badsize = inum_of(&done, "badsize");
        assert!(has(
            &|p| matches!(p, Problem::MissingBlock { inum, .. } if *inum == badsize)
        ));
        let huge = inum_of(&done, "hugesize");
        assert!(has(
            &|p| matches!(p, Problem::FileTooLarge { inum, .. } if *inum == huge)
        ));
        let badtype = inum_of(&done, "badtype");
        assert!(has(
            &|p| matches!(p, Problem::BadKind { inum, kind: 9 } if *inum == badtype)
        ));
        for name in ["ghost", "faraway"] {
            assert!(has(
                &|p| matches!(p, Problem::DanglingEntry { name: n, .. } if n == name)
            ));
        }
        let nodot = inum_of(&done, "nodot");
        assert!(has(
            &|p| matches!(p, Problem::BadDot { dir } if *dir == nodot)
        ));
        assert!(has(&|p| matches!(p, Problem::MarkedFree { .. })));
        let orphan = inum_of(&done, "orphan");
        assert!(has(
            &|p| matches!(p, Problem::Unreachable { inum } if *inum == orphan)
        ));
        for name in [
            "nlink0",
            "nlink1",
            "toolow",
            "maxlink",
            "twonames",
            "zerolinks",
            "highcount",
        ] {
            let inum = inum_of(&done, name);
            assert!(
                has(&|p| matches!(p, Problem::WrongNlink { inum: i, .. } if *i == inum)),
                "{name}: {problems:?}"
            );
        }
        assert!(has(
            &|p| matches!(p, Problem::DirectoryLinkedTwice { inum } if *inum == ROOT)
        ));
        let sharedb = inum_of(&done, "sharedb");
        assert!(
            has(&|p| matches!(p, Problem::BlockUsedTwice { second, .. } if *second == sharedb)),
            "{problems:?}"
        );
    }

    /// A flip may spoil a directory's size or block addresses; a later
    /// flip must not pick that directory's entries by reading past the
    /// image (one of the seeds 5 to 40 of `make fuzz-disk` did).
    #[test]
    fn random_damage_survives_its_own_damage() {
        let files = [InputFile {
            path: "init".into(),
            data: b"a program".to_vec(),
        }];
        let image = build(&files, abi::fs::FSSIZE).expect("a small image builds");
        for seed in 0..400 {
            let mut image = Image::open(image.clone());
            let done = damage_random(&mut image, seed).expect("there is room");
            assert_eq!(
                done.iter().filter(|l| l.contains("flipped")).count(),
                RANDOM_FLIPS,
                "seed {seed}"
            );
        }
    }

    #[test]
    fn random_damage_depends_on_the_seed_alone() {
        let image = || {
            let files = [InputFile {
                path: "init".into(),
                data: b"a program".to_vec(),
            }];
            Image::open(build(&files, abi::fs::FSSIZE).expect("a small image builds"))
        };
        let damaged = |seed| {
            let mut image = image();
            let done = damage_random(&mut image, seed).expect("there is room");
            (image.into_bytes(), done)
        };
        let (first, lines) = damaged(7);
        assert_eq!(
            lines.iter().filter(|l| l.contains("flipped")).count(),
            RANDOM_FLIPS
        );
        assert_eq!(damaged(7).0, first, "the same seed, another image");
        assert_ne!(damaged(8).0, first, "another seed, the same image");
        // The flips changed the image beyond the tree it added.
        let mut undamaged = image();
        let mut damager = Damager {
            image: &mut undamaged,
            done: Vec::new(),
        };
        damager.populate().expect("there is room");
        assert_ne!(undamaged.into_bytes(), first);
    }

    #[test]
    fn damaged_files_hold_the_pattern() {
        let (image, done) = damaged_image();
        let inode = image.inode(inum_of(&done, "badbitmap"));
        let data = image.read_file(&inode);
        assert_eq!(data.len(), 2 * BSIZE);
        assert!(data.iter().enumerate().all(|(i, &b)| b == pattern(i)));
    }
}
