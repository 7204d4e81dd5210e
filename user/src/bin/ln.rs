//! ln: `ln OLD NEW` makes NEW another name (a hard link) for the file OLD.
//!
//! Both names then refer to the same inode; the file lives until the last
//! name and the last open descriptor are gone.

#![no_std]
#![no_main]

use ulib::string::Text;
use ulib::{Args, eprintln, link};

ulib::entry!(main);

fn main(args: Args) -> i32 {
    let (Some(old), Some(new), 3) = (args.get_c_str(1), args.get_c_str(2), args.len()) else {
        eprintln!("usage: ln old new");
        return 2;
    };
    if link(old, new) == 0 {
        0
    } else {
        eprintln!(
            "link {} {}: failed",
            Text(old.to_bytes()),
            Text(new.to_bytes())
        );
        1
    }
}
