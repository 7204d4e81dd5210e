//! Labs: a copy of this tree without one feature's solution, for a
//! student to write it, and the means to grade and hand it in.
//!
//! A lab is declared once, in labs.rs: its name, the files that hold its
//! solution, its handout, and its graded tests with their points. Its
//! solution is marked in those files like this, inside each function (or
//! around each item) the student writes:
//!
//! ```text
//! // LAB shm: solution begins
//! ...the code, which the student's copy leaves out...
//! // LAB shm: stub
//! // ...the stub, commented out here, which the copy keeps...
//! // LAB shm: end
//! ```
//!
//! The stub may be empty (an import or a helper the student writes), and
//! must compile without warnings in the copy, where nothing else uses
//! what the solution would have: no attribute silences a warning for a
//! whole file.
//!
//! In this tree the markers are comments, so the normal build is the
//! solution. `make lab-NAME` writes the copy (see [`generate`]): every
//! file git knows, with NAME's solutions replaced by their stubs, the
//! other labs' markers and stubs dropped (their solutions kept), the
//! handout as `LAB-NAME.md`, a file `.lab` naming the lab (which tells
//! the copy's `make grade` what to grade and its `make test` to skip the
//! teacher's checks), and a git repository with one commit, so that `git
//! diff` shows the student's work. Markers are checked first: a solution
//! without its stub or end, a marker outside the lab's files, or a lab
//! file without a solution stops the generation with the file and line.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::labs::Lab;

/// The file in a student's copy that names its lab.
pub const LAB_FILE: &str = ".lab";

/// A marker line's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    Begins,
    Stub,
    End,
}

/// The marker on `line`, if it is one: the lab it belongs to, and its
/// kind (or why it is not a marker a lab understands).
fn marker(line: &str) -> Option<(&str, Result<Marker, String>)> {
    let rest = line.trim_start().strip_prefix("// LAB ")?;
    let (lab, kind) = rest.split_once(':')?;
    let kind = match kind.trim() {
        "solution begins" => Ok(Marker::Begins),
        "stub" => Ok(Marker::Stub),
        "end" => Ok(Marker::End),
        other => Err(format!(
            "'{other}' is no kind of lab marker (solution begins, stub, end)"
        )),
    };
    Some((lab, kind))
}

/// Where a file is in a lab region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Code,
    Solution,
    Stub,
}

/// Checks the markers of every lab in the file `path` holding `text`:
/// each region is `solution begins`, `stub`, `end`, in that order, and
/// regions do not nest. Returns the labs whose regions it holds, with how
/// many each.
pub fn check_markers(path: &Path, text: &str) -> Result<Vec<(String, usize)>, String> {
    let mut part = Part::Code;
    let mut open: Option<(String, usize)> = None;
    let mut found: Vec<(String, usize)> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let Some((lab, kind)) = marker(line) else {
            continue;
        };
        let at = format!("{}:{}", path.display(), index + 1);
        let kind = kind.map_err(|why| format!("{at}: {why}"))?;
        if let Some((open_lab, open_line)) = &open
            && open_lab != lab
        {
            return Err(format!(
                "{at}: a LAB {lab} marker inside LAB {open_lab}'s region begun at line {open_line}"
            ));
        }
        part = match (part, kind) {
            (Part::Code, Marker::Begins) => {
                open = Some((lab.to_string(), index + 1));
                Part::Solution
            }
            (Part::Solution, Marker::Stub) => Part::Stub,
            (Part::Stub, Marker::End) => {
                open = None;
                match found.iter_mut().find(|(name, _)| name == lab) {
                    Some((_, count)) => *count += 1,
                    None => found.push((lab.to_string(), 1)),
                }
                Part::Code
            }
            (Part::Code, _) => return Err(format!("{at}: a LAB {lab} marker outside a solution")),
            (Part::Solution, _) => {
                return Err(format!(
                    "{at}: LAB {lab}'s solution needs its stub marker before this"
                ));
            }
            (Part::Stub, _) => {
                return Err(format!(
                    "{at}: LAB {lab}'s stub needs its end marker before this"
                ));
            }
        };
    }
    match open {
        Some((lab, line)) => Err(format!(
            "{}:{line}: LAB {lab}'s solution has no end",
            path.display()
        )),
        None => Ok(found),
    }
}

