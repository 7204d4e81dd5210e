//! The crash suite: power cuts during a file-system workload.
//!
//! The workload is user/src/bin/crashtest.rs: `crashtest run` makes its
//! system calls one at a time, printing `crash: step K call ...` before
//! each and `crash: step K ret R` after it; `crashtest check`, booted on
//! the disk afterwards, prints the steps whose state the disk matches.
//! Both run with the program's default seed and length; the suite's seed
//! (`CRASH_SEED`) only chooses where the cuts fall.
//!
//! A cut: boot `crashtest run` on a fresh copy of fs.img; when step K's
//! `call` line arrives, wait D ms and kill QEMU with SIGKILL, which stops
//! the machine between two instructions, disk writes and all, as a power
//! cut would. K and D come from the seed and the cut's number: the cuts
//! divide the workload into `CRASH_CUTS` equal stretches and each falls
//! at a random step of its own stretch, so that together they cover the
//! whole workload; D is 0 to [`MAX_DELAY_MS`], about one step's time, so
//! that some cuts land in the middle of a commit. Then, on the image the
//! cut left:
//!
//! 1. mkfs's check after recovery: the image is consistent once the log's
//!    committed transaction, if any, is installed (the plain check would
//!    refuse a full log, which a cut during a commit leaves; the kernel's
//!    recovery installs it at mount, and this is the image it will mount);
//! 2. `crashtest check` boots on it, and the disk must match the state
//!    after the last step whose `ret` line the cut run printed (L), or
//!    after the one after it, L+1, which may have committed before the
//!    cut stopped it printing. Anything else is a step half done, or a
//!    step that returned and was lost;
//! 3. the plain check: recovery emptied the log, and the check's own new
//!    files left the file system consistent.
//!
//! The whole run: `crashtest run` to the end, the plain check, then
//! `crashtest check`, which must match the state after the last step.
//!
//! Everything goes to files beside the cut's name in build/test-logs:
//! NAME.img (the disk), NAME.run.log and NAME.check.log (the two boots'
//! serial output).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::console::Console;
use crate::disks::{self, DiskKind};
use crate::qemu::{Exit, Machine, PASSED, Watched};
use crate::queue::{Plan, Running};
use crate::report::Report;
use crate::shape::Shape;

/// The longest wait after a `call` line, in milliseconds.
pub const MAX_DELAY_MS: u64 = 12;

/// Where a cut falls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cut {
    /// Where in the workload, in thousandths.
    pub position: u64,
    /// How long after the step's `call` line.
    pub delay_ms: u64,
}

/// The cut numbered `index` (from 1) of `cuts` from `seed`: an LCG (the
/// constants of C's `rand`) started from the seed and the index.
pub fn cut(seed: u64, index: u64, cuts: u64) -> Cut {
    const MODULUS: u64 = 1 << 31;
    let mut state = (seed * 7919 + index * 104_729) % MODULUS;
    let mut below = |n: u64| {
        for _ in 0..2 {
            state = (state * 1_103_515_245 + 12_345) % MODULUS;
        }
        (state >> 8) % n
    };
    let position = ((index - 1) * 1000 + below(1000)) / cuts;
    let delay_ms = below(MAX_DELAY_MS + 1);
    Cut { position, delay_ms }
}

/// What one job found.
pub struct Verdict {
    /// What happened, a line each ("cut: step K + D ms", ...).
    pub notes: Vec<String>,
    pub result: Result<(), String>,
    pub started: Instant,
    pub ended: Instant,
}

/// The suite's settings: how many cuts, from which seed.
pub struct Settings {
    pub cuts: u64,
    pub seed: u64,
}

fn names(cuts: u64) -> Vec<String> {
    let mut names = vec!["crash-whole".to_string()];
    names.extend((1..=cuts).map(|index| format!("crash-cut-{index:02}")));
    names
}

pub fn queue(config: &Config, settings: &Settings, plan: &mut Plan) {
    for (index, name) in names(settings.cuts).into_iter().enumerate() {
        let config = config.clone();
        let (seed, cuts) = (settings.seed, settings.cuts);
        let job_name = name.clone();
        plan.add(&job_name, move || {
            let started = Instant::now();
            let mut job = Job {
                config: &config,
                prefix: config.logs().join(&name),
                notes: Vec::new(),
            };
            let result = if index == 0 {
                job.whole()
            } else {
                job.cut(cut(seed, index as u64, cuts))
            };
            Verdict {
                notes: job.notes,
                result,
                started,
                ended: Instant::now(),
            }
        });
    }
}

