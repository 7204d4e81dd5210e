//! xtask: the project's own tools, in Rust, driven by the Makefile.
//!
//! ```text
//! xtask test            make test: every suite, or those in SUITES
//! xtask suites          the suites, a line each
//! xtask bench OUT.csv   make bench: the benchmarks at 1, 2 and 4 CPUs
//! xtask bench-linux OUT.csv OUT.md
//!                       make bench-linux: the same rows on Linux, side by side
//! xtask soak            make soak: one long boot of rounds, leak-checked
//! xtask lab NAME DEST   make lab-NAME: the lab's copy of this tree, in DEST
//! xtask grade           make grade: a lab's graded tests and the score
//! xtask handin          make handin: a student's work, as one patch
//! xtask iso ISO KERNEL  a bootable CD image: GRUB booting KERNEL
//! xtask setup [bench]   install the system packages the build lacks
//! ```
//!
//! The name follows the Rust ecosystem's habit (`cargo xtask`): a crate
//! of the workspace that builds with everything else and needs no
//! install. The Makefile runs it with `cargo run -p xtask`, passing its
//! paths and QEMU's flags in the environment (config.rs).
//!
//! `make test` (run below) runs the host checks first, then queues every
//! boot of the chosen suites (queue.rs), runs them in parallel, and lets
//! each suite report in order. Every check prints `PASS name` or `FAIL
//! name: why`; the last line is `N passed, M failed`, and the exit status
//! is non-zero on any failure. The suites are listed in suites.rs.

mod bench;
mod boots;
mod compare;
mod config;
mod console;
mod crash;
mod disks;
mod grade;
mod host;
mod iso;
mod lab;
mod labcheck;
mod labs;
mod linux;
mod qemu;
mod queue;
mod report;
mod session;
mod setup;
mod shape;
mod soak;
mod suites;

use std::path::Path;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use config::{Config, number, optional};
use queue::Plan;
use report::Report;
use suites::{Kind, Suite};

const USAGE: &str = "usage: xtask test | suites | bench OUT.csv | bench-linux OUT.csv OUT.md | soak | lab DEST | iso ISO KERNEL | program-image test-NAME.iso KERNEL | setup [bench]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args[..] {
        ["test"] => Config::from_env().and_then(|config| test(&config)),
        ["suites"] => {
            for suite in suites::all(&[1]) {
                println!("{:14} {}", suite.name, suite.about);
            }
            Ok(true)
        }
        ["bench", out] => Config::from_env().and_then(|config| bench::run(&config, Path::new(out))),
        ["bench-linux", csv, markdown] => Config::from_env()
            .and_then(|config| compare::run(&config, Path::new(csv), Path::new(markdown))),
        ["soak"] => Config::from_env().map(|config| match soak::run(&config) {
            Ok(()) => {
                println!("PASS soak");
                true
            }
            Err(why) => {
                println!("FAIL soak: {why}");
                false
            }
        }),
        ["lab", name, dest] => make_lab(name, dest),
        ["grade"] => Config::from_env().and_then(|config| grade(&config)),
        ["handin"] => handin(),
        ["iso", iso, kernel] => iso::make(Path::new(iso), Path::new(kernel), "").map(|()| true),
        ["program-image", iso, kernel] => {
            iso::make_program_image(Path::new(iso), Path::new(kernel)).map(|()| true)
        }
        ["setup"] => setup::run(false).map(|()| true),
        ["setup", "bench"] => setup::run(true).map(|()| true),
        _ => Err(USAGE.to_string()),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(why) => {
            eprintln!("xtask: {why}");
            ExitCode::from(2)
        }
    }
}

/// The lab named `name`, or an error listing them.
fn lab_named(name: &str) -> Result<&'static labs::Lab, String> {
    labs::named(name).ok_or_else(|| {
        let names: Vec<&str> = labs::ALL.iter().map(|lab| lab.name).collect();
        format!("no lab named '{name}'; the labs are: {}", names.join(" "))
    })
}

/// The lab this tree is graded for: a student's copy says in its `.lab`
/// file; in the teacher's tree, `make grade LAB=NAME`.
fn this_lab() -> Result<&'static labs::Lab, String> {
    match optional("LAB").or_else(lab::this_copys_lab) {
        Some(name) => lab_named(&name),
        None => Err("which lab? this is not a lab's copy: make grade LAB=NAME".into()),
    }
}

/// `make lab-NAME`.
fn make_lab(name: &str, dest: &str) -> Result<bool, String> {
    if lab::this_copys_lab().is_some() {
        return Err("this is a lab's copy, which has no solutions to take out".into());
    }
    let lab = lab_named(name)?;
    let path = Path::new(dest);
    let source = std::env::current_dir().map_err(|error| error.to_string())?;
    let absolute = std::path::absolute(path).map_err(|error| error.to_string())?;
    if absolute.starts_with(&source) {
        return Err(format!(
            "{dest} is inside this tree; write the lab elsewhere"
        ));
    }
    lab::generate(lab, path, lab::Mode::Student)?;
    println!(
        "lab: the {} lab is in {dest}: read {dest}/LAB-{}.md",
        lab.name,
        lab.name.to_uppercase()
    );
    Ok(true)
}

