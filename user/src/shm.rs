//! Shared memory from user space: the system calls of the shared-memory
//! contract (docs/shm.md), and [`Shm`], a handle that closes itself.
//!
//! # Layers
//!
//! 1. **Raw calls**, C-like, returning -1 on error as xv6 does:
//!    [`shm_open`], [`shm_trunc`], [`shm_map`] and [`shm_close`], and the
//!    waiting pair [`shm_wait`] and [`shm_wake`] (used by [`crate::sync`]).
//!    Tests use these (or [`crate::usys`] directly, to pass bad pointers).
//! 2. **[`Shm`]**, an open descriptor. [`Shm::open`] checks the name as the
//!    kernel will and adds its NUL; [`Shm::trunc`] sizes the object;
//!    dropping a `Shm` closes the descriptor, which also removes its mapping.
//! 3. **[`Mapping`]**, what [`Shm::map_rw`] and [`Shm::map_ro`] return: a
//!    view of the mapped bytes that borrows the `Shm`, so it cannot outlive
//!    the descriptor whose close unmaps it.
//!
//! # Soundness
//!
//! Rust promises that nothing changes the memory behind a `&[u8]`, and that
//! nothing else even reads the memory behind a `&mut [u8]`, while the
//! reference lives. Shared memory breaks both promises by design: any
//! process that maps the object may write it at any moment, exactly like
//! another thread. So a *safe* function may not hand out a plain slice of a
//! mapping. [`Mapping`] instead reaches the bytes through atomics
//! (`AtomicU8`, plus aligned `u32` words for handshakes): an atomic access
//! racing with another process's write yields an old or new value, never
//! undefined behaviour. On x86_64 a relaxed atomic byte access is an ordinary
//! `mov`, so this costs little. Programs that move bulk data and can prove
//! that nobody else touches the bytes for a while (because a handshake gave
//! them the turn, or because the other processes have exited) may borrow a
//! plain slice with the `unsafe` [`Mapping::as_slice`] and
//! [`Mapping::as_mut_slice`], stating that proof in their `SAFETY` comment.
//!
//! Which raw calls are safe follows the same rule as in [`crate::syscall`]:
//! a call is safe if nothing the kernel does for it can invalidate memory
//! Rust is using. [`shm_open`] and [`shm_trunc`] touch no user memory
//! besides the name they read. [`shm_map`] only adds pages, and only in the
//! window `SHMBASE..SHM_END`, where the kernel keeps the heap, stack and
//! program image out; it refuses to map an object twice, so it never
//! replaces pages someone is using. [`shm_close`] is `unsafe`: it unmaps
//! pages, and a reference into them would dangle, or worse, point into the
//! next object that gets the same slot.
//!
//! # Knowing the size
//!
//! The kernel maps the *whole* object at [`slot_address`]`(slot)`, but has no
//! call that reports an object's size, and touching the window beyond the
//! object's last page kills the process. So a `Shm` knows its object's size
//! only when it sized the object itself ([`Shm::trunc`]) or is told
//! ([`Shm::assume_size`], `unsafe` because an overstated size lets
//! [`Mapping`] reach unmapped memory). Cooperating processes therefore pass
//! the size along: a parent that sized the object before `fork` hands the
//! child its `Shm`, or the size travels in a pipe, an argument, or the
//! object itself. Since only a sized object can be mapped and sizes are
//! whole pages, every successful map has at least [`PGSIZE`] bytes; that is
//! always a safe assumption.
//!
//! # The text format of the tools
//!
//! `shmput` and `shmget` (and `shmhold`, which keeps an object alive between
//! them) store one piece of text in the object's first page, which every
//! mappable object has, so a reader needs to know no size:
//!
//! ```text
//! offset 0           4                     4 + length          4096
//!        +-----------+---------------------+--------- ... -----+
//!        | length    | text (length bytes) | unused            |
//!        | u32, LE   | not NUL-terminated  |                   |
//!        +-----------+---------------------+--------- ... -----+
//! ```
//!
//! `length` is at most [`TEXT_CAPACITY`] (4092). A new object is all
//! zeroes, so it reads as empty text. The writer stores the text, then
//! publishes `length` with release ordering ([`Mapping::store_u32`]); the
//! reader loads `length` with acquire ordering, then the text. There is no
//! lock: a reader racing a second writer may see a mix of both texts, but
//! never bytes outside the page. [`write_text`] and [`read_text`] implement
//! the format.

