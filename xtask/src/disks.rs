//! The file system disks that boots get, prepared through mkfs's library.
//!
//! Every boot gets its own copy of fs.img in build/test-logs (`NAME.img`),
//! kept afterwards for `mkfs --check` and for reading a failure. Some
//! suites damage the copy first, always through `mkfs`'s own code, which
//! knows the layout (`abi::fs`): the same damage `mkfs --damage` makes,
//! random damage from a seed, a superblock that lies, or a block that the
//! drive fails to read.

use std::path::{Path, PathBuf};

use abi::fs::{BSIZE, DiskInode, ROOTINO, SUPERBLOCK_BLOCK};
use mkfs::image::Image;

use crate::config::Config;
use crate::qemu::Disk;

/// The disk a boot gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiskKind {
    /// A fresh copy of fs.img.
    Fresh,
    /// No disk at all.
    None,
    /// A copy with one damaged object per kind (`mkfs::damage::damage`).
    Damaged,
    /// A copy damaged at random from this seed
    /// (`mkfs::damage::damage_random`).
    DamagedAtRandom(u64),
    /// A copy behind QEMU's blkdebug driver, which fails every read of
    /// the README's first block.
    FailingReadme,
    /// A copy whose superblock says the bitmap starts at this block.
    BitmapAt(u32),
}

/// A prepared disk, and what the checks need to know about it.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// What QEMU is given.
    pub machine_disk: Disk,
    /// The image file, if there is one.
    pub path: Option<PathBuf>,
    /// What mkfs's damage functions say they did, a line per change.
    pub damage: Vec<String>,
    /// What `mkfs --check` found on the image before the boot.
    pub problems_before: Vec<String>,
    /// The superblock's block before the boot.
    pub superblock: Vec<u8>,
    /// The block whose reads fail, for [`DiskKind::FailingReadme`].
    pub failing_block: Option<u32>,
    /// Why the disk could not be prepared, if it could not.
    pub error: Option<String>,
}

impl Default for Prepared {
    fn default() -> Prepared {
        Prepared {
            machine_disk: Disk::None,
            path: None,
            damage: Vec::new(),
            problems_before: Vec::new(),
            superblock: Vec::new(),
            failing_block: None,
            error: None,
        }
    }
}

/// The problems `mkfs --check` finds in the image at `path`, one line
/// each; none for a consistent image.
pub fn problems(path: &Path) -> Result<Vec<String>, String> {
    let bytes =
        std::fs::read(path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    Ok(match mkfs::check(&bytes) {
        Ok(_) => Vec::new(),
        Err(problems) => problems.iter().map(ToString::to_string).collect(),
    })
}

/// Checks the image at `path` as `mkfs --check` does: Ok if consistent,
/// else the first problem and how many there are.
pub fn consistent(path: &Path) -> Result<(), String> {
    let found = problems(path)?;
    match found.first() {
        None => Ok(()),
        Some(first) => Err(format!(
            "mkfs --check {} found {} problems, the first: {first}",
            path.display(),
            found.len()
        )),
    }
}

impl DiskKind {
    /// Prepares the disk of the boot `name` in `logs`. A failure is kept
    /// in [`Prepared::error`] (and the boot gets no disk), so that the
    /// boot's checks report it.
    pub fn prepare(&self, config: &Config, logs: &Path, name: &str) -> Prepared {
        if *self == DiskKind::None {
            return Prepared::default();
        }
        let path = logs.join(format!("{name}.img"));
        match self.prepare_image(config, logs, name, &path) {
            Ok(prepared) => prepared,
            Err(error) => Prepared {
                error: Some(error),
                ..Prepared::default()
            },
        }
    }

    fn prepare_image(
        &self,
        config: &Config,
        logs: &Path,
        name: &str,
        path: &Path,
    ) -> Result<Prepared, String> {
        let bytes = std::fs::read(&config.fs_image)
            .map_err(|error| format!("cannot read {}: {error}", config.fs_image.display()))?;
        let mut image = Image::open(bytes);
        let mut prepared = Prepared {
            machine_disk: Disk::File(path.to_path_buf()),
            path: Some(path.to_path_buf()),
            ..Prepared::default()
        };
        match self {
            DiskKind::Fresh | DiskKind::None => {}
            DiskKind::Damaged => {
                prepared.damage = mkfs::damage::damage(&mut image)
                    .map_err(|_| "fs.img has no room for the damaged objects".to_string())?;
            }
            DiskKind::DamagedAtRandom(seed) => {
                prepared.damage = mkfs::damage::damage_random(&mut image, *seed)
                    .map_err(|_| "fs.img has no room for the random tree".to_string())?;
            }
            DiskKind::FailingReadme => {
                let block = readme_first_block(&image)?;
                let config_path = logs.join(format!("{name}.blkdebug"));
                // blkdebug counts in 512-byte sectors; errno 5 is EIO,
                // which the IDE drive reports as an aborted command.
                let sector = u64::from(block) * BSIZE as u64 / 512;
                std::fs::write(
                    &config_path,
                    format!(
                        "[inject-error]\nevent = \"read_aio\"\nerrno = \"5\"\nsector = \"{sector}\"\n"
                    ),
                )
                .map_err(|error| format!("cannot write {}: {error}", config_path.display()))?;
                prepared.failing_block = Some(block);
                prepared.machine_disk = Disk::FailingReads {
                    image: path.to_path_buf(),
                    config: config_path,
                };
            }
            DiskKind::BitmapAt(block) => {
                let mut superblock = *image.superblock();
                superblock.bmapstart = *block;
                superblock.encode(image.block_mut(SUPERBLOCK_BLOCK));
            }
        }
        let bytes = image.into_bytes();
        prepared.superblock = bytes[SUPERBLOCK_BLOCK as usize * BSIZE..][..BSIZE].to_vec();
        std::fs::write(path, &bytes)
            .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
        if !prepared.damage.is_empty() {
            let report = logs.join(format!("{name}.damage"));
            let _ = std::fs::write(&report, prepared.damage.join("\n") + "\n");
            prepared.problems_before = problems(path)?;
        }
        Ok(prepared)
    }
}

/// The first block of the file called README in the root directory.
fn readme_first_block(image: &Image) -> Result<u32, String> {
    let root: DiskInode = image.inode(ROOTINO);
    let entry = image
        .dir_entries(&root)
        .into_iter()
        .find(|entry| entry.name() == b"README")
        .ok_or("fs.img has no README")?;
    let readme = image.inode(u32::from(entry.inum));
    Ok(image.file_block(&readme, 0))
}
