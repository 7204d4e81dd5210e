//! shmsend: sends a line through a channel in shared memory to `shmchan`.
//!
//! `shmsend NAME TEXT...` sends the words after NAME, joined by spaces,
//! and a newline, through the `ulib::sync` channel in the object NAME,
//! waiting (asleep) while the channel is full. `shmsend NAME` alone
//! closes the channel, which ends the `shmchan` receiving on it. Only one
//! `shmsend` may run on a name at a time: the channel has one sender.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;

use ulib::shm::Shm;
use ulib::string::Text;
use ulib::sync::channel;
use ulib::{Args, eprintln};

ulib::entry!(main);

fn main(args: Args) -> i32 {
    let Some(name) = args.get(1) else {
        eprintln!("usage: shmsend NAME [TEXT...]");
        return 1;
    };
    // The channel fills the first page; shmchan, the other end, agrees.
    let (shm, created) = match Shm::open_first_page(name) {
        Ok(opened) => opened,
        Err(e) => {
            eprintln!("shmsend: cannot open \"{}\": {e}", Text(name));
            return 1;
        }
    };
    if created {
        eprintln!(
            "shmsend: nothing receives on \"{}\" (start `shmchan {} &` first)",
            Text(name),
            Text(name)
        );
        return 1;
    }
    let mapping = match shm.map_rw() {
        Ok(mapping) => mapping,
        Err(e) => {
            eprintln!("shmsend: cannot map \"{}\": {e}", Text(name));
            return 1;
        }
    };
    let (sender, _) = channel(&mapping);
    if args.len() == 2 {
        sender.close();
        return 0;
    }
    let mut line = args.iter().skip(2).collect::<Vec<_>>().join(&b' ');
    line.push(b'\n');
    sender.send(&line);
    0
}
