//! The disk: an ATA (IDE) driver, interrupt-driven, using programmed I/O.
//!
//! QEMU's PC has an IDE controller with two drives on its primary channel.
//! The file system image is the second, the "slave" (device 1); the ISO the
//! machine boots from is a CD on the secondary channel.
//!
//! A request moves one block (BSIZE bytes, two 512-byte sectors) between
//! memory and disk. Requests wait in a queue under one spin lock, oldest
//! first; only the oldest is on the disk at a time. `rw` adds a request,
//! starts it if the disk is idle, and sleeps until the interrupt handler
//! marks it done. The handler (`interrupt`) reads the data in for a read,
//! marks the request done, wakes its process and starts the next one.
//!
//! Both sectors of a block move in one command, READ or WRITE MULTIPLE,
//! after `init` has told the drive to transfer two sectors per interrupt.
//! The registers are reached with port I/O through the `x86` crate.
//!
//! ## Errors
//!
//! A drive that cannot do a command says so in its status register (ERR or
//! DF) and gives the reason in its error register: QEMU's drive does this
//! for a sector past the end of the disk, for instance. Then the request
//! fails: the handler prints one line naming the block and both registers,
//! marks the request done and failed, and `rw` returns
//! [`Error::DiskFailed`], which the file system passes up to the system
//! call as -1. Nothing panics: a disk error is the disk's fault, not the
//! kernel's.

use core::sync::atomic::{AtomicU32, Ordering};

use x86::io::{inb, inl, inw, outb, outl};

use crate::arch::ioapic;
use crate::cpu::mycpu;
use crate::error::Error;
use crate::param::NBUF;
use crate::proc::{self, WaitChannel};
use crate::spinlock::SpinLock;
use abi::fs::BSIZE;

const DATA: u16 = 0x1F0;
const SECTOR_COUNT: u16 = 0x1F2;
const LBA_LOW: u16 = 0x1F3;
const LBA_MID: u16 = 0x1F4;
const LBA_HIGH: u16 = 0x1F5;
const DRIVE_HEAD: u16 = 0x1F6;
const STATUS_COMMAND: u16 = 0x1F7;
const CONTROL: u16 = 0x3F6;

const STATUS_BUSY: u8 = 0x80;
const STATUS_READY: u8 = 0x40;
const STATUS_FAULT: u8 = 0x20;
const STATUS_ERROR: u8 = 0x01;
/// Read: why the last command failed (ABRT, IDNF, UNC, ...).
const ERROR_REGISTER: u16 = 0x1F1;

const CMD_READ_MULTIPLE: u8 = 0xC4;
const CMD_WRITE_MULTIPLE: u8 = 0xC5;
const CMD_SET_MULTIPLE: u8 = 0xC6;

const SECTOR_SIZE: usize = 512;
const SECTORS_PER_BLOCK: usize = BSIZE / SECTOR_SIZE;

#[derive(Clone, Copy)]
struct Request {
    /// The block's memory; see `rw` for why a raw pointer is sound here.
    data: *mut [u8; BSIZE],
    device: u32,
    blockno: u32,
    write: bool,
    /// Order of arrival: the oldest request is served first.
    ticket: u64,
    done: bool,
    /// The drive reported an error; `rw` fails.
    failed: bool,
}

struct Queue {
    requests: [Option<Request>; NBUF],
    next_ticket: u64,
    /// Slot of the request on the disk now, if any.
    active: Option<usize>,
}

// SAFETY: the raw pointers in the queue are only dereferenced by the
// interrupt handler while their owner sleeps in `rw` (see there).
unsafe impl Send for Queue {}

static QUEUE: SpinLock<Queue> = SpinLock::new(
    "ide",
    Queue {
        requests: [None; NBUF],
        next_ticket: 0,
        active: None,
    },
);

/// Waits for the drive to finish its current command; false on error.
fn wait_ready() -> bool {
    loop {
        // SAFETY: reading the status register has no side effect but
        // acknowledging an interrupt, which we want.
        let status = unsafe { inb(STATUS_COMMAND) };
        if status & (STATUS_BUSY | STATUS_READY) == STATUS_READY {
            return status & (STATUS_FAULT | STATUS_ERROR) == 0;
        }
    }
}

/// Status reads `init` allows disk 1 to become ready in: far more than a
/// present drive needs, and a bounded wait when there is none.
const PRESENCE_TRIES: u32 = 100_000;

