//! shmget: prints the text stored in a shared-memory object.
//!
//! `shmget NAME` opens the object NAME, maps it read-only and prints the
//! text `shmput` stored there (the tools' format: a `u32` length, then the
//! bytes, in the first page; see `ulib::shm`). A new, zeroed object holds
//! empty text.
//!
//! If no process holds NAME, opening it creates a new, unsized object,
//! which cannot be mapped: `shmget` reports that there is nothing to read,
//! and its exit frees the object again.

#![no_std]
#![no_main]

use ulib::shm::{Shm, TEXT_CAPACITY, read_text};
use ulib::string::Text;
use ulib::{Args, PGSIZE, eprintln, println};

ulib::entry!(main);

fn main(args: Args) -> i32 {
    let (Some(name), 2) = (args.get(1), args.len()) else {
        eprintln!("usage: shmget NAME");
        return 1;
    };
    let mut shm = match Shm::open(name) {
        Ok(shm) => shm,
        Err(e) => {
            eprintln!("shmget: cannot open \"{}\": {e}", Text(name));
            return 1;
        }
    };
    // SAFETY: the text format uses only the first page, and every object
    // that can be mapped has at least one page; an unsized one fails to map.
    unsafe { shm.assume_size(PGSIZE) };
    let mapping = match shm.map_ro() {
        Ok(mapping) => mapping,
        Err(_) => {
            eprintln!(
                "shmget: \"{}\" holds nothing (no process keeps it sized; see shmhold)",
                Text(name)
            );
            return 1;
        }
    };
    let mut text = [0; TEXT_CAPACITY];
    match read_text(&mapping, &mut text) {
        Some(length) => {
            println!("{}", Text(&text[..length]));
            0
        }
        None => {
            eprintln!(
                "shmget: \"{}\" does not hold shmput's text format",
                Text(name)
            );
            1
        }
    }
}
