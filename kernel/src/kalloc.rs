//! The physical page allocator: 4 KiB pages, for page tables, kernel stacks,
//! user memory and pipe buffers.
//!
//! Free pages are kept in two places:
//!
//! - **the free lists**, one per CPU (`FREE_LISTS[i]` belongs to CPU `i`),
//!   each under its own `SpinLock`: a singly linked list threaded through
//!   the pages themselves, whose first eight bytes hold the physical
//!   address of the next one (0 ends the list). `kfree` pushes a page on
//!   the list of the CPU it runs on; `kalloc` pops from that CPU's list
//!   first. So CPUs that allocate and free at the same time each take
//!   their own lock, and do not wait for one another.
//! - **the untouched ranges** (`UNTOUCHED`, under a lock of its own): the
//!   RAM that nobody has used since boot, as a few ranges of addresses.
//!   When its CPU's list is empty, `kalloc` carves the next page off a
//!   range; when the ranges are used up too, it steals a page from another
//!   CPU's list. Memory runs out only when every list and range is empty.
//!
//! "The CPU it runs on" must not change while it is used: `kalloc` and
//! `kfree` read the CPU's index with interrupts off (`push_off`), which
//! keeps the process on this CPU, and keep them off until the list's own
//! lock does. Which list a page lands on is only a matter of speed; any
//! CPU may take any list's lock.
//!
//! Lock order: `kalloc` and `kfree` hold one of these locks at a time
//! (a steal takes the other CPU's lock only after dropping its own).
//! `free_pages`, which must give an exact count, takes every list's lock
//! in CPU order and then `UNTOUCHED`'s, and holds them all while it sums.
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
//!
//! ## Reference counts
//!
//! A page may have more than one holder: after a copy-on-write `fork`
//! (vm.rs), parent and child map the same physical page until one of them
//! writes to it. So every page of RAM has a reference count, the number of
//! holders, kept in `REFERENCES`, an array with one counter per physical
//! page (indexed by page number, up to the end of the highest usable
//! memory). `init` carves the array out of the first untouched range that
//! holds it, before any page is handed out, so it counts every page
//! `kalloc` will ever give.
//!
//! The rules, which keep the counts consistent:
//!
//! - `kalloc` hands out a page with count 1: the caller is its one holder.
//! - `share` adds a holder. Only a holder may call it (`fork` shares the
//!   pages the parent maps), so the count is at least 1 and the page
//!   cannot be freed meanwhile.
//! - `kfree` drops a holder; the page goes back on the free list only when
//!   the last holder drops it. Every holder calls `kfree` once, whether it
//!   was the first or not: unmapping a page, tearing down an address space
//!   and exec's discarding of the old image need not know whether the page
//!   was shared.
//! - `references` says how many holders there are. When a holder sees 1,
//!   that is a fact and not a guess: only a holder can add one, and the
//!   one looking is the only holder.
//!
//! The counters are atomics, not data under the free list's lock: they
//! change on every fork and copy-on-write fault, on every CPU, and an
//! atomic read-modify-write is the whole critical section. The one
//! decision that needs more is "was this the last reference?", and
//! `fetch_sub` answers it: exactly one holder sees the count go from 1
//! to 0, and only that one frees the page.
//!
//! Pages of shared memory (shm.rs) keep count 1 all their life: the
//! shared-memory table is their one holder here, however many processes
//! map them, and it counts its own references (see shm.rs).

use core::ops::Range;

// LAB cow: solution begins
use core::sync::atomic::{AtomicU16, Ordering};

use spin::Once;

// LAB cow: stub
// LAB cow: end
use crate::cpu::mycpu;
use crate::memlayout::{BOOT_DIRECT_MAP_LIMIT, kernel_phys_range, phys_to_virt};
use crate::multiboot;
use crate::param::{NCPU, PGSIZE};
use crate::spinlock::{SpinLock, pop_off, push_off};

/// Byte that fills every freed page.
pub const POISON: u8 = 0xAA;

