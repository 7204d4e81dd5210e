//! Shared memory: named objects that processes map into their address
//! spaces, as docs/shm.md describes.
//!
//! ## The design
//!
//! `NSHM` slots hold the objects. Each object has a name and a reference
//! count, kept for all slots together in `NAMES` (a `shmtable::Names`
//! under a spin lock), and a size in pages and the physical pages
//! themselves, kept in its slot of `OBJECTS` (a `shmtable::Object` under
//! a spin lock of its own). Every process has a descriptor table of
//! `NSHMPROC` shared-memory descriptors (`Private::shm`, a
//! `shmtable::Descriptors`), each naming a slot and saying whether the
//! process has it mapped. The rules about slots and descriptors (name
//! checks, lowest free slot and descriptor, sizing once, counting
//! references) are plain Rust in the `shmtable` crate, unit-tested on the
//! host; this module adds the locks, the pages and the page tables.
//!
//! ## Where an object appears
//!
//! The object in slot `i` is always mapped at `SHMBASE + i * 128 KiB`
//! (`abi::shm::slot_address`), in every process. So a pointer stored inside
//! shared memory means the same in all of them. The window lies above
//! anything `sbrk` or `exec` may use. Pages are mapped user-accessible,
//! never executable, writable only with `O_RDWR`, and marked `vm::SHARED`:
//! tearing down a page table unmaps them but never frees them.
//!
//! ## Lifetimes
//!
//! An object exists while any descriptor, in any process, refers to it:
//! `shm_open` and `fork` add references, `shm_close`, `exec` and `exit` drop
//! them. Its pages are allocated, zeroed, by the one successful
//! `shm_trunc`, and freed with the last reference; the slot is then free,
//! and a later `shm_open` of the name makes a new, unsized object. A
//! mapping lives as long as its descriptor: closing it unmaps the pages
//! (and flushes their TLB entries) first.
//!
//! Two counts, kept apart. `NAMES` counts references to an *object*
//! (descriptors, in every process); kalloc.rs counts holders of a
//! *page*, for copy-on-write `fork` (vm.rs). An object's pages have one
//! holder there all their life, their `Object`: they come from `kalloc` with
//! count 1 and go back with one `kfree` when the object dies. Mapping them
//! adds no holder, because `vm::SHARED` pages are neither counted nor
//! freed by an address space; and they are never copy-on-write: they lie
//! above the heap, where `AddressSpace::fork` does not look, and `fork`
//! below maps them into the child as they are, writable if they were, so
//! that parent and child go on writing the same pages.
//!
//! The functions here are the subsystem, which any caller may use: they
//! take what they work on (the process's private state, a descriptor
//! number, a user address) as arguments. The system calls that fetch
//! those from a trap frame are in sysshm.rs.
//!
//! ## Locking
//!
//! Two kinds of lock, so that CPUs working on different objects do not
//! wait for each other:
//!
//! - `NAMES`'s lock guards the names, the reference counts and which slots
//!   are free. `shm_open`, `shm_close` and `fork` take it, briefly:
//!   racing opens of one name make one object.
//! - Each slot's lock in `OBJECTS` guards that object's size and pages.
//!   `shm_trunc` and `shm_map` take only their object's lock: two
//!   processes racing to size an object, exactly one wins, and
//!   processes working on different objects never meet.
//!
//! The one place both are held is the last close of an object: with
//! `NAMES` held, its reference count reaches zero and its slot becomes
//! free, so its pages must be taken out of its `Object` (under the slot's
//! lock) before `NAMES` is released, or a new object in that slot would
//! find them. So the order is `NAMES`, then a slot's lock, never the other
//! way round.
//!
//! Why `trunc` and `map` may touch an object without `NAMES`: their
//! caller holds a descriptor, which is a reference, so the object cannot
//! die, nor its slot be given to another object, while they work.
//!
//! The slow work stays outside the locks: `trunc` allocates and zeroes its
//! pages before it takes its object's lock (and frees them after, if it
//! lost the race or they were not needed); `map`, `fork` and `close` build
//! and tear down page tables with no lock held, and the pages of a dead
//! object are freed after it. That is safe because of one rule: an
//! object lives, with the same pages, while any descriptor refers to it,
//! and a process's descriptors and page table are its own private state,
//! which only it changes. So while a process holds a descriptor, the
//! object's pages, once sized, are a fact it may copy out of the `Object`
//! and use unlocked. The order is what keeps that rule: a descriptor is
//! made after `NAMES` counts its reference (`open`, `fork`), and a
//! mapping is torn down, and the descriptor gone, before the reference
//! is dropped (`close`).
//!
//! ## Waiting on shared memory
//!
//! `shm_wait(addr, expected)` and `shm_wake(addr, n)` are Linux's futex in
//! miniature: a process sleeps on a 32-bit word of an object, and another
//! wakes it, so that locks and queues built in shared memory (user/src/
//! sync.rs) can block instead of spinning. A waiter is named by the word's
//! *physical* address: the same word has one physical address in every
//! process, whatever the mapping, and that address stays valid while the
//! waiter waits, because its own descriptor holds a reference to the
//! object (a process cannot close while it sleeps).
//!
//! `WAITERS`, a table of `NSHMWAIT` entries under one spin lock, records
//! who waits on which word, in arrival order. No wake-up is lost because
//! both calls decide under that lock: `shm_wait` reads the word and
//! enters its entry with the lock held, and `proc::sleep` releases it only
//! once the process is asleep; a waker changes the word first and then
//! takes the lock, so either it finds the entry (and wakes the process) or
//! the waiter, coming later, finds the new value and returns -1 at once.
//! An entry is removed by its own waiter when it wakes, was woken, or was
//! killed, so nothing stays behind. A process waits on one word at a time,
//! so every waiting process has exactly one entry.
//!
//! ## Decisions the spec leaves open
//!
//! - Every failing call leaves nothing behind: `shm_open` checks for a free
//!   descriptor before it touches `NAMES`; `shm_map` checks the `va`
//!   pointer before it maps anything, and undoes a half-made mapping if it
//!   runs out of memory for page tables.
//! - `shm_map` of an object the process already maps (through any
//!   descriptor) fails, even if the first mapping is read-only.

