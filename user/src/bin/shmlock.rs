//! shmlock: holds a mutex in shared memory for a while, so that a second
//! `shmlock` on the same name visibly waits for it.
//!
//! `shmlock NAME TICKS` opens the object NAME (sizing it to one page if
//! nobody has), takes the `ulib::sync::Mutex` in its first word, says so,
//! keeps it for TICKS timer ticks (100 a second), and lets it go. Try
//!
//! ```text
//! $ shmlock m 300 &
//! $ shmlock m 10
//! ```
//!
//! The second one says it is waiting and sleeps in the kernel (in
//! `shm_wait`, using no CPU) until the first lets go. The two processes
//! are unrelated: they meet through the object's name.

#![no_std]
#![no_main]

use ulib::shm::Shm;
use ulib::string::Text;
use ulib::sync::Mutex;
use ulib::{Args, eprintln, getpid, println, sleep};

ulib::entry!(main);

fn main(args: Args) -> i32 {
    let (Some(name), Some(ticks)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: shmlock NAME TICKS");
        return 1;
    };
    let Some(ticks) = core::str::from_utf8(ticks)
        .ok()
        .and_then(|t| t.parse::<i32>().ok())
        .filter(|&t| t >= 0)
    else {
        eprintln!("shmlock: TICKS must be a number of timer ticks");
        return 1;
    };
    // The mutex is in the first word.
    let shm = match Shm::open_first_page(name) {
        Ok((shm, _)) => shm,
        Err(e) => {
            eprintln!("shmlock: cannot open \"{}\": {e}", Text(name));
            return 1;
        }
    };
    let mapping = match shm.map_rw() {
        Ok(mapping) => mapping,
        Err(e) => {
            eprintln!("shmlock: cannot map \"{}\": {e}", Text(name));
            return 1;
        }
    };
    let mutex = Mutex::at(&mapping, 0);
    let pid = getpid();
    let guard = match mutex.try_lock() {
        Some(guard) => guard,
        None => {
            println!("shmlock: pid {pid} waits for \"{}\"", Text(name));
            mutex.lock()
        }
    };
    println!("shmlock: pid {pid} has \"{}\"", Text(name));
    sleep(ticks);
    println!("shmlock: pid {pid} lets \"{}\" go", Text(name));
    drop(guard);
    0
}