/// Memory below this address is never handed out.
const LOW_MEMORY_END: usize = 0x10_0000;

/// The most untouched ranges: a few per memory-map area (an area is split
/// where the kernel image or the boot information sits in it).
const MAX_RANGES: usize = 32;

/// One CPU's free list, on cache lines of its own (the alignment, as for
/// `cpu::Cpu`): each CPU takes its own list's lock all the time, and two
/// lists sharing a line would make CPUs wait for each other's caches.
#[repr(align(128))]
struct FreeList {
    /// Physical address of the first page on the list, or 0.
    head: usize,
    /// Number of pages on the list.
    count: usize,
}

impl FreeList {
    /// Pops the first page, if any.
    fn pop(&mut self) -> Option<usize> {
        let page = self.head;
        if page == 0 {
            return None;
        }
        // SAFETY: `page` is on the free list, so it is a free, direct-mapped
        // page whose first eight bytes hold the next free page's address.
        self.head = unsafe { *(phys_to_virt(page) as *const usize) };
        self.count -= 1;
        Some(page)
    }

    /// Pushes `page` on the front of the list.
    ///
    /// # Safety
    /// `page` must be a free, direct-mapped page of RAM that nobody else
    /// uses: its first eight bytes become the list's link.
    unsafe fn push(&mut self, page: usize) {
        // SAFETY: the caller gives us the page, unused by anyone else.
        unsafe { *(phys_to_virt(page) as *mut usize) = self.head };
        self.head = page;
        self.count += 1;
    }
}

/// The free lists, one per CPU, indexed by `Cpu::index`.
static FREE_LISTS: [SpinLock<FreeList>; NCPU] =
    [const { SpinLock::new("kalloc", FreeList { head: 0, count: 0 }) }; NCPU];

/// The RAM never handed out since boot.
struct Untouched {
    /// Page-aligned ranges; the first `ranges_used` entries are valid.
    ranges: [Range<usize>; MAX_RANGES],
    ranges_used: usize,
}

static UNTOUCHED: SpinLock<Untouched> = SpinLock::new(
    "kalloc untouched",
    Untouched {
        ranges: [const { 0..0 }; MAX_RANGES],
        ranges_used: 0,
    },
);

// LAB cow: solution begins
/// The reference count of every physical page, indexed by page number
/// (see "Reference counts" above). 16 bits are plenty: a page has at most
/// one holder per process (NPROC of them), and `share` checks.
static REFERENCES: Once<&'static [AtomicU16]> = Once::new();

/// The counter of `page`.
fn counter(page: usize) -> &'static AtomicU16 {
    let counts = REFERENCES.get().expect("kalloc::init has not run");
    &counts[page / PGSIZE]
}

/// Makes `REFERENCES`: one counter for every page up to the end of the
/// highest usable memory, in pages taken from the start of the first
/// untouched range (in the first GiB, which the boot page tables map) that
/// holds them all, and zeroed. Those pages are never handed out.
fn init_references(free: &mut Untouched) {
    let top = multiboot::usable_memory()
        .map(|area| area.end)
        .max()
        .unwrap_or(0);
    let counters = top.div_ceil(PGSIZE);
    let bytes = (counters * size_of::<AtomicU16>()).next_multiple_of(PGSIZE);
    let used = free.ranges_used;
    let range = free.ranges[..used]
        .iter_mut()
        .find(|range| range.len() >= bytes)
        .expect("kalloc: no room for the reference counts");
    let start = phys_to_virt(range.start) as *mut AtomicU16;
    range.start += bytes;
    // SAFETY: the pages were untouched RAM, mapped by the boot page tables
    // (the range lies in the first GiB), and are now out of every range, so
    // they are ours for ever; zeroed bytes are valid AtomicU16 zeroes.
    let counts = unsafe {
        core::ptr::write_bytes(start as *mut u8, 0, bytes);
        core::slice::from_raw_parts(start, counters)
    };
    REFERENCES.call_once(|| counts);
}