use shmtable::{Access, ShmError};

use crate::error::{Error, SysResult};
use crate::proc::Private;
use crate::spinlock::SpinLock;
use crate::vm::UserAddr;

// LAB sync: solution begins
use core::sync::atomic::{AtomicU32, Ordering};

use abi::shm::NSHMWAIT;

use crate::memlayout::phys_to_virt;
use crate::proc::{self, WaitChannel};
// LAB sync: stub
// LAB sync: end

// LAB shm: solution begins
use abi::shm::{NSHM, SHM_MAXPAGES, SLOT_SIZE, slot_address};
use shmtable::{Descriptors, Names, Object, Page};

use crate::kalloc::{kalloc_zeroed, kfree};
use crate::param::PGSIZE;
use crate::vm;

/// The objects' names and reference counts, and which slots are free.
static NAMES: SpinLock<Names> = SpinLock::new("shm names", Names::new());

/// Each slot's object: its size and pages, named by their physical
/// addresses. `shmtable::Object` is aligned to 128 bytes, so that no two
/// slots' locks share a cache line (`cpu::Cpu` says why that matters).
static OBJECTS: [SpinLock<Object>; NSHM] =
    [const { SpinLock::new("shm object", Object::new()) }; NSHM];
// LAB shm: stub
// LAB shm: end

impl From<ShmError> for Error {
    fn from(error: ShmError) -> Error {
        match error {
            ShmError::BadName | ShmError::BadSize | ShmError::BadFlags => Error::InvalidArgument,
            ShmError::TableFull | ShmError::NoDescriptor | ShmError::OutOfMemory => {
                Error::OutOfResources
            }
            ShmError::BadDescriptor => Error::BadDescriptor,
            ShmError::AlreadySized | ShmError::NotSized | ShmError::AlreadyMapped => {
                Error::InvalidArgument
            }
        }
    }
}

