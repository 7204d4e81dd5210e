//! QEMU's firmware configuration device (fw_cfg), read for the test run's
//! request.
//!
//! QEMU hands data to the machine's firmware through fw_cfg, and lets its
//! user add named files to it (`-fw_cfg name=opt/...,string=...`). The
//! test runner names the test run it wants in one such file
//! (`abi::testrun`), so that every test boots the same image. Only the
//! test kernel reads it.
//!
//! On a PC, fw_cfg is two I/O ports: a 16-bit *selector* and an 8-bit
//! *data* port. Writing a key to the selector picks an item and rewinds
//! it; each read of the data port returns the item's next byte. Two items
//! have fixed keys:
//!
//! - the *signature*, the four bytes `QEMU`, which tell us the device is
//!   there at all (a port with nothing behind it reads as 0xFF);
//! - the *file directory*: a big-endian 32-bit count, then one 64-byte
//!   entry per file: its size (big-endian 32 bits), its key (big-endian 16
//!   bits), two reserved bytes and its name, padded with NULs to 56 bytes.
//!
//! QEMU also offers a DMA interface, which is faster for large items; a
//! request is a few dozen bytes, so byte by byte is all we need.

use x86::io::{inb, outw};

/// The selector port: the key of the item to read.
const SELECTOR_PORT: u16 = 0x510;
/// The data port: the selected item's next byte.
const DATA_PORT: u16 = 0x511;

/// The key of the signature item.
const SIGNATURE_KEY: u16 = 0x0000;
/// The key of the file directory.
const FILE_DIR_KEY: u16 = 0x0019;
/// What the signature item holds when fw_cfg is there.
const SIGNATURE: [u8; 4] = *b"QEMU";
/// The length of a name in a directory entry, NUL padding included.
const NAME_LEN: usize = 56;

/// Why a file could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FwCfgError {
    /// This machine has no fw_cfg device (it is not QEMU).
    NoDevice,
    /// fw_cfg has no file of that name.
    NoFile,
    /// The file is longer than the buffer; it holds this many bytes.
    TooLong(usize),
}

/// Reads the fw_cfg file `name` into `buffer`; returns its length.
pub fn read_file(name: &str, buffer: &mut [u8]) -> Result<usize, FwCfgError> {
    let mut signature = [0; 4];
    read_item(SIGNATURE_KEY, &mut signature);
    if signature != SIGNATURE {
        return Err(FwCfgError::NoDevice);
    }
    // The directory is read as one item, entry after entry: the reads
    // below continue where the count ended.
    let mut count = [0; 4];
    read_item(FILE_DIR_KEY, &mut count);
    for _ in 0..u32::from_be_bytes(count) {
        let mut size = [0; 4];
        let mut key = [0; 2];
        let mut reserved = [0; 2];
        let mut entry_name = [0; NAME_LEN];
        read_next(&mut size);
        read_next(&mut key);
        read_next(&mut reserved);
        read_next(&mut entry_name);
        let name_len = entry_name.iter().position(|&b| b == 0).unwrap_or(NAME_LEN);
        if &entry_name[..name_len] != name.as_bytes() {
            continue;
        }
        let size = u32::from_be_bytes(size) as usize;
        let Some(contents) = buffer.get_mut(..size) else {
            return Err(FwCfgError::TooLong(size));
        };
        read_item(u16::from_be_bytes(key), contents);
        return Ok(size);
    }
    Err(FwCfgError::NoFile)
}

/// Selects the item `key` and reads its first `buffer.len()` bytes.
fn read_item(key: u16, buffer: &mut [u8]) {
    // SAFETY: the test kernel boots only under QEMU, whose PC machine
    // always has fw_cfg at these ports; selecting an item changes nothing
    // but which item the data port reads.
    unsafe { outw(SELECTOR_PORT, key) };
    read_next(buffer);
}

/// Reads the selected item's next `buffer.len()` bytes.
fn read_next(buffer: &mut [u8]) {
    for byte in buffer {
        // SAFETY: as in read_item; reading the data port only moves the
        // item's read position.
        *byte = unsafe { inb(DATA_PORT) };
    }
}