use core::ffi::CStr;
use core::fmt;
use core::ops::Range;
use core::ptr;
use core::sync::atomic::{AtomicU8, AtomicU32, Ordering, fence};

use abi::syscall::{
    SYS_SHM_CLOSE, SYS_SHM_MAP, SYS_SHM_OPEN, SYS_SHM_TRUNC, SYS_SHM_WAIT, SYS_SHM_WAKE,
};

use crate::PGSIZE;
use crate::usys::{syscall1, syscall2, syscall3};

pub use abi::fcntl::{O_RDONLY, O_RDWR};
pub use abi::shm::{
    NSHM, NSHMPROC, SHM_END, SHM_MAXPAGES, SHM_MAXSIZE, SHM_NAME_MAX, SLOT_SIZE, slot_address,
};

// ---------------------------------------------------------------------------
// The raw system calls.

/// Opens the shared-memory object called `name` (1..=63 bytes), creating it
/// unsized if no object has that name. Returns the lowest free descriptor
/// (0..16) of this process, or -1.
pub fn shm_open(name: &CStr) -> i32 {
    // SAFETY: the kernel only reads the NUL-terminated name.
    unsafe { syscall1(SYS_SHM_OPEN, name.as_ptr() as usize) as i32 }
}

/// Sizes the object open as `od` to `size` bytes (1..=131072), rounded up
/// to whole pages of zeroes. Returns the size it got, or -1 — also when the
/// object already has a size.
pub fn shm_trunc(od: i32, size: i32) -> i32 {
    // SAFETY: sizing allocates the object's pages inside the kernel. It
    // touches no user memory and maps nothing (an unsized object cannot be
    // mapped, so no process has its pages yet). The casts sign-extend, so a
    // negative `od` or `size` reaches the kernel as the negative number it is.
    unsafe { syscall2(SYS_SHM_TRUNC, od as usize, size as usize) as i32 }
}

/// Maps the whole object open as `od` at its fixed address, writable only
/// if `flags` is [`O_RDWR`] ([`O_RDONLY`] maps it read-only; anything else
/// fails). Stores the address in `va` and returns 0, or returns -1.
pub fn shm_map(od: i32, va: &mut usize, flags: u32) -> i32 {
    // SAFETY: the kernel writes one usize into `va`, borrowed mutably, and
    // adds pages only inside the shared-memory window, where this program
    // has nothing else (heap, stack and image stay below SHMBASE). It refuses
    // an object this process has mapped already, so no page in use is
    // replaced; a slot's earlier mapping was removed by `shm_close`, whose
    // caller promised that nothing used it any more.
    unsafe {
        syscall3(
            SYS_SHM_MAP,
            od as usize,
            ptr::from_mut(va) as usize,
            flags as usize,
        ) as i32
    }
}

/// Closes descriptor `od`: removes its mapping from this process and drops
/// its reference to the object (the last reference frees the object).
/// Returns 0, or -1 if `od` is not open.
///
/// # Safety
/// Nothing in this process may use the memory mapped through `od` after the
/// call: no reference, slice, [`Mapping`] or pointer into it. (Other
/// processes' mappings are not affected.)
pub unsafe fn shm_close(od: i32) -> i32 {
    // SAFETY: unmapping breaks only references into the mapping, which the
    // caller promises are no longer used.
    unsafe { syscall1(SYS_SHM_CLOSE, od as usize) as i32 }
}