// LAB shm: solution begins
/// Gives pages no object holds back to the page allocator. The caller
/// holds no shared-memory lock.
fn free_pages(pages: &[Page]) {
    for &page in pages {
        // SAFETY: the pages came from kalloc_zeroed and nobody can reach
        // them: either no object took them (`trunc`), or the last
        // reference to their object is gone, and with it every mapping
        // (each mapping belongs to a descriptor holding a reference).
        unsafe { kfree(page) };
    }
}

/// The pages of the object in `slot`, copied out of its `Object` (none if it
/// is unsized), and how many there are. The caller holds a reference to
/// the object, so the pages stay the object's after the lock is dropped.
fn object_pages(slot: usize) -> ([Page; SHM_MAXPAGES], usize) {
    let object = OBJECTS[slot].lock();
    let mut pages = [0; SHM_MAXPAGES];
    let mut count = 0;
    for page in object.pages() {
        pages[count] = page;
        count += 1;
    }
    (pages, count)
}
// LAB shm: stub
// LAB shm: end

/// shm_open: a descriptor of `me` for the object called `name`, created
/// if needed.
pub fn open(me: &mut Private, name: &[u8]) -> SysResult {
    // LAB shm: solution begins
    let descriptors = &mut me.shm;
    if !descriptors.has_free() {
        return Err(Error::OutOfResources);
    }
    let slot = NAMES.lock().open(name)?;
    Ok(descriptors.alloc(slot).expect("a descriptor is free"))
    // LAB shm: stub
    // let _ = (me, name);
    // Err(Error::OutOfResources)
    // LAB shm: end
}

/// shm_trunc: gives the object of descriptor `od` its size, `size`
/// bytes, and zeroed pages, once; returns the size.
pub fn trunc(me: &Private, od: usize, size: i64) -> SysResult {
    // LAB shm: solution begins
    let descriptor = me.shm.get(od)?;
    // Allocating and zeroing the pages is the slow part: do it before
    // taking the lock. Short of memory, the object's `trunc` finds the
    // pages missing and fails as it would have.
    let wanted = shmtable::pages_for(size).unwrap_or(0);
    let mut fresh = [0; SHM_MAXPAGES];
    let mut got = 0;
    while got < wanted {
        let Some(page) = kalloc_zeroed() else { break };
        fresh[got] = page;
        got += 1;
    }
    let mut taken = 0;
    let result = OBJECTS[descriptor.slot].lock().trunc(
        size,
        || {
            let page = fresh[..got].get(taken).copied();
            taken += 1;
            page
        },
        // Pages it gives back on failure are still in `fresh`.
        |_| {},
    );
    // The object keeps the pages only if it succeeded; the rest go back.
    let kept = if result.is_ok() { wanted } else { 0 };
    free_pages(&fresh[kept..got]);
    result.map_err(Error::from)
    // LAB shm: stub
    // let _ = (me, od, size);
    // Err(Error::InvalidArgument)
    // LAB shm: end
}

/// shm_map: maps the whole object of descriptor `od` into `private`'s
/// address space at its slot's address, with `access`, and stores that
/// address at the user address `va_pointer`.
pub fn map(private: &mut Private, od: usize, va_pointer: UserAddr, access: Access) -> SysResult {
    // LAB shm: solution begins
    let descriptor = private.shm.get(od)?;
    let slot = descriptor.slot;
    // The descriptor's reference keeps the pages the object's (module doc).
    let (pages, count) = object_pages(slot);
    if count == 0 {
        return Err(ShmError::NotSized.into());
    }
    if private.shm.maps(slot) {
        return Err(ShmError::AlreadyMapped.into());
    }
    // The answer must be deliverable before anything is mapped.
    private
        .space()
        .check(va_pointer, size_of::<usize>(), true)?;
    let base = slot_address(slot);
    let space = private.space_mut();
    for (i, &page) in pages[..count].iter().enumerate() {
        if space
            .map_shared(base + i * PGSIZE, page, access.is_writable())
            .is_err()
        {
            space.unmap(base, base + i * PGSIZE);
            return Err(Error::OutOfResources);
        }
    }
    vm::copy_out(space, va_pointer, &base.to_ne_bytes())?;
    private.shm.set_mapped(od, access)?;
    Ok(0)
    // LAB shm: stub
    // let _ = (private, od, va_pointer, access);
    // Err(Error::InvalidArgument)
    // LAB shm: end
}

