//! exec: replace the calling process's program with a new one.
//!
//! The program is an ELF64 executable for x86_64. Loading it:
//!
//! 1. Check the ELF header field by field (magic, 64-bit, little-endian,
//!    current version, executable type, x86_64, program-header size and
//!    table bounds). Anything unexpected is refused: the file is input from
//!    a user, not trusted.
//! 2. Build a fresh address space. For every loadable segment, check that
//!    it lies in the user half between page 1 and `SHMBASE`, that its file
//!    bytes lie inside the file, and that segments don't overlap; map zeroed
//!    pages, copy the file bytes, then set the segment's permissions (write
//!    only if the segment is writable, execute only if it is executable).
//!    The other program headers are ignored or refused, as the table below
//!    says.
//! 3. Above the image: one unmapped guard page, then `USER_STACK_PAGES` of
//!    stack. The argument strings go at the top of the stack, then the
//!    `argv` array of pointers (16-byte aligned, ending in a null pointer),
//!    then a fake return address 0, so that the program's `_start` sees the
//!    stack exactly as after a `call`: rdi = argc, rsi = argv.
//! 4. Only when everything above has succeeded, swap the new address space
//!    in and free the old one, and reset the FPU/SSE registers to their
//!    initial state (fpu.rs), so nothing of the old program survives. A
//!    failure at any step frees the new one and leaves the caller's image
//!    untouched, so exec returns -1 to a caller that is still intact.
//!
//! The file is read through its locked inode, one header or one page at a
//! time, inside a log operation (the inode is dropped at the end).
//!
//! # Which program headers are accepted
//!
//! exec must take what an ordinary `gcc` and `ld` produce, not only what our
//! own linker script does, and refuse whatever it cannot run as the program
//! expects. Each kind of program header gets one of three answers:
//!
//! | header | answer | why |
//! | --- | --- | --- |
//! | `PT_LOAD`, non-empty | loaded | the program's bytes |
//! | `PT_LOAD`, empty (`p_memsz` 0) | ignored, wherever it says it starts | it maps nothing; `ld` emits one at address 0 for a `PHDRS` entry none of whose sections exist (a program without data) |
//! | `PT_NULL`, `PT_NOTE`, `PT_PHDR`, `PT_GNU_PROPERTY`, `PT_GNU_EH_FRAME` | ignored | descriptions for other tools (build id, CPU features, unwinding tables); what they describe lies in a `PT_LOAD` when it is needed at run time |
//! | `PT_GNU_RELRO` | ignored | asks for pages to become read-only after dynamic relocation; a static program has none, so leaving them writable only forgoes hardening |
//! | `PT_GNU_STACK`, not executable | ignored | our user stacks are never executable, which is what it asks for |
//! | `PT_GNU_STACK`, executable | refused | the program expects to run code on its stack (gcc's nested-function trampolines), which would fault |
//! | `PT_TLS`, empty | ignored | a thread-local template with nothing in it needs no set-up |
//! | `PT_TLS`, non-empty | refused | exec sets up no thread-local storage (no `fs` base), so the program's first thread-local access would fault |
//! | `PT_INTERP`, `PT_DYNAMIC`, `PT_SHLIB` | refused | a dynamically linked program needs a dynamic linker we do not have |
//! | anything else | refused | a header this loader does not know may matter to the program |
//!
//! A non-empty `PT_LOAD` must not touch page 0 (a null dereference must
//! fault), so a segment may start inside the first page only if it is empty.

use x86::bits64::paging::PTFlags;

use crate::arch::gdt::{USER_CODE, USER_DATA};
use crate::arch::trapframe::TrapFrame;
use crate::error::Error;
use crate::fs::{self, Inode, InodeGuard, Target};
use crate::kalloc::{kalloc, kfree};
use crate::log;
use crate::memlayout::{SHMBASE, phys_to_virt};
use crate::param::{MAXARG, PGSIZE, USER_STACK_PAGES};
use crate::proc::{Name, Private, Proc};
use crate::vm::{self, AddressSpace, UserAddr};