/// Sleeps while the aligned 32-bit word at `addr`, in shared memory this
/// process maps, holds `expected`, until a [`shm_wake`] on that word.
/// Returns 0 when woken, and -1 at once if the word holds something else
/// (or `addr` is not such a word, the kernel's table of waiters is full,
/// or the process is killed meanwhile). Like a futex, it can return 0
/// although the word still holds `expected` (another waker's `n` was
/// generous): callers re-check the word in a loop.
pub fn shm_wait(addr: usize, expected: u32) -> i32 {
    // SAFETY: the kernel only reads the word; no memory changes.
    unsafe { syscall2(SYS_SHM_WAIT, addr, expected as usize) as i32 }
}

/// Wakes up to `n` (at least 1) processes waiting in [`shm_wait`] on the
/// word at `addr`, oldest first. Returns how many it woke, or -1 if `addr`
/// is not an aligned word of mapped shared memory or `n < 1`.
pub fn shm_wake(addr: usize, n: i32) -> i32 {
    // SAFETY: the kernel touches no user memory for this call.
    unsafe { syscall2(SYS_SHM_WAKE, addr, n as usize) as i32 }
}

// ---------------------------------------------------------------------------
// Shm: an open descriptor.

/// Why a [`Shm`] operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShmError {
    /// The name is empty, longer than [`SHM_NAME_MAX`] bytes, or contains a
    /// NUL byte (which would make the kernel see a shorter name).
    InvalidName,
    /// A size outside `1..=SHM_MAXSIZE`.
    InvalidSize,
    /// Mapping needs the object's size, and this `Shm` does not know it (see
    /// [`Shm::assume_size`]).
    UnknownSize,
    /// The kernel returned -1 from the named call. It gives no reason;
    /// docs/shm.md lists the possible ones for each call.
    Refused(&'static str),
}

impl fmt::Display for ShmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShmError::InvalidName => write!(f, "a name must be 1 to {SHM_NAME_MAX} bytes, no NUL"),
            ShmError::InvalidSize => write!(f, "a size must be 1 to {SHM_MAXSIZE} bytes"),
            ShmError::UnknownSize => write!(f, "the object's size is not known"),
            ShmError::Refused(call) => write!(f, "{call} failed"),
        }
    }
}

/// An open shared-memory descriptor. Dropping it closes the descriptor,
/// which unmaps the object from this process and drops the reference.
///
/// After `fork`, parent and child each own a copy of the descriptor (the
/// kernel counted one more reference), and each copy closes on its own.
#[derive(Debug)]
pub struct Shm {
    /// The descriptor, 0..NSHMPROC.
    od: i32,
    /// Bytes the object is known to have: what `trunc` returned or what
    /// `assume_size` was told; 0 while unknown. Never more than the object
    /// really has, because objects are sized once and never shrink while a
    /// descriptor holds them.
    size: usize,
}

impl Shm {
    /// Opens the object called `name`, creating it (unsized) if there is
    /// none. Fails without asking the kernel if the name is one the kernel
    /// would refuse.
    pub fn open(name: impl AsRef<[u8]>) -> Result<Shm, ShmError> {
        let name = name.as_ref();
        if !abi::shm::is_valid_name(name) {
            return Err(ShmError::InvalidName);
        }
        // The name and its NUL, on the stack: a name is short.
        let mut buffer = [0u8; SHM_NAME_MAX + 1];
        buffer[..name.len()].copy_from_slice(name);
        let name =
            CStr::from_bytes_with_nul(&buffer[..=name.len()]).map_err(|_| ShmError::InvalidName)?;
        match shm_open(name) {
            od if od < 0 => Err(ShmError::Refused("shm_open")),
            od => Ok(Shm { od, size: 0 }),
        }
    }

    /// The descriptor number, for the raw calls.
    pub fn descriptor(&self) -> i32 {
        self.od
    }

