//! `make bench`: the benchmarks at 1, 2 and 4 CPUs, into
//! docs/performance.csv.
//!
//! Each repetition at each CPU count boots three machines:
//!
//! - the normal image, timed from here from QEMU's start to the shell's
//!   first `$ ` on the serial line (row `boot`);
//! - the test image running shmbench, and running sysbench, whose CSV
//!   rows go to the table with the CPU count and the repetition in front.
//!
//! The file starts with a comment naming the machine and QEMU;
//! tools/plot.py draws docs/performance.png from it.

use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::config::{Config, number};
use crate::console::Console;
use crate::disks::DiskKind;
use crate::qemu::{Exit, Image, Machine, PASSED, wait_until};

/// The header line the benchmark programs print (user/src/bench.rs).
pub const CSV_HEADER: &str = "benchmark,processes,operations,seconds,rate,unit";

/// One row a benchmark program prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row<'a> {
    pub benchmark: &'a str,
    pub processes: &'a str,
    pub operations: &'a str,
    /// Empty in a ratio row, which has no time of its own.
    pub seconds: &'a str,
    pub rate: &'a str,
    pub unit: &'a str,
}

/// Does `line` look like a row (a name, a comma, a digit), well formed or
/// not?
pub fn looks_like_row(line: &str) -> bool {
    line.split_once(',')
        .is_some_and(|(name, rest)| is_name(name) && rest.starts_with(|c: char| c.is_ascii_digit()))
}

/// `line` as a well-formed row: the six fields, numbers where numbers
/// go, times and rates with exactly three decimals.
pub fn parse_row(line: &str) -> Option<Row<'_>> {
    let fields: Vec<&str> = line.split(',').collect();
    let [benchmark, processes, operations, seconds, rate, unit] = fields[..] else {
        return None;
    };
    let digits = |text: &str| text.chars().all(|c| c.is_ascii_digit());
    let three_decimals = |text: &str| {
        text.split_once('.')
            .is_some_and(|(whole, part)| digits(whole) && part.len() == 3 && digits(part))
    };
    let well_formed = is_name(benchmark)
        && digits(processes)
        && digits(operations)
        && (seconds.is_empty() || three_decimals(seconds))
        && three_decimals(rate)
        && unit.chars().all(|c| c.is_ascii_lowercase() || c == '_');
    well_formed.then_some(Row {
        benchmark,
        processes,
        operations,
        seconds,
        rate,
        unit,
    })
}

