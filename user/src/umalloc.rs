//! The heap allocator: a free list over `sbrk`, after Kernighan and
//! Ritchie (The C Programming Language, 2nd ed., section 8.7), as in xv6's
//! `umalloc.c`.
//!
//! Memory is handed out in *units* of 16 bytes, the size of a [`Header`].
//! Every block, free or allocated, starts with a header giving its size in
//! units (the header included); an allocation's memory starts just after its
//! header, so it is 16-byte aligned.
//!
//! The free blocks form a circular list sorted by address, threaded through
//! their headers' `next` fields. A zero-size sentinel block, `base`, lives in
//! this module's static and is always on the list, so the list is never
//! empty; `freep` remembers where the last search stopped, so that searches
//! spread over the list instead of always starting at the lowest address.
//!
//! ```text
//!   freep
//!     |
//!     v
//!  [base|0] --> [hdr|free.....] --> [hdr|free...] --+
//!     ^                                             |
//!     +---------------------------------------------+   (sorted by address)
//! ```
//!
//! - **Allocating** walks the list from `freep` for the first block big
//!   enough ("first fit") and carves the allocation from the block's
//!   *start*; what is left of the block moves up, with its header, to just
//!   after the allocation. (K&R carve from the end, which keeps the header
//!   where it is; but then the leftover of each growth sits below that
//!   growth's allocations, far from the next growth, and never merges with
//!   it: allocating many blocks of a size that does not divide the growth
//!   leaves one sliver per growth on the list, and every later search walks
//!   them all. Carved from the start, the leftover ends at the break and
//!   merges with the next growth.) An allocation that needs more than
//!   16-byte alignment is carved from the end instead, at the highest
//!   suitably aligned address that fits; the bytes between its end and the
//!   end of the free block become part of it (at most `align - 16` of
//!   them), so every byte stays in exactly one block. If a whole lap finds
//!   nothing, `morecore` grows the heap with `sbrk` and the walk goes on.
//! - **Freeing** puts the block back at its place in address order and
//!   merges it with the free block just before and just after it when they
//!   touch, so the heap does not crumble into pieces too small to use.
//! - **Growing** asks `sbrk` for at least [`MIN_GROW_UNITS`] units (64 KiB),
//!   as each system call is slow, and frees the new memory into the list.
//!   Memory is never given back to the kernel.
//!
//! Locking: none. A process has one thread, and the allocator never calls
//! itself, so no two calls can be inside it at once.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::{Cell, UnsafeCell};
use core::ptr;

use crate::syscall::sbrk;

/// The start of every block.
#[repr(C, align(16))]
struct Header {
    /// The next free block in address order (free blocks only).
    next: *mut Header,
    /// Size of the block in units, this header included.
    units: usize,
}

/// The allocation unit: one header's worth of bytes.
const UNIT: usize = size_of::<Header>();

/// The least the heap grows by at once, in units.
const MIN_GROW_UNITS: usize = 4096;

/// The allocator behind `alloc`'s `Box`, `Vec` and `String`.
#[global_allocator]
static ALLOCATOR: Umalloc = Umalloc::new();

/// The free list (see the module documentation).
pub struct Umalloc {
    /// The sentinel block: size 0, always on the list.
    base: UnsafeCell<Header>,
    /// Where the next search starts; null until the first allocation builds
    /// the list.
    freep: Cell<*mut Header>,
}

// SAFETY: `Umalloc` is shared only between the calls of one thread — a
// process has one thread, and a forked child gets its own copy of the heap
// and of this static — so its cells are never used from two threads.
unsafe impl Sync for Umalloc {}

impl Umalloc {
    const fn new() -> Self {
        Umalloc {
            base: UnsafeCell::new(Header {
                next: ptr::null_mut(),
                units: 0,
            }),
            freep: Cell::new(ptr::null_mut()),
        }
    }

    /// Puts `block` on the free list, in address order, merging it with its
    /// neighbours when they touch.
    ///
    /// # Safety
    /// `block` must be a valid header of a block that is not on the list and
    /// that nothing else uses.
    unsafe fn free(&self, block: *mut Header) {
        // Find `p`, the free block after which `block` belongs: either
        // p < block < p.next, or p is the highest block and `block` lies
        // beyond either end of the list.
        let mut p = self.freep.get();
        // SAFETY: every pointer on the list is a valid header (the list's
        // invariant), and `block` is valid by our contract.
        unsafe {
            loop {
                let next = (*p).next;
                if p < block && block < next {
                    break;
                }
                if p >= next && (block > p || block < next) {
                    break;
                }
                p = next;
            }

            // Merge with the block above, or link to it.
            let next = (*p).next;
            if block.wrapping_add((*block).units) == next {
                (*block).units += (*next).units;
                (*block).next = (*next).next;
            } else {
                (*block).next = next;
            }
            // Merge with the block below, or link from it.
            if p.wrapping_add((*p).units) == block {
                (*p).units += (*block).units;
                (*p).next = (*block).next;
            } else {
                (*p).next = block;
            }
        }
        self.freep.set(p);
    }

