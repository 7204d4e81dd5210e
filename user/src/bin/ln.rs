//! ln: `ln OLD NEW` makes NEW another name (a hard link) for the file OLD.
//!
//! Both names then refer to the same inode; the file lives until the last
//! name and the last open descriptor are gone.

#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

extern crate alloc;

use alloc::ffi::CString;

use ulib::string::Text;
use ulib::{Args, eprintln, link};

ulib::entry!(main);

fn main(args: Args) -> i32 {
    let (Some(old), Some(new), 3) = (args.get(1), args.get(2), args.len()) else {
        eprintln!("usage: ln old new");
        return 2;
    };
    let linked = match (CString::new(old), CString::new(new)) {
        (Ok(old), Ok(new)) => link(&old, &new) == 0,
        _ => false,
    };
    if linked {
        0
    } else {
        eprintln!("link {} {}: failed", Text(old), Text(new));
        1
    }
}
