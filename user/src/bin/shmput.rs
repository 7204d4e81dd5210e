//! shmput: stores text in a shared-memory object.
//!
//! `shmput NAME TEXT...` opens the object NAME, sizes it to one page if
//! nobody has sized it yet, maps it read-write and stores the arguments
//! after NAME, joined by spaces, in the tools' text format (a `u32` length,
//! then the bytes, in the first page; see `ulib::shm`). `shmget NAME` reads
//! it back.
//!
//! The object lives only while some process holds it. If `shmput` created
//! it, it goes away again when `shmput` exits, and `shmput` says so; run
//! `shmhold NAME SIZE &` first to keep it.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;

use ulib::shm::{Shm, TEXT_CAPACITY, write_text};
use ulib::string::Text;
use ulib::{Args, eprintln};

ulib::entry!(main);

fn main(args: Args) -> i32 {
    let (Some(name), true) = (args.get(1), args.len() > 2) else {
        // With no text there is nothing to store (an empty message would
        // look like success).
        eprintln!("usage: shmput NAME TEXT...");
        return 1;
    };
    let text = args.iter().skip(2).collect::<Vec<_>>().join(&b' ');
    if text.len() > TEXT_CAPACITY {
        eprintln!("shmput: the text is longer than {TEXT_CAPACITY} bytes");
        return 1;
    }
    // The text format uses only the first page.
    let (shm, created) = match Shm::open_first_page(name) {
        Ok(opened) => opened,
        Err(e) => {
            eprintln!("shmput: cannot open \"{}\": {e}", Text(name));
            return 1;
        }
    };
    let mapping = match shm.map_rw() {
        Ok(mapping) => mapping,
        Err(e) => {
            eprintln!("shmput: cannot map \"{}\": {e}", Text(name));
            return 1;
        }
    };
    if !write_text(&mapping, &text) {
        eprintln!("shmput: the text does not fit");
        return 1;
    }
    if created {
        eprintln!(
            "shmput: note: nothing else holds \"{}\", so it is freed when shmput exits \
             (keep it with `shmhold {} 4096 &`)",
            Text(name),
            Text(name)
        );
    }
    0
}