pub fn report(settings: &Settings, running: &Running, report: &mut Report) {
    report.heading(&format!(
        "crash: {} power cuts from CRASH_SEED={}",
        settings.cuts, settings.seed
    ));
    let failed_before = report.failed;
    let mut verdicts = Vec::new();
    for name in names(settings.cuts) {
        let verdict: Verdict = running.wait(&name);
        report.note(&format!("{name}: {}", verdict.notes.join("; ")));
        report.check(&name, verdict.result.clone());
        verdicts.push(verdict);
    }
    if let (Some(first), Some(last)) = (
        verdicts.iter().map(|v| v.started).min(),
        verdicts.iter().map(|v| v.ended).max(),
    ) {
        let total: Duration = verdicts.iter().map(|v| v.ended - v.started).sum();
        report.note(&format!(
            "crash: {:.0} s from the first boot to the last, {:.0} s of jobs in all",
            (last - first).as_secs_f64(),
            total.as_secs_f64()
        ));
    }
    if report.failed > failed_before {
        report.note(&format!(
            "(replay these cuts: make test SUITES=crash CRASH_SEED={} CRASH_CUTS={})",
            settings.seed, settings.cuts
        ));
    }
}

/// One job's work, its files beside `prefix`.
struct Job<'a> {
    config: &'a Config,
    prefix: PathBuf,
    notes: Vec<String>,
}

impl Job<'_> {
    fn file(&self, suffix: &str) -> PathBuf {
        let mut path = self.prefix.clone().into_os_string();
        path.push(suffix);
        PathBuf::from(path)
    }

    /// A fresh copy of fs.img for the job.
    fn disk(&self) -> Result<PathBuf, String> {
        let logs = self.prefix.parent().unwrap_or(Path::new("."));
        let name = self
            .prefix
            .file_name()
            .unwrap_or_default()
            .to_string_lossy();
        let prepared = DiskKind::Fresh.prepare(self.config, logs, &name);
        match (prepared.error, prepared.path) {
            (None, Some(path)) => Ok(path),
            (error, _) => Err(error.unwrap_or_else(|| "no disk".into())),
        }
    }

    fn machine(&self, request: &str, image: &Path) -> Machine {
        Machine::test(
            request,
            self.config.cpus,
            crate::qemu::Disk::File(image.to_path_buf()),
        )
    }

    /// The workload run to its end, then checked.
    fn whole(&mut self) -> Result<(), String> {
        let image = self.disk()?;
        let run_log = self.file(".run.log");
        let outcome = self.machine("user:crashtest,run", &image).run(
            self.config,
            &run_log,
            self.config.timeout,
        );
        let run = Console::read(&run_log);
        let steps = workload_steps(&run);
        self.notes.push(format!(
            "run: {} steps, uncut",
            steps.map_or("?".into(), |n| n.to_string())
        ));
        if let Some(failure) = first_failure(&run) {
            return Err(format!("the run failed: {failure}"));
        }
        if outcome.exit != Exit::Status(PASSED) {
            return Err(format!(
                "the run: {} (see {})",
                outcome.exit.describe(),
                run_log.display()
            ));
        }
        disks::consistent(&image).map_err(|why| format!("after the run: {why}"))?;
        let matched = self.check_boot(&image)?;
        let steps = steps.ok_or("the run did not say how many steps it makes")?;
        if matched.contains(&steps) {
            Ok(())
        } else {
            Err(format!(
                "the disk does not match the state after the last step, {steps} (see {})",
                self.file(".check.log").display()
            ))
        }
    }

    /// One power cut, then recovery and the checks.
    fn cut(&mut self, cut: Cut) -> Result<(), String> {
        let image = self.disk()?;
        let run_log = self.file(".run.log");
        let machine = self.machine("user:crashtest,run", &image);
        let mut watched = Watched::start(&machine, self.config, self.config.timeout)
            .map_err(|error| format!("cannot start {}: {error}", self.config.qemu))?;
        let output = watched.output.take().ok_or("QEMU's output is not piped")?;
        let mut lines = Vec::new();
        let mut step = None;
        let mut was_cut = false;
        let mut reader = BufReader::new(output);
        let mut raw = Vec::new();
        // The run's output, line by line as it comes; the step to cut at
        // is known once the run has said how many steps it makes.
        while reader.read_until(b'\n', &mut raw).is_ok_and(|n| n > 0) {
            let line = String::from_utf8_lossy(&raw).trim_end().to_string();
            raw.clear();
            if let Some(steps) = workload_steps_in(&line) {
                step = Some(1 + cut.position * steps / 1000);
            }
            if let Some(step) = step
                && !was_cut
                && line.starts_with(&format!("crash: step {step} call "))
            {
                thread::sleep(Duration::from_millis(cut.delay_ms));
                watched.kill();
                was_cut = true;
            }
            lines.push(line);
        }
        drop(reader);
        let _ = watched.wait();
        let _ = std::fs::write(&run_log, lines.join("\n") + "\n");
        let run = Console::from_text(&run_log, &lines.join("\n"));
        let returned = last_returned(&run);
        self.notes.push(format!(
            "cut: step {} + {} ms",
            step.map_or("?".into(), |s| s.to_string()),
            cut.delay_ms
        ));
        self.notes.push(format!("returned: step {returned}"));
        if let Some(failure) = first_failure(&run) {
            return Err(format!("the run failed before the cut: {failure}"));
        }
        if !was_cut {
            return Err(format!(
                "the run ended before step {} began (see {})",
                step.map_or("?".into(), |s| s.to_string()),
                run_log.display()
            ));
        }
        let bytes = std::fs::read(&image).map_err(|error| error.to_string())?;
        match mkfs::check_after_recovery(&bytes) {
            Ok(summary) if summary.installed_from_log > 0 => self.notes.push(format!(
                "log: {} committed blocks to recover",
                summary.installed_from_log
            )),
            Ok(_) => {}
            Err(problems) => {
                return Err(format!(
                    "mkfs --check --recover after the cut: {}",
                    problems
                        .first()
                        .map(ToString::to_string)
                        .unwrap_or_default()
                ));
            }
        }
        let matched = self.check_boot(&image)?;
        if !matched.contains(&returned) && !matched.contains(&(returned + 1)) {
            return Err(format!(
                "the disk matches steps {matched:?}, not step {returned} (the last returned) or {}",
                returned + 1
            ));
        }
        disks::consistent(&image).map_err(|why| format!("after recovery: {why}"))
    }

    /// Boots `crashtest check` on `image`; returns the steps whose state it
    /// found on disk, or why the check failed.
    fn check_boot(&mut self, image: &Path) -> Result<Vec<u64>, String> {
        let log = self.file(".check.log");
        let outcome =
            self.machine("user:crashtest,check", image)
                .run(self.config, &log, self.config.timeout);
        let console = Console::read(&log);
        if let Some(failure) = first_failure(&console) {
            return Err(format!("the check failed: {failure}"));
        }
        if outcome.exit != Exit::Status(PASSED) {
            return Err(format!(
                "the check: {} (see {})",
                outcome.exit.describe(),
                log.display()
            ));
        }
        let prefix = "crashtest: disk matches the state after steps ";
        let matched: Vec<u64> = console
            .find(&Shape::of(&format!("{prefix}{{..}}")))
            .map(|line| {
                line[prefix.len()..]
                    .split_whitespace()
                    .filter_map(|step| step.parse().ok())
                    .collect()
            })
            .unwrap_or_default();
        self.notes.push(if matched.is_empty() {
            "disk: matches steps none".into()
        } else {
            format!(
                "disk: matches steps {}",
                matched
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(" ")
            )
        });
        Ok(matched)
    }
}

