//! The shared-memory lab: `make lab-shm` writes a copy of this tree
//! without the solution, and the `lab` suite checks that copy.
//!
//! The solution is marked in the sources (kernel/src/shm.rs and
//! kernel/shmtable/src/lib.rs) like this, inside each function to write:
//!
//! ```text
//! // LAB shm: solution begins
//! ...the code, which the copy leaves out...
//! // LAB shm: stub
//! // ...the stub, commented out here, which the copy keeps...
//! // LAB shm: end
//! ```
//!
//! In this tree the markers are comments, so the normal build is
//! untouched. A stub may also be an attribute: at the top of shm.rs and
//! before vm.rs's map_shared, the lab's copy allows the imports and
//! helpers that only the solution uses, so that it builds without
//! warnings.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::config::Config;
use crate::console::Console;
use crate::disks::DiskKind;
use crate::qemu::{Machine, Outcome};
use crate::queue::{Plan, Running};
use crate::report::Report;
use crate::shape::Shape;

const BEGINS: &str = "// LAB shm: solution begins";
const STUB: &str = "// LAB shm: stub";
const END: &str = "// LAB shm: end";

/// The handout the copy gets as LAB-SHM.md.
const HANDOUT: &str = include_str!("lab-shm.md");

/// `source` with each solution left out and its stub uncommented.
pub fn strip_solution(source: &str) -> String {
    #[derive(PartialEq)]
    enum Part {
        Code,
        Solution,
        Stub,
    }
    let mut part = Part::Code;
    let mut out = String::new();
    for line in source.lines() {
        let marker = line.trim_start();
        if marker.starts_with(BEGINS) {
            part = Part::Solution;
        } else if marker.starts_with(STUB) {
            part = Part::Stub;
        } else if marker.starts_with(END) {
            part = Part::Code;
        } else if part == Part::Stub {
            // The stub's lines are comments here: the first "// " goes.
            out.push_str(&line.replacen("// ", "", 1));
            out.push('\n');
        } else if part == Part::Code {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The files git knows, as they are in the working tree.
fn tracked_files() -> Result<Vec<PathBuf>, String> {
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
        .collect())
}

/// Writes the lab to `dest`, which must not exist, and must not be inside
/// this tree except under build/.
pub fn generate(dest: &Path, build: &Path) -> Result<(), String> {
    let source = std::env::current_dir().map_err(|error| error.to_string())?;
    let target = if dest.is_absolute() {
        dest.to_path_buf()
    } else {
        source.join(dest)
    };
    let normal = normalize(&target);
    if normal.starts_with(&source) && !normal.starts_with(normalize(&source.join(build))) {
        return Err(format!(
            "{} is inside the source tree; write the lab elsewhere",
            dest.display()
        ));
    }
    if target.exists() {
        return Err(format!(
            "{} exists; remove it or choose another place",
            dest.display()
        ));
    }
    for file in tracked_files()? {
        let to = target.join(&file);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|error| error.to_string())?;
        }
        let is_kernel_source =
            file.starts_with("kernel") && file.extension().is_some_and(|ext| ext == "rs");
        let text = if is_kernel_source {
            std::fs::read_to_string(&file).ok()
        } else {
            None
        };
        match text {
            Some(text) if text.contains(BEGINS) => {
                std::fs::write(&to, strip_solution(&text)).map_err(|error| error.to_string())?;
            }
            _ => {
                // A tracked file deleted in the working tree is not copied.
                if file.exists() {
                    std::fs::copy(&file, &to)
                        .map_err(|error| format!("{}: {error}", file.display()))?;
                }
            }
        }
    }
    std::fs::write(target.join("LAB-SHM.md"), HANDOUT).map_err(|error| error.to_string())?;
    Ok(())
}

/// `path` with `.` and `..` resolved by name (it need not exist).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// What the lab job found.
pub struct LabRun {
    /// The build's messages, or why it could not run.
    pub build: Result<String, String>,
    pub log: PathBuf,
    pub outcome: Option<Outcome>,
}