    /// Grows the heap by at least `units` units and frees the new memory into
    /// the list. Returns `freep`, from which a search will reach the new
    /// block, or null if `sbrk` fails.
    ///
    /// # Safety
    /// The free list must have been built (`freep` is not null).
    unsafe fn morecore(&self, units: usize) -> *mut Header {
        let units = units.max(MIN_GROW_UNITS);
        // SAFETY: sbrk(0) changes nothing; it only reports the break.
        let Ok(brk) = usize::try_from(unsafe { sbrk(0) }) else {
            return ptr::null_mut();
        };
        // Headers must be 16-byte aligned, and the break need not be (it
        // starts at the end of bss, and others may move it). Once we have
        // aligned it, our own requests keep it aligned.
        let pad = brk.next_multiple_of(UNIT) - brk;
        let Some(bytes) = units
            .checked_mul(UNIT)
            .and_then(|bytes| bytes.checked_add(pad))
            .and_then(|bytes| isize::try_from(bytes).ok())
        else {
            return ptr::null_mut();
        };
        // SAFETY: growing the heap maps fresh memory that nothing refers to.
        if unsafe { sbrk(bytes) } == -1 {
            return ptr::null_mut();
        }
        // The kernel created this memory, so the pointer takes its provenance
        // from the address rather than from any Rust allocation.
        let block: *mut Header = ptr::with_exposed_provenance_mut(brk + pad);
        // SAFETY: [brk + pad, brk + bytes) is newly mapped, aligned, unused
        // memory of `units` units; after the write it is a valid block, not on
        // the list, which `free` may take.
        unsafe {
            block.write(Header {
                next: ptr::null_mut(),
                units,
            });
            self.free(block);
        }
        self.freep.get()
    }
}

/// Tries to carve an allocation of `units` units (header included), whose
/// memory is aligned to `align`, from free block `p`, which follows `prev`
/// on the list: from its start, or from its end for an alignment above
/// [`UNIT`] (module doc). Returns the allocation's memory, or `None` if it
/// does not fit in `p`.
///
/// # Safety
/// `p` must be a free block on the list and `prev` the block before it;
/// `align` must be a power of two of at least [`UNIT`].
unsafe fn carve(prev: *mut Header, p: *mut Header, units: usize, align: usize) -> Option<*mut u8> {
    // SAFETY: p is a valid header (our contract).
    let size = unsafe { (*p).units };
    if size < units {
        return None;
    }
    if align == UNIT {
        // Every header is UNIT-aligned, so the memory after it is too.
        // SAFETY: p and prev are valid headers on the list; the rest's
        // header, `units` units into p's block, lies inside it when
        // anything is left, and the block is ours to divide.
        unsafe {
            let next = (*p).next;
            if size == units {
                (*prev).next = next;
            } else {
                let rest = p.add(units);
                rest.write(Header {
                    next,
                    units: size - units,
                });
                (*prev).next = rest;
            }
            p.write(Header {
                next: ptr::null_mut(),
                units,
            });
            return Some(p.add(1).cast());
        }
    }
    let start = p.addr();
    let end = start + size * UNIT;
    // The highest aligned address with room for the memory below `end`.
    let memory = (end - (units - 1) * UNIT) & !(align - 1);
    let Some(front) = (memory - UNIT).checked_sub(start) else {
        return None; // Aligning pushed the header below the block.
    };
    // The front part of the block (if any) stays on the list, with its
    // header where it was; the allocation runs to the end of the block.
    // SAFETY: p and prev are valid headers on the list; the new header lies
    // inside p's block (start <= header < end), which is ours to divide.
    unsafe {
        if front == 0 {
            (*prev).next = (*p).next;
        } else {
            (*p).units = front / UNIT;
        }
        let header = p.byte_add(front);
        header.write(Header {
            next: ptr::null_mut(),
            units: (end - header.addr()) / UNIT,
        });
        Some(header.add(1).cast())
    }
}

// SAFETY: `alloc` returns memory from blocks that are on no list and that no
// other allocation overlaps, aligned and big enough for the layout;
// `dealloc` takes back exactly such blocks.
unsafe impl GlobalAlloc for Umalloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let align = layout.align().max(UNIT);
        // The memory in units, plus one for the header.
        let Some(units) = layout.size().div_ceil(UNIT).checked_add(1) else {
            return ptr::null_mut();
        };
        if self.freep.get().is_null() {
            // First call: the list is just the sentinel, pointing to itself.
            let base = self.base.get();
            // SAFETY: `base` points to our static header, which nothing else
            // uses.
            unsafe { (*base).next = base };
            self.freep.set(base);
        }

        let mut prev = self.freep.get();
        // SAFETY: list pointers are valid headers (the list's invariant).
        let mut p = unsafe { (*prev).next };
        loop {
            // SAFETY: p is on the list, right after prev; align is a power of
            // two (Layout's guarantee) of at least UNIT.
            if let Some(memory) = unsafe { carve(prev, p, units, align) } {
                self.freep.set(prev);
                return memory;
            }
            if p == self.freep.get() {
                // A whole lap and nothing fits. Enough extra units for any
                // alignment guarantee the new block fits the request.
                let Some(wanted) = units.checked_add(align / UNIT - 1) else {
                    return ptr::null_mut();
                };
                // SAFETY: the list was built above.
                p = unsafe { self.morecore(wanted) };
                if p.is_null() {
                    return ptr::null_mut();
                }
            }
            prev = p;
            // SAFETY: as above.
            p = unsafe { (*p).next };
        }
    }

    unsafe fn dealloc(&self, memory: *mut u8, _layout: Layout) {
        // SAFETY: `memory` came from `alloc` (GlobalAlloc's contract), so a
        // valid header of a block in use sits just before it.
        unsafe { self.free(memory.cast::<Header>().sub(1)) }
    }
}
