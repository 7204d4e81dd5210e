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
//!
//! and, besides, an orphan: a file with no name and no links, as a crash
//! leaves a file that was removed while it was open (the kernel frees it
//! at mount), and a log header that is committed but damaged: it would "install" a
//! block over the superblock, so the kernel must discard it at mount. The
//! damaged files hold the bytes of [`pattern`], so that a test can check
//! the part it can still read.
//!
//! New inodes and blocks come from the free ones, as the kernel would take
//! them. `mkfs --check` must find every one of these problems.

use abi::fs::{BSIZE, DirEntry, DiskInode, LogHeader, MAXFILE, NDIRECT};
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
        let line = done
            .iter()
            .find(|line| line.starts_with(&format!("{name}: inode ")))
            .unwrap_or_else(|| panic!("no line for {name} in {done:?}"));
        let number = line[name.len() + ": inode ".len()..]
            .split(',')
            .next()
            .unwrap();
        number.parse().unwrap()
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
