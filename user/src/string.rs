//! The string helpers that `core` and `alloc` do not already provide.
//!
//! Much of xv6's `ulib.c` is C's string library (`strlen`, `strcpy`,
//! `memmove`, ...), which Rust programs get from slices, `str`, `CStr`
//! (`c"..."` literals) and `alloc::ffi::CString` (a NUL-terminated copy). What
//! is left is small:
//!
//! - [`atoi`]: xv6's lenient number parser, for arguments like `kill 12`;
//! - [`Text`]: shows bytes, such as a program argument, as text in a format
//!   string, whether or not they are valid UTF-8.

use core::fmt::{self, Write};

/// Parses the decimal integer at the start of `s`, as C's `atoi` does: an
/// optional `-`, then digits up to the first non-digit. Returns 0 when there
/// are no digits; saturates at the bounds of `i32` instead of overflowing.
pub fn atoi(s: &[u8]) -> i32 {
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    // Accumulate toward the sign's own bound, so that i32::MIN parses too.
    let mut n: i32 = 0;
    for &c in digits.iter().take_while(|c| c.is_ascii_digit()) {
        let digit = i32::from(c - b'0');
        n = if negative {
            n.saturating_mul(10).saturating_sub(digit)
        } else {
            n.saturating_mul(10).saturating_add(digit)
        };
    }
    n
}

/// Formats bytes as text: valid UTF-8 as it is, each invalid sequence as
/// U+FFFD (�). `println!("{}", Text(arg))`.
pub struct Text<'a>(pub &'a [u8]);

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.0.utf8_chunks() {
            f.write_str(chunk.valid())?;
            if !chunk.invalid().is_empty() {
                f.write_char(char::REPLACEMENT_CHARACTER)?;
            }
        }
        Ok(())
    }
}