    /// The object's size in bytes if this `Shm` knows it, else 0.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Sizes the object to `size` bytes, rounded up to whole pages, and
    /// returns the size it got. Fails if the object already has a size (an
    /// object is sized once, by whichever process comes first).
    pub fn trunc(&mut self, size: usize) -> Result<usize, ShmError> {
        if !(1..=SHM_MAXSIZE).contains(&size) {
            return Err(ShmError::InvalidSize);
        }
        // In range, so the cast is exact.
        match shm_trunc(self.od, size as i32) {
            got if got < 0 => Err(ShmError::Refused("shm_trunc")),
            got => {
                self.size = got as usize;
                Ok(self.size)
            }
        }
    }

    /// Tells this `Shm` that the object has at least `size` bytes, for an
    /// object that another process sized.
    ///
    /// # Safety
    /// The object must have at least `size` bytes whenever it is mapped
    /// through this `Shm`: [`Mapping`] gives access to that many bytes, and
    /// the bytes past the object's end are not mapped. [`PGSIZE`] always
    /// qualifies, because only a sized object can be mapped and every sized
    /// object has at least one page.
    pub unsafe fn assume_size(&mut self, size: usize) {
        self.size = size;
    }

    /// Opens `name` for a tool that uses only the object's first page
    /// (`shmput`, `shmlock`, `shmchan`, `shmsend`): sizes it to one page if
    /// nobody has sized it yet, and otherwise takes its size to be one page,
    /// which every sized object has. Returns the handle and whether this
    /// call sized the object (so the object is new, as far as its bytes go).
    pub fn open_first_page(name: impl AsRef<[u8]>) -> Result<(Shm, bool), ShmError> {
        let mut shm = Shm::open(name)?;
        let sized_here = shm.trunc(PGSIZE).is_ok();
        if !sized_here {
            // SAFETY: someone else sized the object, so it has at least a
            // page; had nobody sized it, the trunc above would have.
            unsafe { shm.assume_size(PGSIZE) };
        }
        Ok((shm, sized_here))
    }

    /// Maps the object readable and writable.
    pub fn map_rw(&self) -> Result<Mapping<'_>, ShmError> {
        self.map(O_RDWR)
    }

    /// Maps the object read-only: the returned [`Mapping`] allows only loads.
    pub fn map_ro(&self) -> Result<Mapping<'_>, ShmError> {
        self.map(O_RDONLY)
    }

    fn map(&self, flags: u32) -> Result<Mapping<'_>, ShmError> {
        if self.size == 0 {
            return Err(ShmError::UnknownSize);
        }
        let mut va = 0;
        if shm_map(self.od, &mut va, flags) != 0 {
            return Err(ShmError::Refused("shm_map"));
        }
        let base: *const AtomicU8 = ptr::with_exposed_provenance(va);
        // SAFETY: the kernel just mapped the whole object at `va`, and it
        // has at least `self.size` bytes (see the field). The pages stay
        // mapped until this descriptor closes, which needs `self` by value
        // (`close`, or drop), so not while the `&self` borrow of the result
        // lives. `AtomicU8` has the layout of `u8`, and shared atomics are
        // what bytes that other processes write at any time call for.
        let bytes = unsafe { core::slice::from_raw_parts(base, self.size) };
        Ok(Mapping {
            bytes,
            writable: flags == O_RDWR,
        })
    }

    /// Closes the descriptor, reporting failure (dropping a `Shm` does the
    /// same but ignores the result).
    pub fn close(self) -> Result<(), ShmError> {
        let od = self.od;
        core::mem::forget(self);
        // SAFETY: every `Mapping` borrows the `Shm` it came from, and this
        // one has been moved here, so none of its mappings is still in use.
        match unsafe { shm_close(od) } {
            0 => Ok(()),
            _ => Err(ShmError::Refused("shm_close")),
        }
    }
}

impl Drop for Shm {
    fn drop(&mut self) {
        // SAFETY: as in `close`: a `Mapping` borrows its `Shm`, so none is
        // alive when the `Shm` is dropped.
        unsafe { shm_close(self.od) };
    }
}

