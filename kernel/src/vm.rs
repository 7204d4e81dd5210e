//! Virtual memory: four-level page tables and the kernel's address space.
//!
//! x86_64 translates a virtual address through four tables of 512 entries:
//! PML4 -> PDPT -> PD -> PT -> 4 KiB page. Bits 47..39 of the address index
//! the PML4, 38..30 the PDPT, 29..21 the PD and 20..12 the PT. A PD entry
//! with the PS bit maps a whole 2 MiB page and ends the walk early. The entry
//! types and flags come from the `x86` crate.
//!
//! The kernel's address space (see memlayout.rs) is built once, by `init`:
//!
//! - the direct map: all RAM (and the ACPI tables) at `DIRECT_MAP + pa`,
//!   with 2 MiB pages, writable, never executable;
//! - the kernel image at `KERNBASE + pa`, with 4 KiB pages: text read-only
//!   and executable, rodata read-only, data and bss writable; nothing is
//!   both writable and executable; the guard page below each CPU's own
//!   stack is left out (`arch::mp::stack_guard_pages`, passed in by `kernel_entry`);
//! - device registers (`map_mmio`), uncached, inside the direct map.
//!
//! Every process's page table shares the kernel half: it copies the kernel
//! PML4's upper 256 entries. So the kernel creates all its PML4 entries in
//! `init`, and later kernel mappings only fill in lower-level tables, which
//! every address space then sees. Page-table pages come from kalloc.
//!
//! Page tables are reached through one type, `PageTable`, whose walks
//! borrow it: an entry found by a walk cannot outlive it or meet another.
//! The kernel's own table is one (built by `init`, later changed only by
//! `map_kernel_page` and `map_mmio`, under a lock); every process has
//! another inside its [`AddressSpace`].
//!
//! A process's user half is an [`AddressSpace`]: program image from 0x1000,
//! a guard page, the stack, the heap up to `size` (see memlayout.rs). Pages
//! in `0..size` may be missing (page 0, the guard page): the functions that
//! walk the range skip them. Every user page this module maps is held by
//! the address space (one of the holders that kalloc.rs counts), except
//! pages marked `SHARED` (shared memory, held by shm.rs); dropping the
//! address space lets go of its pages (`kfree`, which frees a page once
//! its last holder lets go) and frees its page tables, and leaves the
//! shared ones alone.
//!
//! ## Copy-on-write fork
//!
//! `AddressSpace::fork` copies no page. The child's page table maps the
//! parent's very pages, and each page gets one more holder (kalloc.rs
//! counts them). A page that was writable becomes read-only in both, and
//! is marked `COW`, one of the bits the CPU leaves to the software (bit
//! 10; `SHARED` is bit 9). The first write to it, by either process,
//! faults (trap.rs), and `copy_on_write` gives the writer a writable page
//! of its own: a copy, or the page itself when the writer is its last
//! holder (the other has written, and copied, already, or has exited), so
//! that of two processes only the first writer copies. Pages that were
//! read-only (program text) are shared as they are, for good: a write to
//! them is a fault that kills, as before.
//!
//! The kernel writes user memory through the direct map, which is always
//! writable. CR0.WP, which entry.S sets, makes the CPU honour read-only
//! pages in kernel mode too, but only for accesses through the user's
//! addresses, which the kernel never makes (and SMAP, where the CPU has
//! it, forbids). So no fault would warn the kernel that it is about to
//! write into a page that another process shares: [`copy_out`], the only
//! way the kernel writes user memory, gives every copy-on-write page of
//! its destination a copy of its own first, before it writes a byte.
//!
//! Shared memory is never copy-on-write: its pages are `SHARED`, lie above
//! the heap (where `fork` does not look), and shm.rs maps them into the
//! child itself, writable as they were, so that both keep writing the same
//! page.
//!
//! The TLB: a CPU caches translations, and a change to an entry must be
//! flushed from every CPU that may hold the old one. Here that is only the
//! CPU running the process: a process has one thread, so its address space
//! is active on one CPU at a time, and a CPU that stops running it loads
//! another page table (the scheduler's, `switch_to_kernel`), which drops
//! every user translation (user pages are not global, and the kernel does
//! not use PCIDs). So `fork` reloads CR3 once after making the parent's
//! pages read-only, and `copy_on_write` flushes the one page it changed.
//! (Threads sharing an address space would need a shootdown: an interrupt
//! asking every CPU running one of them to flush too.)
//!
//! User memory is reached by the kernel only through [`copy_in`],
//! [`copy_out`] and [`copy_in_str`], which check every byte of the range
//! against the page table first. The kernel never dereferences a user
//! pointer.

use x86::bits64::paging::{
    PAddr, PD, PDEntry, PDFlags, PDPT, PDPTEntry, PDPTFlags, PML4, PML4Entry, PML4Flags, PT,
    PTEntry, PTFlags, VAddr, pd_index, pdpt_index, pml4_index, pt_index,
};
use x86::controlregs::cr3_write;

use crate::error::Error;
// LAB cow: solution begins
use crate::kalloc::{references, share};
// LAB cow: stub
// LAB cow: end
use crate::kalloc::{kalloc, kalloc_zeroed, kfree};
use crate::memlayout::{DIRECT_MAP, USER_TOP, kernel_image, phys_to_virt, virt_to_phys};
use crate::multiboot;
use crate::param::PGSIZE;
use crate::spinlock::SpinLock;
use spin::Once;

/// Size of a large page, mapped by one PD entry.
const LARGE_PAGE: usize = 2 << 20;

const FOUR_GIB: usize = 1 << 32;

/// Physical address of the kernel's PML4, for loading CR3 without a lock
/// (the scheduler does it with a process lock held).
static KERNEL_ROOT: Once<PAddr> = Once::new();

/// The kernel's page table, for the mappings made after `init`: kernel
/// stacks (proc.rs) and device registers (`map_mmio`).
static KERNEL_TABLE: SpinLock<Option<PageTable>> = SpinLock::new("kernel page table", None);

/// Why a mapping could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapError {
    /// No free page for a page-table page.
    OutOfMemory,
    /// Something is mapped there already.
    AlreadyMapped,
}

