//! `make grade`: a lab's graded tests, each with its points, and the
//! score.
//!
//! Each test is a command on the host (a crate's unit tests), a check of
//! a test program's run (`PASS NAME` in what it printed), or a whole run
//! of a program (its summary says 0 failed, QEMU says it passed). The
//! runs are booted once per program and CPU count, on the test image,
//! whatever number of tests read them. Output: a line per test, `PASS
//! name (P/P points)` or `FAIL name (0/P points): why`, then `Score:
//! X/Y`; and the same as JSON in build/grade.json, in the form
//! Gradescope's autograder reads (`score`, and `tests`, each with `name`,
//! `score`, `max_score`, `status` and `output`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::config::Config;
use crate::console::Console;
use crate::disks::DiskKind;
use crate::labs::{How, Lab};
use crate::qemu::{Exit, Machine, Outcome, PASSED};
use crate::queue::Plan;
use crate::shape::Shape;

/// Where a grade's host commands run.
pub struct Host {
    /// The tree they run in.
    pub dir: PathBuf,
    /// cargo's target directory, if not the tree's own.
    pub target_dir: Option<PathBuf>,
}

/// One graded test's result.
#[derive(Debug, Clone)]
pub struct Result {
    pub name: String,
    pub points: u32,
    /// Why it failed; `None` if it passed.
    pub why: Option<String>,
}

impl Result {
    pub fn earned(&self) -> u32 {
        if self.why.is_none() { self.points } else { 0 }
    }

    /// The line `make grade` prints.
    pub fn line(&self) -> String {
        match &self.why {
            None => format!(
                "PASS {} ({}/{} points)",
                self.name, self.points, self.points
            ),
            Some(why) => format!("FAIL {} (0/{} points): {why}", self.name, self.points),
        }
    }
}

/// A run a grade reads: its console and how it ended.
pub struct Run {
    pub console: Console,
    pub outcome: Outcome,
}

/// Boots every run `lab`'s tests read, `workers` at a time, logs in
/// `logs`; runs the host commands; returns every test's result, and the
/// runs (for a caller that wants to look for panics).
pub fn grade(
    config: &Config,
    lab: &Lab,
    host: &Host,
    logs: &Path,
    workers: usize,
) -> (Vec<Result>, Vec<Run>) {
    let tests = lab.tests();
    let mut plan = Plan::default();
    let mut runs: Vec<String> = Vec::new();
    for test in &tests {
        let (program, cpus) = match test.how {
            How::Check { program, cpus, .. } | How::Program { program, cpus } => (program, cpus),
            How::Host(_) => continue,
        };
        let name = format!("grade-{}-{program}-{cpus}", lab.name);
        if runs.contains(&name) {
            continue;
        }
        runs.push(name.clone());
        let disk = DiskKind::Fresh.prepare(config, logs, &name);
        let machine = Machine::test(&format!("user:{program}"), cpus, disk.machine_disk);
        let config = config.clone();
        let log = logs.join(format!("{name}.log"));
        plan.add(&name, move || {
            let outcome = machine.run(&config, &log, config.timeout);
            Run {
                console: Console::read(&log),
                outcome,
            }
        });
    }
    let running = plan.start(workers);
    let mut finished: BTreeMap<String, Run> = BTreeMap::new();
    for name in &runs {
        finished.insert(name.clone(), running.wait(name));
    }
    let results = tests
        .iter()
        .map(|test| Result {
            name: test.name.clone(),
            points: test.points,
            why: match test.how {
                How::Host(command) => host_command(command, host).err(),
                How::Check {
                    program,
                    cpus,
                    check,
                } => {
                    let run = &finished[&format!("grade-{}-{program}-{cpus}", lab.name)];
                    check_passed(run, check).err()
                }
                How::Program { program, cpus } => {
                    let run = &finished[&format!("grade-{}-{program}-{cpus}", lab.name)];
                    program_passed(run, program).err()
                }
            },
        })
        .collect();
    (results, finished.into_values().collect())
}

/// The run printed `PASS CHECK`.
fn check_passed(run: &Run, check: &str) -> std::result::Result<(), String> {
    let passed = Shape::of(&format!("PASS {check}"));
    if run.console.has(&passed) {
        return Ok(());
    }
    let failed = Shape::of(&format!("FAIL {check}: {{..}}"));
    Err(match run.console.find(&failed) {
        Some(line) => line.trim_start_matches("FAIL ").to_string(),
        None => format!(
            "the check did not run ({}; see {})",
            run.outcome.exit.describe(),
            run.console.path.display()
        ),
    })
}