// ---------------------------------------------------------------------------
// Mapping: the mapped bytes.

/// The bytes of a mapped object, valid while its [`Shm`] is open.
///
/// Every access is atomic, so other processes may read and write the same
/// bytes at the same time (see the module documentation). Byte accesses are
/// relaxed: they say nothing about the order in which another process sees
/// them. To hand data over, write it, then [`store_u32`](Self::store_u32) a
/// flag or sequence number (release); the other side
/// [`load_u32`](Self::load_u32)s it (acquire) and then reads the data.
///
/// A `Mapping` is a view, not an owner: dropping it does not unmap anything
/// (only closing the descriptor does), and mapping the same object again
/// fails while it is mapped. Copy the view instead.
///
/// Offsets out of range, and stores into a read-only mapping, panic: better
/// a message than the page fault that would otherwise kill the process.
#[derive(Clone, Copy, Debug)]
pub struct Mapping<'a> {
    bytes: &'a [AtomicU8],
    /// Mapped with `O_RDWR`; a store to a read-only mapping would fault.
    writable: bool,
}

impl<'a> Mapping<'a> {
    /// Where the object is mapped: the same address in every process.
    pub fn address(&self) -> usize {
        self.bytes.as_ptr().addr()
    }

    /// How many bytes the view covers: the object's size as far as the `Shm`
    /// knows it.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the view covers no bytes (never, for a successful map).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Whether the object was mapped with `O_RDWR`.
    pub fn is_writable(&self) -> bool {
        self.writable
    }

    /// The byte at `offset`.
    pub fn load(&self, offset: usize) -> u8 {
        self.bytes[offset].load(Ordering::Relaxed)
    }

    /// Sets the byte at `offset`.
    pub fn store(&self, offset: usize, value: u8) {
        self.check_writable();
        self.bytes[offset].store(value, Ordering::Relaxed);
    }

    /// Copies `buffer.len()` bytes starting at `offset` into `buffer`.
    pub fn read(&self, offset: usize, buffer: &mut [u8]) {
        let source = &self.bytes[offset..offset + buffer.len()];
        for (byte, shared) in buffer.iter_mut().zip(source) {
            *byte = shared.load(Ordering::Relaxed);
        }
    }

    /// Copies `data` into the object, starting at `offset`.
    pub fn write(&self, offset: usize, data: &[u8]) {
        self.check_writable();
        let target = &self.bytes[offset..offset + data.len()];
        for (shared, &byte) in target.iter().zip(data) {
            shared.store(byte, Ordering::Relaxed);
        }
    }

    /// Sets every byte in `range` to `value`.
    pub fn fill(&self, range: Range<usize>, value: u8) {
        self.check_writable();
        for shared in &self.bytes[range] {
            shared.store(value, Ordering::Relaxed);
        }
    }

    /// Loads the aligned 32-bit word at `offset` with acquire ordering:
    /// whatever the process that stored it wrote before its
    /// [`store_u32`](Self::store_u32) is visible after this returns.
    pub fn load_u32(&self, offset: usize) -> u32 {
        let value = self.word(offset).load(Ordering::Relaxed);
        // A relaxed load followed by an acquire fence synchronizes with a
        // release store just as an acquire load would; the relaxed load is
        // the form Rust allows on read-only memory, which this may be.
        fence(Ordering::Acquire);
        value
    }

    /// Adds `value` to the aligned 32-bit word at `offset` atomically (so
    /// that processes counting at once lose no increment), with acquire and
    /// release ordering; returns the old value.
    pub fn add_u32(&self, offset: usize, value: u32) -> u32 {
        self.check_writable();
        self.word(offset).fetch_add(value, Ordering::AcqRel)
    }

    /// Stores `value` in the aligned 32-bit word at `offset` with release
    /// ordering, publishing every write this process made before it.
    pub fn store_u32(&self, offset: usize, value: u32) {
        self.check_writable();
        self.word(offset).store(value, Ordering::Release);
    }

