//! `make bench-linux`: xv6-rs's benchmark rows against the same work on
//! Linux, in the same QEMU, into docs/performance-linux.csv and .md.
//!
//! The Linux guest (linux.rs) runs bench/linux/bench-linux.c, which prints
//! sysbench's and shmbench's rows with the same names, operation counts,
//! CSV and clock. The rounds interleave the two systems, so that a change
//! in the host's load falls on both: in each of `REPS` rounds (default
//! 3), for each CPU count of `CPUS_LIST` (default "1 2"), the Linux guest
//! boots and runs its rows, then bench.rs's [`round`] boots xv6-rs's three
//! machines. One QEMU runs at a time.
//!
//! The CSV is bench.rs's with a `system` column in front (`linux` or
//! `xv6rs`). The markdown table gives, per CPU count and row, the median
//! of each system's repetitions and xv6-rs's median divided by Linux's.
//! A Linux-only diagnostic row `NAME__TAG` (bench-linux.c says what each
//! measures) is set against xv6-rs's row `NAME`.
//!
//! Rates are as each guest printed them: both read the host's TSC (under
//! TCG it is the host's), and both learn its rate from a clock that keeps
//! time (xv6-rs: the `tsc_hz` system call, calibrated against the PIT at
//! boot; Linux: CLOCK_MONOTONIC). The `tsc_calibration` row shows the two
//! rates side by side, so a disagreement would show.

use std::collections::HashMap;
use std::path::Path;

use crate::bench::{boot_row, machine_line, round};
use crate::config::{Config, number, optional};
use crate::linux;

/// The CSV's header.
const HEADER: &str = "system,cpus,repetition,benchmark,processes,operations,seconds,rate,unit";

/// Runs the rounds; writes `csv` and the table `markdown`. Returns false
/// if a boot failed (its rows are missing; the rest are written).
pub fn run(config: &Config, csv: &Path, markdown: &Path) -> Result<bool, String> {
    let repetitions = number("REPS", 3)?;
    let cpu_counts = cpu_list(optional("CPUS_LIST").as_deref().unwrap_or("1 2"))?;
    let logs = config.build.join("bench-linux-logs");
    std::fs::create_dir_all(&logs).map_err(|error| error.to_string())?;
    let guest = linux::prepare(&config.build.join("linux"))?;
    let load_before = load();
    let mut table = format!(
        "# {}; Linux guest: {}; host load {load_before}\n{HEADER}\n",
        machine_line(config),
        guest.package
    );
    let mut all_ran = true;
    for repetition in 1..=repetitions {
        for &cpus in &cpu_counts {
            println!(
                "== round {repetition}/{repetitions}, -smp {cpus}, host load {}",
                load()
            );
            let log = logs.join(format!("linux-{cpus}-{repetition}.log"));
            match linux::run(config, &guest, cpus, &log) {
                Ok((boot, rows)) => {
                    for row in std::iter::once(boot_row(boot)).chain(rows) {
                        table += &format!("linux,{cpus},{repetition},{row}\n");
                    }
                }
                Err(why) => {
                    eprintln!("bench-linux: {why}");
                    all_ran = false;
                }
            }
            let (rows, ran) = round(config, &logs, cpus, repetition);
            all_ran &= ran;
            for row in rows {
                table += &format!("xv6rs,{cpus},{repetition},{row}\n");
            }
        }
    }
    let load_after = load();
    std::fs::write(csv, &table).map_err(|error| format!("{}: {error}", csv.display()))?;
    let caption = format!(
        "Measured with `REPS={repetitions} CPUS_LIST=\"{}\" make bench-linux` on {}. \
         Linux guest: Debian's {}. Host load average (1, 5, 15 min): {load_before} \
         at the start, {load_after} at the end.",
        cpu_counts
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(" "),
        machine_line(config),
        guest.package
    );
    let text = medians_table(&parse(&table)?, &caption);
    std::fs::write(markdown, text).map_err(|error| format!("{}: {error}", markdown.display()))?;
    println!(
        "bench-linux: wrote {} and {}",
        csv.display(),
        markdown.display()
    );
    Ok(all_ran)
}