/// Queues the lab check: the lab written to build/lab-check (afresh), its
/// test kernel built in target/lab (so the normal build's files are never
/// touched) and booted with init running shmtest.
pub fn queue(config: &Config, plan: &mut Plan) {
    let config = config.clone();
    plan.add("lab-shmtest", move || {
        let log = config.logs().join("lab-shmtest.log");
        let build = build_lab(&config);
        let outcome = build.as_ref().ok().map(|_| {
            let disk = DiskKind::Fresh.prepare(&config, &config.logs(), "lab-shmtest");
            let mut machine = Machine::test("user:shmtest", 2, disk.machine_disk);
            let mut lab_config = config.clone();
            lab_config.test_image = PathBuf::from("target/lab/test.iso");
            machine.cpu_model = None;
            machine.run(&lab_config, &log, config.timeout)
        });
        LabRun {
            build,
            log,
            outcome,
        }
    });
}

/// Writes the lab and builds its test kernel and image; returns cargo's
/// messages.
fn build_lab(config: &Config) -> Result<String, String> {
    let lab = config.build.join("lab-check");
    let _ = std::fs::remove_dir_all(&lab);
    generate(&lab, &config.build)?;
    let root = std::env::current_dir().map_err(|error| error.to_string())?;
    let target = root.join("target/lab");
    let output = Command::new("cargo")
        .current_dir(&lab)
        .args(["build", "-q", "-p", "kernel"])
        .args(&config.cargo_kernel)
        .args(["--features", "ktest", "--target-dir"])
        .arg(&target)
        .output()
        .map_err(|error| format!("cannot run cargo: {error}"))?;
    let messages = String::from_utf8_lossy(&output.stderr).into_owned();
    if !output.status.success() {
        return Err(messages);
    }
    crate::iso::make(
        &target.join("test.iso"),
        &target.join("x86_64-xv6/release/kernel"),
    )?;
    Ok(messages)
}

pub fn report(running: &Running, report: &mut Report) {
    report.heading("lab-shm");
    let run: LabRun = running.wait("lab-shmtest");
    let build_log = run.log.with_extension("build.log");
    let messages = match &run.build {
        Ok(messages) | Err(messages) => messages.clone(),
    };
    let _ = std::fs::write(&build_log, &messages);
    let see = format!("(see {})", build_log.display());
    let Some(outcome) = run.outcome else {
        report.fail("lab-builds", &format!("the lab did not build {see}"));
        return;
    };
    report.pass("lab-builds");
    let warned = messages.lines().any(|line| line.starts_with("warning"));
    report.check(
        "lab-no-warnings",
        if warned {
            Err(format!("the lab builds with warnings {see}"))
        } else {
            Ok(())
        },
    );
    let console = Console::read(&run.log);
    crate::boots::show_hang(report, &outcome, &console);
    let summary = Shape::of("shmtest: {n} passed, {n} failed");
    let failed = console.find(&summary).and_then(|line| {
        line.split(", ")
            .nth(1)?
            .split(' ')
            .next()?
            .parse::<u64>()
            .ok()
    });
    report.check(
        "lab-shmtest-fails",
        match failed {
            Some(failed) if failed > 0 => Ok(()),
            _ => Err(format!(
                "shmtest on the lab's kernel did not report failures ({})",
                run.log.display()
            )),
        },
    );
    report.check("lab-no-panic", crate::boots::no_panic(&console));
    report.check("lab-markers-paired", markers_paired(Path::new("kernel")));
}

/// In this tree the markers are comments: every solution has its stub
/// and its end.
fn markers_paired(dir: &Path) -> Result<(), String> {
    let (mut begins, mut stubs, mut ends) = (0, 0, 0);
    for file in rust_files(dir) {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for line in text.lines().map(str::trim_start) {
            begins += usize::from(line.starts_with(BEGINS));
            stubs += usize::from(line.starts_with(STUB));
            ends += usize::from(line.starts_with(END));
        }
    }
    if begins > 0 && begins == stubs && stubs == ends {
        Ok(())
    } else {
        Err(format!(
            "{begins} solutions marked, {stubs} stubs, {ends} ends"
        ))
    }
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_solution_goes_and_the_stub_stays() {
        let source = "fn open() -> i32 {\n    // LAB shm: solution begins\n    real()\n    // LAB shm: stub\n    // -1\n    // LAB shm: end\n}\n";
        assert_eq!(strip_solution(source), "fn open() -> i32 {\n    -1\n}\n");
    }

    #[test]
    fn paths_resolve_by_name() {
        assert_eq!(
            normalize(Path::new("/a/b/../c/./d")),
            PathBuf::from("/a/c/d")
        );
    }
}
