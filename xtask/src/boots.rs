//! Suites of boots, described as data: what each boot runs, on how many
//! CPUs, with which disk, and what its console and exit must show.
//!
//! A [`Boots`] is one test program (or in-kernel run) booted once per CPU
//! count. The runner prepares each boot's disk, queues the boot, and
//! later checks what it printed against the [`Expect`] list, in order. A
//! check's name gets the CPU count as a suffix (`shmtest-summary-4`) when
//! the group boots at several counts.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use crate::config::Config;
use crate::console::Console;
use crate::disks::{DiskKind, Prepared};
use crate::qemu::{Exit, Machine, Outcome};
use crate::queue::{Plan, Running};
use crate::report::Report;
use crate::shape::Shape;

/// How many CPUs a group's boots have.
#[derive(Debug, Clone)]
pub enum Cpus {
    /// One boot per count, in this order in the queue; check and log
    /// names end in `-N`.
    Each(Vec<usize>),
    /// One boot with `CPUS` (make's variable) CPUs.
    Default,
    /// One boot with exactly this many.
    Fixed(usize),
}

/// What a check needs to know about one finished boot.
pub struct Ctx<'a> {
    pub console: &'a Console,
    pub outcome: &'a Outcome,
    pub cpus: usize,
    pub disk: &'a Prepared,
}

/// A check that needs more than one shape: it reads the boot and says why
/// it failed.
pub type CheckFn = Box<dyn Fn(&Ctx) -> Result<(), String> + Send + Sync>;

/// A check's name: mostly a literal, sometimes made at run time.
pub type Name = Cow<'static, str>;

/// One check of a boot, with its name.
pub enum Expect {
    /// Some line has this shape. `{cpus}` in it stands for the boot's CPU
    /// count.
    Line(Name, String),
    /// No line begins with `panic`.
    NoPanic(Name),
    /// QEMU's exit status is this one.
    Exit(Name, i32),
    /// Anything else.
    Check(Name, CheckFn),
}

impl Expect {
    pub fn line(name: impl Into<Name>, shape: impl Into<String>) -> Expect {
        Expect::Line(name.into(), shape.into())
    }

    pub fn no_panic(name: impl Into<Name>) -> Expect {
        Expect::NoPanic(name.into())
    }

    pub fn exit(name: impl Into<Name>, status: i32) -> Expect {
        Expect::Exit(name.into(), status)
    }

    pub fn check(name: impl Into<Name>, check: CheckFn) -> Expect {
        Expect::Check(name.into(), check)
    }

    /// The check's name.
    pub fn name(&self) -> &str {
        match self {
            Expect::Line(name, _)
            | Expect::NoPanic(name)
            | Expect::Exit(name, _)
            | Expect::Check(name, _) => name,
        }
    }
}

/// One test program (or in-kernel run), booted at one or more CPU counts.
pub struct Boots {
    /// The group's name: the log's and the job's, before any `-N`.
    pub name: String,
    /// The heading printed before its checks (`(CPUS=N)` is added).
    pub heading: String,
    /// What the test kernel is asked to do (`abi::testrun`).
    pub request: String,
    pub cpus: Cpus,
    /// QEMU's `-cpu` model, if not its default.
    pub cpu_model: Option<&'static str>,
    pub disk: DiskKind,
    /// How long a boot may take, if not the Makefile's `TEST_TIMEOUT`.
    pub limit: Option<Duration>,
    /// Count the PASS/FAIL lines the OS printed as checks of their own.
    pub verdicts: bool,
    /// Boot an image `test-NAME.iso` for this NAME, made as the Makefile
    /// makes `build/test-NAME.iso` (with its request on the kernel's
    /// command line), with no fw_cfg request; otherwise the test image,
    /// asked for `request`.
    pub own_image: Option<String>,
    pub expect: Vec<Expect>,
}

