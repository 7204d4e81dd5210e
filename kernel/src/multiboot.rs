//! What GRUB tells the kernel, read from the multiboot2 boot information.
//!
//! GRUB leaves a block of tags in physical memory and passes its address in
//! `ebx` (see entry.S). The `multiboot2` crate parses the tags; this module
//! checks them once at boot and keeps the parsed view for the rest of the
//! kernel: the physical memory map (for the page allocator), the ACPI
//! root pointer (for the APICs) and, for the test kernel, the command line.
//!
//! The block stays where GRUB put it, so the page allocator must not hand
//! out its pages: [`phys_range`] says where it is.

use core::ops::Range;

use multiboot2::{BootInformation, BootInformationHeader, MemoryArea, MemoryAreaType};
use spin::Once;

use crate::memlayout::phys_to_virt;

static BOOT_INFO: Once<BootInformation<'static>> = Once::new();

/// Parses the boot information at physical address `phys`.
///
/// # Safety
/// `phys` must be the address GRUB passed in `ebx`, and the memory there must
/// stay untouched for as long as the kernel runs.
pub unsafe fn init(phys: usize) {
    let header = phys_to_virt(phys) as *const BootInformationHeader;
    // SAFETY: the caller guarantees `header` points at GRUB's boot
    // information, mapped by the direct map and never written afterwards.
    let info = unsafe { BootInformation::load(header) }
        .unwrap_or_else(|e| panic!("bad multiboot2 boot information: {e:?}"));
    BOOT_INFO.call_once(|| info);
}

/// The parsed boot information.
pub fn boot_info() -> &'static BootInformation<'static> {
    BOOT_INFO.get().expect("multiboot::init was not called")
}

/// The kernel's command line, as GRUB's configuration gave it (empty if
/// there is none, or it is not UTF-8). Only the test kernel reads it
/// (ktest.rs).
#[cfg(feature = "ktest")]
pub fn command_line() -> &'static str {
    boot_info()
        .command_line_tag()
        .and_then(|tag| tag.cmdline().ok())
        .unwrap_or("")
}

/// Every area of the BIOS memory map (usable or not).
pub fn memory_areas() -> &'static [MemoryArea] {
    boot_info()
        .memory_map_tag()
        .expect("GRUB always passes a memory map")
        .memory_areas()
}

/// The physical ranges of usable RAM.
pub fn usable_memory() -> impl Iterator<Item = Range<usize>> {
    memory_areas()
        .iter()
        .filter(|area| area.typ() == MemoryAreaType::Available)
        .map(|area| area.start_address() as usize..area.end_address() as usize)
}

/// Whether an area is memory the kernel reads: RAM or ACPI tables.
pub fn is_memory(area: &MemoryArea) -> bool {
    matches!(
        area.typ(),
        MemoryAreaType::Available
            | MemoryAreaType::AcpiAvailable
            | MemoryAreaType::ReservedHibernate
    )
}

/// A short human name for a memory-map area type.
pub fn area_type_name(area: &MemoryArea) -> &'static str {
    match area.typ() {
        MemoryAreaType::Available => "usable",
        MemoryAreaType::Reserved => "reserved",
        MemoryAreaType::AcpiAvailable => "ACPI data",
        MemoryAreaType::ReservedHibernate => "ACPI NVS",
        MemoryAreaType::Defective => "defective",
        MemoryAreaType::Custom(_) => "other",
    }
}

/// Where the boot information itself lies in physical memory.
pub fn phys_range() -> Range<usize> {
    let info = boot_info();
    let start = crate::memlayout::virt_to_phys(info.start_address());
    start..start + info.total_size()
}
