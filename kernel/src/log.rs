//! The write-ahead log: every file-system change is all-or-nothing, even if
//! the machine stops in the middle.
//!
//! A system call that changes the file system brackets its changes with
//! `begin_op` and `end_op` (an "operation"), and writes blocks with
//! [`write`] instead of to the disk directly. `write` only records the block
//! number in the log header in memory and pins the buffer in the cache.
//! When the last outstanding operation ends, `commit`:
//!
//! 1. copies every logged block from the cache to the log area on disk;
//! 2. writes the log header, with the count of blocks: **the commit
//!    point**. Before this write, a crash loses the whole group of
//!    operations; after it, recovery replays them all;
//! 3. copies the blocks from the log to their home locations ("installs");
//! 4. writes the header again with a count of zero.
//!
//! At boot, `init` replays a committed log and clears it (recovery).
//!
//! Several processes' operations share one commit ("group commit"). To
//! keep the log from overflowing, `begin_op` waits while the blocks
//! already logged plus a worst case of `MAXOPBLOCKS` for every outstanding
//! operation, the new one included, would exceed the log's capacity: the
//! log area minus its header block, and at most the `LOGSIZE` block numbers
//! a header holds. An operation
//! must therefore write at most MAXOPBLOCKS distinct blocks (file writes
//! are split into pieces that respect this).
//!
//! ## What a crash leaves
//!
//! This is the whole promise, and the crash test (`make test`'s `crash`
//! suite) checks it by cutting QEMU's power at random moments:
//!
//! - **Each operation is atomic on disk.** After a crash and recovery,
//!   the disk holds every change of an operation or none of them. Each
//!   file-system system call is one operation (link, unlink, mkdir, mknod,
//!   chdir, open, and close when it drops the last reference to a removed
//!   file), except `write`: file.rs splits a write into pieces of at most
//!   `abi::fs::WRITE_PIECE` bytes (3072), one operation each, so a crash during a
//!   big write can leave its first pieces written and not the rest, as a
//!   short write would.
//! - **Durable when committed.** An operation is on disk once the commit
//!   of its group has written the header (step 2 above). When a call is the
//!   only one in progress, its `end_op` commits before the call returns:
//!   **a call that has returned is on disk.**
//! - **Group commit under concurrency.** When several processes' calls
//!   overlap, every `end_op` but the last returns at once, before the
//!   commit, and the group commits when its last operation ends. So a call
//!   that returned while another call was still running can be lost in a
//!   crash, but only together with the whole of its group: after recovery
//!   the disk shows every group that reached its commit point, in order,
//!   and nothing of the group after.
//! - **Recovery is idempotent.** A crash during recovery (or during
//!   installation) just means the next boot installs the same blocks again.
//!
//! A file removed while still open keeps its inode until the last close;
//! a crash before that close leaves an inode with no links, which the
//! mount frees (`fs::init`).
//!
//! Disk layout: the log starts at the superblock's `logstart`; its first
//! block is the header, the blocks after it hold the logged copies.
//!
//! Locking: `LOG` guards the counters and the header; `committing` keeps
//! new operations out while the commit runs without the lock.

use abi::fs::{LOGSIZE, LogHeader, MAXOPBLOCKS, SuperBlock};

use crate::bio::{self, Buf, bread};
use crate::error::Error;
use crate::proc::{self, WaitChannel};
use crate::spinlock::SpinLock;

struct Log {
    device: u32,
    /// First block of the log area (the header).
    start: u32,
    /// How many blocks one commit can hold.
    capacity: usize,
    /// Operations between begin_op and end_op.
    outstanding: usize,
    /// A commit is running; wait.
    committing: bool,
    /// The blocks logged so far, in memory.
    header: LogHeader,
}

static LOG: SpinLock<Log> = SpinLock::new(
    "log",
    Log {
        device: 0,
        start: 0,
        capacity: 0,
        outstanding: 0,
        committing: false,
        header: LogHeader {
            n: 0,
            blocks: [0; LOGSIZE],
        },
    },
);

fn channel() -> WaitChannel {
    WaitChannel::of(&LOG)
}

/// Finds the log on `device` (from its superblock `sb`) and recovers from
/// a crash, if there was one. A damaged header is not replayed (that could
/// write anywhere): it is reported and discarded.
pub fn init(device: u32, sb: &SuperBlock) {
    let (start, size) = (sb.logstart, sb.nlog);
    let capacity = (size as usize).saturating_sub(1).min(LOGSIZE);
    assert!(capacity >= MAXOPBLOCKS, "log: the log area is too small");
    {
        let mut log = LOG.lock();
        log.device = device;
        log.start = start;
        log.capacity = capacity;
    }
    match bread(device, start) {
        Ok(buf) => {
            let header = LogHeader::decode(buf.data());
            drop(buf);
            match header_error(&header, capacity, sb) {
                None => install(device, start, &header, true),
                Some(why) => {
                    println!("log: the header on disk is damaged ({why}); not replaying it")
                }
            }
        }
        Err(_) => println!("log: cannot read the header; not replaying it"),
    }
    if write_header(device, start, &LogHeader::default()).is_err() {
        println!("log: cannot clear the header");
    }
}