impl Boots {
    /// A test program's group: `request` at each of `cpus`, on a fresh
    /// copy of fs.img, its verdicts counted, no checks yet.
    pub fn program(name: &str, request: &str, cpus: Cpus) -> Boots {
        Boots {
            name: name.to_string(),
            heading: name.to_string(),
            request: request.to_string(),
            cpus,
            cpu_model: None,
            disk: DiskKind::Fresh,
            limit: None,
            verdicts: true,
            own_image: None,
            expect: Vec::new(),
        }
    }

    /// A group that boots `test-NAME.iso`, the image that runs `program`
    /// as it is (the Makefile's `PROGRAM_IMAGES`), at each of `cpus`, with
    /// no fw_cfg request: as tools outside the runner boot it.
    pub fn own_image(name: &str, program: &str, cpus: Cpus) -> Boots {
        let mut boots = Boots::program(name, "", cpus);
        boots.own_image = Some(program.to_string());
        boots
    }

    /// Adds a check.
    pub fn expect(mut self, expect: Expect) -> Boots {
        self.expect.push(expect);
        self
    }

    /// The boots' CPU counts, each with its name (the job's and the log's)
    /// and the suffix of its checks' names, in queue order.
    pub fn instances(&self, config: &Config) -> Vec<(usize, String, String)> {
        match &self.cpus {
            Cpus::Each(counts) => counts
                .iter()
                .map(|&cpus| (cpus, format!("{}-{cpus}", self.name), format!("-{cpus}")))
                .collect(),
            Cpus::Default => vec![(config.cpus, self.name.clone(), String::new())],
            Cpus::Fixed(cpus) => vec![(*cpus, self.name.clone(), String::new())],
        }
    }

    /// Prepares every boot's disk and queues the boot; each job returns
    /// what it found.
    pub fn queue(&self, config: &Config, plan: &mut Plan) {
        for (cpus, name, _) in self.instances(config) {
            let config = config.clone();
            let disk = self.disk.clone();
            let mut machine = Machine::test(&self.request, cpus, crate::qemu::Disk::None);
            machine.cpu_model = self.cpu_model;
            // An image of its own is made outside build/ (which keeps one
            // test image), by the job, and removed after the boot.
            let own_image = self.own_image.as_ref().map(|program| {
                std::env::temp_dir()
                    .join(format!("xv6-rs-{}-{name}", std::process::id()))
                    .join(format!("test-{program}.iso"))
            });
            if let Some(image) = &own_image {
                machine.image = crate::qemu::Image::File(image.clone());
                machine.request = None;
            }
            let limit = self.limit.unwrap_or(config.timeout);
            let logs = config.logs();
            // Disks are prepared here, one after another, not by the jobs:
            // copying and damaging an image takes milliseconds, and a disk
            // that could not be prepared shows in the boot's checks.
            let prepared = disk.prepare(&config, &logs, &name);
            let log = logs.join(format!("{name}.log"));
            plan.add(&name, move || {
                machine.disk = prepared.machine_disk.clone();
                let outcome = match &own_image {
                    Some(image) => {
                        let made = crate::iso::make_program_image(image, &config.test_kernel);
                        let outcome = match made {
                            Ok(()) => machine.run(&config, &log, limit),
                            Err(why) => Outcome {
                                exit: Exit::NotStarted(why),
                            },
                        };
                        if let Some(dir) = image.parent() {
                            let _ = std::fs::remove_dir_all(dir);
                        }
                        outcome
                    }
                    None => machine.run(&config, &log, limit),
                };
                Booted {
                    log,
                    outcome,
                    prepared,
                }
            });
        }
    }

    /// Waits for the group's boots, in CPU order, and reports their checks.
    pub fn report(&self, config: &Config, running: &Running, report: &mut Report) {
        let mut instances = self.instances(config);
        instances.sort_by_key(|(cpus, _, _)| *cpus);
        for (cpus, name, suffix) in instances {
            report.heading(&format!("{} (CPUS={cpus})", self.heading));
            let booted: Booted = running.wait(&name);
            let console = Console::read(&booted.log);
            show_hang(report, &booted.outcome, &console);
            if self.verdicts {
                for line in console.verdicts() {
                    report.verdict_line(line);
                }
            }
            let ctx = Ctx {
                console: &console,
                outcome: &booted.outcome,
                cpus,
                disk: &booted.prepared,
            };
            for expect in &self.expect {
                report.check(
                    &format!("{}{suffix}", expect.name()),
                    evaluate(expect, &ctx),
                );
            }
        }
    }
}

