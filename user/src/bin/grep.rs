//! grep: prints the lines of each named file (or of standard input) that
//! match a pattern.
//!
//! The patterns are the small regular expressions of Kernighan and Pike's
//! *The Practice of Programming* (chapter 9), as in xv6:
//!
//! | pattern | matches                                        |
//! |---------|------------------------------------------------|
//! | `c`     | the character `c`                              |
//! | `.`     | any one character                              |
//! | `^`     | the start of the line (first in the pattern)   |
//! | `$`     | the end of the line (last in the pattern)      |
//! | `x*`    | zero or more of `x` (a character or `.`)       |
//!
//! A line matches if the pattern matches anywhere in it. The matcher is
//! three small recursive functions over byte slices: [`matches`] tries every
//! starting point, [`match_here`] matches at one, and [`match_star`] tries
//! every length of a starred run, shortest first.
//!
//! Input is read in chunks; bytes after the last newline of a chunk are
//! kept for the next one, so that lines split across reads are matched
//! whole. A last line without a newline is matched at the end of the file.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;

use abi::fcntl::O_RDONLY;
use ulib::string::Text;
use ulib::{Args, STDIN, STDOUT, close, eprintln, open, read, write};

ulib::entry!(main);

fn main(args: Args) -> i32 {
    let Some(pattern) = args.get(1) else {
        eprintln!("usage: grep pattern [file ...]");
        return 2;
    };
    if args.len() < 3 {
        return grep(pattern, STDIN);
    }
    // The files are the paths after the pattern.
    for path in args.paths().skip(1) {
        let fd = open(path, O_RDONLY);
        if fd < 0 {
            eprintln!("grep: cannot open {}", Text(path.to_bytes()));
            return 1;
        }
        let status = grep(pattern, fd);
        close(fd);
        if status != 0 {
            return status;
        }
    }
    0
}

/// Prints the lines of `fd` that match `pattern`. Returns the exit status.
fn grep(pattern: &[u8], fd: i32) -> i32 {
    // `pending` holds the start of a line whose newline we have not read.
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        let n = read(fd, &mut buf);
        let Ok(n) = usize::try_from(n) else {
            eprintln!("grep: read error");
            return 1;
        };
        if n == 0 {
            break;
        }
        pending.extend_from_slice(&buf[..n]);
        let complete = match pending.iter().rposition(|&c| c == b'\n') {
            Some(last_newline) => last_newline + 1,
            None => continue,
        };
        for line in pending[..complete].split_inclusive(|&c| c == b'\n') {
            print_if_match(pattern, line);
        }
        pending.drain(..complete);
    }
    if !pending.is_empty() {
        pending.push(b'\n');
        print_if_match(pattern, &pending);
    }
    0
}

/// Prints `line` (which ends in a newline) if `pattern` matches it.
fn print_if_match(pattern: &[u8], line: &[u8]) {
    if matches(pattern, &line[..line.len() - 1]) {
        write(STDOUT, line);
    }
}

/// Does `pattern` match anywhere in `text`?
fn matches(pattern: &[u8], text: &[u8]) -> bool {
    if let Some(anchored) = pattern.strip_prefix(b"^") {
        return match_here(anchored, text);
    }
    // Try each starting point, including the empty end of the text: a
    // pattern like `x*` or `$` matches there.
    (0..=text.len()).any(|start| match_here(pattern, &text[start..]))
}

/// Does `pattern` match at the start of `text`?
fn match_here(pattern: &[u8], text: &[u8]) -> bool {
    match pattern {
        [] => true,
        [c, b'*', rest @ ..] => match_star(*c, rest, text),
        [b'$'] => text.is_empty(),
        [c, rest @ ..] => match text {
            [t, text_rest @ ..] if *c == b'.' || c == t => match_here(rest, text_rest),
            _ => false,
        },
    }
}

/// Does `c*` followed by `pattern` match at the start of `text`?
fn match_star(c: u8, pattern: &[u8], mut text: &[u8]) -> bool {
    loop {
        if match_here(pattern, text) {
            return true;
        }
        match text {
            [t, rest @ ..] if c == b'.' || *t == c => text = rest,
            _ => return false,
        }
    }
}