/// How many steps the run said it would make.
fn workload_steps(console: &Console) -> Option<u64> {
    console
        .lines
        .iter()
        .find_map(|line| workload_steps_in(line))
}

/// `crashtest: seed S, N steps ...`: N.
fn workload_steps_in(line: &str) -> Option<u64> {
    if !Shape::of("crashtest: seed {n}, {n} steps {..}").matches(line) {
        return None;
    }
    line.split(", ").nth(1)?.split(' ').next()?.parse().ok()
}

/// The last step whose `ret` line the run printed (0: none).
fn last_returned(console: &Console) -> u64 {
    let shape = Shape::of("crash: step {n} ret {..}");
    console
        .lines
        .iter()
        .filter(|line| shape.matches(line))
        .filter_map(|line| line.split(' ').nth(2)?.parse().ok())
        .next_back()
        .unwrap_or(0)
}

/// The first `FAIL` line the OS printed.
fn first_failure(console: &Console) -> Option<&str> {
    console.verdicts().find(|line| line.starts_with("FAIL "))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cuts cover the workload: cut i of n falls in the i-th stretch.
    #[test]
    fn cuts_fall_in_their_stretches() {
        for index in 1..=30 {
            let cut = cut(12345, index, 30);
            assert!(cut.position >= (index - 1) * 1000 / 30);
            assert!(cut.position < index * 1000 / 30 + 1);
            assert!(cut.delay_ms <= MAX_DELAY_MS);
        }
        assert_eq!(cut(7, 3, 30), cut(7, 3, 30));
    }

    #[test]
    fn the_run_is_read_back() {
        let text = "crashtest: seed 1, 120 steps in /c\ncrash: step 1 call mkdir\ncrash: step 1 ret 0\ncrash: step 2 call open\n";
        let console = Console::from_text(Path::new("x"), text);
        assert_eq!(workload_steps(&console), Some(120));
        assert_eq!(last_returned(&console), 1);
        assert_eq!(first_failure(&console), None);
    }
}
