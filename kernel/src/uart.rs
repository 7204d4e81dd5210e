//! The serial port COM1, a 16550 UART at I/O port 0x3F8.
//!
//! Under QEMU, COM1 is the console of `make qemu-nox` and the channel that
//! `make test` reads. The `uart_16550` crate does the register work; this
//! module owns the one `Uart16550` value and decides policy: 115200 baud, 8N1,
//! and `\n` sent as `\r\n` so that terminals return to column 0.

use uart_16550::backend::PioBackend;
use uart_16550::spec::registers::IER;
use uart_16550::{Config, Uart16550};

use crate::arch::traps::IRQ_COM1;
use crate::spinlock::SpinLock;

const COM1: u16 = 0x3F8;

/// The port, once `init` has found and programmed it.
static PORT: SpinLock<Option<Uart16550<PioBackend>>> = SpinLock::new("uart", None);

/// Programs COM1. Output before this call is dropped.
pub fn init() {
    // SAFETY: 0x3F8..0x3F8+8 are COM1's registers on every PC and QEMU
    // machine, and this module is the only code that touches them.
    let Ok(mut port) = (unsafe { Uart16550::new_port(COM1) }) else {
        return;
    };
    if port.init(Config::default()).is_ok() {
        *PORT.lock() = Some(port);
    }
}

/// Sends one byte, waiting while the transmitter is busy.
pub fn putc(byte: u8) {
    if let Some(port) = PORT.lock().as_mut() {
        if byte == b'\n' {
            port.send_bytes_exact(b"\r");
        }
        port.send_bytes_exact(&[byte]);
    }
}

/// Asks COM1 to interrupt when a byte arrives, and routes that interrupt to
/// the boot CPU.
pub fn enable_interrupts() {
    if let Some(port) = PORT.lock().as_mut() {
        port.enable_interrupts(IER::DATA_READY);
        crate::arch::ioapic::enable(
            IRQ_COM1,
            crate::cpu::mycpu()
                .apic_id
                .load(core::sync::atomic::Ordering::Relaxed),
        );
    }
}

/// The next byte received, if one has arrived: COM1's interrupt handler
/// (trap.rs) calls this until it returns `None`.
pub fn receive() -> Option<u8> {
    PORT.lock().as_mut()?.try_receive_byte().ok()
}
