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
//! Disk layout: the log starts at the superblock's `logstart`; its first
//! block is the header, the blocks after it hold the logged copies.
//!
//! Locking: `LOG` guards the counters and the header; `committing` keeps
//! new operations out while the commit runs without the lock.

use abi::fs::{LOGSIZE, LogHeader, MAXOPBLOCKS};

use crate::bio::{self, Buf, bread};
use crate::proc;
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

fn channel() -> usize {
    &LOG as *const SpinLock<Log> as usize
}

/// Finds the log on `device` and recovers from a crash, if there was one.
pub fn init(device: u32, start: u32, size: u32) {
    let capacity = (size as usize).saturating_sub(1).min(LOGSIZE);
    assert!(capacity >= MAXOPBLOCKS, "log: the log area is too small");
    {
        let mut log = LOG.lock();
        log.device = device;
        log.start = start;
        log.capacity = capacity;
    }
    let header = read_header(device, start);
    install(device, start, &header, true);
    write_header(device, start, &LogHeader::default());
}

fn read_header(device: u32, start: u32) -> LogHeader {
    let buf = bread(device, start);
    let header = LogHeader::decode(buf.data());
    assert!(header.n as usize <= LOGSIZE, "log: corrupt header");
    // (A header that claims more blocks than the log area has would make
    // recovery read past it; LOGSIZE bounds what a header can claim.)
    header
}

fn write_header(device: u32, start: u32, header: &LogHeader) {
    let mut buf = bread(device, start);
    header.encode(buf.data_mut());
    buf.write();
}

/// Copies each logged block from the log area to its home location.
fn install(device: u32, start: u32, header: &LogHeader, recovering: bool) {
    for (i, &home) in header.blocks[..header.n as usize].iter().enumerate() {
        let from = bread(device, start + 1 + i as u32);
        let mut to = bread(device, home);
        to.data_mut().copy_from_slice(from.data());
        to.write();
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
    for (i, &home) in header.blocks[..header.n as usize].iter().enumerate() {
        let mut to = bread(device, start + 1 + i as u32);
        let from = bread(device, home);
        to.data_mut().copy_from_slice(from.data());
        to.write();
    }
    write_header(device, start, header); // 2. the commit point
    install(device, start, header, false); // 3.
    write_header(device, start, &LogHeader::default()); // 4. erase the log
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
