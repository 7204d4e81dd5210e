//! The `labs` suite, the teacher's check of every lab, end to end.
//!
//! For each lab of labs.rs: the student's copy is written to
//! build/labs/NAME (brought up to date, not rewritten, so that cargo
//! rebuilds only what changed); it must be a git repository with one
//! commit; its test kernel (and, for a lab that touches them, its user
//! programs) must build without a warning, in target/labs/, away from
//! this tree's build; `make grade`'s grading of the copy must give a low
//! score (the stubs fail) without a kernel panic; `make handin` there
//! must pack a patch that names the student; and grading this tree, which
//! is the copy with the solution put back, must give full marks.
//!
//! This suite is the teacher's: a student's copy (one with a `.lab` file)
//! skips it.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::config::Config;
use crate::grade::{self, Host, Run};
use crate::lab::{self, Mode};
use crate::labs::{self, Lab};
use crate::queue::{Plan, Running};
use crate::report::Report;

/// What one lab's check found.
pub struct Checked {
    generated: Result<(), String>,
    commits: Result<(), String>,
    built: Result<Vec<String>, String>,
    stubs: Option<(Vec<grade::Result>, Vec<Run>)>,
    handin: Result<(), String>,
    solution: Option<Vec<grade::Result>>,
}

fn job_name(lab: &Lab) -> String {
    format!("lab-{}", lab.name)
}

pub fn queue(config: &Config, plan: &mut Plan) {
    for lab in labs::ALL {
        let config = config.clone();
        plan.add(&job_name(lab), move || check(&config, lab));
    }
}

fn check(config: &Config, lab: &'static Lab) -> Checked {
    let root = std::env::current_dir().unwrap_or_default();
    let dest = config.build.join("labs").join(lab.name);
    let target = root.join("target/labs").join(lab.name);
    let mut checked = Checked {
        generated: lab::generate(lab, &dest, Mode::Refresh),
        commits: Err("not generated".into()),
        built: Err("not generated".into()),
        stubs: None,
        handin: Err("not generated".into()),
        solution: None,
    };
    let logs = config.logs();
    // This tree is the solution: grading it must give full marks.
    let solution_logs = logs.join(format!("lab-{}-solution", lab.name));
    let _ = std::fs::create_dir_all(&solution_logs);
    let here = Host {
        dir: root.clone(),
        target_dir: None,
    };
    checked.solution = Some(grade::grade(config, lab, &here, &solution_logs, 1).0);
    if checked.generated.is_err() {
        return checked;
    }
    checked.commits = one_commit(&dest);
    checked.built = build(config, lab, &dest, &target);
    if checked.built.is_ok() {
        let stub_logs = logs.join(format!("lab-{}-stubs", lab.name));
        let _ = std::fs::create_dir_all(&stub_logs);
        let mut copy = config.clone();
        copy.test_image = target.join("test.iso");
        if lab.touches_user() {
            copy.fs_image = target.join("fs.img");
        }
        let host = Host {
            dir: dest.clone(),
            target_dir: Some(root.join("target/labs/host")),
        };
        checked.stubs = Some(grade::grade(&copy, lab, &host, &stub_logs, 1));
    }
    checked.handin = handin(&dest, lab);
    checked
}

/// The copy is a git repository with exactly one commit.
fn one_commit(dest: &Path) -> Result<(), String> {
    let output = Command::new("git")
        .current_dir(dest)
        .args(["rev-list", "--count", "HEAD"])
        .output()
        .map_err(|error| format!("cannot run git: {error}"))?;
    let count = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if count == "1" {
        Ok(())
    } else {
        Err(format!("the copy's history has {count:?} commits, not 1"))
    }
}

/// Builds the copy's test kernel and image (and its user programs and
/// file system, if the lab touches them) in `target`; returns the
/// warnings.
fn build(config: &Config, lab: &Lab, dest: &Path, target: &Path) -> Result<Vec<String>, String> {
    let mut warnings = Vec::new();
    let cargo = |args: &[&str], flags: &[String], target_dir: &Path, rustflags: Option<&str>| {
        let mut command = Command::new("cargo");
        command
            .current_dir(dest)
            .args(args)
            .args(flags)
            .arg("--target-dir")
            .arg(target_dir);
        if let Some(rustflags) = rustflags {
            command.env("RUSTFLAGS", rustflags);
        }
        let output = command
            .output()
            .map_err(|error| format!("cannot run cargo: {error}"))?;
        let messages = String::from_utf8_lossy(&output.stderr).into_owned();
        if output.status.success() {
            Ok(messages)
        } else {
            Err(format!("the copy does not build:\n{messages}"))
        }
    };
    let messages = cargo(
        &["build", "-q", "-p", "kernel", "--features", "ktest"],
        &config.cargo_kernel,
        target,
        None,
    )?;
    warnings.extend(warning_lines(&messages));
    crate::iso::make(
        &target.join("test.iso"),
        &target.join("x86_64-xv6/release/kernel"),
        "",
    )?;
    if lab.touches_user() {
        let user_target = target.join("user");
        let messages = cargo(
            &["build", "-q", "-p", "user"],
            &config.cargo_user,
            &user_target,
            Some(&config.user_rustflags),
        )?;
        warnings.extend(warning_lines(&messages));
        file_system(
            config,
            dest,
            &user_target.join("x86_64-xv6-user/release"),
            &target.join("fs.img"),
        )?;
    }
    Ok(warnings)
}

