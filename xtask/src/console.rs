//! What a boot printed on its serial console, read back as lines.
//!
//! QEMU writes the serial port's bytes to a file as they come. The kernel
//! ends its lines with `\r\n`, a program's random output may be any
//! bytes, and a killed machine may stop in the middle of a line; a
//! [`Console`] holds the lines with their `\r` removed and anything that
//! is not UTF-8 replaced, so that checks see text.

use std::path::{Path, PathBuf};

use crate::shape::Shape;

/// The lines of one serial log.
#[derive(Debug, Clone, Default)]
pub struct Console {
    /// Where the log is, for messages.
    pub path: PathBuf,
    pub lines: Vec<String>,
}

/// The kernel's first line: the banner main.rs prints.
pub const BANNER: &str = "xv6-rs: a Rust rewrite of xv6 for x86_64";

impl Console {
    /// Reads the log at `path`; a missing log reads as empty (a boot that
    /// never started printed nothing).
    pub fn read(path: &Path) -> Console {
        let bytes = std::fs::read(path).unwrap_or_default();
        Console::from_text(path, &String::from_utf8_lossy(&bytes))
    }

    /// The lines of `text`, said to come from `path`.
    pub fn from_text(path: &Path, text: &str) -> Console {
        Console {
            path: path.to_path_buf(),
            lines: text
                .lines()
                .map(|line| line.trim_end_matches('\r').to_string())
                .collect(),
        }
    }

    /// The first line with `shape`.
    pub fn find(&self, shape: &Shape) -> Option<&str> {
        self.lines
            .iter()
            .map(String::as_str)
            .find(|line| shape.matches(line))
    }

    /// Is there a line with `shape`?
    pub fn has(&self, shape: &Shape) -> bool {
        self.find(shape).is_some()
    }

    /// How many lines have `shape`.
    pub fn count(&self, shape: &Shape) -> usize {
        self.lines.iter().filter(|line| shape.matches(line)).count()
    }

    /// The lines before the first line with `shape`, and the rest (the
    /// whole log and nothing if no line has it).
    pub fn split_at(&self, shape: &Shape) -> (Console, Console) {
        let at = self
            .lines
            .iter()
            .position(|line| shape.matches(line))
            .unwrap_or(self.lines.len());
        let part = |lines: &[String]| Console {
            path: self.path.clone(),
            lines: lines.to_vec(),
        };
        (part(&self.lines[..at]), part(&self.lines[at..]))
    }

    /// The lines from the kernel's banner on (none if it never printed it):
    /// what the kernel and its programs said, without the firmware's and
    /// GRUB's lines before it.
    pub fn since_banner(&self) -> &[String] {
        let start = self
            .lines
            .iter()
            .position(|line| line == BANNER)
            .unwrap_or(self.lines.len());
        &self.lines[start..]
    }

    /// The number in the first line with `shape`'s form, where `prefix`
    /// is the text just before the number: `number_after("isolationtest:
    /// ", ...)`.
    pub fn number_after(&self, prefix: &str, shape: &Shape) -> Option<u64> {
        let line = self.find(shape)?;
        let after = line.strip_prefix(prefix)?;
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    }

    /// The in-OS verdicts: every line that begins `PASS ` or `FAIL `.
    pub fn verdicts(&self) -> impl Iterator<Item = &str> {
        self.lines
            .iter()
            .map(String::as_str)
            .filter(|line| line.starts_with("PASS ") || line.starts_with("FAIL "))
    }

    /// The last `n` lines, for showing what a failed boot was doing.
    pub fn tail(&self, n: usize) -> &[String] {
        &self.lines[self.lines.len().saturating_sub(n)..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn console(text: &str) -> Console {
        Console::from_text(Path::new("test.log"), text)
    }

    #[test]
    fn carriage_returns_and_bad_bytes_are_gone() {
        let bytes =
            b"SeaBIOS\r\nxv6-rs: a Rust rewrite of xv6 for x86_64\r\nbad \xff byte\r\nPASS one";
        let console = Console::from_text(Path::new("x"), &String::from_utf8_lossy(bytes));
        assert_eq!(console.lines[1], BANNER);
        assert_eq!(console.since_banner().len(), 3);
        assert!(console.lines[2].starts_with("bad "));
        assert_eq!(console.verdicts().collect::<Vec<_>>(), ["PASS one"]);
    }

    #[test]
    fn numbers_and_splits() {
        let log = console(
            "isolationtest: 17 children killed by a trap\ninit: starting fsdamage\nfs: x\n",
        );
        let shape = Shape::of("isolationtest: {n} children killed by a trap{..}");
        assert_eq!(log.number_after("isolationtest: ", &shape), Some(17));
        let (before, after) = log.split_at(&Shape::of("init: starting fsdamage"));
        assert_eq!(before.lines.len(), 1);
        assert_eq!(after.lines, ["init: starting fsdamage", "fs: x"]);
    }
}
