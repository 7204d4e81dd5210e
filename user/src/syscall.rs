//! The system calls, as safe Rust functions: xv6's `user.h`.
//!
//! Each function turns Rust types into the raw numbers of [`crate::usys`]
//! and back. Results follow xv6: -1 means the call failed, and there is no
//! error code to say why. Slices carry their own length, so `read` and
//! `write` cannot overrun a buffer; paths are `&CStr` (write `c"name"`), the
//! NUL-terminated form the kernel reads.
//!
//! A wrapper is safe when nothing the kernel does for it can break Rust's
//! rules: it reads only memory we lend it, writes only memory we lend it
//! mutably, and creates no memory Rust already believes it owns. The one
//! call that cannot meet that bar is [`sbrk`]: shrinking the heap can unmap
//! memory still in use, so it stays `unsafe`.

use alloc::ffi::CString;
use alloc::vec::Vec;
use core::ffi::CStr;
use core::ptr;

use abi::stat::Stat;
use abi::syscall::*;

use crate::usys::{syscall0, syscall1, syscall2, syscall3};

/// Creates a child process, a copy of this one. Returns the child's pid in
/// the parent, 0 in the child, and -1 if there is no free process slot or
/// memory.
pub fn fork() -> i32 {
    // SAFETY: the child gets a copy of the whole address space and the
    // parent's memory is unchanged; with one thread per process no other
    // code is caught half-way through an update.
    unsafe { syscall0(SYS_FORK) as i32 }
}

/// Ends this process with `status`, which the parent's [`wait`] reports.
pub fn exit(status: i32) -> ! {
    // SAFETY: exit never returns to user space: the kernel frees this
    // process's memory and never schedules it again, so no Rust code runs
    // after the instruction.
    unsafe { crate::usys::syscall1_noreturn(SYS_EXIT, status as usize) }
}

/// Waits for a child to exit and returns its pid, storing its exit status
/// in `status` when given one. Returns -1 if this process has no children.
/// A child killed by `kill` or by a fault reports status -1.
pub fn wait(status: Option<&mut i32>) -> i32 {
    let status = status.map_or(ptr::null_mut(), |s| s as *mut i32);
    // SAFETY: the kernel writes one i32 through `status`, which is either
    // null (no write) or borrowed mutably for this call.
    unsafe { syscall1(SYS_WAIT, status as usize) as i32 }
}

/// Creates a pipe: `fds[0]` becomes its read end, `fds[1]` its write end.
pub fn pipe(fds: &mut [i32; 2]) -> i32 {
    // SAFETY: the kernel writes two i32s into `fds`, borrowed mutably.
    unsafe { syscall1(SYS_PIPE, fds.as_mut_ptr() as usize) as i32 }
}

