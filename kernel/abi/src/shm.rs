//! Shared memory: the limits and the address window of SHM-SPEC.md.
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
/// Start of the shared-memory window in every address space.
pub const SHMBASE: usize = 0x4000_0000;
/// Size of a page.
pub const PGSIZE: usize = 4096;
/// Largest size `shm_trunc` accepts, in bytes.
pub const SHM_MAXSIZE: usize = SHM_MAXPAGES * PGSIZE;
/// Bytes of the window each slot owns.
pub const SLOT_SIZE: usize = SHM_MAXPAGES * PGSIZE;
/// End of the window.
pub const SHM_END: usize = SHMBASE + NSHM * SLOT_SIZE;

/// Where the object in `slot` is mapped.
pub const fn slot_address(slot: usize) -> usize {
    SHMBASE + slot * SLOT_SIZE
}
