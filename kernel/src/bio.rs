//! The buffer cache: a fixed set of block buffers between the file system
//! and the disk.
//!
//! It does two jobs. It keeps recently used blocks in memory, so that
//! reading one again costs no disk access. And it makes sure each disk
//! block has at most one buffer, so the file system has one place to lock
//! a block: whoever holds a buffer's `SleepLock` is its only user.
//!
//! Interface:
//! - [`bread`] returns a locked buffer holding the block's contents, or the
//!   disk's error (then the buffer is not valid, and the next `bread` of
//!   the block asks the disk again);
//! - [`Buf::write`] writes a buffer's contents to disk (the log does that:
//!   everything else goes through `log::write`);
//! - dropping a [`Buf`] unlocks it and gives it back to the cache.
//!
//! Locking: `CACHE` (a spin lock) guards which block each buffer holds, its
//! reference count, whether its data is valid, and its LRU stamp. Each
//! buffer's data is guarded by its own sleep lock. A buffer with no
//! references can be recycled for another block; the one released longest
//! ago goes first.

use crate::error::Error;
use crate::ide;
use crate::param::NBUF;
use crate::sleeplock::{SleepLock, SleepLockGuard};
use crate::spinlock::SpinLock;
use abi::fs::BSIZE;

#[derive(Clone, Copy)]
struct Meta {
    device: u32,
    blockno: u32,
    /// Holders of this buffer (locked or waiting to lock it), plus pins.
    references: u32,
    /// Does the data hold the block's contents?
    valid: bool,
    /// When the buffer was last released: smaller is older.
    released_at: u64,
}

struct Cache {
    meta: [Meta; NBUF],
    clock: u64,
}

static CACHE: SpinLock<Cache> = SpinLock::new(
    "bcache",
    Cache {
        meta: [Meta {
            device: 0,
            blockno: 0,
            references: 0,
            valid: false,
            released_at: 0,
        }; NBUF],
        clock: 0,
    },
);

static DATA: [SleepLock<[u8; BSIZE]>; NBUF] =
    [const { SleepLock::new("buffer", [0; BSIZE]) }; NBUF];

/// A locked buffer: the only access to its block until it is dropped.
pub struct Buf {
    index: usize,
    device: u32,
    blockno: u32,
    data: SleepLockGuard<'static, [u8; BSIZE]>,
}

/// Finds the buffer for the block, or recycles the least recently used
/// free one for it, and takes a reference. Returns its index.
fn get(device: u32, blockno: u32) -> usize {
    let mut cache = CACHE.lock();
    if let Some(index) = cache
        .meta
        .iter()
        .position(|m| m.references > 0 && m.device == device && m.blockno == blockno)
        .or_else(|| {
            // A free buffer may still hold this block from before.
            cache
                .meta
                .iter()
                .position(|m| m.valid && m.device == device && m.blockno == blockno)
        })
    {
        cache.meta[index].references += 1;
        return index;
    }
    let index = cache
        .meta
        .iter()
        .enumerate()
        .filter(|(_, m)| m.references == 0)
        .min_by_key(|(_, m)| m.released_at)
        .map(|(index, _)| index)
        .expect("bget: no free buffers");
    cache.meta[index] = Meta {
        device,
        blockno,
        references: 1,
        valid: false,
        released_at: 0,
    };
    index
}

/// Returns a locked buffer with the contents of block `blockno`, or
/// [`Error::DiskFailed`] if the disk could not read it.
pub fn bread(device: u32, blockno: u32) -> Result<Buf, Error> {
    let index = get(device, blockno);
    let mut buf = Buf {
        index,
        device,
        blockno,
        data: DATA[index].lock(),
    };
    if !CACHE.lock().meta[index].valid {
        // On failure, dropping `buf` gives the buffer back, still invalid.
        ide::rw(device, blockno, &mut buf.data, false)?;
        CACHE.lock().meta[index].valid = true;
    }
    Ok(buf)
}

impl Buf {
    pub fn blockno(&self) -> u32 {
        self.blockno
    }

    pub fn data(&self) -> &[u8; BSIZE] {
        &self.data
    }

    pub fn data_mut(&mut self) -> &mut [u8; BSIZE] {
        &mut self.data
    }

    /// Writes the buffer's contents to its block on disk.
    pub fn write(&mut self) -> Result<(), Error> {
        ide::rw(self.device, self.blockno, &mut self.data, true)
    }

    /// Keeps the buffer (and so its contents) in the cache after it is
    /// released, until `unpin`: the log needs blocks it has not yet
    /// written to stay as they are.
    pub fn pin(&self) {
        CACHE.lock().meta[self.index].references += 1;
    }
}

/// Undoes a `pin` of block `blockno`, which must be in the cache.
pub fn unpin(device: u32, blockno: u32) {
    let mut cache = CACHE.lock();
    let meta = cache
        .meta
        .iter_mut()
        .find(|m| m.references > 0 && m.device == device && m.blockno == blockno)
        .expect("unpin: block not pinned");
    meta.references -= 1;
}

impl Drop for Buf {
    fn drop(&mut self) {
        // The data's sleep lock is released when `self.data` drops, right
        // after this; the reference goes first, which is fine because a
        // recycler also needs the sleep lock before it touches the data.
        let mut cache = CACHE.lock();
        cache.clock += 1;
        let clock = cache.clock;
        let meta = &mut cache.meta[self.index];
        meta.references -= 1;
        if meta.references == 0 {
            meta.released_at = clock;
        }
    }
}