const ELF_MAGIC: [u8; 4] = *b"\x7fELF";
const ELFCLASS64: u8 = 2;
const ELFDATA2LSB: u8 = 1;
const EV_CURRENT: u8 = 1;
const ET_EXEC: u16 = 2;
const EM_X86_64: u16 = 62;
const ELF_HEADER_SIZE: usize = 64;
const PROGRAM_HEADER_SIZE: usize = 56;
/// More program headers than any of our programs has; refuse the rest.
const MAX_PROGRAM_HEADERS: usize = 16;
// Program header types (see the module doc for what exec does with each).
const PT_NULL: u32 = 0;
const PT_LOAD: u32 = 1;
const PT_NOTE: u32 = 4;
const PT_PHDR: u32 = 6;
const PT_TLS: u32 = 7;
const PT_GNU_EH_FRAME: u32 = 0x6474_e550;
const PT_GNU_STACK: u32 = 0x6474_e551;
const PT_GNU_RELRO: u32 = 0x6474_e552;
const PT_GNU_PROPERTY: u32 = 0x6474_e553;
const PF_X: u32 = 1;
const PF_W: u32 = 2;
/// RFLAGS of a new program: interrupts on (and bit 1, always set).
const USER_RFLAGS: u64 = 0x202;

/// The fields of the ELF header that exec uses.
struct ElfHeader {
    entry: usize,
    program_headers: usize,
    program_header_count: usize,
}

/// A loadable segment.
struct Segment {
    offset: usize,
    vaddr: usize,
    file_size: usize,
    memory_size: usize,
    flags: u32,
}

/// An executable file being loaded: its locked inode.
struct ElfFile<'a> {
    inode: InodeGuard<'a>,
}

impl ElfFile<'_> {
    fn len(&self) -> usize {
        self.inode.size() as usize
    }

    /// Fills `buffer` from `offset`; the whole range must be in the file.
    fn read_exact(&mut self, offset: usize, buffer: &mut [u8]) -> Result<(), Error> {
        let offset = u32::try_from(offset).map_err(|_| Error::BadExecutable)?;
        let len = buffer.len();
        match self.inode.read(Target::Kernel(buffer), offset, len) {
            Ok(read) if read == len => Ok(()),
            _ => Err(Error::BadExecutable),
        }
    }
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(bytes: &[u8], at: usize) -> usize {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes")) as usize
}

fn parse_header(file: &mut ElfFile) -> Result<ElfHeader, Error> {
    let mut bytes = [0u8; ELF_HEADER_SIZE];
    file.read_exact(0, &mut bytes)?;
    let header = &bytes;
    let valid = header[..4] == ELF_MAGIC
        && header[4] == ELFCLASS64
        && header[5] == ELFDATA2LSB
        && header[6] == EV_CURRENT
        && u16_at(header, 16) == ET_EXEC
        && u16_at(header, 18) == EM_X86_64
        && u32_at(header, 20) == u32::from(EV_CURRENT)
        && usize::from(u16_at(header, 52)) == ELF_HEADER_SIZE
        && usize::from(u16_at(header, 54)) == PROGRAM_HEADER_SIZE;
    if !valid {
        return Err(Error::BadExecutable);
    }
    let elf = ElfHeader {
        entry: u64_at(header, 24),
        program_headers: u64_at(header, 32),
        program_header_count: usize::from(u16_at(header, 56)),
    };
    let table_end = (elf.program_header_count * PROGRAM_HEADER_SIZE)
        .checked_add(elf.program_headers)
        .ok_or(Error::BadExecutable)?;
    if elf.program_header_count == 0
        || elf.program_header_count > MAX_PROGRAM_HEADERS
        || table_end > file.len()
    {
        return Err(Error::BadExecutable);
    }
    Ok(elf)
}

/// Program header `i` if it is a segment to load, checked against the file
/// and the user address range; `None` for a header that needs nothing
/// done. Refuses the headers the module doc lists as refused.
fn segment(file: &mut ElfFile, elf: &ElfHeader, i: usize) -> Result<Option<Segment>, Error> {
    let mut header = [0u8; PROGRAM_HEADER_SIZE];
    file.read_exact(elf.program_headers + i * PROGRAM_HEADER_SIZE, &mut header)?;
    let segment = Segment {
        flags: u32_at(&header, 4),
        offset: u64_at(&header, 8),
        vaddr: u64_at(&header, 16),
        file_size: u64_at(&header, 32),
        memory_size: u64_at(&header, 40),
    };
    let executable = segment.flags & PF_X != 0;
    match u32_at(&header, 0) {
        PT_LOAD => {}
        PT_NULL | PT_NOTE | PT_PHDR | PT_GNU_PROPERTY | PT_GNU_EH_FRAME | PT_GNU_RELRO => {
            return Ok(None);
        }
        PT_GNU_STACK if !executable => return Ok(None),
        PT_TLS if segment.memory_size == 0 => return Ok(None),
        _ => return Err(Error::BadExecutable),
    }
    if segment.memory_size == 0 {
        // Maps nothing, so where it claims to be does not matter; but file
        // bytes that do not fit in no memory are a lie.
        return if segment.file_size == 0 {
            Ok(None)
        } else {
            Err(Error::BadExecutable)
        };
    }
    // Each test guards against a different lie in the header; the checked
    // additions catch sums that would wrap around.
    let file_end = segment.offset.checked_add(segment.file_size);
    let memory_end = segment.vaddr.checked_add(segment.memory_size);
    let sound = segment.file_size <= segment.memory_size
        && file_end.is_some_and(|end| end <= file.len())
        && segment.vaddr >= PGSIZE
        && memory_end.is_some_and(|end| end <= SHMBASE);
    if sound {
        Ok(Some(segment))
    } else {
        Err(Error::BadExecutable)
    }
}