/// `CPUS_LIST` as numbers.
fn cpu_list(text: &str) -> Result<Vec<usize>, String> {
    let list: Vec<usize> = text
        .split_whitespace()
        .map(|word| word.parse().ok().filter(|&cpus| cpus > 0))
        .collect::<Option<_>>()
        .ok_or_else(|| format!("CPUS_LIST=\"{text}\" is not a list of CPU counts"))?;
    if list.is_empty() {
        return Err("CPUS_LIST is empty".into());
    }
    Ok(list)
}

/// The host's load average, as /proc/loadavg's first three fields.
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".into())
}

/// One row of the CSV: who, at how many CPUs, which row, and its rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    pub system: String,
    pub cpus: usize,
    pub benchmark: String,
    pub processes: String,
    pub rate: f64,
    pub unit: String,
}

/// The CSV's rows (comment lines and the header skipped).
pub fn parse(text: &str) -> Result<Vec<Measurement>, String> {
    text.lines()
        .filter(|line| !line.starts_with('#') && *line != HEADER && !line.is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            let [system, cpus, _, benchmark, processes, _, _, rate, unit] = fields[..] else {
                return Err(format!("not a row of nine fields: {line}"));
            };
            Ok(Measurement {
                system: system.into(),
                cpus: cpus.parse().map_err(|_| format!("bad CPU count: {line}"))?,
                benchmark: benchmark.into(),
                processes: processes.into(),
                rate: rate.parse().map_err(|_| format!("bad rate: {line}"))?,
                unit: unit.into(),
            })
        })
        .collect()
}

/// The median: the middle value, or the mean of the two middle ones.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    match sorted.len() {
        0 => None,
        n if n % 2 == 1 => Some(sorted[middle]),
        _ => Some((sorted[middle - 1] + sorted[middle]) / 2.0),
    }
}

/// A figure in a few significant digits: 1.23M, 456.7k, 890, 12.3, 0.912.
fn figure(value: f64) -> String {
    match value {
        v if v >= 1e6 => format!("{:.2}M", v / 1e6),
        v if v >= 1e5 => format!("{:.1}k", v / 1e3),
        v if v >= 100.0 => format!("{v:.0}"),
        v if v >= 10.0 => format!("{v:.1}"),
        v => format!("{v:.3}"),
    }
}

