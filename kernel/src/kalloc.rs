//! The physical page allocator: 4 KiB pages, for page tables, kernel stacks,
//! user memory and pipe buffers.
//!
//! Free pages are kept in two places, under one `SpinLock`:
//!
//! - **the free list**, a singly linked list threaded through the pages
//!   themselves: the first eight bytes of a free page hold the physical
//!   address of the next one (0 ends the list). `kfree` pushes a page here;
//!   `kalloc` pops from here first.
//! - **the untouched ranges**: the RAM that nobody has used since boot, as
//!   a few ranges of addresses. When the list is empty, `kalloc` carves the
//!   next page off a range.
//!
//! Which memory is free at boot: every page of usable RAM in the multiboot2
//! memory map, except the first MiB (BIOS data, CGA buffer, the trampoline
//! that starts the other CPUs), the kernel image and GRUB's boot
//! information. The boot page tables map only the first GiB, so `init` adds
//! the ranges there, and `init_rest` the rest once vm.rs has mapped all of
//! physical memory. Recording ranges rather than linking every page means
//! the boot touches no free page at all: it takes as long with 2 GiB as
//! with 512 MiB.
//!
//! A freed page is filled with `POISON` so that code still using it reads
//! garbage that is easy to recognise: as a pointer, 0xAAAA_AAAA_AAAA_AAAA is
//! not even canonical, so dereferencing it faults at once. (A page fresh
//! from a range holds whatever RAM held, zeroes under QEMU; nobody can be
//! using it by mistake, since nobody was ever given it.)

use core::ops::Range;

use crate::memlayout::{BOOT_DIRECT_MAP_LIMIT, kernel_phys_range, phys_to_virt};
use crate::multiboot;
use crate::param::PGSIZE;
use crate::spinlock::SpinLock;

/// Byte that fills every freed page.
pub const POISON: u8 = 0xAA;

/// Memory below this address is never handed out.
const LOW_MEMORY_END: usize = 0x10_0000;

/// The most untouched ranges: a few per memory-map area (an area is split
/// where the kernel image or the boot information sits in it).
const MAX_RANGES: usize = 32;

struct FreeList {
    /// Physical address of the first page on the list, or 0.
    head: usize,
    /// Number of pages on the list.
    count: usize,
    /// Page-aligned ranges of RAM never handed out; the first `ranges_used`
    /// entries are valid.
    ranges: [Range<usize>; MAX_RANGES],
    ranges_used: usize,
}

static FREE_LIST: SpinLock<FreeList> = SpinLock::new(
    "kalloc",
    FreeList {
        head: 0,
        count: 0,
        ranges: [const { 0..0 }; MAX_RANGES],
        ranges_used: 0,
    },
);

/// Adds the usable memory that the boot page tables map.
pub fn init() {
    add_usable(0..BOOT_DIRECT_MAP_LIMIT);
}

/// Adds the usable memory above the first GiB; call after `vm::init`.
pub fn init_rest() {
    add_usable(BOOT_DIRECT_MAP_LIMIT..usize::MAX);
}

/// Adds every page of usable RAM inside `window` that the kernel does not
/// already use, as untouched ranges.
fn add_usable(window: Range<usize>) {
    let kernel = kernel_phys_range();
    let boot_info = multiboot::phys_range();
    // What no usable area may give: the kernel image and the boot
    // information, in address order.
    let mut holes = [&kernel, &boot_info];
    holes.sort_unstable_by_key(|hole| hole.start);
    let mut free = FREE_LIST.lock();
    for area in multiboot::usable_memory() {
        let start = area.start.max(window.start).max(LOW_MEMORY_END);
        let end = area.end.min(window.end);
        // The area minus the holes: keep what lies between them.
        let mut from = start;
        for hole in holes {
            if hole.start < end && from < hole.end {
                add_range(&mut free, from..hole.start.max(from));
                from = from.max(hole.end);
            }
        }
        add_range(&mut free, from..end);
    }
}

/// Records the whole pages inside `range` as untouched.
fn add_range(free: &mut FreeList, range: Range<usize>) {
    let pages = range.start.next_multiple_of(PGSIZE)..range.end - range.end % PGSIZE;
    if pages.start < pages.end {
        let used = free.ranges_used;
        assert!(used < MAX_RANGES, "kalloc: too many memory ranges");
        free.ranges[used] = pages;
        free.ranges_used += 1;
    }
}

/// Takes one page and returns its physical address, or `None` when memory
/// is exhausted: from the free list if it has one (the page holds poison),
/// else fresh from an untouched range.
pub fn kalloc() -> Option<usize> {
    let mut free = FREE_LIST.lock();
    let page = free.head;
    if page != 0 {
        // SAFETY: `page` is on the free list, so it is a free, direct-mapped
        // page whose first eight bytes hold the next free page's address.
        free.head = unsafe { *(phys_to_virt(page) as *const usize) };
        free.count -= 1;
        return Some(page);
    }
    let used = free.ranges_used;
    let range = free.ranges[..used].iter_mut().find(|r| r.start < r.end)?;
    let page = range.start;
    range.start += PGSIZE;
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
    let free = FREE_LIST.lock();
    let untouched: usize = free.ranges[..free.ranges_used]
        .iter()
        .map(|range| range.len() / PGSIZE)
        .sum();
    free.count + untouched
}

#[cfg(feature = "ktest")]
/// Test: the allocator hands out every free page exactly once, and after
/// all are freed the count is what it was; then, since all of them have
/// now been through `kfree`, a second round finds every page poisoned.
pub fn test_every_page_once() -> crate::verdict::TestResult {
    take_every_page_once(false)?;
    take_every_page_once(true)
}

#[cfg(feature = "ktest")]
/// One round of [`test_every_page_once`]: takes every page, checking the
/// poison if `poisoned`, then frees them all.
///
/// Each allocated page records its position in the sequence and the address
/// of the page allocated before it, so the pages form a chain we can walk
/// back without any other memory. A page handed out twice would have been
/// overwritten with the later position, and the walk would find it.
fn take_every_page_once(poisoned: bool) -> crate::verdict::TestResult {
    let before = free_pages();
    let mut previous = 0usize;
    let mut allocated = 0usize;
    while let Some(page) = kalloc() {
        let words = phys_to_virt(page) as *mut usize;
        // SAFETY: kalloc gave us the page; we are its only user until we
        // free it below.
        unsafe {
            let holds_poison =
                (2..PGSIZE / 8).all(|i| *words.add(i) == usize::from_ne_bytes([POISON; 8]));
            if poisoned && !holds_poison {
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
