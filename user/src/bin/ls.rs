//! ls: lists files: for each, its name, type (1 directory, 2 file,
//! 3 device), inode number and size in bytes.
//!
//! A directory is listed entry by entry. A directory is a file holding an
//! array of 16-byte entries (`abi::fs::DirEntry`: an inode number and a
//! name of up to `DIRSIZ` bytes), so `ls` reads it with plain `read`s,
//! skips the free slots (inode 0), and looks each name up with `open` and
//! `fstat` to learn its type and size. With no arguments, `ls` lists the
//! current directory, `.`.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::ffi::CString;
use alloc::vec::Vec;
use core::ffi::CStr;

use abi::fcntl::O_RDONLY;
use abi::fs::{DIRSIZ, DirEntry};
use abi::stat::{Stat, T_DIR};
use ulib::string::Text;
use ulib::{Args, close, eprintln, fstat, open, println, read};

ulib::entry!(main);

fn main(args: Args) -> i32 {
    if args.len() < 2 {
        return ls(c".");
    }
    let mut status = 0;
    for path in args.paths() {
        status |= ls(path);
    }
    status
}

/// Lists `path`: one line for a file or device, one line per entry for a
/// directory. Returns the exit status.
fn ls(path: &CStr) -> i32 {
    let fd = open(path, O_RDONLY);
    // From here on the path is bytes, to print and to build entries' paths.
    let path = path.to_bytes();
    if fd < 0 {
        eprintln!("ls: cannot open {}", Text(path));
        return 1;
    }
    let mut st = Stat::default();
    let status = if fstat(fd, &mut st) < 0 {
        eprintln!("ls: cannot stat {}", Text(path));
        1
    } else if st.kind == T_DIR {
        list_directory(fd, path)
    } else {
        print_line(path, &st);
        0
    };
    close(fd);
    status
}

/// Lists the entries of the directory open as `fd`, named `path`.
fn list_directory(fd: i32, path: &[u8]) -> i32 {
    let mut status = 0;
    let mut record = [0u8; DirEntry::SIZE];
    while read(fd, &mut record) == DirEntry::SIZE as isize {
        let entry = DirEntry::decode(&record);
        if entry.inum == 0 {
            continue;
        }
        // The entry's own path, PATH/NAME, to look it up by.
        let mut child = Vec::with_capacity(path.len() + 1 + DIRSIZ);
        child.extend_from_slice(path);
        child.push(b'/');
        child.extend_from_slice(entry.name());
        match stat(&child) {
            Some(st) => print_line(&child, &st),
            None => {
                eprintln!("ls: cannot stat {}", Text(&child));
                status = 1;
            }
        }
    }
    status
}

/// What `fstat` says about the file at `path`, or `None` if it cannot be
/// opened.
fn stat(path: &[u8]) -> Option<Stat> {
    let fd = open(&CString::new(path).ok()?, O_RDONLY);
    if fd < 0 {
        return None;
    }
    let mut st = Stat::default();
    let ok = fstat(fd, &mut st) == 0;
    close(fd);
    ok.then_some(st)
}

/// Prints one line: the last component of `path`, padded to `DIRSIZ`
/// columns so that the numbers line up, then type, inode and size.
fn print_line(path: &[u8], st: &Stat) {
    let name = match path.iter().rposition(|&c| c == b'/') {
        Some(slash) => &path[slash + 1..],
        None => path,
    };
    let pad = DIRSIZ.saturating_sub(name.len());
    println!(
        "{}{:pad$} {} {} {}",
        Text(name),
        "",
        st.kind,
        st.ino,
        st.size
    );
}
