//! Shapes of console lines: what a line must look like, with typed holes.
//!
//! A check says which line it wants as a *shape*: literal text with holes
//! in braces, each hole standing for one kind of value:
//!
//! | hole   | matches                                   | example          |
//! |--------|-------------------------------------------|------------------|
//! | `{n}`  | a decimal number                          | `42`             |
//! | `{i}`  | a decimal number, maybe negative          | `-1`             |
//! | `{x}`  | hexadecimal digits (lower case)           | `dead0000`       |
//! | `{w}`  | a word: lower-case letters, digits, `_`   | `shm_open`       |
//! | `{..}` | any text, maybe none                      |                  |
//!
//! A shape matches a whole line: `PASS {w}` matches `PASS fork` but not
//! `PASS fork twice`. A line that need only *begin* with some text ends in
//! `{..}`. Braces never appear literally in the kernel's messages, so they
//! need no escape.
//!
//! This takes the place of regular expressions: the holes say what kind of
//! value the kernel prints there, a shape reads like the line it matches,
//! and a mistake in one (an unknown hole) is found by the unit tests, which
//! parse every shape in the suite table.

use std::fmt;

/// One piece of a parsed shape.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Number,
    Signed,
    Hex,
    Word,
    Anything,
}

/// A parsed shape; [`Shape::matches`] tests a line against it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    source: String,
    pieces: Vec<Piece>,
}

/// Why a shape's text is not a shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadShape {
    pub shape: String,
    pub why: String,
}

impl fmt::Display for BadShape {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "bad shape '{}': {}", self.shape, self.why)
    }
}

impl Shape {
    /// Parses `source`.
    pub fn parse(source: &str) -> Result<Shape, BadShape> {
        let bad = |why: String| BadShape {
            shape: source.to_string(),
            why,
        };
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut rest = source;
        while let Some(open) = rest.find('{') {
            text.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let close = after
                .find('}')
                .ok_or_else(|| bad("a '{' without its '}'".into()))?;
            let hole = match &after[..close] {
                "n" => Piece::Number,
                "i" => Piece::Signed,
                "x" => Piece::Hex,
                "w" => Piece::Word,
                ".." => Piece::Anything,
                other => return Err(bad(format!("no hole named '{{{other}}}'"))),
            };
            if !text.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut text)));
            }
            pieces.push(hole);
            rest = &after[close + 1..];
        }
        if rest.contains('}') {
            return Err(bad("a '}' without its '{'".into()));
        }
        text.push_str(rest);
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(Shape {
            source: source.to_string(),
            pieces,
        })
    }

    /// Parses `source`, which the program itself wrote: a bad one is a bug
    /// in the suite table (the unit tests parse them all), so it panics.
    pub fn of(source: &str) -> Shape {
        Shape::parse(source).unwrap_or_else(|bad| panic!("{bad}"))
    }

    /// Does the whole of `line` have this shape?
    pub fn matches(&self, line: &str) -> bool {
        matches_from(&self.pieces, line)
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// Does `line` match `pieces`? Holes take as many characters as they can,
/// and give them back one at a time when what follows does not match.
fn matches_from(pieces: &[Piece], line: &str) -> bool {
    let Some((first, rest)) = pieces.split_first() else {
        return line.is_empty();
    };
    let class: fn(char) -> bool = match first {
        Piece::Text(text) => {
            return line
                .strip_prefix(text.as_str())
                .is_some_and(|after| matches_from(rest, after));
        }
        Piece::Anything => {
            return line
                .char_indices()
                .map(|(at, _)| at)
                .chain([line.len()])
                .any(|at| matches_from(rest, &line[at..]));
        }
        Piece::Signed => {
            let digits = line.strip_prefix('-').unwrap_or(line);
            return matches_run(|c| c.is_ascii_digit(), rest, digits);
        }
        Piece::Number => |c| c.is_ascii_digit(),
        Piece::Hex => |c| c.is_ascii_digit() || ('a'..='f').contains(&c),
        Piece::Word => |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_',
    };
    matches_run(class, rest, line)
}

/// Does `line` begin with at least one character of `class`, and the rest
/// after some such run match `rest`?
fn matches_run(class: fn(char) -> bool, rest: &[Piece], line: &str) -> bool {
    let run = line.find(|c| !class(c)).unwrap_or(line.len());
    (1..=run).rev().any(|end| matches_from(rest, &line[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holes_match_their_kind_only() {
        let shape = Shape::of("pid {n} {w}: trap {n} err {n} on cpu {n} rip 0x{x}--kill proc");
        assert!(
            shape.matches("pid 12 isolationtest: trap 13 err 0 on cpu 1 rip 0x401a2f--kill proc")
        );
        assert!(
            !shape.matches("pid 12 isolationtest: trap 13 err 0 on cpu 1 rip 0x401A2F--kill proc")
        );
        assert!(
            !shape.matches("pid x isolationtest: trap 13 err 0 on cpu 1 rip 0x401a2f--kill proc")
        );
        assert!(
            !shape.matches("pid 12 isolationtest: trap 13 err 0 on cpu 1 rip 0x401a2f--kill proc!")
        );
    }

    #[test]
    fn whole_line_unless_the_shape_says_otherwise() {
        assert!(Shape::of("ALL TESTS PASSED").matches("ALL TESTS PASSED"));
        assert!(!Shape::of("ALL TESTS PASSED").matches("ALL TESTS PASSED, almost"));
        assert!(Shape::of("ALL TESTS PASSED{..}").matches("ALL TESTS PASSED, almost"));
        assert!(Shape::of("{..}usable{..}").matches("  0x0-0x9fc00   639 KiB  usable"));
        assert!(!Shape::of("{..}usable{..}").matches("  0x0-0x9fc00   639 KiB  reserved"));
    }

    #[test]
    fn holes_give_back_what_the_rest_needs() {
        // {w} could swallow "run_2" whole; the text after it needs "_2".
        assert!(Shape::of("{w}_2").matches("run_2"));
        assert!(Shape::of("{n}0").matches("100"));
        assert!(!Shape::of("{n}0").matches("0"));
        assert!(Shape::of("status {i}").matches("status -1"));
        assert!(Shape::of("status {i}").matches("status 0"));
        assert!(!Shape::of("status {i}").matches("status -"));
        assert!(Shape::of("{..}").matches(""));
    }

    #[test]
    fn bad_shapes_are_refused() {
        assert!(Shape::parse("a {q} b").is_err());
        assert!(Shape::parse("a {n").is_err());
        assert!(Shape::parse("a n}").is_err());
    }
}