fn is_name(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Runs the benchmarks; writes `out`. Returns false if a boot failed.
pub fn run(config: &Config, out: &Path) -> Result<bool, String> {
    let repetitions = number("REPS", 3)?;
    let logs = config.build.join("bench-logs");
    std::fs::create_dir_all(&logs).map_err(|error| error.to_string())?;
    let mut table = format!(
        "# {}\n{}\n",
        machine_line(config),
        "cpus,repetition,benchmark,processes,operations,seconds,rate,unit"
    );
    let mut all_ran = true;
    for cpus in [1, 2, 4] {
        for repetition in 1..=repetitions {
            println!("== CPUS={cpus}, repetition {repetition}");
            let (rows, ran) = round(config, &logs, cpus, repetition);
            all_ran &= ran;
            for row in rows {
                table += &format!("{cpus},{repetition},{row}\n");
            }
        }
    }
    std::fs::write(out, table)
        .map_err(|error| format!("cannot write {}: {error}", out.display()))?;
    println!("bench: wrote {}", out.display());
    Ok(all_ran)
}

/// One repetition at `cpus` CPUs: the boot row and the rows of shmbench
/// and sysbench, each as its program printed it, and whether every boot
/// gave its rows (a failure is reported on standard error).
pub fn round(config: &Config, logs: &Path, cpus: usize, repetition: u64) -> (Vec<String>, bool) {
    let mut rows = Vec::new();
    let mut all_ran = true;
    let name = format!("boot-{cpus}-{repetition}");
    match time_to_prompt(config, logs, &name, cpus) {
        Ok(elapsed) => rows.push(boot_row(elapsed.as_secs_f64())),
        Err(why) => {
            eprintln!("bench: {why}");
            all_ran = false;
        }
    }
    for program in ["shmbench", "sysbench"] {
        let name = format!("{program}-{cpus}-{repetition}");
        let log = logs.join(format!("{name}.log"));
        let disk = DiskKind::Fresh.prepare(config, logs, &name);
        let machine = Machine::test(&format!("user:{program}"), cpus, disk.machine_disk);
        let outcome = machine.run(config, &log, config.timeout);
        let console = Console::read(&log);
        let printed: Vec<&String> = console
            .lines
            .iter()
            .filter(|line| parse_row(line).is_some())
            .collect();
        if outcome.exit != Exit::Status(PASSED) || printed.is_empty() {
            eprintln!(
                "bench: {program} printed no results at CPUS={cpus} ({}; log: {})",
                outcome.exit.describe(),
                log.display()
            );
            all_ran = false;
            continue;
        }
        rows.extend(printed.into_iter().cloned());
    }
    (rows, all_ran)
}

/// The row of a boot timed from the host: `seconds` to the shell (or to
/// the Linux guest's marker).
pub fn boot_row(seconds: f64) -> String {
    format!("boot,1,1,{seconds:.3},{seconds:.3},seconds_to_shell")
}

/// Boots the normal image with `cpus` CPUs and times it until the shell's
/// first prompt, then stops it.
fn time_to_prompt(
    config: &Config,
    logs: &Path,
    name: &str,
    cpus: usize,
) -> Result<Duration, String> {
    let disk = DiskKind::Fresh.prepare(config, logs, name);
    let machine = Machine {
        image: Image::Normal,
        request: None,
        cpus,
        cpu_model: None,
        memory: None,
        disk: disk.machine_disk,
    };
    let started = Instant::now();
    let mut child = machine
        .spawn_piped(config)
        .map_err(|error| format!("cannot start {}: {error}", config.qemu))?;
    let mut output = child.stdout.take().ok_or("QEMU has no output")?;
    let mut seen = Vec::new();
    let mut buffer = [0; 4096];
    let found = loop {
        if started.elapsed() > config.timeout {
            break None;
        }
        match output.read(&mut buffer) {
            Ok(0) | Err(_) => break None,
            Ok(n) => seen.extend_from_slice(&buffer[..n]),
        }
        if seen.starts_with(b"$ ") || seen.windows(3).any(|window| window == b"\n$ ") {
            break Some(started.elapsed());
        }
    };
    let _ = child.kill();
    let _ = wait_until(
        &mut child,
        Instant::now() + Duration::from_secs(5),
        Duration::from_secs(5),
    );
    let log = logs.join(format!("{name}.log"));
    let _ = std::fs::write(&log, &seen);
    found.ok_or_else(|| {
        format!(
            "the normal image printed no prompt at CPUS={cpus} (log: {})",
            log.display()
        )
    })
}

/// `N x CPU MODEL; QEMU VERSION (TCG); DATE`, naming what the figures
/// were measured on.
pub fn machine_line(config: &Config) -> String {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines().find_map(|line| {
                line.strip_prefix("model name")?
                    .split_once(':')
                    .map(|(_, model)| model.trim().to_string())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let version = std::process::Command::new(&config.qemu)
        .arg("--version")
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .and_then(|text| text.lines().next().map(str::to_string))
        .unwrap_or_else(|| "QEMU".into());
    format!("{cores} x {model}; {version} (TCG); {}", today())
}

/// Today's date (UTC) as YYYY-MM-DD.
fn today() -> String {
    let days = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs() / 86_400) as i64;
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The proleptic Gregorian date `days` after 1970-01-01: the calendar
/// repeats every 400 years (146,097 days), and counting years from March
/// puts the leap day at the end of each year.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468; // days since 0000-03-01
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_checked_field_by_field() {
        assert!(parse_row("shm_cycle,1,200,0.021,9130.761,cycles_per_second").is_some());
        assert!(parse_row("speedup,2,,,1.830,ratio").is_some());
        assert!(parse_row("shm_cycle,1,200,0.02,9130.761,cycles_per_second").is_none());
        assert!(parse_row("shm_cycle,1,200,0.021,9130.761").is_none());
        assert!(looks_like_row("shm_cycle,1,oops"));
        assert!(!looks_like_row("benchmark,processes,operations"));
        assert!(parse_row(&boot_row(0.9)).is_some());
    }

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_792), (2026, 12, 5));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
