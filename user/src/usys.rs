//! The `syscall` instruction itself: one function per argument count the
//! calls use (zero to three), and one for all six argument registers.
//!
//! This is xv6's `usys.S`. A system call puts its number (from
//! [`abi::syscall`]) in `rax` and up to six arguments in `rdi`, `rsi`, `rdx`,
//! `r10`, `r8`, `r9` — the C calling convention's registers, except that
//! `r10` stands in for `rcx`, because the `syscall` instruction overwrites
//! `rcx` with the return address and `r11` with the flags. The kernel puts
//! the result in `rax` (-1 on error) and preserves every other register.
//!
//! These functions pass raw numbers, so they are `unsafe`: the kernel checks
//! that each pointer lies in this process's memory, but it cannot know what
//! Rust has promised about that memory. A `read` into a buffer that a `&[u8]`
//! elsewhere says is immutable, or an `sbrk` that frees pages a `Box` still
//! points into, breaks Rust's rules without any fault. The safe wrappers in
//! [`crate::syscall`] are what programs normally call; the raw forms are
//! public so that tests can hand the kernel bad pointers on purpose.
//!
//! The `asm!` blocks leave out `nomem` and `preserves_flags`, so the compiler
//! assumes each call may read or write any memory a pointer argument reaches
//! and may change the flags: exactly what a system call can do.

use core::arch::asm;

/// Makes system call `number` with no arguments.
///
/// # Safety
/// The call must be one whose effects on memory are sound for this program
/// (see the module documentation).
#[inline(always)]
pub unsafe fn syscall0(number: usize) -> isize {
    let result;
    // SAFETY: the kernel's system-call contract: only rax, rcx and r11
    // change; the caller vouches for the call's effect on memory.
    unsafe {
        asm!("syscall",
            inlateout("rax") number => result,
            lateout("rcx") _, lateout("r11") _,
            options(nostack));
    }
    result
}

/// Makes system call `number` with one argument.
///
/// # Safety
/// As for [`syscall0`]; any pointer argument must be valid for what the call
/// does with it.
#[inline(always)]
pub unsafe fn syscall1(number: usize, a0: usize) -> isize {
    let result;
    // SAFETY: as in syscall0.
    unsafe {
        asm!("syscall",
            inlateout("rax") number => result,
            in("rdi") a0,
            lateout("rcx") _, lateout("r11") _,
            options(nostack));
    }
    result
}

/// Makes system call `number` with two arguments.
///
/// # Safety
/// As for [`syscall1`].
#[inline(always)]
pub unsafe fn syscall2(number: usize, a0: usize, a1: usize) -> isize {
    let result;
    // SAFETY: as in syscall0.
    unsafe {
        asm!("syscall",
            inlateout("rax") number => result,
            in("rdi") a0, in("rsi") a1,
            lateout("rcx") _, lateout("r11") _,
            options(nostack));
    }
    result
}

/// Makes system call `number` with three arguments.
///
/// # Safety
/// As for [`syscall1`].
#[inline(always)]
pub unsafe fn syscall3(number: usize, a0: usize, a1: usize, a2: usize) -> isize {
    let result;
    // SAFETY: as in syscall0.
    unsafe {
        asm!("syscall",
            inlateout("rax") number => result,
            in("rdi") a0, in("rsi") a1, in("rdx") a2,
            lateout("rcx") _, lateout("r11") _,
            options(nostack));
    }
    result
}

/// Makes system call `number` with six arguments, the most the kernel
/// takes. No call needs more than three yet; one with four or five would
/// use this too, passing 0 for the rest: the kernel reads only the
/// registers its call takes, so separate four- and five-argument forms
/// would add nothing but another copy of this `asm!`.
///
/// # Safety
/// As for [`syscall1`].
#[inline(always)]
pub unsafe fn syscall6(
    number: usize,
    a0: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
) -> isize {
    let result;
    // SAFETY: as in syscall0.
    unsafe {
        asm!("syscall",
            inlateout("rax") number => result,
            in("rdi") a0, in("rsi") a1, in("rdx") a2, in("r10") a3, in("r8") a4, in("r9") a5,
            lateout("rcx") _, lateout("r11") _,
            options(nostack));
    }
    result
}

/// Makes system call `number`, which never returns (`exit`), with one
/// argument.
///
/// # Safety
/// `number` must be a call that does not return to this program.
#[inline(always)]
pub unsafe fn syscall1_noreturn(number: usize, a0: usize) -> ! {
    // SAFETY: the caller promises the call never returns, so what it would
    // have left in the registers does not matter.
    unsafe {
        asm!("syscall",
            in("rax") number,
            in("rdi") a0,
            options(noreturn, nostack));
    }
}
