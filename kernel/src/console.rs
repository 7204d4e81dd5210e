//! The console: what the kernel prints goes to the serial port and to the
//! CGA screen.
//!
//! Whole `print!` calls are serialised by one lock, so lines from different
//! CPUs never interleave mid-line. A panic bypasses the lock (the panicking
//! CPU may hold it) and sets `PANICKED`, after which every other CPU that
//! tries to print stops there, so the panic message is the last thing on
//! the screen.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, Ordering};

use crate::spinlock::SpinLock;
use crate::{cga, uart};

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

/// Prints a panic message without taking the print lock, and freezes the
/// output of every other CPU.
pub fn print_panic(args: fmt::Arguments) {
    PANICKED.store(true, Ordering::Relaxed);
    let _ = Console.write_fmt(args);
}

/// A byte typed on the console (from the UART's interrupt). Until the file
/// system brings the console device and its line editing, typed characters
/// are echoed so that the keyboard visibly works.
///
/// Ctrl-P prints the process list, as in xv6.
pub fn input(byte: u8) {
    const CTRL_P: u8 = b'P' - b'@';
    match byte {
        CTRL_P => crate::proc::dump(),
        b'\r' => print(format_args!("\n")),
        _ => print(format_args!("{}", byte as char)),
    }
}