/// Checks that the file-system disk is there, sets it to move a whole
/// block per interrupt, and routes the disk interrupt to this CPU.
pub fn init() {
    // SAFETY: the standard primary-channel IDE ports; only this module
    // uses them. Selecting a drive and reading its status change nothing.
    let present = unsafe {
        outb(DRIVE_HEAD, 0xE0 | (1 << 4));
        // A missing drive reads as 0 (no READY), and an empty channel as
        // 0xFF (BUSY forever): either way, it never looks ready.
        (0..PRESENCE_TRIES)
            .any(|_| inb(STATUS_COMMAND) & (STATUS_BUSY | STATUS_READY) == STATUS_READY)
    };
    if !present {
        panic!("ide: no disk 1 (the file system image is missing; see QEMUDISK in the Makefile)");
    }
    let sectors = identify().expect("ide: disk 1 does not answer IDENTIFY DEVICE");
    DISK_BLOCKS.store(sectors / SECTORS_PER_BLOCK as u32, Ordering::Relaxed);
    // SAFETY: as above; SET MULTIPLE MODE with SECTORS_PER_BLOCK.
    let ok = unsafe {
        outb(SECTOR_COUNT, SECTORS_PER_BLOCK as u8);
        outb(STATUS_COMMAND, CMD_SET_MULTIPLE);
        wait_ready()
    };
    assert!(
        ok,
        "ide: disk 1 refused {SECTORS_PER_BLOCK} sectors per interrupt"
    );
    ioapic::enable(
        crate::arch::traps::IRQ_IDE,
        mycpu().apic_id.load(Ordering::Relaxed),
    );
}

/// Size of disk 1 in blocks, as the drive reported it to `init`.
static DISK_BLOCKS: AtomicU32 = AtomicU32::new(0);

/// How many blocks disk 1 holds: the file system must fit in them.
pub fn disk_blocks() -> u32 {
    DISK_BLOCKS.load(Ordering::Relaxed)
}

/// Asks the selected drive to describe itself (IDENTIFY DEVICE), by
/// polling, before its interrupt is routed anywhere. Returns the number of
/// sectors it can address with 28-bit LBA (words 60 and 61 of the 256-word
/// answer), or `None` if it reports an error.
fn identify() -> Option<u32> {
    const CMD_IDENTIFY: u8 = 0xEC;
    const LBA28_SECTORS_WORD: usize = 60;
    // SAFETY: the IDE ports, used by this module alone, before any request
    // can be queued. The answer is 256 words read from the data register.
    unsafe {
        outb(STATUS_COMMAND, CMD_IDENTIFY);
        if !wait_for_data() {
            return None;
        }
        let mut words = [0u16; SECTOR_SIZE / 2];
        for word in &mut words {
            *word = inw(DATA);
        }
        let low = u32::from(words[LBA28_SECTORS_WORD]);
        let high = u32::from(words[LBA28_SECTORS_WORD + 1]);
        Some(high << 16 | low)
    }
}

/// Puts `request` on the disk. Returns false if the drive refused it
/// at once (a write whose data it would not take), after saying why.
fn start(request: &Request) -> bool {
    let sector = request.blockno as usize * SECTORS_PER_BLOCK;
    // SAFETY: the IDE ports; the caller holds QUEUE, so one request at a
    // time. For a write, `data` points at the block (see `rw`).
    unsafe {
        wait_ready();
        outb(CONTROL, 0); // interrupts on
        outb(SECTOR_COUNT, SECTORS_PER_BLOCK as u8);
        outb(LBA_LOW, sector as u8);
        outb(LBA_MID, (sector >> 8) as u8);
        outb(LBA_HIGH, (sector >> 16) as u8);
        outb(
            DRIVE_HEAD,
            0xE0 | (((request.device & 1) as u8) << 4) | ((sector >> 24) as u8 & 0x0F),
        );
        if request.write {
            outb(STATUS_COMMAND, CMD_WRITE_MULTIPLE);
            if !wait_for_data() {
                report_error("write", request.blockno);
                return false;
            }
            for chunk in (*request.data).chunks_exact(4) {
                outl(DATA, u32::from_le_bytes(chunk.try_into().expect("4 bytes")));
            }
        } else {
            outb(STATUS_COMMAND, CMD_READ_MULTIPLE);
        }
    }
    true
}

