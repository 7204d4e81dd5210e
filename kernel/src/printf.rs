//! `print!` and `println!` for the kernel.
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
