//! Architecture-specific code. There is one architecture, x86_64, and no
//! traits that pretend otherwise: `arch` is simply `arch::x86_64`.

pub mod x86_64;

pub use x86_64::*;