/// The table of type `T` at physical address `pa`.
///
/// # Safety
/// `pa` must be a page-table page of the right level, direct-mapped, and the
/// caller must not let two `&mut` to one table live at once.
unsafe fn table<'a, T>(pa: PAddr) -> &'a mut T {
    // SAFETY: per the caller's promise.
    unsafe { &mut *(phys_to_virt(pa.as_usize()) as *mut T) }
}

/// An entry of the upper three levels, which points at the next table.
trait Directory: Copy {
    fn is_present(self) -> bool;
    /// A 2 MiB (or 1 GiB) page that ends the walk here.
    fn is_large(self) -> bool;
    fn next_table(self) -> PAddr;
    /// An entry pointing at `table`. Permissions are given by the leaf, so an
    /// upper entry allows everything, but user access only in the user half.
    fn pointing_to(table: PAddr, user: bool) -> Self;
    /// An entry that is not present.
    fn cleared() -> Self;
}

impl Directory for PML4Entry {
    fn is_present(self) -> bool {
        PML4Entry::is_present(self)
    }
    fn is_large(self) -> bool {
        false
    }
    fn next_table(self) -> PAddr {
        self.address()
    }
    fn pointing_to(table: PAddr, user: bool) -> Self {
        let mut flags = PML4Flags::P | PML4Flags::RW;
        flags.set(PML4Flags::US, user);
        PML4Entry::new(table, flags)
    }
    fn cleared() -> Self {
        PML4Entry(0)
    }
}

impl Directory for PDPTEntry {
    fn is_present(self) -> bool {
        PDPTEntry::is_present(self)
    }
    fn is_large(self) -> bool {
        self.is_page()
    }
    fn next_table(self) -> PAddr {
        self.address()
    }
    fn pointing_to(table: PAddr, user: bool) -> Self {
        let mut flags = PDPTFlags::P | PDPTFlags::RW;
        flags.set(PDPTFlags::US, user);
        PDPTEntry::new(table, flags)
    }
    fn cleared() -> Self {
        PDPTEntry(0)
    }
}

impl Directory for PDEntry {
    fn is_present(self) -> bool {
        PDEntry::is_present(self)
    }
    fn is_large(self) -> bool {
        self.is_page()
    }
    fn next_table(self) -> PAddr {
        self.address()
    }
    fn pointing_to(table: PAddr, user: bool) -> Self {
        let mut flags = PDFlags::P | PDFlags::RW;
        flags.set(PDFlags::US, user);
        PDEntry::new(table, flags)
    }
    fn cleared() -> Self {
        PDEntry(0)
    }
}

/// Follows `entry` to the next table, first creating that table (zeroed) if
/// `create` is set and there is none. `None` if there is no table and we may
/// not or cannot create one, or if the entry maps a large page.
fn descend<E: Directory>(entry: &mut E, user: bool, create: bool) -> Option<PAddr> {
    if !entry.is_present() {
        if !create {
            return None;
        }
        let page = kalloc_zeroed()?;
        *entry = E::pointing_to(PAddr::from(page), user);
    }
    if entry.is_large() {
        return None;
    }
    Some(entry.next_table())
}

fn is_user_address(va: usize) -> bool {
    va < DIRECT_MAP
}

/// Marks a user page that the address space does not own (shared memory):
/// teardown unmaps it without freeing it.
pub const SHARED: PTFlags = PTFlags::USER_9;

// LAB cow: solution begins
/// Marks a page that its process may write but that `fork` made
/// read-only, because it is (or was) shared with another process: a write
/// copies it first (`AddressSpace::copy_on_write`).
pub const COW: PTFlags = PTFlags::USER_10;

/// Why `AddressSpace::copy_on_write` could not make a page writable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CowError {
    /// The address is not a copy-on-write page: the write is a real fault.
    NotCopyOnWrite,
    /// No free page for the copy.
    OutOfMemory,
}

// LAB cow: stub
// LAB cow: end

/// A four-level page table, named by its PML4. Every walk borrows the
/// table: an entry found by `walk` lives only as long as that borrow, so
/// no two walks can hand out the same entry at once. (The tables
/// themselves are pages reached through the direct map.)
struct PageTable {
    pml4: PAddr,
}

impl PageTable {
    /// The PD entry that covers `va`, creating the tables above it if
    /// `create`.
    fn walk_pd(&mut self, va: usize, create: bool) -> Option<&mut PDEntry> {
        let user = is_user_address(va);
        let vaddr = VAddr::from_usize(va);
        // SAFETY: `pml4` is a PML4 page; each level's address comes from
        // the entry above it, so it is a table of the next level; `&mut
        // self` makes this the only walk of the table going on.
        let pml4: &mut PML4 = unsafe { table(self.pml4) };
        let pdpt = descend(&mut pml4[pml4_index(vaddr)], user, create)?;
        // SAFETY: as above.
        let pdpt: &mut PDPT = unsafe { table(pdpt) };
        let pd = descend(&mut pdpt[pdpt_index(vaddr)], user, create)?;
        // SAFETY: as above.
        let pd: &mut PD = unsafe { table(pd) };
        Some(&mut pd[pd_index(vaddr)])
    }

    /// The PT entry (leaf) for `va`, creating the tables on the way if
    /// `create`.
    fn walk(&mut self, va: usize, create: bool) -> Option<&mut PTEntry> {
        let user = is_user_address(va);
        let pt = descend(self.walk_pd(va, create)?, user, create)?;
        // SAFETY: `pt` came from a PD entry that is not a large page, so it
        // is a page table; see walk_pd for the aliasing rule.
        let pt: &mut PT = unsafe { table(pt) };
        Some(&mut pt[pt_index(VAddr::from_usize(va))])
    }

    /// A copy of the leaf entry for `va`, if its tables exist.
    fn lookup(&self, va: usize) -> Option<PTEntry> {
        let vaddr = VAddr::from_usize(va);
        // SAFETY: as in walk_pd; the tables are only read, and `&self`
        // rules out a walk that changes them meanwhile.
        unsafe {
            let pml4: &PML4 = table(self.pml4);
            let pdpt: &PDPT = table(present_table(pml4[pml4_index(vaddr)])?);
            let pd: &PD = table(present_table(pdpt[pdpt_index(vaddr)])?);
            let pt: &PT = table(present_table(pd[pd_index(vaddr)])?);
            Some(pt[pt_index(vaddr)])
        }
    }