    /// The whole object as a plain byte slice, for fast bulk reads.
    ///
    /// # Safety
    /// While the slice lives, no process — this one through a `Mapping`, or
    /// any other that maps the object — may write its bytes; a handshake or
    /// `wait` must establish that, as it would between threads.
    pub unsafe fn as_slice(&self) -> &'a [u8] {
        // SAFETY: same address and length as `bytes`, which is valid for
        // 'a; `u8` has the layout of `AtomicU8`; the caller promises that no
        // one writes the bytes while the slice lives.
        unsafe { core::slice::from_raw_parts(self.bytes.as_ptr().cast(), self.len()) }
    }

    /// The whole object as a plain mutable byte slice, for fast bulk writes.
    /// Panics if the mapping is read-only.
    ///
    /// # Safety
    /// While the slice lives, no process — this one through another slice or
    /// `Mapping`, or any other that maps the object — may read or write its
    /// bytes; a handshake or `wait` must establish that, as it would between
    /// threads.
    #[allow(clippy::mut_from_ref)] // Exclusive access is the caller's promise.
    pub unsafe fn as_mut_slice(&self) -> &'a mut [u8] {
        self.check_writable();
        let start: *mut u8 = self.bytes.as_ptr().cast::<u8>().cast_mut();
        // SAFETY: as in `as_slice`; the pages are writable (checked above),
        // the atomics' interior mutability lets us write through this
        // pointer, and the caller promises that nothing else accesses the
        // bytes while the slice lives.
        unsafe { core::slice::from_raw_parts_mut(start, self.len()) }
    }

    /// The aligned 32-bit word at `offset`, for the blocking types of
    /// [`crate::sync`], which keep their state in such words.
    pub(crate) fn word(&self, offset: usize) -> &'a AtomicU32 {
        assert!(
            offset.is_multiple_of(4) && offset + 4 <= self.len(),
            "word at {offset} is unaligned or outside the mapping"
        );
        let word: *const AtomicU32 = self.bytes[offset..].as_ptr().cast();
        // SAFETY: the four bytes at `offset` are inside the mapping (checked
        // above), which is valid for 'a; the mapping starts on a page
        // boundary, so `offset` being a multiple of 4 makes the word aligned.
        // Viewing bytes as a word cannot race within this process, which has
        // one thread; other processes' accesses are outside its memory
        // model, and an atomic tolerates them.
        unsafe { &*word }
    }

    pub(crate) fn check_writable(&self) {
        assert!(self.writable, "store to a read-only shared-memory mapping");
    }
}

// ---------------------------------------------------------------------------
// The tools' text format (see the module documentation).

/// Bytes of text a page holds after the length word.
pub const TEXT_CAPACITY: usize = PGSIZE - TEXT_OFFSET;

/// Where the text starts: after the `u32` length.
const TEXT_OFFSET: usize = 4;

/// Stores `text` in the tools' format. Returns false, writing nothing, if
/// it does not fit in [`TEXT_CAPACITY`] bytes or the view is too short to
/// hold a page.
pub fn write_text(mapping: &Mapping<'_>, text: &[u8]) -> bool {
    if text.len() > TEXT_CAPACITY || mapping.len() < PGSIZE {
        return false;
    }
    mapping.write(TEXT_OFFSET, text);
    // Release: a reader that sees the new length sees the new text too.
    mapping.store_u32(0, text.len() as u32);
    true
}

/// Reads the text stored in the tools' format into `buffer` and returns how
/// many bytes it is, or `None` if the length word is larger than a page can
/// hold (the object holds something else) or the view is too short.
pub fn read_text(mapping: &Mapping<'_>, buffer: &mut [u8; TEXT_CAPACITY]) -> Option<usize> {
    if mapping.len() < PGSIZE {
        return None;
    }
    let length = mapping.load_u32(0) as usize;
    if length > TEXT_CAPACITY {
        return None;
    }
    mapping.read(TEXT_OFFSET, &mut buffer[..length]);
    Some(length)
}
