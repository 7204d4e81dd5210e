//! Formatted output: `print!` and friends, over [`write`].
//!
//! xv6's `printf` makes one `write` system call per character. Here each
//! macro formats with `core::fmt` into a [`FdWriter`], which gathers the text
//! in a buffer on the stack and writes it out when the buffer fills and when
//! the macro is done. A line that fits the buffer therefore reaches the
//! kernel in one `write`, so the lines of processes printing at the same time
//! do not break into each other character by character — and nothing is
//! allocated, so printing works even when the heap cannot grow (or, in the
//! panic handler, is what failed).
//!
//! Errors are ignored, as xv6's `printf` ignores them: a program has nowhere
//! better to report that it cannot print.
//!
//! | macro                     | writes to          |
//! |---------------------------|--------------------|
//! | `print!`, `println!`      | [`STDOUT`]         |
//! | `eprint!`, `eprintln!`    | [`STDERR`]         |
//! | `fprint!`, `fprintln!`    | a given descriptor |

use core::fmt;

use crate::syscall::write;

/// The file descriptor a program reads its input from.
pub const STDIN: i32 = 0;
/// The file descriptor for a program's normal output.
pub const STDOUT: i32 = 1;
/// The file descriptor for a program's error messages.
pub const STDERR: i32 = 2;

/// How many bytes a [`FdWriter`] gathers before it writes: enough for any
/// sensible line, small enough for a 16-page stack.
const BUFFER_SIZE: usize = 256;

/// A `core::fmt::Write` sink that buffers text bound for a file descriptor.
/// Call [`FdWriter::flush`] to write what is left in the buffer.
pub struct FdWriter {
    fd: i32,
    buffer: [u8; BUFFER_SIZE],
    /// Bytes of `buffer` in use.
    len: usize,
}

impl FdWriter {
    /// A writer with an empty buffer for `fd`.
    pub const fn new(fd: i32) -> Self {
        FdWriter {
            fd,
            buffer: [0; BUFFER_SIZE],
            len: 0,
        }
    }

    /// Writes out the buffered bytes, retrying after a partial write; gives
    /// up (dropping the rest) if `write` fails or makes no progress.
    pub fn flush(&mut self) {
        let mut pending = &self.buffer[..self.len];
        while !pending.is_empty() {
            match usize::try_from(write(self.fd, pending)) {
                Ok(written) if written > 0 => pending = &pending[written.min(pending.len())..],
                _ => break,
            }
        }
        self.len = 0;
    }
}

impl fmt::Write for FdWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut bytes = s.as_bytes();
        while !bytes.is_empty() {
            if self.len == BUFFER_SIZE {
                self.flush();
            }
            let room = BUFFER_SIZE - self.len;
            let (now, later) = bytes.split_at(room.min(bytes.len()));
            self.buffer[self.len..self.len + now.len()].copy_from_slice(now);
            self.len += now.len();
            bytes = later;
        }
        Ok(())
    }
}

/// What the macros expand to: formats `args` and writes the text to `fd`.
#[doc(hidden)]
pub fn _print(fd: i32, args: fmt::Arguments) {
    let mut writer = FdWriter::new(fd);
    // FdWriter itself never fails; an error here could only come from a
    // `Display` impl, and like xv6 we print what we have.
    let _ = fmt::Write::write_fmt(&mut writer, args);
    writer.flush();
}

/// Prints to file descriptor `fd`, like `print!`.
#[macro_export]
macro_rules! fprint {
    ($fd:expr, $($arg:tt)*) => {
        $crate::printf::_print($fd, format_args!($($arg)*))
    };
}

/// Prints a line to file descriptor `fd`, like `println!`.
#[macro_export]
macro_rules! fprintln {
    ($fd:expr) => {
        $crate::fprint!($fd, "\n")
    };
    ($fd:expr, $($arg:tt)*) => {
        $crate::printf::_print($fd, format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Prints to standard output.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => {
        $crate::fprint!($crate::STDOUT, $($arg)*)
    };
}

/// Prints a line to standard output.
#[macro_export]
macro_rules! println {
    () => {
        $crate::fprintln!($crate::STDOUT)
    };
    ($($arg:tt)*) => {
        $crate::fprintln!($crate::STDOUT, $($arg)*)
    };
}

/// Prints to standard error.
#[macro_export]
macro_rules! eprint {
    ($($arg:tt)*) => {
        $crate::fprint!($crate::STDERR, $($arg)*)
    };
}

/// Prints a line to standard error.
#[macro_export]
macro_rules! eprintln {
    () => {
        $crate::fprintln!($crate::STDERR)
    };
    ($($arg:tt)*) => {
        $crate::fprintln!($crate::STDERR, $($arg)*)
    };
}