    /// Maps the 4 KiB page at `va` to physical `pa` with `flags` (P is
    /// added).
    fn map_page(&mut self, va: usize, pa: usize, flags: PTFlags) -> Result<(), MapError> {
        let entry = self.walk(va, true).ok_or(MapError::OutOfMemory)?;
        if entry.is_present() {
            return Err(MapError::AlreadyMapped);
        }
        *entry = PTEntry::new(PAddr::from(pa), flags | PTFlags::P);
        Ok(())
    }

    /// Maps the 2 MiB page at `va` to physical `pa` with `flags` (P, PS
    /// added).
    fn map_large_page(&mut self, va: usize, pa: usize, flags: PDFlags) -> Result<(), MapError> {
        let entry = self.walk_pd(va, true).ok_or(MapError::OutOfMemory)?;
        if entry.is_present() {
            return Err(MapError::AlreadyMapped);
        }
        *entry = PDEntry::new(PAddr::from(pa), flags | PDFlags::P | PDFlags::PS);
        Ok(())
    }
}

/// The next table an upper entry points at, if it is present and not a
/// large page.
fn present_table<E: Directory>(entry: E) -> Option<PAddr> {
    (entry.is_present() && !entry.is_large()).then(|| entry.next_table())
}

/// The kernel's PML4.
fn kernel_pml4() -> PAddr {
    *KERNEL_ROOT.get().expect("vm::init has not run")
}

/// Maps the 4 KiB page at kernel address `va` to physical `pa` with
/// `flags` in the kernel's page table, which every address space shares.
pub fn map_kernel_page(va: usize, pa: usize, flags: PTFlags) -> Result<(), MapError> {
    assert!(
        !is_user_address(va),
        "map_kernel_page: {va:#x} is a user address"
    );
    KERNEL_TABLE
        .lock()
        .as_mut()
        .expect("vm::init has not run")
        .map_page(va, pa, flags)
}

/// Builds the kernel's page table and switches this CPU to it, leaving
/// the pages in `guard_pages` (below each CPU's own stack) unmapped.
pub fn init(guard_pages: &[usize]) {
    let pml4 = PAddr::from(kalloc_zeroed().expect("vm: no memory for the kernel page table"));
    let mut kernel = PageTable { pml4 };

    // The direct map covers every area of the memory map that is RAM or
    // ACPI data, and every area below 4 GiB (firmware often keeps the ACPI
    // tables in "reserved" memory there), rounded out to 2 MiB pages.
    for area in multiboot::memory_areas() {
        let (start, end) = (area.start_address() as usize, area.end_address() as usize);
        if !multiboot::is_memory(area) && end > FOUR_GIB {
            continue;
        }
        let first = start - start % LARGE_PAGE;
        for pa in (first..end).step_by(LARGE_PAGE) {
            match kernel.map_large_page(DIRECT_MAP + pa, pa, PDFlags::RW | PDFlags::XD) {
                Ok(()) | Err(MapError::AlreadyMapped) => {}
                Err(MapError::OutOfMemory) => panic!("vm: no memory for the direct map"),
            }
        }
    }

    let image = kernel_image();
    let sections = [
        (image.start..image.text.start, PTFlags::XD), // boot code, done with
        (image.text.clone(), PTFlags::empty()),
        (image.rodata.clone(), PTFlags::XD),
        (image.data.clone(), PTFlags::RW | PTFlags::XD),
    ];
    for (range, flags) in sections {
        for va in range.step_by(PGSIZE) {
            if guard_pages.contains(&va) {
                continue; // below a CPU's stack: stays unmapped
            }
            kernel
                .map_page(va, virt_to_phys(va), flags)
                .expect("vm: cannot map the kernel");
        }
    }

    KERNEL_ROOT.call_once(|| pml4);
    *KERNEL_TABLE.lock() = Some(kernel);
    switch_to_kernel();
}

/// Loads the kernel's page table on this CPU.
pub fn switch_to_kernel() {
    // SAFETY: the kernel page table maps the running code, its stack and all
    // kernel data exactly where the boot tables did (minus the identity map
    // of low memory, which no kernel code uses after boot).
    unsafe { cr3_write(kernel_pml4().as_u64()) };
}

/// Maps `size` bytes of device registers at physical `pa` into the direct
/// map, uncached, and returns their kernel virtual address. Registers already
/// mapped stay as they are.
pub fn map_mmio(pa: usize, size: usize) -> usize {
    let first = pa & !(PGSIZE - 1);
    for page in (first..pa + size).step_by(PGSIZE) {
        let flags = PTFlags::RW | PTFlags::PCD | PTFlags::PWT | PTFlags::XD;
        match map_kernel_page(phys_to_virt(page), page, flags) {
            Ok(()) | Err(MapError::AlreadyMapped) => {}
            Err(MapError::OutOfMemory) => panic!("map_mmio: cannot map {page:#x}"),
        }
    }
    phys_to_virt(pa)
}

#[cfg(feature = "ktest")]
/// Test: the kernel image is mapped with the permissions its sections need,
/// and nothing is both writable and executable.
pub fn test_kernel_permissions() -> crate::verdict::TestResult {
    let image = kernel_image();
    let mut guard = KERNEL_TABLE.lock();
    let kernel = guard.as_mut().ok_or("vm::init has not run")?;
    let flags_of = |va: usize| kernel.lookup(va).map(|entry| entry.flags());
    let text = flags_of(image.text.start).ok_or("kernel text is not mapped")?;
    if text.contains(PTFlags::RW) || text.contains(PTFlags::XD) {
        return Err("kernel text must be read-only and executable");
    }
    let rodata = flags_of(image.rodata.start).ok_or("kernel rodata is not mapped")?;
    if rodata.contains(PTFlags::RW) || !rodata.contains(PTFlags::XD) {
        return Err("kernel rodata must be read-only and not executable");
    }
    let data = flags_of(image.data.start).ok_or("kernel data is not mapped")?;
    if !data.contains(PTFlags::RW) || !data.contains(PTFlags::XD) {
        return Err("kernel data must be writable and not executable");
    }
    let direct = *kernel
        .walk_pd(DIRECT_MAP, false)
        .ok_or("direct map missing")?;
    if !direct.is_page() || !direct.flags().contains(PDFlags::XD) {
        return Err("the direct map must use large, non-executable pages");
    }
    if kernel
        .lookup(0x1000)
        .is_some_and(|entry| entry.is_present())
    {
        return Err("low memory is still identity-mapped");
    }
    Ok(())
}

