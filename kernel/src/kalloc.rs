//! The physical page allocator: 4 KiB pages, for page tables, kernel stacks,
//! user memory and pipe buffers.
//!
//! Free pages form a singly linked list threaded through the pages
//! themselves: the first eight bytes of a free page hold the physical address
//! of the next one (0 ends the list). `kalloc` pops the head, `kfree` pushes.
//! One `SpinLock` guards the list and the count of free pages.
//!
//! Which pages are free at boot: every page of usable RAM in the multiboot2
//! memory map, except the first MiB (BIOS data, CGA buffer, the trampoline
//! that starts the other CPUs), the kernel image and GRUB's boot
//! information. The boot page tables map only the first GiB, so `init` frees
//! the pages there, and `init_rest` frees the rest once vm.rs has mapped all
//! of physical memory.
//!
//! A freed page is filled with `POISON` so that code still using it reads
//! garbage that is easy to recognise: as a pointer, 0xAAAA_AAAA_AAAA_AAAA is
//! not even canonical, so dereferencing it faults at once.

use core::ops::Range;

use crate::memlayout::{BOOT_DIRECT_MAP_LIMIT, kernel_phys_range, phys_to_virt};
use crate::multiboot;
use crate::param::PGSIZE;
use crate::spinlock::SpinLock;

/// Byte that fills every freed page.
pub const POISON: u8 = 0xAA;

/// Memory below this address is never handed out.
const LOW_MEMORY_END: usize = 0x10_0000;

struct FreeList {
    /// Physical address of the first free page, or 0.
    head: usize,
    /// Number of pages on the list.
    count: usize,
}

static FREE_LIST: SpinLock<FreeList> = SpinLock::new("kalloc", FreeList { head: 0, count: 0 });

/// Frees the usable pages that the boot page tables map.
pub fn init() {
    free_usable(0..BOOT_DIRECT_MAP_LIMIT);
}

/// Frees the usable pages above the first GiB; call after `vm::init`.
pub fn init_rest() {
    free_usable(BOOT_DIRECT_MAP_LIMIT..usize::MAX);
}

/// Frees every page of usable RAM inside `window` that the kernel does not
/// already use.
fn free_usable(window: Range<usize>) {
    let kernel = kernel_phys_range();
    let boot_info = multiboot::phys_range();
    for area in multiboot::usable_memory() {
        let start = area.start.max(window.start).max(LOW_MEMORY_END);
        let end = area.end.min(window.end);
        let mut page = start.next_multiple_of(PGSIZE);
        while page + PGSIZE <= end {
            let this_page = page..page + PGSIZE;
            if !overlaps(&this_page, &kernel) && !overlaps(&this_page, &boot_info) {
                // SAFETY: the page is usable RAM (memory map), mapped by the
                // direct map (inside `window`), and not part of the kernel
                // image or of the boot information; nobody else owns it.
                unsafe { kfree(page) };
            }
            page += PGSIZE;
        }
    }
}

fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

/// Takes one page off the free list and returns its physical address, or
/// `None` when memory is exhausted. The page holds poison, not zeroes.
pub fn kalloc() -> Option<usize> {
    let mut free = FREE_LIST.lock();
    let page = free.head;
    if page == 0 {
        return None;
    }
    // SAFETY: `page` is on the free list, so it is a free, direct-mapped page
    // whose first eight bytes hold the next free page's address.
    free.head = unsafe { *(phys_to_virt(page) as *const usize) };
    free.count -= 1;
    Some(page)
}

/// Like `kalloc`, but the page is filled with zeroes.
pub fn kalloc_zeroed() -> Option<usize> {
    let page = kalloc()?;
    // SAFETY: kalloc just handed us this page; nobody else can see it.
    unsafe { core::ptr::write_bytes(phys_to_virt(page) as *mut u8, 0, PGSIZE) };
    Some(page)
}

/// Gives a page back.
///
/// # Safety
/// `page` must be the physical address of a page of RAM that came from
/// `kalloc` (or is being handed to the allocator for the first time by
/// `init`) and that nothing will use again.
pub unsafe fn kfree(page: usize) {
    assert!(
        page.is_multiple_of(PGSIZE) && page >= LOW_MEMORY_END,
        "kfree: bad page {page:#x}"
    );
    let address = phys_to_virt(page) as *mut u8;
    // SAFETY: the caller hands us the page; it is direct-mapped RAM that no
    // one else uses any more.
    unsafe { core::ptr::write_bytes(address, POISON, PGSIZE) };
    let mut free = FREE_LIST.lock();
    // SAFETY: as above; the first eight bytes become the list link.
    unsafe { *(address as *mut usize) = free.head };
    free.head = page;
    free.count += 1;
}

/// How many pages are free right now.
pub fn free_pages() -> usize {
    FREE_LIST.lock().count
}

/// Test: the allocator hands out every free page exactly once, each holds
/// the poison, and after all are freed the count is what it was.
///
/// Each allocated page records its position in the sequence and the address
/// of the page allocated before it, so the pages form a chain we can walk
/// back without any other memory. A page handed out twice would have been
/// overwritten with the later position, and the walk would find it.
pub fn test_every_page_once() -> crate::verdict::TestResult {
    let before = free_pages();
    let mut previous = 0usize;
    let mut allocated = 0usize;
    while let Some(page) = kalloc() {
        let words = phys_to_virt(page) as *mut usize;
        // SAFETY: kalloc gave us the page; we are its only user until we
        // free it below.
        unsafe {
            let poisoned =
                (2..PGSIZE / 8).all(|i| *words.add(i) == usize::from_ne_bytes([POISON; 8]));
            if !poisoned {
                return Err("an allocated page does not hold the poison");
            }
            *words = allocated;
            *words.add(1) = previous;
        }
        previous = page;
        allocated += 1;
    }
    let mut expected_position = allocated;
    while previous != 0 {
        expected_position -= 1;
        let words = phys_to_virt(previous) as *mut usize;
        // SAFETY: every page on the chain is still ours (allocated above).
        let (position, next) = unsafe { (*words, *words.add(1)) };
        if position != expected_position {
            return Err("a page was handed out twice");
        }
        // SAFETY: the page came from kalloc and we do not touch it again.
        unsafe { kfree(previous) };
        previous = next;
    }
    if allocated != before {
        return Err("the number of pages handed out differs from the free count");
    }
    if free_pages() != before {
        return Err("the free count was not restored");
    }
    Ok(())
}