/// The whole run passed.
fn program_passed(run: &Run, program: &str) -> std::result::Result<(), String> {
    let summary = Shape::of(&format!("{program}: {{n}} passed, {{n}} failed"));
    let line = run.console.find(&summary);
    if line.is_some_and(|line| line.ends_with(", 0 failed"))
        && run.outcome.exit == Exit::Status(PASSED)
    {
        return Ok(());
    }
    Err(format!(
        "{} ({}; see {})",
        line.unwrap_or("no summary line"),
        run.outcome.exit.describe(),
        run.console.path.display()
    ))
}

/// Runs a host command in the grade's tree.
fn host_command(command: &[&str], host: &Host) -> std::result::Result<(), String> {
    let (program, args) = command.split_first().ok_or("an empty command")?;
    let mut run = Command::new(program);
    run.args(args)
        .current_dir(&host.dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(target) = &host.target_dir {
        run.env("CARGO_TARGET_DIR", target);
    }
    match run.status() {
        Ok(status) if status.success() => Ok(()),
        Ok(_) => Err(format!("`{}` failed: run it to see why", command.join(" "))),
        Err(error) => Err(format!("cannot run {program}: {error}")),
    }
}

/// `Score: X/Y`.
pub fn score_line(results: &[Result]) -> String {
    let earned: u32 = results.iter().map(Result::earned).sum();
    let max: u32 = results.iter().map(|result| result.points).sum();
    format!("Score: {earned}/{max}")
}

/// The results as Gradescope's results.json.
pub fn json(results: &[Result]) -> String {
    let earned: u32 = results.iter().map(Result::earned).sum();
    let mut out = format!("{{\n  \"score\": {earned},\n  \"tests\": [\n");
    for (index, result) in results.iter().enumerate() {
        let _ = writeln!(
            out,
            "    {{\"name\": {}, \"score\": {}, \"max_score\": {}, \"status\": \"{}\", \"output\": {}}}{}",
            json_string(&result.name),
            result.earned(),
            result.points,
            if result.why.is_none() {
                "passed"
            } else {
                "failed"
            },
            json_string(result.why.as_deref().unwrap_or("")),
            if index + 1 < results.len() { "," } else { "" }
        );
    }
    out.push_str("  ]\n}\n");
    out
}

/// `text` as a JSON string.
fn json_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str, exit: Exit) -> Run {
        Run {
            console: Console::from_text(Path::new("x.log"), text),
            outcome: Outcome { exit },
        }
    }

    #[test]
    fn checks_pass_fail_or_never_ran() {
        let log = run(
            "PASS open_exact_names\nFAIL trunc_race: lost a page\n",
            Exit::Status(35),
        );
        assert!(check_passed(&log, "open_exact_names").is_ok());
        assert_eq!(
            check_passed(&log, "trunc_race"),
            Err("trunc_race: lost a page".into())
        );
        assert!(
            check_passed(&log, "map_twice")
                .unwrap_err()
                .starts_with("the check did not run")
        );
        // A check's name is matched whole: `open` is not `open_exact_names`.
        assert!(check_passed(&log, "open").is_err());
    }

    #[test]
    fn a_program_passes_only_with_its_summary_and_exit() {
        assert!(
            program_passed(
                &run("shmtest: 9 passed, 0 failed\n", Exit::Status(33)),
                "shmtest"
            )
            .is_ok()
        );
        assert!(
            program_passed(
                &run("shmtest: 8 passed, 1 failed\n", Exit::Status(35)),
                "shmtest"
            )
            .is_err()
        );
        assert!(
            program_passed(
                &run("shmtest: 9 passed, 0 failed\n", Exit::Status(35)),
                "shmtest"
            )
            .is_err()
        );
    }

    #[test]
    fn score_and_json() {
        let results = [
            Result {
                name: "a".into(),
                points: 2,
                why: None,
            },
            Result {
                name: "b \"quoted\"".into(),
                points: 3,
                why: Some("no\nline".into()),
            },
        ];
        assert_eq!(score_line(&results), "Score: 2/5");
        let json = json(&results);
        assert!(json.contains("\"score\": 2,"));
        assert!(json.contains("{\"name\": \"b \\\"quoted\\\"\", \"score\": 0, \"max_score\": 3, \"status\": \"failed\", \"output\": \"no\\nline\"}"));
    }
}