// LAB cow: solution begins
#[cfg(feature = "ktest")]
/// Test: a copy-on-write fork, step by step, on an address space of two
/// pages. Fork allocates page tables but copies no page; both sides map
/// the same page read-only and `COW` with two holders; a kernel write into
/// the child (`copy_out`) copies the one page it touches, so that each
/// side reads its own bytes; the parent's write then takes its page back
/// without a copy; and dropping both gives back every page.
pub fn test_copy_on_write_fork() -> crate::verdict::TestResult {
    use crate::kalloc::free_pages;
    const VA: usize = 0x10_0000;
    const END: usize = VA + 2 * PGSIZE;
    let before = free_pages();
    {
        let mut parent = AddressSpace::new().ok_or("no memory")?;
        parent
            .map_new(VA, END, PTFlags::RW | PTFlags::XD)
            .map_err(|_| "no memory")?;
        copy_out(&mut parent, UserAddr(VA), b"parent").map_err(|_| "copy_out failed")?;
        let mapped = free_pages();
        let mut child = parent.fork(END).ok_or("fork failed")?;
        // The child's PML4, PDPT, PD and PT, and nothing else.
        if mapped - free_pages() != 4 {
            return Err("fork allocated more than the child's page tables");
        }
        for space in [&parent, &child] {
            let entry = space.table.lookup(VA).ok_or("a page is missing")?;
            if entry.flags().contains(PTFlags::RW) || !entry.flags().contains(COW) {
                return Err("after fork, a page is not read-only and copy-on-write");
            }
        }
        let page = |space: &AddressSpace| space.table.lookup(VA).map(|e| e.address().as_usize());
        let shared = page(&parent).ok_or("a page is missing")?;
        if page(&child) != Some(shared) || references(shared) != 2 {
            return Err("parent and child do not share the page, held twice");
        }
        let forked = free_pages();
        copy_out(&mut child, UserAddr(VA), b"child!").map_err(|_| "copy_out failed")?;
        if forked - free_pages() != 1 || page(&child) == Some(shared) {
            return Err("a write into the shared page did not copy it, once");
        }
        let (mut seen_by_parent, mut seen_by_child) = ([0u8; 6], [0u8; 6]);
        copy_in(&parent, &mut seen_by_parent, UserAddr(VA)).map_err(|_| "copy_in failed")?;
        copy_in(&child, &mut seen_by_child, UserAddr(VA)).map_err(|_| "copy_in failed")?;
        if &seen_by_parent != b"parent" || &seen_by_child != b"child!" {
            return Err("after the copy, parent and child do not see their own bytes");
        }
        let copied = free_pages();
        copy_out(&mut parent, UserAddr(VA), b"PARENT").map_err(|_| "copy_out failed")?;
        let entry = parent.table.lookup(VA).ok_or("a page is missing")?;
        if free_pages() != copied || page(&parent) != Some(shared) {
            return Err("the last holder's write copied the page instead of taking it over");
        }
        if !entry.flags().contains(PTFlags::RW) || entry.flags().contains(COW) {
            return Err("a page taken over is not writable again");
        }
        if references(shared) != 1 {
            return Err("a page taken over does not have one holder");
        }
    }
    if free_pages() != before {
        return Err("dropping both address spaces did not give back every page");
    }
    Ok(())
}

// LAB cow: stub
// LAB cow: end
#[cfg(feature = "ktest")]
/// How [`touch_user_page`] breaks the rule that the kernel reaches user
/// memory only through the copy helpers.
#[derive(Clone, Copy)]
pub enum UserTouch {
    /// Read a user page through its user address (SMAP must stop it).
    Read,
    /// Call code on a user page (SMEP must stop it).
    Execute,
}

#[cfg(feature = "ktest")]
/// Deliberately touches a user page from kernel mode, outside the copy
/// helpers: the kernel bug that SMAP and SMEP exist to catch. Builds an
/// address space with one user page holding a `ret` instruction, loads
/// it, and reads or calls that page. With the guard on, the page fault is
/// reported and the kernel panics (trap.rs); without it the access works,
/// and this function panics saying so.
pub fn touch_user_page(how: UserTouch) -> ! {
    const VA: usize = 0x10_0000;
    const RET: u8 = 0xC3;
    let mut space = AddressSpace::new().expect("touch_user_page: no memory");
    // Writable and executable: this page only has to be reachable.
    space
        .map_new(VA, VA + PGSIZE, PTFlags::RW)
        .expect("touch_user_page: no memory");
    copy_out(&mut space, UserAddr(VA), &[RET]).expect("the page was just mapped");
    space.root().activate();
    match how {
        UserTouch::Read => {
            // SAFETY: not safe at all, on purpose: a kernel-mode read of a
            // user address, which SMAP turns into a fault.
            let value = unsafe { core::ptr::read_volatile(VA as *const u8) };
            panic!("the kernel read {value:#x} from a user page: SMAP is off");
        }
        UserTouch::Execute => {
            // SAFETY: not safe at all, on purpose: the kernel calls code on
            // a user page, which SMEP turns into a fault (the code is a
            // lone `ret`, so without SMEP it just returns).
            unsafe {
                let code: extern "C" fn() = core::mem::transmute(VA);
                code();
            }
            panic!("the kernel ran code on a user page: SMEP is off");
        }
    }
}

/// Flushes this CPU's TLB entry for `va`.
pub fn flush_tlb_page(va: usize) {
    // SAFETY: invlpg only drops a cached translation.
    unsafe { x86::tlb::flush(va) };
}

/// A user address: a number the kernel must not dereference. Only
/// `copy_in`, `copy_out`, `copy_in_str` and `copy_between` turn it into
/// memory accesses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserAddr(pub usize);

/// Why user memory could not be reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadAddress;

impl From<BadAddress> for Error {
    fn from(_: BadAddress) -> Error {
        Error::BadAddress
    }
}

/// The physical address of an address space's PML4: what CR3 holds while
/// it is active. A copy that owns nothing; the `AddressSpace` it came
/// from must outlive its use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageTableRoot(PAddr);