/// `text` as the student of `lab` gets it: `lab`'s solutions replaced by
/// their stubs (uncommented: the first `// ` of each line goes, and a
/// bare `//` becomes a blank line), and
/// every other lab's markers and stubs dropped with its solutions kept.
/// The markers must be valid ([`check_markers`]).
pub fn for_student(text: &str, lab: &str) -> String {
    let mut part = Part::Code;
    let mut ours = false;
    let mut out = String::new();
    for line in text.lines() {
        if let Some((owner, Ok(kind))) = marker(line) {
            ours = owner == lab;
            part = match kind {
                Marker::Begins => Part::Solution,
                Marker::Stub => Part::Stub,
                Marker::End => Part::Code,
            };
            continue;
        }
        let kept = match (part, ours) {
            (Part::Code, _) | (Part::Solution, false) => Some(line.to_string()),
            // A blank line of a stub is a bare `//`.
            (Part::Stub, true) if line.trim() == "//" => Some(String::new()),
            (Part::Stub, true) => Some(line.replacen("// ", "", 1)),
            (Part::Solution, true) | (Part::Stub, false) => None,
        };
        if let Some(kept) = kept {
            out.push_str(&kept);
            out.push('\n');
        }
    }
    out
}

/// The files git knows, as they are in the working tree (one deleted
/// there is left out).
pub fn tracked_files() -> Result<Vec<PathBuf>, String> {
    let output = Command::new("git")
        .args(["ls-files", "-z"])
        .output()
        .map_err(|error| format!("cannot run git: {error}"))?;
    if !output.status.success() {
        return Err("git ls-files failed: is this a git checkout?".into());
    }
    Ok(output
        .stdout
        .split(|&byte| byte == 0)
        .filter(|name| !name.is_empty())
        .map(|name| PathBuf::from(String::from_utf8_lossy(name).into_owned()))
        .filter(|path| path.exists())
        .collect())
}

/// How [`generate`] treats its destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A student's copy: the destination must not exist.
    Student,
    /// The teacher's check (`make test`): the destination is brought up
    /// to date, and only files whose contents changed are written, so
    /// that cargo rebuilds no more than it must.
    Refresh,
}

/// Writes `lab`'s copy of this tree to `dest`.
pub fn generate(lab: &Lab, dest: &Path, mode: Mode) -> Result<(), String> {
    let files = tracked_files()?;
    let mut texts = Vec::new();
    let mut counts = std::collections::HashMap::new();
    for file in &files {
        let text = if is_text_source(file) {
            std::fs::read_to_string(file).ok()
        } else {
            None
        };
        if let Some(text) = &text {
            for (owner, count) in check_markers(file, text)? {
                if owner == lab.name {
                    if !lab.files.iter().any(|declared| Path::new(declared) == file) {
                        return Err(format!(
                            "{}: has LAB {} markers, but it is not one of the lab's files (labs.rs)",
                            file.display(),
                            lab.name
                        ));
                    }
                    counts.insert(file.clone(), count);
                }
            }
        }
        texts.push((file, text));
    }
    for declared in lab.files {
        if !counts.contains_key(Path::new(declared)) {
            return Err(format!(
                "{declared}: one of LAB {}'s files, but it marks no solution",
                lab.name
            ));
        }
    }
    if mode == Mode::Student && dest.exists() {
        return Err(format!(
            "{} exists; remove it or choose another place",
            dest.display()
        ));
    }
    for (file, text) in texts {
        let contents = match text {
            Some(text) if text.contains("// LAB ") => for_student(&text, lab.name).into_bytes(),
            _ => std::fs::read(file).map_err(|error| format!("{}: {error}", file.display()))?,
        };
        write_if_changed(&dest.join(file), &contents)?;
    }
    write_if_changed(
        &dest.join(format!("LAB-{}.md", lab.name.to_uppercase())),
        lab.handout.as_bytes(),
    )?;
    write_if_changed(&dest.join(LAB_FILE), format!("{}\n", lab.name).as_bytes())?;
    if !dest.join(".git").exists() {
        first_commit(dest, lab)?;
    }
    Ok(())
}

/// Files that may hold markers: the sources a lab can touch (not this
/// program's own, which write about markers and test them).
fn is_text_source(path: &Path) -> bool {
    !path.starts_with("xtask")
        && path
            .extension()
            .is_some_and(|ext| ext == "rs" || ext == "c" || ext == "h" || ext == "S")
}

fn write_if_changed(path: &Path, contents: &[u8]) -> Result<(), String> {
    if std::fs::read(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|error| error.to_string())?;
    }
    std::fs::write(path, contents)
        .map_err(|error| format!("cannot write {}: {error}", path.display()))
}

