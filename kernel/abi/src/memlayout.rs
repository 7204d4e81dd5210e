//! The memory layout a user program sees.
//!
//! ```text
//!  USER_TOP     end of the user half; above it (past a non-canonical gap)
//!               the kernel: DIRECT_MAP (all physical memory) and KERNBASE
//!               (the kernel image), which no user access can reach
//!  SHM_END      end of the shared-memory window (abi::shm)
//!  SHMBASE      the shared-memory window: slot i at SHMBASE + i * 128 KiB
//!               heap, grown by sbrk up to SHMBASE
//!               USER_STACK_PAGES of stack
//!               one unmapped guard page
//!  USER_BASE    the program: text, rodata, data, bss (user.ld)
//!  0            page 0, never mapped: a null pointer faults
//! ```
//!
//! The kernel (`kernel/src/memlayout.rs`), the user library and the test
//! programs all take these numbers from here.

/// Size of a page: the unit in which the kernel maps memory.
pub const PGSIZE: usize = 4096;

/// Where a program's image starts (the user linker script, user.ld, links
/// there); page 0 stays unmapped.
pub const USER_BASE: usize = PGSIZE;

/// Pages of a process's user stack, above an unmapped guard page (Rust
/// programs need more than xv6's one page).
pub const USER_STACK_PAGES: usize = 16;

/// Start of the shared-memory window; the heap and program images stay
/// below it.
pub const SHMBASE: usize = 0x4000_0000;

/// End of the user half: every user address is below this.
pub const USER_TOP: usize = 0x0000_8000_0000_0000;

/// Where the kernel maps all of physical memory for its own use: the
/// first address of the kernel half.
pub const DIRECT_MAP: usize = 0xFFFF_8000_0000_0000;

/// Where the kernel image is linked: the top 2 GiB.
pub const KERNBASE: usize = 0xFFFF_FFFF_8000_0000;