/// Reads up to `buf.len()` bytes from `fd` into `buf`. Returns how many it
/// read, 0 at end of file, or -1.
pub fn read(fd: i32, buf: &mut [u8]) -> isize {
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`,
    // borrowed mutably; any byte is a valid u8.
    unsafe { syscall3(SYS_READ, fd as usize, buf.as_mut_ptr() as usize, buf.len()) }
}

/// Writes `buf` to `fd`. Returns how many bytes were written, or -1.
pub fn write(fd: i32, buf: &[u8]) -> isize {
    // SAFETY: the kernel only reads `buf`, which we borrow.
    unsafe { syscall3(SYS_WRITE, fd as usize, buf.as_ptr() as usize, buf.len()) }
}

/// Closes `fd`.
pub fn close(fd: i32) -> i32 {
    // SAFETY: closing a descriptor touches no user memory.
    unsafe { syscall1(SYS_CLOSE, fd as usize) as i32 }
}

/// Asks the kernel to kill process `pid`: it exits with status -1 the next
/// time it would return to user space. Returns 0, or -1 if there is no such
/// process.
pub fn kill(pid: i32) -> i32 {
    // SAFETY: kill touches no memory of this process.
    unsafe { syscall1(SYS_KILL, pid as usize) as i32 }
}

/// Replaces this process's program with the one at `path`, passing it the
/// arguments in `argv`, which must end with a null pointer (else this
/// returns -1 at once). Returns only on failure, with -1.
///
/// The pointers in `argv` are raw so that tests can pass bad ones; the kernel
/// checks every one. [`exec_args`] builds them from Rust strings.
pub fn exec(path: &CStr, argv: &[*const u8]) -> i32 {
    if argv.last() != Some(&ptr::null()) {
        return -1;
    }
    // SAFETY: exec only reads the path, the pointer array and the strings,
    // and the kernel checks each pointer lies in our memory. On success no
    // code of this program runs again; on failure nothing has changed.
    unsafe { syscall2(SYS_EXEC, path.as_ptr() as usize, argv.as_ptr() as usize) as i32 }
}

/// [`exec`] from Rust strings: runs the program at `path` with arguments
/// `args` (by convention `args[0]` is the program's name). Returns -1 if
/// exec fails or a string contains a NUL byte.
pub fn exec_args<A: AsRef<[u8]>>(path: impl AsRef<[u8]>, args: &[A]) -> i32 {
    let Ok(path) = CString::new(path.as_ref()) else {
        return -1;
    };
    let Ok(args) = args
        .iter()
        .map(|arg| CString::new(arg.as_ref()))
        .collect::<Result<Vec<_>, _>>()
    else {
        return -1;
    };
    // The kernel wants C's argv: pointers to the strings, then null. `args`
    // owns the strings and outlives the call.
    let argv: Vec<*const u8> = args
        .iter()
        .map(|arg| arg.as_ptr().cast())
        .chain([ptr::null()])
        .collect();
    exec(&path, &argv)
}

/// Opens the file at `path` with the `abi::fcntl::O_*` `flags`. Returns a
/// file descriptor, or -1.
pub fn open(path: &CStr, flags: u32) -> i32 {
    // SAFETY: the kernel only reads the path.
    unsafe { syscall2(SYS_OPEN, path.as_ptr() as usize, flags as usize) as i32 }
}

/// Creates a device file at `path` for device `major`, unit `minor`.
pub fn mknod(path: &CStr, major: u16, minor: u16) -> i32 {
    // SAFETY: the kernel only reads the path.
    unsafe {
        syscall3(
            SYS_MKNOD,
            path.as_ptr() as usize,
            major as usize,
            minor as usize,
        ) as i32
    }
}

/// Removes the directory entry `path`; the file goes when its last link and
/// descriptor do.
pub fn unlink(path: &CStr) -> i32 {
    // SAFETY: the kernel only reads the path.
    unsafe { syscall1(SYS_UNLINK, path.as_ptr() as usize) as i32 }
}

/// Fills `st` with what the kernel knows about the file open as `fd`.
pub fn fstat(fd: i32, st: &mut Stat) -> i32 {
    // SAFETY: the kernel writes one `Stat` into `st`, borrowed mutably;
    // `Stat` is `repr(C)` with integer fields only, so any bytes are valid.
    unsafe { syscall2(SYS_FSTAT, fd as usize, st as *mut Stat as usize) as i32 }
}

/// Makes `new` another name for the file `old`.
pub fn link(old: &CStr, new: &CStr) -> i32 {
    // SAFETY: the kernel only reads the two paths.
    unsafe { syscall2(SYS_LINK, old.as_ptr() as usize, new.as_ptr() as usize) as i32 }
}

/// Creates the directory `path`.
pub fn mkdir(path: &CStr) -> i32 {
    // SAFETY: the kernel only reads the path.
    unsafe { syscall1(SYS_MKDIR, path.as_ptr() as usize) as i32 }
}

/// Makes `path` this process's current directory.
pub fn chdir(path: &CStr) -> i32 {
    // SAFETY: the kernel only reads the path.
    unsafe { syscall1(SYS_CHDIR, path.as_ptr() as usize) as i32 }
}

/// Returns a new file descriptor for the file open as `fd`.
pub fn dup(fd: i32) -> i32 {
    // SAFETY: dup touches no user memory.
    unsafe { syscall1(SYS_DUP, fd as usize) as i32 }
}

/// Returns this process's pid.
pub fn getpid() -> i32 {
    // SAFETY: getpid touches no user memory.
    unsafe { syscall0(SYS_GETPID) as i32 }
}

/// Moves the end of the heap (the "break") by `increment` bytes and returns
/// the old break, or -1 if the heap would run into [`crate::SHMBASE`], shrink
/// below where it started, or memory runs out. `sbrk(0)` just reports the
/// break. New memory is zero-filled.
///
/// Programs normally leave the heap to the allocator ([`crate::umalloc`]),
/// which calls this; the allocator copes with others growing the heap too.
///
/// # Safety
/// When `increment` is negative, nothing may still use the memory given
/// back: no reference, `Box` or allocator block may point into the top
/// `-increment` bytes of the heap. (Growing is always sound.)
pub unsafe fn sbrk(increment: isize) -> isize {
    // SAFETY: growing maps fresh memory nothing refers to; the caller
    // promises that shrinking unmaps only memory nothing refers to.
    unsafe { syscall1(SYS_SBRK, increment as usize) }
}

/// Sleeps for `ticks` clock ticks (the kernel ticks 100 times a second).
/// Returns 0, or -1 if the process was killed while asleep.
pub fn sleep(ticks: i32) -> i32 {
    // SAFETY: sleep touches no user memory.
    unsafe { syscall1(SYS_SLEEP, ticks as usize) as i32 }
}

/// Returns how many clock ticks have passed since boot.
pub fn uptime() -> i32 {
    // SAFETY: uptime touches no user memory.
    unsafe { syscall0(SYS_UPTIME) as i32 }
}

/// Returns the time-stamp counter's rate, in cycles per second, as the
/// kernel measured it at boot: what turns the cycles between two
/// `rdtsc`s ([`crate::bench::rdtsc`]) into seconds. Never fails.
pub fn tsc_hz() -> u64 {
    // SAFETY: tsc_hz touches no user memory.
    unsafe { syscall0(SYS_TSC_HZ) as u64 }
}