/// Makes `dest` a git repository whose one commit is the lab's start.
fn first_commit(dest: &Path, lab: &Lab) -> Result<(), String> {
    let git = |args: &[&str]| {
        let output = Command::new("git")
            .current_dir(dest)
            .args([
                "-c",
                "user.name=xv6-rs labs",
                "-c",
                "user.email=labs@xv6-rs.invalid",
            ])
            .args(args)
            .output()
            .map_err(|error| format!("cannot run git: {error}"))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "git {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    };
    git(&["init", "-q"])?;
    git(&["add", "-A"])?;
    git(&[
        "commit",
        "-q",
        "-m",
        &format!("lab {}: the starting point", lab.name),
    ])
}

/// The lab a student's copy is for, from its `.lab` file.
pub fn this_copys_lab() -> Option<String> {
    std::fs::read_to_string(LAB_FILE)
        .ok()
        .map(|name| name.trim().to_string())
}

/// `make handin` in the copy at `dir`: the student's changes since the
/// lab's first commit, as one patch file in `dir` with a header naming
/// the lab and the student. Returns its name.
pub fn handin(dir: &Path, lab: &str, student: &str) -> Result<PathBuf, String> {
    if student.trim().is_empty() {
        return Err(
            "say who you are: make handin NAME=\"Your Name\" (or set git's user.name)".into(),
        );
    }
    let git = |args: &[&str]| -> Result<String, String> {
        let output = Command::new("git")
            .current_dir(dir)
            .args(args)
            .output()
            .map_err(|error| format!("cannot run git: {error}"))?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(format!(
                "git {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    };
    let first = git(&["rev-list", "--max-parents=0", "HEAD"])?;
    let first = first
        .lines()
        .next()
        .ok_or("this copy has no first commit")?
        .to_string();
    // New files count too: tell git about them without staging them.
    git(&["add", "--intent-to-add", "--all"])?;
    let diff = git(&[
        "diff",
        "--binary",
        &first,
        "--",
        ".",
        ":(exclude)build",
        ":(exclude)target",
        ":(exclude)handin-*.patch",
    ])?;
    let slug: String = student
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let path = PathBuf::from(format!("handin-{lab}-{slug}.patch"));
    let mut text = String::new();
    let _ = writeln!(text, "Lab: {lab}");
    let _ = writeln!(text, "Student: {}", student.trim());
    let _ = writeln!(text, "Base: {first}");
    let _ = writeln!(
        text,
        "Apply to a fresh copy of the lab with: git apply {}",
        path.display()
    );
    text.push('\n');
    text.push_str(&diff);
    std::fs::write(dir.join(&path), text)
        .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "fn open() -> i32 {
    // LAB shm: solution begins
    real()
    // LAB shm: stub
    // -1
    // LAB shm: end
}
fn wait() {
    // LAB sync: solution begins
    sleep();
    // LAB sync: stub
    // return;
    // LAB sync: end
}
";

    #[test]
    fn the_labs_solution_goes_and_the_others_stays() {
        assert_eq!(
            for_student(SOURCE, "shm"),
            "fn open() -> i32 {\n    -1\n}\nfn wait() {\n    sleep();\n}\n"
        );
        assert_eq!(
            for_student(SOURCE, "sync"),
            "fn open() -> i32 {\n    real()\n}\nfn wait() {\n    return;\n}\n"
        );
    }

    #[test]
    fn markers_are_counted_per_lab() {
        let found = check_markers(Path::new("a.rs"), SOURCE).unwrap();
        assert_eq!(found, [("shm".to_string(), 1), ("sync".to_string(), 1)]);
    }

    #[test]
    fn broken_markers_are_refused_with_their_line() {
        let no_stub = "// LAB shm: solution begins\nx\n// LAB shm: end\n";
        assert_eq!(
            check_markers(Path::new("a.rs"), no_stub).unwrap_err(),
            "a.rs:3: LAB shm's solution needs its stub marker before this"
        );
        let no_end = "// LAB shm: solution begins\nx\n// LAB shm: stub\n";
        assert_eq!(
            check_markers(Path::new("a.rs"), no_end).unwrap_err(),
            "a.rs:1: LAB shm's solution has no end"
        );
        let nested = "// LAB shm: solution begins\n// LAB cow: solution begins\n";
        assert!(
            check_markers(Path::new("a.rs"), nested)
                .unwrap_err()
                .starts_with("a.rs:2: a LAB cow marker inside")
        );
        let typo = "// LAB shm: solution starts\n";
        assert!(
            check_markers(Path::new("a.rs"), typo)
                .unwrap_err()
                .starts_with("a.rs:1: 'solution starts'")
        );
    }
}