/// What is wrong with a log header read from disk, if anything: more
/// blocks than the log holds, or a home block outside the blocks a
/// transaction can change (the inodes, the bitmap and the data: never the
/// boot block, the superblock or the log itself).
fn header_error(header: &LogHeader, capacity: usize, sb: &SuperBlock) -> Option<&'static str> {
    if header.n as usize > capacity {
        return Some("it lists more blocks than the log holds");
    }
    let homes = sb.inodestart..sb.size;
    if !header.blocks[..header.n as usize]
        .iter()
        .all(|home| homes.contains(home))
    {
        return Some("it names a block outside the file system's inodes, bitmap and data");
    }
    None
}

/// Writes `header` to the log's first block. A failure is printed (by
/// ide.rs) and returned.
fn write_header(device: u32, start: u32, header: &LogHeader) -> Result<(), Error> {
    let mut buf = bread(device, start)?;
    header.encode(buf.data_mut());
    buf.write()
}

/// Copies each logged block from the log area to its home location. Goes
/// on past a block the disk fails to copy, so that the others get home.
fn install(device: u32, start: u32, header: &LogHeader, recovering: bool) {
    for (i, &home) in header.blocks[..header.n as usize].iter().enumerate() {
        let copied = bread(device, start + 1 + i as u32).and_then(|from| {
            let mut to = bread(device, home)?;
            to.data_mut().copy_from_slice(from.data());
            to.write()
        });
        if copied.is_err() {
            println!("log: block {home} did not reach its home on disk");
        }
        if !recovering {
            bio::unpin(device, home);
        }
    }
}

/// Starts a file-system operation.
pub fn begin_op() {
    let mut log = LOG.lock();
    loop {
        let worst_case = log.header.n as usize + (log.outstanding + 1) * MAXOPBLOCKS;
        if log.committing || worst_case > log.capacity {
            log = proc::sleep(channel(), log);
        } else {
            log.outstanding += 1;
            return;
        }
    }
}

/// Ends a file-system operation; the last one to end commits.
pub fn end_op() {
    let (commit_now, device, start, header) = {
        let mut log = LOG.lock();
        assert!(!log.committing, "end_op: a commit is running");
        log.outstanding -= 1;
        if log.outstanding == 0 {
            log.committing = true;
            (true, log.device, log.start, log.header)
        } else {
            // begin_op may be waiting for log space, and this operation's
            // reserved space is free now.
            proc::wakeup(channel());
            (false, 0, 0, log.header)
        }
    };
    if commit_now {
        // No lock is held: sleeping for the disk is allowed here, and
        // `committing` keeps every other operation waiting.
        commit(device, start, &header);
        let mut log = LOG.lock();
        log.header.n = 0;
        log.committing = false;
        proc::wakeup(channel());
    }
}

fn commit(device: u32, start: u32, header: &LogHeader) {
    if header.n == 0 {
        return;
    }
    // 1. The modified blocks, from the cache to the log area.
    let logged = header.blocks[..header.n as usize]
        .iter()
        .enumerate()
        .try_for_each(|(i, &home)| {
            let mut to = bread(device, start + 1 + i as u32)?;
            let from = bread(device, home)?;
            to.data_mut().copy_from_slice(from.data());
            to.write()
        });
    // 2. The commit point; then 3. install, and 4. erase the log. If the
    // disk failed before the commit point, the group is not on disk (the
    // cache still has it until its buffers are reused): say so, and give
    // the buffers back.
    let committed = logged.and_then(|()| write_header(device, start, header));
    if committed.is_err() {
        println!("log: the disk failed during a commit; its operations are not on disk");
        for &home in &header.blocks[..header.n as usize] {
            bio::unpin(device, home);
        }
        return;
    }
    install(device, start, header, false);
    if write_header(device, start, &LogHeader::default()).is_err() {
        println!("log: the disk failed to erase the log; recovery will install it again");
    }
}

/// Records that `buf` was modified; it reaches the disk at commit. Call
/// between begin_op and end_op, instead of `Buf::write`.
pub fn write(buf: &Buf) {
    let mut log = LOG.lock();
    assert!(log.outstanding > 0, "log::write outside of an operation");
    let n = log.header.n as usize;
    let blockno = buf.blockno();
    // A block written twice in one commit is logged once ("absorption").
    if log.header.blocks[..n].contains(&blockno) {
        return;
    }
    assert!(n < log.capacity, "log::write: the transaction is too big");
    log.header.blocks[n] = blockno;
    log.header.n += 1;
    buf.pin();
}
