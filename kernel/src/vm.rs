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
//!   both writable and executable;
//! - device registers (`map_mmio`), uncached, inside the direct map.
//!
//! Every process's page table shares the kernel half: it copies the kernel
//! PML4's upper 256 entries. So the kernel creates all its PML4 entries in
//! `init`, and later kernel mappings only fill in lower-level tables, which
//! every address space then sees. Page-table pages come from kalloc.

use x86::bits64::paging::{
    PAddr, PD, PDEntry, PDFlags, PDPT, PDPTEntry, PDPTFlags, PML4, PML4Entry, PML4Flags, PT,
    PTEntry, PTFlags, VAddr, pd_index, pdpt_index, pml4_index, pt_index,
};
use x86::controlregs::cr3_write;

use crate::kalloc::kalloc_zeroed;
use crate::memlayout::{DIRECT_MAP, kernel_image, phys_to_virt, virt_to_phys};
use crate::multiboot;
use crate::param::PGSIZE;
use spin::Once;

/// Size of a large page, mapped by one PD entry.
const LARGE_PAGE: usize = 2 << 20;

const FOUR_GIB: usize = 1 << 32;

/// Physical address of the kernel's PML4.
static KERNEL_PML4: Once<usize> = Once::new();

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

/// The PD entry that covers `va` in the table rooted at `pml4`.
fn walk_pd(pml4: PAddr, va: usize, create: bool) -> Option<&'static mut PDEntry> {
    let user = is_user_address(va);
    let vaddr = VAddr::from_usize(va);
    // SAFETY: `pml4` is a PML4 page; each level's address comes from the
    // entry above it, so it is a table of the next level. The returned entry
    // is used by one caller at a time: page tables are changed only by the
    // owner of the address space (the kernel at boot, a process for itself)
    // under its own lock.
    let pml4_table: &mut PML4 = unsafe { table(pml4) };
    let pdpt = descend(&mut pml4_table[pml4_index(vaddr)], user, create)?;
    // SAFETY: as above.
    let pdpt_table: &mut PDPT = unsafe { table(pdpt) };
    let pd = descend(&mut pdpt_table[pdpt_index(vaddr)], user, create)?;
    // SAFETY: as above.
    let pd_table: &mut PD = unsafe { table(pd) };
    Some(&mut pd_table[pd_index(vaddr)])
}

/// The PT entry (leaf) for `va`, creating the tables on the way if `create`.
pub fn walk(pml4: PAddr, va: usize, create: bool) -> Option<&'static mut PTEntry> {
    let user = is_user_address(va);
    let pt = descend(walk_pd(pml4, va, create)?, user, create)?;
    // SAFETY: `pt` came from a PD entry that is not a large page, so it is a
    // page table; see walk_pd for the aliasing rule.
    let pt_table: &mut PT = unsafe { table(pt) };
    Some(&mut pt_table[pt_index(VAddr::from_usize(va))])
}

/// Maps the 4 KiB page at `va` to physical `pa` with `flags` (P is added).
pub fn map_page(pml4: PAddr, va: usize, pa: usize, flags: PTFlags) -> Result<(), MapError> {
    let entry = walk(pml4, va, true).ok_or(MapError::OutOfMemory)?;
    if entry.is_present() {
        return Err(MapError::AlreadyMapped);
    }
    *entry = PTEntry::new(PAddr::from(pa), flags | PTFlags::P);
    Ok(())
}

/// Maps the 2 MiB page at `va` to physical `pa` with `flags` (P, PS added).
fn map_large_page(pml4: PAddr, va: usize, pa: usize, flags: PDFlags) -> Result<(), MapError> {
    let entry = walk_pd(pml4, va, true).ok_or(MapError::OutOfMemory)?;
    if entry.is_present() {
        return Err(MapError::AlreadyMapped);
    }
    *entry = PDEntry::new(PAddr::from(pa), flags | PDFlags::P | PDFlags::PS);
    Ok(())
}

/// The kernel's PML4.
pub fn kernel_pml4() -> PAddr {
    PAddr::from(*KERNEL_PML4.get().expect("vm::init has not run"))
}

/// Builds the kernel's page table and switches this CPU to it.
pub fn init() {
    let pml4 = PAddr::from(kalloc_zeroed().expect("vm: no memory for the kernel page table"));

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
            match map_large_page(pml4, DIRECT_MAP + pa, pa, PDFlags::RW | PDFlags::XD) {
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
            map_page(pml4, va, virt_to_phys(va), flags).expect("vm: cannot map the kernel");
        }
    }

    KERNEL_PML4.call_once(|| pml4.as_usize());
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
        match map_page(kernel_pml4(), phys_to_virt(page), page, flags) {
            Ok(()) | Err(MapError::AlreadyMapped) => {}
            Err(MapError::OutOfMemory) => panic!("map_mmio: cannot map {page:#x}"),
        }
    }
    phys_to_virt(pa)
}

/// Test: the kernel image is mapped with the permissions its sections need,
/// and nothing is both writable and executable.
pub fn test_kernel_permissions() -> crate::ktest::TestResult {
    let image = kernel_image();
    let flags_of = |va: usize| walk(kernel_pml4(), va, false).map(|entry| entry.flags());
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
    let direct = walk_pd(kernel_pml4(), DIRECT_MAP, false).ok_or("direct map missing")?;
    if !direct.is_page() || !direct.flags().contains(PDFlags::XD) {
        return Err("the direct map must use large, non-executable pages");
    }
    if walk(kernel_pml4(), 0x1000, false).is_some_and(|entry| entry.is_present()) {
        return Err("low memory is still identity-mapped");
    }
    Ok(())
}