/// A new address space holding the program, its guard page and stack.
struct Image {
    space: AddressSpace,
    /// End of the stack: the initial end of memory and start of the heap.
    size: usize,
    entry: usize,
}

fn load_image(file: &mut ElfFile) -> Result<Image, Error> {
    let elf = parse_header(file)?;
    let mut space = AddressSpace::new().ok_or(Error::OutOfResources)?;
    // On failure, `space` is dropped, freeing everything it mapped.
    let size = load_segments_and_stack(file, &elf, &mut space)?;
    Ok(Image {
        space,
        size,
        entry: elf.entry,
    })
}

/// Loads the segments, then maps the guard page and the stack above them;
/// returns the end of the stack.
fn load_segments_and_stack(
    file: &mut ElfFile,
    elf: &ElfHeader,
    space: &mut AddressSpace,
) -> Result<usize, Error> {
    let image_end = load_segments(file, elf, space)?;
    // One unmapped guard page, then the stack.
    let stack_bottom = image_end + PGSIZE;
    let size = stack_bottom + USER_STACK_PAGES * PGSIZE;
    if size > SHMBASE {
        return Err(Error::BadExecutable);
    }
    space
        .map_new(stack_bottom, size, PTFlags::RW | PTFlags::XD)
        .map_err(|_| Error::OutOfResources)?;
    Ok(size)
}

/// Maps and fills every loadable segment; returns the page-aligned end of
/// the image. The entry point must lie in an executable segment.
fn load_segments(
    file: &mut ElfFile,
    elf: &ElfHeader,
    space: &mut AddressSpace,
) -> Result<usize, Error> {
    let mut image_end = 0;
    let mut entry_ok = false;
    for i in 0..elf.program_header_count {
        let Some(segment) = segment(file, elf, i)? else {
            continue;
        };
        let start = segment.vaddr - segment.vaddr % PGSIZE;
        let end = (segment.vaddr + segment.memory_size).next_multiple_of(PGSIZE);
        // Map writable first so the bytes can be copied in; the final
        // permissions come after. Overlapping segments are refused.
        space
            .map_new(start, end, PTFlags::RW)
            .map_err(|error| match error {
                vm::MapError::AlreadyMapped => Error::BadExecutable,
                vm::MapError::OutOfMemory => Error::OutOfResources,
            })?;
        image_end = image_end.max(end);
        copy_segment(file, &segment, space)?;
        let mut flags = PTFlags::empty();
        flags.set(PTFlags::RW, segment.flags & PF_W != 0);
        flags.set(PTFlags::XD, segment.flags & PF_X == 0);
        space.protect(start, end, flags);
        if segment.flags & PF_X != 0
            && (segment.vaddr..segment.vaddr + segment.memory_size).contains(&elf.entry)
        {
            entry_ok = true;
        }
    }
    if entry_ok {
        Ok(image_end)
    } else {
        Err(Error::BadExecutable)
    }
}

/// Copies a segment's file bytes into its (mapped, writable) pages, a page
/// at a time through a bounce page.
fn copy_segment(
    file: &mut ElfFile,
    segment: &Segment,
    space: &mut AddressSpace,
) -> Result<(), Error> {
    let page = kalloc().ok_or(Error::OutOfResources)?;
    // SAFETY: a fresh page from kalloc, ours until freed below.
    let bounce = unsafe { &mut *(phys_to_virt(page) as *mut [u8; PGSIZE]) };
    let mut result = Ok(());
    for done in (0..segment.file_size).step_by(PGSIZE) {
        let len = (segment.file_size - done).min(PGSIZE);
        result = file
            .read_exact(segment.offset + done, &mut bounce[..len])
            .and_then(|()| {
                vm::copy_out(space, UserAddr(segment.vaddr + done), &bounce[..len])
                    .map_err(|_| Error::BadExecutable)
            });
        if result.is_err() {
            break;
        }
    }
    // SAFETY: the bounce page is ours and no longer used.
    unsafe { kfree(page) };
    result
}