// LAB cow: stub
// LAB cow: end
/// Adds the usable memory that the boot page tables map.
pub fn init() {
    add_usable(0..BOOT_DIRECT_MAP_LIMIT);
    // LAB cow: solution begins
    init_references(&mut UNTOUCHED.lock());
    // LAB cow: stub
    // LAB cow: end
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
    let mut free = UNTOUCHED.lock();
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
fn add_range(free: &mut Untouched, range: Range<usize>) {
    let pages = range.start.next_multiple_of(PGSIZE)..range.end - range.end % PGSIZE;
    if pages.start < pages.end {
        let used = free.ranges_used;
        assert!(used < MAX_RANGES, "kalloc: too many memory ranges");
        free.ranges[used] = pages;
        free.ranges_used += 1;
    }
}

/// Takes one page and returns its physical address, or `None` when memory
/// is exhausted: from this CPU's free list if it has one (the page holds
/// poison), else fresh from an untouched range, else from another CPU's
/// list. The caller is its one holder.
pub fn kalloc() -> Option<usize> {
    let page = take_page()?;
    // LAB cow: solution begins
    let previous = counter(page).swap(1, Ordering::Relaxed);
    assert_eq!(previous, 0, "kalloc: free page {page:#x} has holders");
    // LAB cow: stub
    // LAB cow: end
    Some(page)
}

/// The index of the CPU this runs on. Interrupts must be off (`push_off`)
/// for as long as the caller relies on the answer.
fn this_cpu() -> usize {
    mycpu().index
}

/// Takes a free page off this CPU's list, else off an untouched range,
/// else off another CPU's list.
fn take_page() -> Option<usize> {
    push_off();
    let me = this_cpu();
    let mine = FREE_LISTS[me].lock().pop();
    pop_off();
    if mine.is_some() {
        return mine;
    }
    let fresh = {
        let mut free = UNTOUCHED.lock();
        let used = free.ranges_used;
        free.ranges[..used]
            .iter_mut()
            .find(|r| r.start < r.end)
            .map(|range| {
                range.start += PGSIZE;
                range.start - PGSIZE
            })
    };
    if fresh.is_some() {
        return fresh;
    }
    // Steal: look at the other lists, starting after ours, so that CPUs
    // short of memory do not all pile onto the same one.
    (1..NCPU)
        .map(|offset| (me + offset) % NCPU)
        .find_map(|other| FREE_LISTS[other].lock().pop())
}

/// Like `kalloc`, but the page is filled with zeroes.
pub fn kalloc_zeroed() -> Option<usize> {
    let page = kalloc()?;
    // SAFETY: kalloc just handed us this page; nobody else can see it.
    unsafe { core::ptr::write_bytes(phys_to_virt(page) as *mut u8, 0, PGSIZE) };
    Some(page)
}

/// Drops the caller's hold on a page; the last holder's `kfree` gives it
/// back to the free list.
///
/// # Safety
/// `page` must be the physical address of a page of RAM that came from
/// `kalloc` and that the caller holds, and the caller must not use it
/// again (other holders, if any, still may).
pub unsafe fn kfree(page: usize) {
    // SAFETY: the caller's promise is the one `free_onto` asks for.
    unsafe { free_onto(page, None) }
}

/// `kfree`, with the page going onto CPU `list`'s free list rather than
/// this CPU's if `list` is given (the tests use it to act as another CPU).
///
/// # Safety
/// As for `kfree`.
unsafe fn free_onto(page: usize, list: Option<usize>) {
    assert!(
        page.is_multiple_of(PGSIZE) && page >= LOW_MEMORY_END,
        "kfree: bad page {page:#x}"
    );
    // LAB cow: solution begins
    // Release: what this holder did with the page happens before the last
    // holder frees it; Acquire: the last holder sees all of that before it
    // poisons the page.
    let previous = counter(page).fetch_sub(1, Ordering::AcqRel);
    assert_ne!(previous, 0, "kfree: page {page:#x} is already free");
    if previous > 1 {
        return; // others still hold it
    }
    // LAB cow: stub
    // LAB cow: end
    let address = phys_to_virt(page) as *mut u8;
    // SAFETY: the caller hands us the page; it is direct-mapped RAM that no
    // one else uses any more.
    unsafe { core::ptr::write_bytes(address, POISON, PGSIZE) };
    push_off();
    let mut free = FREE_LISTS[list.unwrap_or_else(this_cpu)].lock();
    pop_off(); // the guard keeps interrupts off from here on
    // SAFETY: as above: the page is free, and ours alone.
    unsafe { free.push(page) };
}

// LAB cow: solution begins
/// Adds a holder to `page`, which the caller holds (so it cannot be freed
/// meanwhile): copy-on-write `fork` gives the child the parent's pages.
pub fn share(page: usize) {
    let previous = counter(page).fetch_add(1, Ordering::Relaxed);
    assert!(
        previous != 0 && previous < u16::MAX,
        "share: page {page:#x} has {previous} holders"
    );
}

/// How many holders `page` has. Called by one of them: 1 means the caller
/// is the only one, and stays so (only a holder can add one).
pub fn references(page: usize) -> usize {
    // Acquire: pairs with the Release of the holders' `kfree`, so that
    // what they did with the page happened before the caller takes it over.
    usize::from(counter(page).load(Ordering::Acquire))
}

// LAB cow: stub
// LAB cow: end
/// How many pages are free right now: every list and range counted at
/// one instant, with all their locks held (in the order the module doc
/// gives).
pub fn free_pages() -> usize {
    let lists = FREE_LISTS.each_ref().map(|list| list.lock());
    let free = UNTOUCHED.lock();
    let untouched: usize = free.ranges[..free.ranges_used]
        .iter()
        .map(|range| range.len() / PGSIZE)
        .sum();
    lists.iter().map(|list| list.count).sum::<usize>() + untouched
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

#[cfg(feature = "ktest")]
/// Test: pages freed on one CPU can be allocated on another. Frees pages
/// onto every CPU's list in turn (as if each CPU freed some), checks that
/// the free count is exact, and then that allocating every free page
/// finds them all, stealing from the lists of the other CPUs.
pub fn test_pages_move_between_cpus() -> crate::verdict::TestResult {
    const PAGES: usize = 4 * NCPU;
    let before = free_pages();
    let mut pages = [0usize; PAGES];
    for page in pages.iter_mut() {
        *page = kalloc().ok_or("no free page")?;
    }
    if free_pages() != before - PAGES {
        return Err("the free count does not drop by the pages allocated");
    }
    for (i, &page) in pages.iter().enumerate() {
        // SAFETY: kalloc gave us the page and we do not use it again.
        unsafe { free_onto(page, Some(i % NCPU)) };
    }
    if free_pages() != before {
        return Err("pages freed onto other CPUs' lists are not counted");
    }
    take_every_page_once(false)
}

// LAB cow: solution begins
#[cfg(feature = "ktest")]
/// Test: a page with two holders goes back to the free list only when the
/// second lets it go, and its count follows each step.
pub fn test_shared_page_freed_last() -> crate::verdict::TestResult {
    let before = free_pages();
    let page = kalloc().ok_or("no free page")?;
    if references(page) != 1 {
        return Err("a page fresh from kalloc does not have one holder");
    }
    share(page);
    if references(page) != 2 {
        return Err("share did not add a holder");
    }
    // SAFETY: we hold the page twice and use it no more.
    unsafe { kfree(page) };
    if references(page) != 1 || free_pages() != before - 1 {
        return Err("the first of two holders' kfree freed the page");
    }
    // SAFETY: as above, the last hold.
    unsafe { kfree(page) };
    if references(page) != 0 || free_pages() != before {
        return Err("the last holder's kfree did not free the page");
    }
    Ok(())
}

// LAB cow: stub
// LAB cow: end
