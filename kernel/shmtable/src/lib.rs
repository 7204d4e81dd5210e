//! The bookkeeping of shared memory (docs/shm.md), as plain Rust.
//!
//! The kernel's `shm.rs` owns the locks, the physical pages and the page
//! tables; this crate owns the rules about *which* object, slot and
//! descriptor: name checks, finding or creating an object, sizing it once,
//! reference counting, and each process's descriptor table. It does no I/O
//! and allocates nothing itself (the caller passes functions that allocate
//! and free pages), so it compiles for the kernel and for the host, where
//! `cargo test -p shmtable` checks it.
//!
//! ## The objects: names, and memory
//!
//! The bookkeeping of the `NSHM` slots is in two parts, which the kernel
//! locks apart, so that CPUs working on different objects do not wait for
//! each other (kernel/src/shm.rs, "Locking"):
//!
//! - [`Names`], one for the whole system: which slots hold an object, each
//!   object's name, and its reference count. A slot is free when its count
//!   is zero. `open` finds the slot whose name equals the given one byte
//!   for byte, or takes the lowest free slot for a new object, and adds a
//!   reference; `close` drops one and says whether it was the last. A
//!   bitmap of the slots in use lets `open` look at those only, and find
//!   the lowest free slot in one instruction.
//! - [`Object`], one per slot: the object's memory. `trunc` gives an
//!   unsized object its pages, once; `clear` gives them all back when the
//!   object dies, so that the slot's next object starts unsized.
//!
//! ## Descriptors
//!
//! [`Descriptors`] is one process's table of `NSHMPROC` descriptors. Each
//! names a slot and says whether (and how) this process has it mapped.
//! Descriptors are handed out lowest first. A process maps an object at
//! most once, whichever descriptor it uses.

#![no_std]

pub use abi::memlayout::PGSIZE;
pub use abi::shm::{NSHM, NSHMPROC, SHM_MAXPAGES, SHM_MAXSIZE, SHM_NAME_MAX};

/// Why a shared-memory call fails. User programs see -1; the kernel and
/// the tests see which rule was broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShmError {
    /// The name is empty, longer than SHM_NAME_MAX, or contains a NUL.
    BadName,
    /// All NSHM slots hold other objects.
    TableFull,
    /// The process has NSHMPROC descriptors open.
    NoDescriptor,
    /// The descriptor is out of range or not open.
    BadDescriptor,
    /// The size is not in 1..=SHM_MAXSIZE.
    BadSize,
    /// The object already has a size.
    AlreadySized,
    /// The object has no size yet (so nothing to map).
    NotSized,
    /// No memory for the object's pages.
    OutOfMemory,
    /// The flags are neither O_RDONLY nor O_RDWR.
    BadFlags,
    /// The process has this object mapped already.
    AlreadyMapped,
}

/// Checks a name: 1..=SHM_NAME_MAX bytes, none of them NUL.
pub fn check_name(name: &[u8]) -> Result<(), ShmError> {
    if !abi::shm::is_valid_name(name) {
        Err(ShmError::BadName)
    } else {
        Ok(())
    }
}

/// Checks a size for `trunc` and returns the number of pages it needs.
pub fn pages_for(size: i64) -> Result<usize, ShmError> {
    if size < 1 || size > SHM_MAXSIZE as i64 {
        return Err(ShmError::BadSize);
    }
    Ok((size as usize).div_ceil(PGSIZE))
}

/// How a process maps an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    ReadOnly,
    ReadWrite,
}

impl Access {
    /// `shm_map`'s flags: `O_RDONLY` or `O_RDWR`, nothing else.
    pub fn from_flags(flags: i64) -> Result<Access, ShmError> {
        match flags {
            f if f == i64::from(abi::fcntl::O_RDONLY) => Ok(Access::ReadOnly),
            f if f == i64::from(abi::fcntl::O_RDWR) => Ok(Access::ReadWrite),
            _ => Err(ShmError::BadFlags),
        }
    }

    /// May the process write?
    pub fn is_writable(self) -> bool {
        self == Access::ReadWrite
    }
}

/// A physical page of an object, by its physical address. (The tests use
/// made-up numbers: nothing here dereferences one.)
pub type Page = usize;

/// A slot's entry in [`Names`].
#[derive(Clone, Copy)]
struct Name {
    bytes: [u8; SHM_NAME_MAX],
    len: usize,
    /// Descriptors (in any process) that refer to the object. Zero: free.
    references: u32,
}