/// Puts the argument strings and the argv array on the new stack; returns
/// the initial rsp and the argv address.
fn push_arguments(image: &mut Image, argv: &[&[u8]]) -> Result<(usize, usize), Error> {
    let stack_bottom = image.size - USER_STACK_PAGES * PGSIZE;
    let mut sp = image.size;
    let mut pointers = [0u64; MAXARG + 1];
    for (slot, arg) in pointers.iter_mut().zip(argv) {
        sp = sp
            .checked_sub(arg.len() + 1)
            .filter(|&sp| sp >= stack_bottom)
            .ok_or(Error::InvalidArgument)?;
        vm::copy_out(&mut image.space, UserAddr(sp), arg)?;
        vm::copy_out(&mut image.space, UserAddr(sp + arg.len()), &[0])?;
        *slot = sp as u64;
    }
    // argv[argc] is already 0. The array must start 16-byte aligned, with
    // the fake return address just below it.
    let table_len = (argv.len() + 1) * 8;
    let argv_addr = sp
        .checked_sub(table_len)
        .map(|a| a & !0xF)
        .filter(|&a| a >= stack_bottom + 8)
        .ok_or(Error::InvalidArgument)?;
    let table: &[u64] = &pointers[..=argv.len()];
    for (i, pointer) in table.iter().enumerate() {
        vm::copy_out(
            &mut image.space,
            UserAddr(argv_addr + i * 8),
            &pointer.to_ne_bytes(),
        )?;
    }
    let rsp = argv_addr - 8;
    vm::copy_out(&mut image.space, UserAddr(rsp), &0u64.to_ne_bytes())?;
    Ok((rsp, argv_addr))
}

/// Loads the program `path` into the calling process `p`, whose private
/// fields are `private`, with arguments `argv`, replacing its image.
/// Returns the registers the new program starts with, for the caller to
/// put in the process's trap frame. On error, the process is unchanged.
pub fn load_into(
    p: &Proc,
    private: &mut Private,
    path: &[u8],
    argv: &[&[u8]],
) -> Result<TrapFrame, Error> {
    if argv.len() > MAXARG {
        return Err(Error::InvalidArgument);
    }
    let cwd = private
        .cwd
        .clone()
        .expect("a process has a current directory");
    log::begin_op();
    let loaded = load_file(path, &cwd);
    drop(cwd);
    log::end_op();
    let mut image = loaded?;
    // On failure, `image` is dropped with its address space.
    let (rsp, argv_addr) = push_arguments(&mut image, argv)?;

    // Nothing can fail from here on: commit.
    // The new image starts with no shared memory; the old mappings go
    // while the old address space still exists.
    crate::shm::close_all(private);
    let root = image.space.root();
    let old = private.space.replace(image.space);
    {
        // Under the lock, so that the scheduler never sees the old root
        // once this CPU runs on the new one.
        let mut shared = p.lock.lock();
        shared.page_table = Some(root);
        shared.name = Name::of_path(path);
        root.activate();
    }
    // Only now may the old address space go: it is no longer active.
    // Its pages go back to the allocator, except those a parent or child
    // still holds after a copy-on-write fork: dropping lets go of this
    // process's hold on each (vm.rs), which frees only the last.
    drop(old);
    private.size = image.size;
    private.heap_start = image.size;
    // The new program starts with clean FPU/SSE registers, as with clean
    // general ones: nothing of the old program's state survives exec.
    p.reset_fpu();

    Ok(TrapFrame {
        rip: image.entry as u64,
        cs: u64::from(USER_CODE.bits()),
        rflags: USER_RFLAGS,
        rsp: rsp as u64,
        ss: u64::from(USER_DATA.bits()),
        rdi: argv.len() as u64,
        rsi: argv_addr as u64,
        ..TrapFrame::default()
    })
}

/// Opens `path` (relative to the directory `cwd`) and loads it.
fn load_file(path: &[u8], cwd: &Inode) -> Result<Image, Error> {
    let inode = fs::namei(path, cwd)?;
    let guard = inode.lock()?;
    if guard.kind() != abi::stat::InodeKind::File {
        return Err(Error::BadExecutable);
    }
    let mut file = ElfFile { inode: guard };
    load_image(&mut file)
}
