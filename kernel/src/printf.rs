//! Printing: `print!` and `println!` for the kernel, and the output of the
//! console device (console.rs), to the serial port and the CGA screen.
//!
//! The macros format straight to the devices (no buffer, no allocation), so
//! they work from the first line of `main` and inside interrupt handlers,
//! and printing never sleeps: any module may print.
//!
//! Whole `print!` calls are serialised by one lock, so lines from different
//! CPUs never interleave mid-line. A panic bypasses the lock (the panicking
//! CPU may hold it) and sets `PANICKED`, after which every other CPU that
//! tries to print stops there, so the panic message is the last thing on
//! the screen (the panicking CPU also stops the others with an NMI).

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, Ordering};

use crate::spinlock::SpinLock;
use crate::{cga, uart};

/// Prints to the console (COM1 and the CGA screen).
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => {
        $crate::printf::print(format_args!($($arg)*))
    };
}

/// Prints to the console, with a newline.
#[macro_export]
macro_rules! println {
    () => {
        $crate::print!("\n")
    };
    ($($arg:tt)*) => {
        $crate::printf::print(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Set once a CPU has panicked.
static PANICKED: AtomicBool = AtomicBool::new(false);

/// Serialises whole formatted writes.
static PRINT_LOCK: SpinLock<()> = SpinLock::new("console", ());

/// Brings up the output devices.
pub fn init() {
    uart::init();
    cga::init();
}

/// Writes one byte to every output device.
fn putc(byte: u8) {
    uart::putc(byte);
    cga::putc(byte);
}

struct Console;

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        s.bytes().for_each(putc);
        Ok(())
    }
}

/// Backs the `print!` and `println!` macros.
pub fn print(args: fmt::Arguments) {
    if PANICKED.load(Ordering::Relaxed) {
        crate::arch::halt_forever();
    }
    let _guard = PRINT_LOCK.lock();
    // Console::write_str never fails.
    let _ = Console.write_fmt(args);
}

/// Writes raw bytes (a user program's output) to the console.
pub fn write_bytes(bytes: &[u8]) {
    if PANICKED.load(Ordering::Relaxed) {
        crate::arch::halt_forever();
    }
    let _guard = PRINT_LOCK.lock();
    bytes.iter().copied().for_each(putc);
}

/// Has a CPU panicked?
pub fn panicked() -> bool {
    PANICKED.load(Ordering::Relaxed)
}

/// Prints a panic message without taking the print lock, and freezes the
/// output of every other CPU.
pub fn print_panic(args: fmt::Arguments) {
    PANICKED.store(true, Ordering::Relaxed);
    let _ = Console.write_fmt(args);
}