/// Which slots hold objects, their names and their reference counts.
pub struct Names {
    entries: [Name; NSHM],
    /// Bit `i` is set while slot `i` holds an object (its count is not 0).
    used: u64,
}

// `used` has a bit for every slot.
const _: () = assert!(NSHM <= u64::BITS as usize);

impl Default for Names {
    fn default() -> Self {
        Self::new()
    }
}

impl Names {
    pub const fn new() -> Names {
        Names {
            entries: [Name {
                bytes: [0; SHM_NAME_MAX],
                len: 0,
                references: 0,
            }; NSHM],
            used: 0,
        }
    }

    /// Finds the object called `name`, or takes the lowest free slot for a
    /// new one, and adds a reference. Returns the slot.
    pub fn open(&mut self, name: &[u8]) -> Result<usize, ShmError> {
        // LAB shm: solution begins
        check_name(name)?;
        // Only the slots in use can hold the name: visit their bits.
        let mut in_use = self.used;
        while in_use != 0 {
            let slot = in_use.trailing_zeros() as usize;
            in_use &= in_use - 1; // clears that lowest set bit
            if self.name(slot) == name {
                self.entries[slot].references += 1;
                return Ok(slot);
            }
        }
        // The lowest free slot is the lowest clear bit.
        let slot = self.used.trailing_ones() as usize;
        if slot >= NSHM {
            return Err(ShmError::TableFull);
        }
        let entry = &mut self.entries[slot];
        entry.bytes[..name.len()].copy_from_slice(name);
        entry.len = name.len();
        entry.references = 1;
        self.used |= 1 << slot;
        Ok(slot)
        // LAB shm: stub
        // let _ = name;
        // Err(ShmError::TableFull)
        // LAB shm: end
    }

    /// Adds a reference to an open object (a descriptor copied by fork).
    pub fn add_reference(&mut self, slot: usize) {
        let entry = &mut self.entries[slot];
        assert!(entry.references > 0, "add_reference to a free slot");
        entry.references += 1;
    }

    /// Drops a reference to the object in `slot`. Returns true if it was
    /// the last: the slot is then free, for the next new name, and the
    /// caller must `clear` its [`Object`] before anyone can take it.
    pub fn close(&mut self, slot: usize) -> bool {
        // LAB shm: solution begins
        let entry = &mut self.entries[slot];
        assert!(entry.references > 0, "close of a free slot");
        entry.references -= 1;
        if entry.references > 0 {
            return false;
        }
        entry.len = 0;
        self.used &= !(1 << slot);
        true
        // LAB shm: stub
        // let _ = slot;
        // false
        // LAB shm: end
    }

    /// References to the object in `slot` (0: the slot is free).
    pub fn references(&self, slot: usize) -> u32 {
        self.entries[slot].references
    }

    /// The name of the object in `slot`.
    pub fn name(&self, slot: usize) -> &[u8] {
        let entry = &self.entries[slot];
        &entry.bytes[..entry.len]
    }

    /// How many slots hold an object: the bits set in the bitmap.
    pub fn used_slots(&self) -> usize {
        self.used.count_ones() as usize
    }
}

/// The memory of the object in one slot: its pages, once it is sized.
///
/// Aligned to 128 bytes (two cache lines), so that the kernel's array of
/// locked objects puts each on lines of its own: processes working on
/// different objects then never touch the same line.
#[repr(align(128))]
pub struct Object {
    /// The first `page_count` are the object's pages.
    pages: [Option<Page>; SHM_MAXPAGES],
    /// Zero until `trunc`.
    page_count: usize,
}

impl Default for Object {
    fn default() -> Self {
        Self::new()
    }
}

impl Object {
    /// An unsized object, with no pages.
    pub const fn new() -> Object {
        Object {
            pages: [None; SHM_MAXPAGES],
            page_count: 0,
        }
    }

    /// Sizes the object to `size` bytes, once: allocates
    /// `ceil(size / PGSIZE)` pages with `alloc` (which must return zeroed
    /// pages). If memory runs out, gives back what it got with `free` and
    /// leaves the object unsized. Returns the size in bytes.
    pub fn trunc(
        &mut self,
        size: i64,
        mut alloc: impl FnMut() -> Option<Page>,
        mut free: impl FnMut(Page),
    ) -> Result<usize, ShmError> {
        // LAB shm: solution begins
        let page_count = pages_for(size)?;
        if self.page_count > 0 {
            return Err(ShmError::AlreadySized);
        }
        for i in 0..page_count {
            match alloc() {
                Some(page) => self.pages[i] = Some(page),
                None => {
                    for page in self.pages[..i].iter_mut() {
                        free(page.take().expect("allocated above"));
                    }
                    return Err(ShmError::OutOfMemory);
                }
            }
        }
        self.page_count = page_count;
        Ok(page_count * PGSIZE)
        // LAB shm: stub
        // let _ = (size, &mut alloc, &mut free);
        // Err(ShmError::OutOfMemory)
        // LAB shm: end
    }

