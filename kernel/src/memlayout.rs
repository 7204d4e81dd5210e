//! The kernel's view of memory: every address constant lives here.
//!
//! ```text
//!  virtual address                         what is there
//!  0xFFFF_FFFF_FFFF_FFFF  +-------------------------------+
//!                         | kernel image (text, rodata,   |  KERNBASE + physical,
//!                         | data, bss), linked here       |  code-model=kernel
//!  0xFFFF_FFFF_8000_0000  +-------------------------------+  KERNBASE
//!                         |            unused             |
//!  0xFFFF_FF00_0000_0000  +-------------------------------+  KSTACKS: one kernel
//!                         | process kernel stacks, each   |  stack per process
//!                         | above an unmapped guard page  |  slot, mapped at boot
//!                         +-------------------------------+
//!                         |            unused             |
//!                         +-------------------------------+
//!                         | all physical memory, mapped   |  DIRECT_MAP + physical
//!                         | 1:1 (the "direct map")        |
//!  0xFFFF_8000_0000_0000  +-------------------------------+  DIRECT_MAP
//!                         |   non-canonical: no mapping   |
//!  0x0000_7FFF_FFFF_FFFF  +-------------------------------+
//!                         |            unused             |
//!  SHMBASE + 8 MiB        +-------------------------------+
//!                         | shared-memory window: 64      |  SHMBASE + i * 128 KiB
//!                         | slots of 128 KiB (docs/shm.md)|  for slot i
//!  0x0000_0000_4000_0000  +-------------------------------+  SHMBASE
//!                         | heap, grown by sbrk           |
//!                         | user stack (USER_STACK_PAGES) |
//!                         | unmapped guard page           |
//!                         | program text, data, bss       |
//!  0x0000_0000_0000_1000  +-------------------------------+
//!                         | page 0: never mapped          |
//!  0x0000_0000_0000_0000  +-------------------------------+
//! ```
//!
//! The physical side: the kernel image is loaded at 1 MiB (kernel.ld's
//! `kernel_phys_start`);
//! the first MiB holds the BIOS data, the CGA text buffer and the trampoline
//! that starts the other CPUs, so the page allocator never hands it out.
//!
//! Kernel code reaches a physical address `pa` at `DIRECT_MAP + pa`
//! ([`phys_to_virt`]); a kernel virtual address in the direct map or in the
//! image turns back into a physical one with [`virt_to_phys`].

/// Where the kernel image is linked, the top 2 GiB of the address space;
/// where all physical memory is mapped for the kernel's own use; the end
/// of the user half; the start of the shared-memory window. User programs
/// see these addresses too (their tests check they cannot reach the
/// kernel's), so they are defined in `abi::memlayout`.
pub use abi::memlayout::{DIRECT_MAP, KERNBASE, SHMBASE, USER_TOP};

/// Where the kernel stacks of the process slots live (see proc.rs).
pub const KSTACKS: usize = 0xFFFF_FF00_0000_0000;

/// How much physical memory the boot page tables (entry.S) map at
/// DIRECT_MAP: the first GiB.
pub const BOOT_DIRECT_MAP_LIMIT: usize = 1 << 30;

/// Physical address of the CGA text-mode buffer.
pub const CGA_PHYS: usize = 0xB8000;

/// The kernel virtual address at which the direct map shows the physical
/// address `pa`.
pub fn phys_to_virt(pa: usize) -> usize {
    pa + DIRECT_MAP
}

/// The physical address behind a kernel virtual address, which must lie in the
/// direct map or in the kernel image.
pub fn virt_to_phys(va: usize) -> usize {
    if va >= KERNBASE {
        va - KERNBASE
    } else {
        assert!(
            va >= DIRECT_MAP,
            "virt_to_phys: {va:#x} is not a kernel address"
        );
        va - DIRECT_MAP
    }
}

// Symbols defined by kernel.ld. Only their addresses mean anything.
unsafe extern "C" {
    static kernel_phys_start: u8;
    static text_start: u8;
    static text_end: u8;
    static rodata_end: u8;
    static kernel_end: u8;
}

/// The kernel image's sections, as kernel virtual address ranges.
pub struct KernelImage {
    /// First byte of the image (the boot code at 1 MiB, seen at KERNBASE + 1 MiB).
    pub start: usize,
    /// Code: read-only and executable.
    pub text: core::ops::Range<usize>,
    /// Read-only data: neither writable nor executable.
    pub rodata: core::ops::Range<usize>,
    /// Data and bss: writable, not executable. Ends at the end of the image.
    pub data: core::ops::Range<usize>,
}

/// The physical memory the kernel image occupies.
pub fn kernel_phys_range() -> core::ops::Range<usize> {
    let image = kernel_image();
    virt_to_phys(image.start)..virt_to_phys(image.data.end)
}

/// Where the linker placed each part of the kernel.
pub fn kernel_image() -> KernelImage {
    // The linker symbols are only ever used for their addresses; taking the
    // address of an extern static is safe.
    let start = KERNBASE + &raw const kernel_phys_start as usize;
    let text_start_va = &raw const text_start as usize;
    let text_end_va = &raw const text_end as usize;
    let rodata_end_va = &raw const rodata_end as usize;
    let end = &raw const kernel_end as usize;
    KernelImage {
        start,
        text: text_start_va..text_end_va,
        rodata: text_end_va..rodata_end_va,
        data: rodata_end_va..end,
    }
}