impl PageTableRoot {
    /// Loads the address space on this CPU.
    pub fn activate(self) {
        // SAFETY: every address space shares the kernel's upper half, so
        // kernel code keeps running; the user half belongs to the process
        // about to run, whose AddressSpace lives while it can run.
        unsafe { cr3_write(self.0.as_u64()) };
    }
}

/// The user half of a process's address space: its own page table, whose
/// upper half is the kernel's. It owns every page it maps except shared
/// ones, and every page-table page of its user half; dropping it frees
/// them all. It must not be active on any CPU when it is dropped.
pub struct AddressSpace {
    table: PageTable,
}

impl AddressSpace {
    /// An empty user half with the kernel half in place.
    pub fn new() -> Option<AddressSpace> {
        let pml4 = PAddr::from(kalloc_zeroed()?);
        // SAFETY: both are PML4 pages; the new one is ours alone, and the
        // kernel's upper half is only read.
        unsafe {
            let new: &mut PML4 = table(pml4);
            let kernel: &PML4 = table(kernel_pml4());
            new[256..].copy_from_slice(&kernel[256..]);
        }
        Some(AddressSpace {
            table: PageTable { pml4 },
        })
    }

    /// The root of its page table, for the scheduler (proc.rs).
    pub fn root(&self) -> PageTableRoot {
        PageTableRoot(self.table.pml4)
    }

    /// The leaf entry for user address `va`, if its page tables exist.
    fn entry(&mut self, va: usize) -> Option<&mut PTEntry> {
        if va >= USER_TOP {
            return None;
        }
        self.table.walk(va, false)
    }

    /// Maps fresh zeroed pages over `start..end` (page-aligned) with
    /// `flags` plus user access. On failure, unmaps and frees what it mapped.
    pub fn map_new(&mut self, start: usize, end: usize, flags: PTFlags) -> Result<(), MapError> {
        assert!(start.is_multiple_of(PGSIZE) && end.is_multiple_of(PGSIZE) && end <= USER_TOP);
        for va in (start..end).step_by(PGSIZE) {
            let result = match kalloc_zeroed() {
                None => Err(MapError::OutOfMemory),
                Some(page) => self
                    .table
                    .map_page(va, page, flags | PTFlags::US)
                    .inspect_err(|_| {
                        // SAFETY: the page was never mapped, nobody saw it.
                        unsafe { kfree(page) }
                    }),
            };
            if let Err(error) = result {
                self.unmap(start, va);
                return Err(error);
            }
        }
        Ok(())
    }

    // LAB shm: solution begins
    /// Maps the physical page `pa`, which this address space does not own
    /// (shared memory), at user address `va`: user-accessible, never
    /// executable, writable if asked.
    pub fn map_shared(&mut self, va: usize, pa: usize, writable: bool) -> Result<(), MapError> {
        let mut flags = PTFlags::US | PTFlags::XD | SHARED;
        flags.set(PTFlags::RW, writable);
        self.table.map_page(va, pa, flags)
    }
    // LAB shm: stub
    // LAB shm: end

    /// Unmaps every page in `start..end` (page-aligned), lets go of the
    /// ones this address space holds (`kfree` frees a page once its last
    /// holder lets go), and flushes their TLB entries on this CPU (an
    /// address space is only ever active on the CPU running its process,
    /// and switching processes reloads CR3).
    pub fn unmap(&mut self, start: usize, end: usize) {
        for va in (start..end).step_by(PGSIZE) {
            let Some(entry) = self.entry(va).filter(|entry| entry.is_present()) else {
                continue;
            };
            let owned = !entry.flags().contains(SHARED);
            let page = entry.address().as_usize();
            *entry = PTEntry(0);
            flush_tlb_page(va);
            if owned {
                // SAFETY: this address space held the page through the
                // entry, which is gone.
                unsafe { kfree(page) };
            }
        }
        self.prune(start, end);
    }

    /// Frees the page-table pages over `start..end` that map nothing any
    /// more, so that unmapping gives back all the memory mapping took (the
    /// shared-memory window comes and goes, and tests count free pages).
    fn prune(&mut self, start: usize, end: usize) {
        if start >= end {
            return;
        }
        // Each table below the PML4 covers an aligned range; visit those
        // that overlap start..end, deepest first. A freed table may still
        // sit in the CPU's paging-structure caches. `invlpg` of an address
        // the table covered drops those entries (Intel's SDM, 4.10.4.1:
        // invlpg empties the paging-structure caches; AMD's APM: it drops
        // the upper-level entries used for that address), so one per
        // freed table is enough. Reloading CR3 would do too, but it drops
        // every cached translation, and shm_close comes here on every
        // call: under QEMU that reload cost a third of a shm cycle.
        for (covers, level) in [
            (PT_COVERS, Level::Pt),
            (PD_COVERS, Level::Pd),
            (PDPT_COVERS, Level::Pdpt),
        ] {
            for va in aligned_steps(start, end, covers) {
                if self.free_if_empty(va, level) {
                    flush_tlb_page(va);
                }
            }
        }
    }

    /// Frees the table of `level` that covers user address `va` if it maps
    /// nothing, and clears the entry above that pointed at it. Returns
    /// whether it freed one.
    fn free_if_empty(&mut self, va: usize, level: Level) -> bool {
        let vaddr = VAddr::from_usize(va);
        // SAFETY: the tables of this address space's user half, reached
        // from its PML4 as in PageTable::walk_pd; `&mut self` makes this
        // the only walk going on.
        unsafe {
            let pml4: &mut PML4 = table(self.table.pml4);
            let pml4_entry = &mut pml4[pml4_index(vaddr)];
            let Some(pdpt_pa) = present_table(*pml4_entry) else {
                return false;
            };
            let pdpt: &mut PDPT = table(pdpt_pa);
            if level == Level::Pdpt {
                return free_empty_table(pdpt, pml4_entry, |e| e.is_present());
            }
            let pdpt_entry = &mut pdpt[pdpt_index(vaddr)];
            let Some(pd_pa) = present_table(*pdpt_entry) else {
                return false;
            };
            let pd: &mut PD = table(pd_pa);
            if level == Level::Pd {
                return free_empty_table(pd, pdpt_entry, |e| e.is_present());
            }
            let pd_entry = &mut pd[pd_index(vaddr)];
            let Some(pt_pa) = present_table(*pd_entry) else {
                return false;
            };
            let pt: &mut PT = table(pt_pa);
            free_empty_table(pt, pd_entry, |e| e.is_present())
        }
    }

