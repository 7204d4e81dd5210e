//! `print!` and `println!` for the kernel, and the panic handler.
//!
//! The macros format straight to the console (no buffer, no allocation), so
//! they work from the first line of `main` and inside interrupt handlers.

/// Prints to the console (COM1 and the CGA screen).
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => {
        $crate::console::print(format_args!($($arg)*))
    };
}

/// Prints to the console, with a newline.
#[macro_export]
macro_rules! println {
    () => {
        $crate::print!("\n")
    };
    ($($arg:tt)*) => {
        $crate::console::print(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// A kernel panic: stop the other CPUs, print the message and where it
/// came from, then stop this one too.
///
/// In test mode the run ends with QEMU's failure code instead, so that a
/// panicking test is reported at once rather than by a timeout.
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    crate::arch::interrupts_off();
    crate::console::print_panic(format_args!("\npanic: {}\n", info.message()));
    crate::arch::lapic::stop_other_cpus();
    if let Some(location) = info.location() {
        crate::console::print_panic(format_args!(
            "  at {}:{}:{}\n",
            location.file(),
            location.line(),
            location.column()
        ));
    }
    if crate::ktest::enabled() {
        crate::ktest::exit_qemu(crate::ktest::QemuExit::Failure);
    }
    crate::arch::halt_forever()
}
