//! `make soak`, not part of `make test`: one long boot at `SOAK_CPUS`
//! CPUs in which init runs `soak` (user/src/bin/soak.rs), which runs
//! syscallfuzz (a new seed each round), usertests and shmtest in rounds
//! for `SOAK_TIME` seconds and checks after every round that the free
//! pages and the free inodes are back where they started. Afterwards its
//! disk must be consistent.
//!
//! The boot may take `SOAK_TIME` plus [`ROUND_SECONDS`] (the last round
//! runs to its end) before it counts as a hang. The last line is `PASS
//! soak` or `FAIL soak: why`.

use std::time::Duration;

use crate::config::{Config, number};
use crate::console::Console;
use crate::disks::{self, DiskKind};
use crate::qemu::{Exit, Machine, PASSED};
use crate::shape::Shape;

/// The longest a round may take.
pub const ROUND_SECONDS: u64 = 900;

/// Runs the soak; returns why it failed, if it did.
pub fn run(config: &Config) -> Result<(), String> {
    let seconds = number("SOAK_TIME", 600)?;
    let cpus = number("SOAK_CPUS", 4)? as usize;
    let logs = config.logs();
    std::fs::create_dir_all(&logs).map_err(|error| error.to_string())?;
    let log = logs.join("soak.log");
    let disk = DiskKind::Fresh.prepare(config, &logs, "soak");
    if let Some(error) = disk.error {
        return Err(error);
    }
    println!(
        "soak: {seconds} s at {cpus} CPUs; serial log in {}",
        log.display()
    );
    let machine = Machine::test(&format!("user:soak,{seconds}"), cpus, disk.machine_disk);
    let outcome = machine.run(config, &log, Duration::from_secs(seconds + ROUND_SECONDS));
    let console = Console::read(&log);
    for line in &console.lines {
        if line.starts_with("soak: ") || line.starts_with("panic") {
            println!("{line}");
        }
    }
    if outcome.exit != Exit::Status(PASSED) {
        return Err(format!("{}, expected {PASSED}", outcome.exit.describe()));
    }
    if !console.has(&Shape::of("PASS soak{..}")) {
        return Err(format!("no PASS soak line in {}", log.display()));
    }
    match disk.path {
        Some(path) => disks::consistent(&path),
        None => Err("the soak had no disk".into()),
    }
}
