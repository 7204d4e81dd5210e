//! Every limit of the kernel, in one place.

/// Most CPUs the kernel will start (more in the ACPI tables are ignored).
pub const NCPU: usize = 8;

/// Size of a page, the unit of the page allocator and of page tables.
pub const PGSIZE: usize = 4096;

/// Timer interrupts per second.
pub const TICKS_PER_SECOND: u64 = 100;

/// Size of the kernel stack of each CPU's scheduler, and of the boot stack.
pub const KSTACK_PAGES: usize = 4;
