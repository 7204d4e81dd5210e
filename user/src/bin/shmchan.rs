//! shmchan: receives lines through a channel in shared memory and prints
//! them as they come.
//!
//! `shmchan NAME` opens the object NAME (sizing it to one page if nobody
//! has) and receives from the `ulib::sync` channel that fills it, printing
//! each line; it sleeps in the kernel while the channel is empty, and ends
//! when the sender closes it. `shmsend` is the other end:
//!
//! ```text
//! $ shmchan box &
//! $ shmsend box hello world
//! shmchan: hello world
//! $ shmsend box
//! shmchan: the sender closed "box"
//! ```

#![no_std]
#![no_main]

use ulib::shm::Shm;
use ulib::string::Text;
use ulib::sync::channel;
use ulib::{Args, eprintln, println};

ulib::entry!(main);

fn main(args: Args) -> i32 {
    let Some(name) = args.get(1) else {
        eprintln!("usage: shmchan NAME");
        return 1;
    };
    // The channel fills the first page; shmsend, the other end, agrees.
    let shm = match Shm::open_first_page(name) {
        Ok((shm, _)) => shm,
        Err(e) => {
            eprintln!("shmchan: cannot open \"{}\": {e}", Text(name));
            return 1;
        }
    };
    let mapping = match shm.map_rw() {
        Ok(mapping) => mapping,
        Err(e) => {
            eprintln!("shmchan: cannot map \"{}\": {e}", Text(name));
            return 1;
        }
    };
    let (_, receiver) = channel(&mapping);
    let mut line = [0u8; 256];
    let mut len = 0;
    loop {
        let mut byte = [0u8];
        if receiver.recv(&mut byte) == 0 {
            break;
        }
        if byte[0] == b'\n' || len == line.len() {
            println!("shmchan: {}", Text(&line[..len]));
            len = 0;
        }
        if byte[0] != b'\n' {
            line[len] = byte[0];
            len += 1;
        }
    }
    println!("shmchan: the sender closed \"{}\"", Text(name));
    0
}