/// shm_close: unmaps (if mapped) and frees descriptor `od`, dropping a
/// reference to the object.
pub fn close(private: &mut Private, od: usize) -> SysResult {
    // LAB shm: solution begins
    close_descriptor(private, od)?;
    Ok(0)
    // LAB shm: stub
    // let _ = (private, od);
    // Err(Error::BadDescriptor)
    // LAB shm: end
}

// LAB shm: solution begins
/// Closes descriptor `od` of `private`: unmaps and forgets it, then drops
/// its reference, in that order (module doc).
fn close_descriptor(private: &mut Private, od: usize) -> Result<(), ShmError> {
    let descriptor = private.shm.remove(od)?;
    if descriptor.mapped.is_some() {
        // The object fills the start of its slot's window, and nothing
        // else is ever mapped there: unmapping the window unmaps it,
        // without asking the object for its size. The pages are marked
        // SHARED, so unmap does not free them; it flushes their TLB
        // entries on this CPU, the only one running this process.
        let base = slot_address(descriptor.slot);
        private.space_mut().unmap(base, base + SLOT_SIZE);
    }
    let mut dead = [0; SHM_MAXPAGES];
    let mut count = 0;
    let mut names = NAMES.lock();
    if names.close(descriptor.slot) {
        // The last reference: the slot is free once `NAMES` is released,
        // so the pages come out of it first (module doc, "Locking").
        OBJECTS[descriptor.slot].lock().clear(|page| {
            dead[count] = page;
            count += 1;
        });
    }
    drop(names);
    free_pages(&dead[..count]);
    Ok(())
}
// LAB shm: stub
// LAB shm: end

/// Closes every descriptor of a process: exit, and exec once it has
/// succeeded. Runs before the address space is freed.
pub fn close_all(private: &mut Private) {
    // LAB shm: solution begins
    let open: Descriptors = private.shm;
    for (od, _) in open.iter() {
        close_descriptor(private, od).expect("the descriptor is open");
    }
    // LAB shm: stub
    // let _ = private;
    // LAB shm: end
}

/// Gives a child of `parent` copies of its descriptors (one more reference
/// each, same numbers) and of its mappings: the same physical pages at the
/// same addresses with the same rights. If memory for the child's page
/// tables runs out, closes everything it gave the child and fails.
pub fn fork(parent: &Private, child: &mut Private) -> Result<(), Error> {
    // LAB shm: solution begins
    {
        let mut names = NAMES.lock();
        for (_, descriptor) in parent.shm.iter() {
            names.add_reference(descriptor.slot);
        }
    }
    child.shm = parent.shm;
    let mapped = 'map: {
        for (_, descriptor) in parent.shm.iter() {
            let Some(access) = descriptor.mapped else {
                continue;
            };
            let base = slot_address(descriptor.slot);
            let (pages, count) = object_pages(descriptor.slot);
            for (i, &page) in pages[..count].iter().enumerate() {
                if child
                    .space_mut()
                    .map_shared(base + i * PGSIZE, page, access.is_writable())
                    .is_err()
                {
                    break 'map false;
                }
            }
        }
        true
    };
    if !mapped {
        // Closing a mapped descriptor unmaps its whole range; pages that
        // were never mapped are skipped.
        let given = child.shm;
        for (od, _) in given.iter() {
            close_descriptor(child, od).expect("the descriptor is open");
        }
        return Err(Error::OutOfResources);
    }
    Ok(())
    // LAB shm: stub
    // let _ = (parent, child);
    // Ok(())
    // LAB shm: end
}