/// What a boot job leaves for its report.
pub struct Booted {
    pub log: PathBuf,
    pub outcome: Outcome,
    pub prepared: Prepared,
}

/// After a hang, the last lines the machine printed, so that the failure
/// says where it stopped.
pub fn show_hang(report: &Report, outcome: &Outcome, console: &Console) {
    if let Exit::TimedOut(_) = outcome.exit {
        report.note(&format!(
            "({}; log: {}; its last lines:)",
            outcome.exit.describe(),
            console.path.display()
        ));
        for line in console.tail(12) {
            report.note(&format!("| {line}"));
        }
    }
}

/// Runs one check against a finished boot.
fn evaluate(expect: &Expect, ctx: &Ctx) -> Result<(), String> {
    match expect {
        Expect::Line(_, shape) => {
            let shape = Shape::of(&shape.replace("{cpus}", &ctx.cpus.to_string()));
            if ctx.console.has(&shape) {
                Ok(())
            } else {
                Err(format!(
                    "no line '{shape}' in {}",
                    ctx.console.path.display()
                ))
            }
        }
        Expect::NoPanic(_) => no_panic(ctx.console),
        Expect::Exit(_, wanted) => exit_is(&ctx.outcome.exit, *wanted),
        Expect::Check(_, run) => run(ctx),
    }
}

/// No line of `console` begins with `panic`.
pub fn no_panic(console: &Console) -> Result<(), String> {
    match console.find(&Shape::of("panic{..}")) {
        None => Ok(()),
        Some(line) => Err(format!(
            "the kernel panicked: '{line}' ({})",
            console.path.display()
        )),
    }
}

/// The run ended with QEMU's status `wanted`.
pub fn exit_is(exit: &Exit, wanted: i32) -> Result<(), String> {
    if *exit == Exit::Status(wanted) {
        Ok(())
    } else {
        let mut why = exit.describe();
        let _ = write!(why, ", expected {wanted}");
        Err(why)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn ctx_check(expect: &Expect, text: &str, exit: Exit) -> Result<(), String> {
        let console = Console::from_text(Path::new("x.log"), text);
        let outcome = Outcome { exit };
        let disk = Prepared::default();
        let ctx = Ctx {
            console: &console,
            outcome: &outcome,
            cpus: 2,
            disk: &disk,
        };
        evaluate(expect, &ctx)
    }

    #[test]
    fn a_line_check_passes_and_fails() {
        let expect = Expect::line("cpus", "xv6-rs: {cpus} CPUs running{..}");
        assert!(ctx_check(&expect, "xv6-rs: 2 CPUs running, 9 pages", Exit::Status(33)).is_ok());
        let failed = ctx_check(&expect, "xv6-rs: 4 CPUs running, 9 pages", Exit::Status(33));
        assert_eq!(
            failed,
            Err("no line 'xv6-rs: 2 CPUs running{..}' in x.log".into())
        );
    }

    #[test]
    fn exit_and_panic_checks_fail_when_they_should() {
        let exit = Expect::exit("exit", 33);
        assert!(ctx_check(&exit, "", Exit::Status(33)).is_ok());
        assert_eq!(
            ctx_check(&exit, "", Exit::TimedOut(Duration::from_secs(300))),
            Err("QEMU was still running after 300 s (a hang?), expected 33".into())
        );
        let panic = Expect::no_panic("no-panic");
        assert!(ctx_check(&panic, "fine\n", Exit::Status(33)).is_ok());
        assert!(ctx_check(&panic, "panic: oops\n", Exit::Status(35)).is_err());
    }
}