/// The markdown table of medians: a line per row of either system, in
/// the order first seen; for each CPU count Linux's median, xv6-rs's, and
/// xv6-rs's divided by Linux's.
pub fn medians_table(rows: &[Measurement], caption: &str) -> String {
    let mut order: Vec<(&str, &str)> = Vec::new();
    let mut unit_of: HashMap<(&str, &str), &str> = HashMap::new();
    let mut rates: HashMap<(&str, usize, &str, &str), Vec<f64>> = HashMap::new();
    let mut cpu_counts: Vec<usize> = Vec::new();
    for row in rows {
        let key = (row.benchmark.as_str(), row.processes.as_str());
        if !order.contains(&key) {
            order.push(key);
        }
        unit_of.entry(key).or_insert(&row.unit);
        if !cpu_counts.contains(&row.cpus) {
            cpu_counts.push(row.cpus);
        }
        rates
            .entry((&row.system, row.cpus, key.0, key.1))
            .or_default()
            .push(row.rate);
    }
    cpu_counts.sort_unstable();
    let mut text = format!(
        "# xv6-rs against Linux\n\n{caption}\n\n\
         Medians of the repetitions; X/L is xv6-rs's median divided by Linux's: \
         above 1 xv6-rs is faster, except in `boot` (seconds, lower is better), \
         where above 1 it is slower. A row `NAME__TAG` is a Linux-only variant \
         set against xv6-rs's `NAME`; a `ratio` row compares two figures of one \
         system, and `tsc_calibration` is each guest's clock rate (they should \
         agree). docs/performance.md tells how to read it.\n\n\
         | row | processes | unit |"
    );
    for cpus in &cpu_counts {
        text += &format!(" Linux, {cpus} CPU | xv6-rs, {cpus} CPU | X/L, {cpus} CPU |");
    }
    text += "\n| --- | --- | --- |";
    text += &" ---: | ---: | ---: |".repeat(cpu_counts.len());
    text += "\n";
    for &(benchmark, processes) in &order {
        let base = benchmark.split("__").next().unwrap_or(benchmark);
        let mut line = format!(
            "| {benchmark} | {processes} | {} |",
            unit_of[&(benchmark, processes)]
        );
        let mut any = false;
        for &cpus in &cpu_counts {
            let linux = rates
                .get(&("linux", cpus, benchmark, processes))
                .and_then(|values| median(values));
            let xv6 = rates
                .get(&("xv6rs", cpus, base, processes))
                .and_then(|values| median(values));
            let cell = |value: Option<f64>| value.map_or("n/a".to_string(), figure);
            // A ratio row compares two figures of one system: no speed.
            let is_speed = unit_of[&(benchmark, processes)] != "ratio";
            let ratio = match (xv6, linux) {
                (Some(x), Some(l)) if l > 0.0 && is_speed => format!("{:.2}", x / l),
                _ => "—".to_string(),
            };
            any |= linux.is_some() || (xv6.is_some() && base == benchmark);
            line += &format!(" {} | {} | {ratio} |", cell(linux), cell(xv6));
        }
        if any {
            text += &line;
            text += "\n";
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(system: &str, cpus: usize, benchmark: &str, rate: f64) -> Measurement {
        Measurement {
            system: system.into(),
            cpus,
            benchmark: benchmark.into(),
            processes: "1".into(),
            rate,
            unit: "calls_per_second".into(),
        }
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }

    #[test]
    fn the_csv_is_read_row_by_row() {
        let text = format!(
            "# a machine\n{HEADER}\nlinux,2,1,getpid,1,20000,0.010,2000000.000,calls_per_second\n\
             xv6rs,2,1,speedup,2,,,1.830,ratio\n"
        );
        let rows = parse(&text).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0], {
            let mut expected = row("linux", 2, "getpid", 2e6);
            expected.cpus = 2;
            expected
        });
        assert_eq!(rows[1].rate, 1.83);
        assert!(parse("linux,2,1,getpid").is_err());
    }

    #[test]
    fn the_table_divides_xv6_rs_median_by_linux() {
        let rows = [
            row("linux", 1, "getpid", 1000.0),
            row("linux", 1, "getpid", 3000.0),
            row("linux", 1, "getpid", 2000.0),
            row("xv6rs", 1, "getpid", 500.0),
            row("linux", 1, "sbrk__touch", 100.0),
            row("xv6rs", 1, "sbrk", 50.0),
            row("linux", 1, "sbrk", 200.0),
            row("xv6rs", 1, "only_here", 7.0),
            Measurement {
                unit: "ratio".into(),
                ..row("linux", 1, "shm_to_pipe", 1.5)
            },
            Measurement {
                unit: "ratio".into(),
                ..row("xv6rs", 1, "shm_to_pipe", 0.8)
            },
        ];
        let text = medians_table(&rows, "caption");
        assert!(text.contains("| getpid | 1 | calls_per_second | 2000 | 500 | 0.25 |"));
        assert!(text.contains("| sbrk__touch | 1 | calls_per_second | 100 | 50.0 | 0.50 |"));
        assert!(text.contains("| sbrk | 1 | calls_per_second | 200 | 50.0 | 0.25 |"));
        assert!(text.contains("| only_here | 1 | calls_per_second | n/a | 7.000 | — |"));
        assert!(text.contains("| shm_to_pipe | 1 | ratio | 1.500 | 0.800 | — |"));
        assert!(
            text.contains("| row | processes | unit | Linux, 1 CPU | xv6-rs, 1 CPU | X/L, 1 CPU |")
        );
    }

    #[test]
    fn figures_keep_a_few_digits() {
        assert_eq!(figure(1_234_567.0), "1.23M");
        assert_eq!(figure(456_789.0), "456.8k");
        assert_eq!(figure(0.912), "0.912");
    }

    #[test]
    fn cpu_lists() {
        assert_eq!(cpu_list("1 2").unwrap(), [1, 2]);
        assert!(cpu_list("1 x").is_err());
        assert!(cpu_list(" ").is_err());
    }
}
