//! Shared memory: the limits and the address window of docs/shm.md.
//!
//! An object lives in one of `NSHM` slots of the kernel's table, and the
//! object in slot `i` is always mapped at `slot_address(i)`, so it has the
//! same address in every process that maps it.

/// Objects in the global table.
pub const NSHM: usize = 64;
/// Shared-memory descriptors per process.
pub const NSHMPROC: usize = 16;
/// Pages per object (128 KiB).
pub const SHM_MAXPAGES: usize = 32;
/// Bytes in a name, not counting the NUL.
pub const SHM_NAME_MAX: usize = 63;
/// Processes that can wait in `shm_wait` at once, on all words together;
/// one more gets -1.
pub const NSHMWAIT: usize = 32;
use crate::memlayout::PGSIZE;
/// Start of the shared-memory window in every address space.
pub use crate::memlayout::SHMBASE;
/// Largest size `shm_trunc` accepts, in bytes.
pub const SHM_MAXSIZE: usize = SHM_MAXPAGES * PGSIZE;
/// Bytes of the window each slot owns: room for the largest object.
pub const SLOT_SIZE: usize = SHM_MAXSIZE;
/// End of the window.
pub const SHM_END: usize = SHMBASE + NSHM * SLOT_SIZE;

/// Where the object in `slot` is mapped.
pub const fn slot_address(slot: usize) -> usize {
    SHMBASE + slot * SLOT_SIZE
}

/// Whether `name` can name an object: 1 to `SHM_NAME_MAX` bytes, none of
/// them NUL. The kernel refuses any other; the user library checks too,
/// to fail before asking it.
pub fn is_valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.len() <= SHM_NAME_MAX && !name.contains(&0)
}