    /// Changes the flags of every mapped page in `start..end`: for a new
    /// program image (exec), whose pages are its own, none copy-on-write.
    pub fn protect(&mut self, start: usize, end: usize, flags: PTFlags) {
        for va in (start..end).step_by(PGSIZE) {
            if let Some(entry) = self.entry(va).filter(|entry| entry.is_present()) {
                // LAB cow: solution begins
                // Making a shared page writable would let this process
                // write into the other's memory.
                assert!(
                    !entry.flags().contains(COW),
                    "protect: {va:#x} is copy-on-write"
                );
                // LAB cow: stub
                // LAB cow: end
                let keep = entry.flags() & SHARED;
                *entry = PTEntry::new(entry.address(), flags | keep | PTFlags::US | PTFlags::P);
                flush_tlb_page(va);
            }
        }
    }

    /// A copy of `0..end` for a child process. (The shared-memory window
    /// lies above `end`, at SHMBASE; shm::fork maps it into the child, so
    /// every page here is this address space's own.)
    ///
    /// Copy-on-write (module doc): the child maps the same pages, each
    /// with one more holder, and the writable ones become read-only and
    /// `COW` on both sides, so the parent's entries change too. If memory
    /// for the child's page tables runs out, the child is dropped (letting
    /// go of what it got); the parent's pages stay copy-on-write, and its
    /// first write to each takes it back without a copy.
    pub fn fork(&mut self, end: usize) -> Option<AddressSpace> {
        let mut child = AddressSpace::new()?;
        // LAB cow: solution begins
        let mut made_read_only = false;
        let mut mapped_all = true;
        for va in (0..end).step_by(PGSIZE) {
            let Some(entry) = self.entry(va).filter(|entry| entry.is_present()) else {
                continue;
            };
            assert!(
                !entry.flags().contains(SHARED),
                "fork: shared memory at {va:#x}, below the end of the heap"
            );
            if entry.flags().contains(PTFlags::RW) {
                *entry = PTEntry::new(entry.address(), (entry.flags() - PTFlags::RW) | COW);
                made_read_only = true;
            }
            let page = entry.address().as_usize();
            let flags = entry.flags() - PTFlags::P - PTFlags::A - PTFlags::D;
            if child.table.map_page(va, page, flags).is_err() {
                mapped_all = false;
                break;
            }
            share(page);
        }
        if made_read_only {
            // This CPU may cache the parent's writable translations (the
            // parent is the process running here): drop them all at once,
            // cheaper than one invlpg per page of a large heap.
            // SAFETY: reloading CR3 only drops cached translations.
            unsafe { x86::tlb::flush_all() };
        }
        if !mapped_all {
            return None;
        }
        // LAB cow: stub
        // for va in (0..end).step_by(PGSIZE) {
        //     let Some(entry) = self.table.lookup(va).filter(|entry| entry.is_present()) else {
        //         continue;
        //     };
        //     let flags = entry.flags() - PTFlags::P - PTFlags::A - PTFlags::D;
        //     let page = kalloc()?;
        //     // SAFETY: both pages are direct-mapped; `page` is new.
        //     unsafe {
        //         core::ptr::copy_nonoverlapping(
        //             phys_to_virt(entry.address().as_usize()) as *const u8,
        //             phys_to_virt(page) as *mut u8,
        //             PGSIZE,
        //         )
        //     };
        //     if child.table.map_page(va, page, flags).is_err() {
        //         // SAFETY: never mapped. (`child` frees what it did map.)
        //         unsafe { kfree(page) };
        //         return None;
        //     }
        // }
        // LAB cow: end
        Some(child)
    }

    // LAB cow: solution begins
    /// Makes the copy-on-write page at user address `va` writable for
    /// this address space alone, after a write to it faulted (trap.rs) or
    /// before the kernel writes to it (`copy_out`). If this address space
    /// is the page's last holder it takes the page over: the entry becomes
    /// writable, and nothing is copied. Otherwise it gets a copy, and lets
    /// go of the shared page.
    pub fn copy_on_write(&mut self, va: usize) -> Result<(), CowError> {
        let entry = self
            .entry(va)
            .filter(|entry| entry.is_present() && entry.flags().contains(COW))
            .ok_or(CowError::NotCopyOnWrite)?;
        let old = entry.address().as_usize();
        let flags = (entry.flags() - COW) | PTFlags::RW;
        if references(old) == 1 {
            // The only holder, and no one else can become one (kalloc.rs).
            *entry = PTEntry::new(entry.address(), flags);
            flush_tlb_page(va);
            return Ok(());
        }
        let new = kalloc().ok_or(CowError::OutOfMemory)?;
        // SAFETY: both pages are direct-mapped; `new` is ours alone, and no
        // one writes `old` while we copy it: every holder maps it
        // read-only, and there are at least two of them (us and another),
        // so none can take it over meanwhile.
        unsafe {
            core::ptr::copy_nonoverlapping(
                phys_to_virt(old) as *const u8,
                phys_to_virt(new) as *mut u8,
                PGSIZE,
            )
        };
        *entry = PTEntry::new(PAddr::from(new), flags);
        // The old translation, to the shared page, must not be used again
        // on this CPU, for reading either: the other holder may take that
        // page over and write to it.
        flush_tlb_page(va);
        // SAFETY: this address space held `old` through the entry just
        // replaced; nothing here uses it any more.
        unsafe { kfree(old) };
        Ok(())
    }

    /// Makes every copy-on-write page touched by `len` bytes from `start`
    /// writable (`copy_on_write`): `copy_out`, before it writes, once
    /// `check` has found every page writable or copy-on-write. Fails only
    /// if there is no memory for a copy; the contents do not change, so a
    /// failure half-way leaves user memory as it was.
    fn unshare(&mut self, start: UserAddr, len: usize) -> Result<(), CowError> {
        let pages = user_pages(start, len).expect("copy_out checked the range");
        for va in pages {
            match self.copy_on_write(va) {
                Ok(()) | Err(CowError::NotCopyOnWrite) => {}
                Err(CowError::OutOfMemory) => return Err(CowError::OutOfMemory),
            }
        }
        Ok(())
    }