    /// The object's pages (none if unsized).
    pub fn pages(&self) -> impl Iterator<Item = Page> + '_ {
        self.pages[..self.page_count]
            .iter()
            .map(|page| page.expect("the first page_count pages exist"))
    }

    /// Size of the object in bytes (0 if unsized).
    pub fn size(&self) -> usize {
        self.page_count * PGSIZE
    }

    /// Gives every page back with `free`, leaving the object unsized: the
    /// object died (its last reference is gone).
    pub fn clear(&mut self, mut free: impl FnMut(Page)) {
        // LAB shm: solution begins
        for page in self.pages[..self.page_count].iter_mut() {
            free(page.take().expect("the first page_count pages exist"));
        }
        self.page_count = 0;
        // LAB shm: stub
        // let _ = &mut free;
        // LAB shm: end
    }
}

/// One descriptor: which object, and whether this process maps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Descriptor {
    pub slot: usize,
    /// How this process maps the object, while it does.
    pub mapped: Option<Access>,
}

/// A process's shared-memory descriptors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Descriptors {
    entries: [Option<Descriptor>; NSHMPROC],
}

impl Default for Descriptors {
    fn default() -> Self {
        Self::new()
    }
}

impl Descriptors {
    pub const fn new() -> Descriptors {
        Descriptors {
            entries: [None; NSHMPROC],
        }
    }

    /// Is there a free descriptor? (Checked before touching the table, so
    /// that a failing `shm_open` leaves nothing behind.)
    pub fn has_free(&self) -> bool {
        self.entries.iter().any(Option::is_none)
    }

    /// Takes the lowest free descriptor for `slot`, unmapped.
    pub fn alloc(&mut self, slot: usize) -> Result<usize, ShmError> {
        // LAB shm: solution begins
        let od = self
            .entries
            .iter()
            .position(Option::is_none)
            .ok_or(ShmError::NoDescriptor)?;
        self.entries[od] = Some(Descriptor { slot, mapped: None });
        Ok(od)
        // LAB shm: stub
        // let _ = slot;
        // Err(ShmError::NoDescriptor)
        // LAB shm: end
    }

    /// The open descriptor `od`, which comes from a user and may be any
    /// number.
    pub fn get(&self, od: usize) -> Result<Descriptor, ShmError> {
        // LAB shm: solution begins
        self.entries
            .get(od)
            .copied()
            .flatten()
            .ok_or(ShmError::BadDescriptor)
        // LAB shm: stub
        // let _ = od;
        // Err(ShmError::BadDescriptor)
        // LAB shm: end
    }

    /// Records that descriptor `od` (open) is now mapped with `access`.
    pub fn set_mapped(&mut self, od: usize, access: Access) -> Result<(), ShmError> {
        let descriptor = self.get(od)?;
        self.entries[od] = Some(Descriptor {
            mapped: Some(access),
            ..descriptor
        });
        Ok(())
    }

    /// Does any descriptor map the object in `slot`?
    pub fn maps(&self, slot: usize) -> bool {
        self.entries
            .iter()
            .flatten()
            .any(|d| d.slot == slot && d.mapped.is_some())
    }

    /// Frees descriptor `od` and returns what it was.
    pub fn remove(&mut self, od: usize) -> Result<Descriptor, ShmError> {
        // LAB shm: solution begins
        let descriptor = self.get(od)?;
        self.entries[od] = None;
        Ok(descriptor)
        // LAB shm: stub
        // let _ = od;
        // Err(ShmError::BadDescriptor)
        // LAB shm: end
    }

    /// Every open descriptor, with its number.
    pub fn iter(&self) -> impl Iterator<Item = (usize, Descriptor)> + '_ {
        self.entries
            .iter()
            .enumerate()
            .filter_map(|(od, d)| d.map(|d| (od, d)))
    }

    /// How many descriptors are open.
    pub fn count(&self) -> usize {
        self.entries.iter().flatten().count()
    }
}

#[cfg(test)]
mod tests;