/// Prints the one line a failed command gets: the block, and the drive's
/// status and error registers.
fn report_error(what: &str, blockno: u32) {
    // SAFETY: reading the status and error registers changes nothing but
    // acknowledging the drive's interrupt.
    let (status, error) = unsafe { (inb(STATUS_COMMAND), inb(ERROR_REGISTER)) };
    crate::println!(
        "ide: disk 1 failed to {what} block {blockno} (status {status:#04x}, error {error:#04x})"
    );
}

/// Waits until the drive is ready to move data (DRQ) after a command that
/// has some; false if it reports an error instead.
fn wait_for_data() -> bool {
    const STATUS_DRQ: u8 = 0x08;
    loop {
        // SAFETY: reading the status register.
        let status = unsafe { inb(STATUS_COMMAND) };
        if status & STATUS_BUSY != 0 {
            core::hint::spin_loop();
        } else if status & (STATUS_ERROR | STATUS_FAULT) != 0 {
            return false;
        } else if status & STATUS_DRQ != 0 {
            return true;
        }
    }
}

/// Starts the oldest waiting request, if the disk is idle. A request the
/// drive refuses at once fails there, and the next one is tried.
fn start_next(queue: &mut Queue) {
    while queue.active.is_none() {
        let next = queue
            .requests
            .iter()
            .enumerate()
            .filter_map(|(slot, request)| request.filter(|r| !r.done).map(|r| (slot, r)))
            .min_by_key(|(_, request)| request.ticket);
        let Some((slot, request)) = next else {
            return;
        };
        if start(&request) {
            queue.active = Some(slot);
        } else {
            finish(queue, slot, false);
        }
    }
}

/// Marks the request in `slot` done (failed unless `ok`) and wakes the
/// process waiting for it.
fn finish(queue: &mut Queue, slot: usize, ok: bool) {
    if let Some(request) = &mut queue.requests[slot] {
        request.done = true;
        request.failed = !ok;
    }
    proc::wakeup(WaitChannel::of(&queue.requests[slot]));
}

/// Reads (`write` false) or writes block `blockno` of `device` to or from
/// `data`, sleeping until the disk is done. Fails with
/// [`Error::DiskFailed`] if the drive reports an error (it printed why);
/// after a failed read, `data` holds nothing useful.
pub fn rw(device: u32, blockno: u32, data: &mut [u8; BSIZE], write: bool) -> Result<(), Error> {
    assert_eq!(
        device,
        crate::param::ROOTDEV,
        "ide: only disk 1 holds a file system"
    );
    let mut queue = QUEUE.lock();
    let slot = queue
        .requests
        .iter()
        .position(Option::is_none)
        .expect("ide: more requests than buffers");
    let ticket = queue.next_ticket;
    queue.next_ticket += 1;
    // The interrupt handler writes through this pointer while we sleep
    // below. We hold the only reference to `data` (the &mut) for the whole
    // call and do not touch it until the request is done, so the accesses
    // never overlap.
    queue.requests[slot] = Some(Request {
        data: data as *mut [u8; BSIZE],
        device,
        blockno,
        write,
        ticket,
        done: false,
        failed: false,
    });
    start_next(&mut queue);
    let channel = WaitChannel::of(&queue.requests[slot]);
    while !queue.requests[slot].is_some_and(|request| request.done) {
        queue = proc::sleep(channel, queue);
    }
    let failed = queue.requests[slot].is_some_and(|request| request.failed);
    queue.requests[slot] = None;
    if failed {
        Err(Error::DiskFailed)
    } else {
        Ok(())
    }
}

/// The disk interrupt: the active request is finished.
pub fn interrupt() {
    let mut queue = QUEUE.lock();
    let Some(slot) = queue.active.take() else {
        return; // a stray interrupt
    };
    let request = queue.requests[slot].expect("the active request is queued");
    // wait_ready is false if the drive ended the command with an error.
    let ok = if !wait_ready() {
        report_error(
            if request.write { "write" } else { "read" },
            request.blockno,
        );
        false
    } else {
        if !request.write {
            // SAFETY: `data` is the waiting process's block (see `rw`),
            // which it does not touch until `done` is set below.
            let data = unsafe { &mut *request.data };
            for chunk in data.chunks_exact_mut(4) {
                // SAFETY: reading the data register takes the next 4 bytes.
                chunk.copy_from_slice(&unsafe { inl(DATA) }.to_le_bytes());
            }
        }
        true
    };
    finish(&mut queue, slot, ok);
    start_next(&mut queue);
}
