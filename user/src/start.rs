//! How a program begins and ends.
//!
//! `exec` builds the new stack and jumps to the ELF entry point, `_start`,
//! exactly as if `_start(argc, argv)` had been called with the C calling
//! convention: `rdi` = `argc`, `rsi` = `argv` (an array of `argc` pointers
//! to NUL-terminated strings, then a null pointer, all on the new stack),
//! and `rsp` pointing at a fake return address 0, so that `rsp + 8` is
//! 16-byte aligned as after any `call`. A program defines `_start` with
//! [`entry!`](crate::entry), which hands the arguments to its `main` as
//! [`Args`] and passes `main`'s result to [`exit`]. `_start` must never
//! return: there is nothing to return to (the 0 return address would fault).
//!
//! A panic ends the program the way a fault does: it prints
//! `panic: <message> at <file>:<line>` on standard error and exits with
//! status -1.

use core::ffi::CStr;
use core::panic::PanicInfo;

use crate::syscall::exit;

/// The command-line arguments of the program: `argv[0]` is, by convention,
/// its name. They live on the stack `exec` built, below `main`'s frame, for
/// the whole run, so each one is a `&'static [u8]` (without its NUL) or,
/// to hand on to the kernel, a `&'static CStr`.
#[derive(Clone, Copy)]
pub struct Args {
    argv: &'static [*const u8],
}

impl Args {
    /// Wraps the `argc` and `argv` that `exec` passed to `_start`.
    ///
    /// # Safety
    /// `argv` must point to `argc` pointers, each to a NUL-terminated string,
    /// and the array and strings must stay valid and unchanged for the rest
    /// of the program. `exec` guarantees this for the values it passes.
    pub unsafe fn from_raw(argc: usize, argv: *const *const u8) -> Args {
        if argc == 0 {
            // `argv` may be null then, which `from_raw_parts` forbids.
            return Args { argv: &[] };
        }
        // SAFETY: the caller promises `argc` valid, unchanging pointers.
        let argv = unsafe { core::slice::from_raw_parts(argv, argc) };
        Args { argv }
    }

    /// The number of arguments (C's `argc`).
    pub fn len(&self) -> usize {
        self.argv.len()
    }

    /// Whether there are no arguments at all (not even the program name).
    pub fn is_empty(&self) -> bool {
        self.argv.is_empty()
    }

    /// Argument `i`, or `None` if there are not that many.
    pub fn get(&self, i: usize) -> Option<&'static [u8]> {
        self.get_c_str(i).map(CStr::to_bytes)
    }

    /// Argument `i` as the NUL-terminated string `exec` left on the stack,
    /// or `None` if there are not that many. A system call that takes a
    /// path can be handed it as it is, with no copy to add the NUL.
    pub fn get_c_str(&self, i: usize) -> Option<&'static CStr> {
        let arg = *self.argv.get(i)?;
        // SAFETY: `from_raw`'s contract: each pointer is to a NUL-terminated
        // string that stays valid and unchanged for the rest of the program.
        Some(unsafe { CStr::from_ptr(arg.cast()) })
    }

    /// The arguments after the program name — the operands of a command
    /// such as `rm a b c` — as C strings (see [`get_c_str`](Args::get_c_str)),
    /// ready to pass to `open`, `mkdir` or `unlink`.
    pub fn paths(self) -> impl Iterator<Item = &'static CStr> {
        (1..self.len()).filter_map(move |i| self.get_c_str(i))
    }

    /// The arguments in order.
    pub fn iter(&self) -> ArgsIter {
        ArgsIter {
            args: *self,
            next: 0,
        }
    }
}

impl IntoIterator for Args {
    type Item = &'static [u8];
    type IntoIter = ArgsIter;

    fn into_iter(self) -> ArgsIter {
        self.iter()
    }
}

/// An iterator over [`Args`], first to last.
pub struct ArgsIter {
    args: Args,
    /// Index of the argument `next` returns.
    next: usize,
}

impl Iterator for ArgsIter {
    type Item = &'static [u8];

    fn next(&mut self) -> Option<&'static [u8]> {
        let arg = self.args.get(self.next)?;
        self.next += 1;
        Some(arg)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.args.len() - self.next;
        (left, Some(left))
    }
}

impl ExactSizeIterator for ArgsIter {}

/// Defines the program's entry point, `_start`, to run `main`, which must be
/// a `fn(ulib::Args) -> i32`; its result becomes the exit status.
///
/// ```ignore
/// ulib::entry!(main);
///
/// fn main(args: ulib::Args) -> i32 {
///     ulib::println!("hello from {} arguments", args.len());
///     0
/// }
/// ```
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        /// Where `exec` starts this program (see `ulib::start`).
        #[unsafe(no_mangle)]
        extern "C" fn _start(argc: usize, argv: *const *const u8) -> ! {
            // SAFETY: only the kernel's exec calls _start, and it passes
            // argc and argv as `start` requires.
            unsafe { $crate::start::start(argc, argv, $main) }
        }
    };
}

/// What `_start` does: runs `main` on the arguments and exits with its
/// result.
///
/// # Safety
/// `argc` and `argv` must be as [`Args::from_raw`] requires: the values
/// `exec` passed to `_start`.
#[doc(hidden)]
pub unsafe fn start(argc: usize, argv: *const *const u8, main: fn(Args) -> i32) -> ! {
    // SAFETY: our caller passes exec's argc and argv through unchanged.
    let args = unsafe { Args::from_raw(argc, argv) };
    exit(main(args))
}

/// Reports a panic and ends the program as a fault would.
#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    match info.location() {
        Some(at) => crate::eprintln!("panic: {} at {}:{}", info.message(), at.file(), at.line()),
        None => crate::eprintln!("panic: {}", info.message()),
    }
    exit(-1)
}
