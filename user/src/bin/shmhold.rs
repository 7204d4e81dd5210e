//! shmhold: keeps a shared-memory object alive.
//!
//! `shmhold NAME SIZE` opens the object NAME, sizes it to SIZE bytes (1 to
//! 131072, rounded up to pages), maps it, prints where, and sleeps for ever.
//! An object lives only while some process holds it, so this is how the
//! shell keeps one between commands:
//!
//! ```text
//! $ shmhold foo 4096 &
//! $ shmput foo hello
//! $ shmget foo
//! hello
//! ```
//!
//! `kill PID` (the pid it prints) ends it, and with it the object. A new
//! object is all zeroes, which the tools' text format (see `ulib::shm`)
//! reads as empty text.

#![no_std]
#![no_main]

use ulib::shm::{Shm, ShmError};
use ulib::string::{Text, atoi};
use ulib::{Args, eprintln, getpid, println, sleep};

ulib::entry!(main);

fn main(args: Args) -> i32 {
    let (Some(name), Some(size), 3) = (args.get(1), args.get(2), args.len()) else {
        eprintln!("usage: shmhold NAME SIZE");
        return 1;
    };
    let Ok(size) = usize::try_from(atoi(size)) else {
        eprintln!("shmhold: SIZE must be positive");
        return 1;
    };
    let mut shm = match Shm::open(name) {
        Ok(shm) => shm,
        Err(e) => {
            eprintln!("shmhold: cannot open \"{}\": {e}", Text(name));
            return 1;
        }
    };
    let size = match shm.trunc(size) {
        Ok(size) => size,
        Err(e @ ShmError::Refused(_)) => {
            eprintln!(
                "shmhold: cannot size \"{}\": {e} (does another process hold it sized already?)",
                Text(name)
            );
            return 1;
        }
        Err(e) => {
            eprintln!("shmhold: cannot size \"{}\": {e}", Text(name));
            return 1;
        }
    };
    // Mapping is not needed to keep the object alive (the descriptor does
    // that), but shows where every process will find it.
    let mapping = match shm.map_rw() {
        Ok(mapping) => mapping,
        Err(e) => {
            eprintln!("shmhold: cannot map \"{}\": {e}", Text(name));
            return 1;
        }
    };
    println!(
        "shmhold: holding \"{}\", {size} bytes at {:#x}; kill {} to free it",
        Text(name),
        mapping.address(),
        getpid()
    );
    loop {
        sleep(1000);
    }
}