/// `make grade`.
fn grade(config: &Config) -> Result<bool, String> {
    let lab = this_lab()?;
    println!("== grading lab {}: {}", lab.name, lab.title);
    let logs = config.build.join("grade-logs");
    let _ = std::fs::remove_dir_all(&logs);
    std::fs::create_dir_all(&logs).map_err(|error| error.to_string())?;
    let here = grade::Host {
        dir: std::env::current_dir().map_err(|error| error.to_string())?,
        target_dir: None,
    };
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get().min(2));
    let (results, _) = grade::grade(config, lab, &here, &logs, jobs);
    for result in &results {
        println!("{}", result.line());
    }
    let json = config.build.join("grade.json");
    std::fs::write(&json, grade::json(&results)).map_err(|error| error.to_string())?;
    println!(
        "{} (also in {})",
        grade::score_line(&results),
        json.display()
    );
    Ok(true)
}

/// `make handin`.
fn handin() -> Result<bool, String> {
    let lab = this_lab()?;
    let student = optional("NAME").unwrap_or_else(|| {
        std::process::Command::new("git")
            .args(["config", "user.name"])
            .output()
            .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string())
            .unwrap_or_default()
    });
    let path = lab::handin(Path::new("."), lab.name, &student)?;
    println!(
        "handin: your work is in {}; hand in that file",
        path.display()
    );
    Ok(true)
}

/// `make test`. Returns whether every check passed.
fn test(config: &Config) -> Result<bool, String> {
    let disk_seeds: Vec<u64> = match optional("DISK_SEEDS") {
        None => vec![1, 2, 3, 4],
        Some(seeds) => seeds
            .split_whitespace()
            .map(|seed| {
                seed.parse()
                    .map_err(|_| format!("DISK_SEEDS: '{seed}' is not a number"))
            })
            .collect::<Result<_, _>>()?,
    };
    let all = suites::all(&disk_seeds);
    let chosen: Vec<String> = match optional("SUITES") {
        None => all.iter().map(|suite| suite.name.to_string()).collect(),
        Some(names) => names.split_whitespace().map(str::to_string).collect(),
    };
    for name in &chosen {
        if !suites::ORDER.contains(&name.as_str()) {
            return Err(format!(
                "no suite named '{name}'; the suites are: {}",
                suites::ORDER.join(" ")
            ));
        }
    }
    // A student's copy of a lab skips the teacher's checks.
    let students_copy = lab::this_copys_lab().is_some();
    let selected = |suite: &&Suite| {
        chosen.iter().any(|name| name == suite.name) && !(students_copy && suite.teachers_only())
    };
    let jobs = match number("TEST_JOBS", 0)? {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get().min(2)),
        jobs => jobs as usize,
    };
    let crash = crash::Settings {
        cuts: number("CRASH_CUTS", 30)?,
        seed: number(
            "CRASH_SEED",
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |since| since.as_secs() % 1_000_000),
        )?,
    };
    let logs = config.logs();
    let _ = std::fs::remove_dir_all(&logs);
    std::fs::create_dir_all(&logs)
        .map_err(|error| format!("cannot create {}: {error}", logs.display()))?;

    let mut report = Report::default();
    // The host checks first: the incremental-build check runs make, which
    // must not race the boots' copies of fs.img, and the boots finish
    // sooner without cargo competing for the CPUs.
    if all
        .iter()
        .filter(selected)
        .any(|suite| matches!(suite.kind, Kind::Host))
    {
        host::report(config, &mut report);
    }

    let mut plan = Plan::default();
    for name in suites::QUEUE_ORDER {
        let Some(suite) = all
            .iter()
            .filter(selected)
            .find(|suite| suite.name == *name)
        else {
            continue;
        };
        match &suite.kind {
            Kind::Boots(groups) => groups
                .iter()
                .for_each(|boots| boots.queue(config, &mut plan)),
            Kind::Crash => crash::queue(config, &crash, &mut plan),
            Kind::Session => session::queue(config, &mut plan),
            Kind::Labs => labcheck::queue(config, &mut plan),
            Kind::Host => {}
        }
    }
    let running = plan.start(jobs);
    for suite in all.iter().filter(selected) {
        match &suite.kind {
            Kind::Boots(groups) => groups
                .iter()
                .for_each(|boots| boots.report(config, &running, &mut report)),
            Kind::Crash => crash::report(&crash, &running, &mut report),
            Kind::Session => session::report(&running, &mut report),
            Kind::Labs => labcheck::report(&running, &mut report),
            Kind::Host => {}
        }
    }
    println!("{}", report.summary());
    Ok(report.failed == 0)
}

/// A configuration for unit tests, which boot nothing.
#[cfg(test)]
mod testing {
    use std::path::PathBuf;
    use std::time::Duration;

    use crate::config::Config;

    pub fn config() -> Config {
        Config {
            qemu: "qemu-system-x86_64".into(),
            qemu_flags: Vec::new(),
            cpus: 2,
            timeout: Duration::from_secs(300),
            build: PathBuf::from("build"),
            image: PathBuf::from("build/xv6.iso"),
            test_image: PathBuf::from("build/test.iso"),
            fs_image: PathBuf::from("build/fs.img"),
            kernel: PathBuf::from("kernel"),
            test_kernel: PathBuf::from("ktest-kernel"),
            test_target_dir: PathBuf::from("target/ktest"),
            cargo_kernel: Vec::new(),
            cargo_user: Vec::new(),
            user_rustflags: String::new(),
            user_target_dir: PathBuf::from("target/user"),
        }
    }
}
