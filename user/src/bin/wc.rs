//! wc: counts the lines, words and bytes of each named file (or of standard
//! input) and prints `LINES WORDS BYTES NAME`.
//!
//! A word is a run of bytes other than the separators space, tab, carriage
//! return, newline and vertical tab; a line is counted at each newline. The
//! counting carries its state (inside a word or not) across reads, so a
//! word split between two reads is still one word.

#![no_std]
#![no_main]

use abi::fcntl::O_RDONLY;
use ulib::string::Text;
use ulib::{Args, STDIN, close, eprintln, open, println, read};

ulib::entry!(main);

fn main(args: Args) -> i32 {
    if args.len() < 2 {
        return wc(STDIN, b"");
    }
    for path in args.paths() {
        let fd = open(path, O_RDONLY);
        if fd < 0 {
            eprintln!("wc: cannot open {}", Text(path.to_bytes()));
            return 1;
        }
        let status = wc(fd, path.to_bytes());
        close(fd);
        if status != 0 {
            return status;
        }
    }
    0
}

/// Counts what `fd` holds and prints the totals with `name`. Returns the
/// exit status.
fn wc(fd: i32, name: &[u8]) -> i32 {
    let (mut lines, mut words, mut bytes) = (0usize, 0usize, 0usize);
    let mut in_word = false;
    let mut buf = [0u8; 512];
    loop {
        let n = read(fd, &mut buf);
        if n == 0 {
            break;
        }
        let Ok(n) = usize::try_from(n) else {
            eprintln!("wc: read error");
            return 1;
        };
        bytes += n;
        for &c in &buf[..n] {
            if c == b'\n' {
                lines += 1;
            }
            if b" \r\t\n\x0b".contains(&c) {
                in_word = false;
            } else if !in_word {
                words += 1;
                in_word = true;
            }
        }
    }
    println!("{lines} {words} {bytes} {}", Text(name));
    0
}