    // LAB cow: stub
    // LAB cow: end

    /// The physical address behind user address `va` and its entry's
    /// flags, if it is mapped with user access: the one lookup behind
    /// `allows`, `translate` and `translate_shared`.
    fn user_entry(&self, va: usize) -> Option<(usize, PTFlags)> {
        if va >= USER_TOP {
            return None;
        }
        let entry = self.table.lookup(va)?;
        let flags = entry.flags();
        flags
            .contains(PTFlags::P | PTFlags::US)
            .then(|| (entry.address().as_usize() + va % PGSIZE, flags))
    }

    /// Whether user address `va` is mapped with user access, and writable
    /// if `write`, counting a copy-on-write page as writable (the kernel
    /// copies it before it writes: `copy_out`).
    fn allows(&self, va: usize, write: bool) -> bool {
        let Some((_, flags)) = self.user_entry(va) else {
            return false;
        };
        let writable = flags.contains(PTFlags::RW);
        // LAB cow: solution begins
        let writable = writable || flags.contains(COW);
        // LAB cow: stub
        // LAB cow: end
        !write || writable
    }

    /// The physical address behind user address `va` if it is mapped with
    /// user access (and writable now, if `write`).
    fn translate(&self, va: usize, write: bool) -> Option<usize> {
        let (pa, flags) = self.user_entry(va)?;
        (!write || flags.contains(PTFlags::RW)).then_some(pa)
    }

    /// The physical address behind user address `va` if it lies in a
    /// shared-memory page this address space maps (readable is enough).
    pub fn translate_shared(&self, va: usize) -> Option<usize> {
        let (pa, flags) = self.user_entry(va)?;
        flags.contains(SHARED).then_some(pa)
    }

    /// Checks that `len` bytes from `start` are user memory, writable too if
    /// `write` (a copy-on-write page counts: `copy_out` copies it first),
    /// without copying anything.
    pub fn check(&self, start: UserAddr, len: usize, write: bool) -> Result<(), BadAddress> {
        for va in user_pages(start, len)? {
            if !self.allows(va, write) {
                return Err(BadAddress);
            }
        }
        Ok(())
    }

    /// Checks that `len` bytes from `start` are user memory with the right
    /// access now, as a copy needs it: writable means writable now, not
    /// copy-on-write (`check` counts those too).
    fn check_now(&self, start: UserAddr, len: usize, write: bool) -> Result<(), BadAddress> {
        for va in user_pages(start, len)? {
            self.translate(va, write).ok_or(BadAddress)?;
        }
        Ok(())
    }

    /// Checks that `len` bytes from `start` are user memory with the right
    /// access now (`check_now`), then calls `each` with the kernel address
    /// and length of every piece, one per page.
    fn for_each_piece(
        &self,
        start: UserAddr,
        len: usize,
        write: bool,
        mut each: impl FnMut(usize, usize),
    ) -> Result<(), BadAddress> {
        // Check every page before touching any, so that a failed copy_out
        // leaves user memory unchanged.
        self.check_now(start, len, write)?;
        let end = start.0 + len; // user_pages checked that it does not wrap
        let mut va = start.0;
        while va < end {
            let piece = (PGSIZE - va % PGSIZE).min(end - va);
            let pa = self.translate(va, write).ok_or(BadAddress)?;
            each(phys_to_virt(pa), piece);
            va += piece;
        }
        Ok(())
    }
}

impl Drop for AddressSpace {
    /// Lets go of every page the user half maps (`kfree`: a page another
    /// address space still holds stays; shared pages are not ours at all:
    /// shm.rs unmaps them first) and frees every page-table page of the
    /// user half, then the PML4.
    fn drop(&mut self) {
        // SAFETY: the PML4 is ours, and so is every table its user half
        // reaches; nothing else refers to them once we are dropped. We hold
        // every page they map except the shared ones, once.
        unsafe {
            let pml4: &mut PML4 = table(self.table.pml4);
            for pml4_entry in pml4[..256].iter().filter(|e| e.is_present()) {
                let pdpt: &mut PDPT = table(pml4_entry.address());
                for pdpt_entry in pdpt.iter().filter(|e| e.is_present() && !e.is_page()) {
                    let pd: &mut PD = table(pdpt_entry.address());
                    for pd_entry in pd.iter().filter(|e| e.is_present() && !e.is_page()) {
                        let pt: &mut PT = table(pd_entry.address());
                        for page in pt.iter().filter(|e| e.is_present()) {
                            if !page.flags().contains(SHARED) {
                                kfree(page.address().as_usize());
                            }
                        }
                        kfree(pd_entry.address().as_usize());
                    }
                    kfree(pdpt_entry.address().as_usize());
                }
                kfree(pml4_entry.address().as_usize());
            }
            kfree(self.table.pml4.as_usize());
        }
    }
}

/// The page-aligned addresses of the pages that `len` bytes from `start`
/// touch (none if `len` is 0), if all of them lie in the user half.
fn user_pages(start: UserAddr, len: usize) -> Result<impl Iterator<Item = usize>, BadAddress> {
    // Both checks are needed: the sum must not wrap around, and the end
    // must stay in the user half.
    let end = start.0.checked_add(len).ok_or(BadAddress)?;
    if end > USER_TOP {
        return Err(BadAddress);
    }
    let first = if len == 0 {
        end
    } else {
        start.0 - start.0 % PGSIZE
    };
    Ok((first..end).step_by(PGSIZE))
}

/// The levels of tables below the PML4, for pruning.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Pdpt,
    Pd,
    Pt,
}

/// Bytes one table of each level covers: a PT 2 MiB, a PD 1 GiB, a PDPT
/// 512 GiB.
const PT_COVERS: usize = 512 * PGSIZE;
const PD_COVERS: usize = 512 * PT_COVERS;
const PDPT_COVERS: usize = 512 * PD_COVERS;

/// The `span`-aligned addresses whose `span`-sized ranges overlap
/// `start..end` (which is not empty).
fn aligned_steps(start: usize, end: usize, span: usize) -> impl Iterator<Item = usize> {
    let first = start - start % span;
    (first..end).step_by(span)
}