// LAB sync: solution begins
/// A process waiting in `shm_wait`.
#[derive(Clone, Copy)]
struct Waiter {
    /// Physical address of the word it waits on.
    word: usize,
    /// When it arrived, in `WaitTable::arrivals`: `shm_wake` wakes the
    /// oldest first.
    arrival: u64,
    /// Set by `shm_wake`; the waiter then leaves.
    woken: bool,
}

/// The waiters, and a count of arrivals that orders them.
struct WaitTable {
    entries: [Option<Waiter>; NSHMWAIT],
    arrivals: u64,
}

static WAITERS: SpinLock<WaitTable> = SpinLock::new(
    "shm waiters",
    WaitTable {
        entries: [None; NSHMWAIT],
        arrivals: 0,
    },
);
// LAB sync: stub
// LAB sync: end

/// The physical address of the aligned 32-bit word at user address `va`,
/// which must lie in shared memory that `me` maps.
fn word_at(me: &Private, va: UserAddr) -> Result<usize, Error> {
    let va = va.0;
    if !va.is_multiple_of(size_of::<u32>()) {
        return Err(Error::InvalidArgument);
    }
    me.space().translate_shared(va).ok_or(Error::BadAddress)
}

// LAB sync: solution begins
/// The word at physical address `word`, read as the atomic it is to the
/// processes that share it.
fn load_word(word: usize) -> u32 {
    // SAFETY: `word` is an aligned word of an object's page (word_at),
    // which lives while the caller holds its reference; the kernel reads
    // it through the direct map, like any process's atomic access.
    let word = unsafe { AtomicU32::from_ptr(phys_to_virt(word) as *mut u32) };
    word.load(Ordering::SeqCst)
}
// LAB sync: stub
// LAB sync: end

/// shm_wait: sleeps while the word at `va` holds `expected`, until a
/// shm_wake on it. 0 when woken; an error at once if the word differs,
/// and for a bad address, a full table or a kill.
pub fn wait(me: &Private, va: UserAddr, expected: u32) -> SysResult {
    // LAB sync: solution begins
    let word = word_at(me, va)?;
    let p = proc::current();
    let mut table = WAITERS.lock();
    if load_word(word) != expected {
        return Err(Error::InvalidArgument);
    }
    let i = table
        .entries
        .iter()
        .position(Option::is_none)
        .ok_or(Error::OutOfResources)?;
    let arrival = table.arrivals;
    table.arrivals += 1;
    table.entries[i] = Some(Waiter {
        word,
        arrival,
        woken: false,
    });
    let result = loop {
        if table.entries[i].is_some_and(|waiter| waiter.woken) {
            break Ok(0);
        }
        if p.killed() {
            break Err(Error::Interrupted);
        }
        table = proc::sleep(WaitChannel::of(&table.entries[i]), table);
    };
    table.entries[i] = None;
    result
    // LAB sync: stub
    // let _ = (word_at(me, va)?, expected);
    // Err(Error::OutOfResources)
    // LAB sync: end
}

/// shm_wake: wakes up to `n` (at least 1) processes waiting on the word
/// at `va`, oldest first; returns how many.
pub fn wake(me: &Private, va: UserAddr, n: usize) -> SysResult {
    // LAB sync: solution begins
    let word = word_at(me, va)?;
    if n == 0 {
        return Err(Error::InvalidArgument);
    }
    let mut table = WAITERS.lock();
    let mut woken = 0;
    while woken < n {
        let oldest = table
            .entries
            .iter()
            .enumerate()
            .filter_map(|(i, entry)| entry.map(|waiter| (i, waiter)))
            .filter(|(_, waiter)| waiter.word == word && !waiter.woken)
            .min_by_key(|(_, waiter)| waiter.arrival);
        let Some((i, _)) = oldest else {
            break;
        };
        if let Some(waiter) = table.entries[i].as_mut() {
            waiter.woken = true;
        }
        proc::wakeup(WaitChannel::of(&table.entries[i]));
        woken += 1;
    }
    Ok(woken)
    // LAB sync: stub
    // let _ = (word_at(me, va)?, n);
    // Ok(0)
    // LAB sync: end
}