/// The warning lines of what cargo printed.
fn warning_lines(messages: &str) -> impl Iterator<Item = String> + '_ {
    messages
        .lines()
        .filter(|line| line.starts_with("warning"))
        .map(str::to_string)
}

/// This tree's fs.img with the copy's user programs in place of its own:
/// the other files (the README, the C programs) are the same in both.
fn file_system(config: &Config, dest: &Path, programs: &Path, out: &Path) -> Result<(), String> {
    use abi::fs::{FSSIZE, ROOTINO};
    use abi::stat::T_FILE;
    let bytes = std::fs::read(&config.fs_image).map_err(|error| error.to_string())?;
    let image = mkfs::image::Image::open(bytes);
    let names: Vec<String> = std::fs::read_dir(dest.join("user/src/bin"))
        .map_err(|error| error.to_string())?
        .flatten()
        .filter_map(|entry| {
            let path = entry.path();
            let is_program = path.extension().is_some_and(|ext| ext == "rs");
            is_program
                .then(|| path.file_stem()?.to_str().map(str::to_string))
                .flatten()
        })
        .collect();
    let mut inputs = Vec::new();
    for entry in image.dir_entries(&image.inode(ROOTINO)) {
        let name = String::from_utf8_lossy(entry.name()).into_owned();
        let inode = image.inode(u32::from(entry.inum));
        if inode.kind != T_FILE {
            continue;
        }
        let data = if names.contains(&name) {
            stripped(&programs.join(&name))?
        } else {
            image.read_file(&inode)
        };
        inputs.push(mkfs::InputFile {
            path: PathBuf::from(name),
            data,
        });
    }
    let built = mkfs::build(&inputs, FSSIZE).map_err(|error| error.to_string())?;
    std::fs::write(out, built).map_err(|error| error.to_string())
}

/// A program without its symbols and debug information, as fs.img holds
/// them.
fn stripped(program: &Path) -> Result<Vec<u8>, String> {
    let out = program.with_extension("stripped");
    let status = Command::new("strip")
        .arg("--strip-all")
        .arg("-o")
        .arg(&out)
        .arg(program)
        .status()
        .map_err(|error| format!("cannot run strip: {error}"))?;
    if !status.success() {
        return Err(format!("strip failed on {}", program.display()));
    }
    std::fs::read(&out).map_err(|error| error.to_string())
}

/// `make handin` in the copy names the lab and the student.
fn handin(dest: &Path, lab: &Lab) -> Result<(), String> {
    let path = lab::handin(dest, lab.name, "Test Student")?;
    let text = std::fs::read_to_string(dest.join(&path)).map_err(|error| error.to_string())?;
    let _ = std::fs::remove_file(dest.join(&path));
    if text.contains(&format!("Lab: {}", lab.name)) && text.contains("Student: Test Student") {
        Ok(())
    } else {
        Err(format!(
            "{} does not name the lab and the student",
            path.display()
        ))
    }
}

pub fn report(running: &Running, report: &mut Report) {
    for lab in labs::ALL {
        report.heading(&format!("lab-{}: {}", lab.name, lab.title));
        let checked: Checked = running.wait(&job_name(lab));
        let name = |check: &str| format!("lab-{}-{check}", lab.name);
        report.check(&name("generated"), checked.generated.clone());
        report.check(&name("one-commit"), checked.commits.clone());
        report.check(&name("builds"), checked.built.clone().map(|_| ()));
        report.check(
            &name("no-warnings"),
            match &checked.built {
                Ok(warnings) if warnings.is_empty() => Ok(()),
                Ok(warnings) => Err(format!(
                    "{} warnings, the first: {}",
                    warnings.len(),
                    warnings[0]
                )),
                Err(_) => Err("the copy did not build".into()),
            },
        );
        match &checked.stubs {
            Some((results, runs)) => {
                report.note(&format!("with the stubs: {}", grade::score_line(results)));
                let earned: u32 = results.iter().map(grade::Result::earned).sum();
                report.check(
                    &name("stubs-score-low"),
                    if earned < lab.max_score() {
                        Ok(())
                    } else {
                        Err("the stubs earn full marks: the tests do not test the lab".into())
                    },
                );
                report.check(&name("stubs-no-panic"), no_panic(runs));
            }
            None => {
                report.fail(&name("stubs-score-low"), "the copy was not graded");
                report.fail(&name("stubs-no-panic"), "the copy was not graded");
            }
        }
        report.check(&name("handin"), checked.handin.clone());
        match &checked.solution {
            Some(results) => {
                report.note(&format!(
                    "with the solution: {}",
                    grade::score_line(results)
                ));
                let failed: Vec<String> = results
                    .iter()
                    .filter_map(|r| r.why.as_ref().map(|why| format!("{}: {why}", r.name)))
                    .collect();
                report.check(
                    &name("solution-full-marks"),
                    match failed.first() {
                        None => Ok(()),
                        Some(first) => {
                            Err(format!("{} tests fail, the first: {first}", failed.len()))
                        }
                    },
                );
            }
            None => report.fail(&name("solution-full-marks"), "not graded"),
        }
    }
}

fn no_panic(runs: &[Run]) -> Result<(), String> {
    runs.iter()
        .map(|run| crate::boots::no_panic(&run.console))
        .collect::<Result<Vec<()>, String>>()
        .map(|_| ())
}