/// If no entry of `entries` satisfies `present`, frees the table and
/// clears `pointer`, the entry above that names it. Returns whether it
/// did.
///
/// # Safety
/// `entries` must be the table `pointer` names, a page of this address
/// space's user half that nothing else refers to.
unsafe fn free_empty_table<E: Copy, P: Directory>(
    entries: &mut [E; 512],
    pointer: &mut P,
    present: impl Fn(&E) -> bool,
) -> bool {
    if entries.iter().any(present) {
        return false;
    }
    let page = pointer.next_table().as_usize();
    *pointer = P::cleared();
    // SAFETY: per the caller's promise; the entry above no longer names it.
    unsafe { kfree(page) };
    true
}

/// Copies `bytes.len()` bytes from user address `src` in `space`.
pub fn copy_in(space: &AddressSpace, bytes: &mut [u8], src: UserAddr) -> Result<(), BadAddress> {
    let mut done = 0;
    space.for_each_piece(src, bytes.len(), false, |kernel, len| {
        // SAFETY: `kernel` is a direct-mapped user page checked by
        // for_each_piece; `bytes` is kernel memory of at least done + len.
        unsafe {
            core::ptr::copy_nonoverlapping(kernel as *const u8, bytes[done..].as_mut_ptr(), len)
        };
        done += len;
    })
}

/// Copies `bytes` to user address `dst` in `space`; every page must be
/// writable (or copy-on-write). Nothing is written unless everything can
/// be.
pub fn copy_out(space: &mut AddressSpace, dst: UserAddr, bytes: &[u8]) -> Result<(), Error> {
    copy_out_parts(space, dst, &[bytes])
}

/// Copies `parts`, one after the other, to user address `dst` in `space`
/// (a pipe's ring, say, which wraps around), as one `copy_out`: every page
/// must be writable, and nothing is written unless everything can be.
///
/// A copy-on-write page of the destination is copied first (module doc);
/// if there is no memory for that, the copy fails with `OutOfResources`
/// (and the system call with it) before it writes anything.
pub fn copy_out_parts(
    space: &mut AddressSpace,
    dst: UserAddr,
    parts: &[&[u8]],
) -> Result<(), Error> {
    let len = parts.iter().map(|part| part.len()).sum();
    prepare_write(space, dst, len)?;
    let mut parts = parts.iter().copied();
    let mut part: &[u8] = &[];
    space.for_each_piece(dst, len, true, |kernel, piece| {
        let mut filled = 0;
        while filled < piece {
            while part.is_empty() {
                part = parts.next().expect("the parts hold `len` bytes");
            }
            let n = part.len().min(piece - filled);
            // SAFETY: as in copy_in, in the other direction: `kernel` is a
            // direct-mapped user page, writable (for_each_piece), of at
            // least `piece` bytes.
            unsafe {
                core::ptr::copy_nonoverlapping(part.as_ptr(), (kernel + filled) as *mut u8, n)
            };
            part = &part[n..];
            filled += n;
        }
    })?;
    Ok(())
}

/// Checks that `len` bytes from user address `dst` in `space` are user
/// memory the process may write, and makes them writable now: a
/// copy-on-write page among them is copied first (module doc). Fails with
/// `BadAddress`, or with `OutOfResources` if there is no memory for a
/// copy; either way before anything is written. `copy_out` calls it; so
/// does a pipe before another process writes into the range
/// (`copy_between`).
pub fn prepare_write(space: &mut AddressSpace, dst: UserAddr, len: usize) -> Result<(), Error> {
    space.check(dst, len, true)?;
    // LAB cow: solution begins
    space.unshare(dst, len).map_err(|_| Error::OutOfResources)?;
    // LAB cow: stub
    // LAB cow: end
    Ok(())
}

/// Copies `len` bytes from user address `src` in `from` to user address
/// `dst` in `to`, two processes' memory, with no kernel buffer between:
/// the copy a pipe makes from a writer straight into a reader (pipe.rs).
/// Both ranges are checked whole first, so that a failed copy copies
/// nothing; then the bytes go piece by piece, each piece within one page
/// of each side. The destination must be writable now: its owner made it
/// so (`prepare_write`) before lending it.
pub fn copy_between(
    from: &AddressSpace,
    src: UserAddr,
    to: &AddressSpace,
    dst: UserAddr,
    len: usize,
) -> Result<(), BadAddress> {
    // Checked as the loop below copies: a copy-on-write page in the
    // destination fails here, before any byte, not half-way.
    from.check_now(src, len, false)?;
    to.check_now(dst, len, true)?;
    let mut done = 0;
    while done < len {
        // Both sums stay below USER_TOP: the checks passed.
        let (src, dst) = (src.0 + done, dst.0 + done);
        let piece = (PGSIZE - src % PGSIZE)
            .min(PGSIZE - dst % PGSIZE)
            .min(len - done);
        let from_pa = from.translate(src, false).ok_or(BadAddress)?;
        let to_pa = to.translate(dst, true).ok_or(BadAddress)?;
        // SAFETY: both are direct-mapped user pages checked above, `piece`
        // bytes within each. They may be the same bytes (one shared-memory
        // page in both processes), so the copy allows overlap.
        unsafe {
            core::ptr::copy(
                phys_to_virt(from_pa) as *const u8,
                phys_to_virt(to_pa) as *mut u8,
                piece,
            )
        };
        done += piece;
    }
    Ok(())
}

/// Copies a NUL-terminated string from user address `src` into `buffer`
/// and returns its length (without the NUL). Fails if there is no NUL
/// within `buffer.len()` bytes or any byte is not readable user memory.
pub fn copy_in_str(
    space: &AddressSpace,
    buffer: &mut [u8],
    src: UserAddr,
) -> Result<usize, BadAddress> {
    for (i, slot) in buffer.iter_mut().enumerate() {
        let va = src.0.checked_add(i).ok_or(BadAddress)?;
        if va >= USER_TOP {
            return Err(BadAddress);
        }
        let pa = space.translate(va, false).ok_or(BadAddress)?;
        // SAFETY: `pa` is a mapped, user-readable byte (translate).
        *slot = unsafe { *(phys_to_virt(pa) as *const u8) };
        if *slot == 0 {
            return Ok(i);
        }
    }
    Err(BadAddress)
}
