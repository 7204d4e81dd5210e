//! The session suite: a user at the shell, through the serial console.
//!
//! The normal image (the kernel users run, no test hooks) boots with its
//! serial port piped to the runner, which waits for each prompt before
//! typing the next line, as a person would: typing ahead would mix two
//! commands' output. There is no deadline per prompt (a starved host may
//! take any time to print one); a hang ends at the boot's deadline, and
//! the checks then find the output missing.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use crate::config::Config;
use crate::console::Console;
use crate::disks::DiskKind;
use crate::qemu::{Image, Machine, Outcome, Watched};
use crate::queue::{Plan, Running};
use crate::report::Report;

/// What the session typed and saw.
pub struct Transcript {
    pub log: PathBuf,
    /// The serial output, `\r` removed.
    pub text: String,
    /// Why the session could not run, if it could not.
    pub error: Option<String>,
    /// How the machine ended: the runner stops it after the last command,
    /// unless its deadline came first.
    pub outcome: Option<Outcome>,
}

/// The lines typed, in order; `Wait` waits for a line beginning with its
/// text before going on.
enum Step {
    Type(&'static str),
    Wait(&'static str),
}

const SCRIPT: &[Step] = &[
    Step::Type("ls"),
    Step::Type("echo hello | wc"),
    Step::Type("cat README | grep xv6 > out; cat out"),
    Step::Type("mkdir d; cd d; ls"),
    Step::Type("cd /"),
    Step::Type("forktest &"),
    Step::Type("echo after"),
    Step::Wait("fork test OK"),
    Step::Type("shmtest foo 8192 4"),
    Step::Type("args one two"),
    Step::Type("share"),
    Step::Type("shmdemo foo 8192 4"),
];

pub fn queue(config: &Config, plan: &mut Plan) {
    let config = config.clone();
    plan.add("session", move || run(&config));
}

/// The serial output so far, shared between the reader thread and the
/// typist.
type Seen = Arc<Mutex<Vec<u8>>>;

fn run(config: &Config) -> Transcript {
    let logs = config.logs();
    let log = logs.join("session.log");
    let disk = DiskKind::Fresh.prepare(config, &logs, "session");
    let machine = Machine {
        image: Image::Normal,
        request: None,
        cpus: config.cpus,
        cpu_model: None,
        memory: None,
        disk: disk.machine_disk,
    };
    let mut watched = match Watched::start(&machine, config, config.timeout) {
        Ok(watched) => watched,
        Err(error) => {
            return Transcript {
                log,
                text: String::new(),
                error: Some(format!("cannot start {}: {error}", config.qemu)),
                outcome: None,
            };
        }
    };
    let seen: Seen = Arc::default();
    let output = watched.output.take();
    let reader = {
        let seen = Arc::clone(&seen);
        thread::spawn(move || {
            let Some(mut output) = output else { return };
            let mut buffer = [0; 4096];
            while let Ok(n) = output.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                seen.lock().unwrap().extend_from_slice(&buffer[..n]);
            }
        })
    };
    let mut input = watched.input.take();
    let mut prompts = 1;
    wait_for(&watched, &seen, |text| count_prompts(text) >= 1);
    for step in SCRIPT {
        match step {
            Step::Type(line) => {
                // If QEMU died, typing fails; the checks find what is missing.
                if let Some(pipe) = input.as_mut() {
                    let _ = pipe.write_all(format!("{line}\n").as_bytes());
                    let _ = pipe.flush();
                }
                prompts += 1;
                wait_for(&watched, &seen, |text| count_prompts(text) >= prompts);
            }
            Step::Wait(start) => {
                wait_for(&watched, &seen, |text| {
                    text.lines().any(|l| l.starts_with(start))
                });
            }
        }
    }
    drop(input);
    // A machine that is still running reached the end of the script.
    let finished = watched.running();
    watched.kill();
    let outcome = watched.wait();
    let _ = reader.join();
    let text = text_of(&seen);
    let _ = std::fs::write(&log, &text);
    Transcript {
        log,
        text,
        error: None,
        outcome: (!finished).then_some(outcome),
    }
}

fn text_of(seen: &Seen) -> String {
    String::from_utf8_lossy(&seen.lock().unwrap()).replace('\r', "")
}

/// How many lines of `text` begin with the shell's prompt, `$ `.
fn count_prompts(text: &str) -> usize {
    text.split('\n')
        .filter(|line| line.starts_with("$ "))
        .count()
}

/// Waits until `done` holds for the output so far, or the machine ended.
fn wait_for(watched: &Watched, seen: &Seen, done: impl Fn(&str) -> bool) {
    while !done(&text_of(seen)) && watched.running() {
        thread::sleep(Duration::from_millis(50));
    }
}

/// What the shell printed between the line `$ COMMAND` and the next
/// prompt.
fn output_of<'a>(text: &'a str, command: &str) -> Vec<&'a str> {
    let typed = format!("$ {command}");
    let mut lines = text.split('\n').skip_while(|line| *line != typed);
    lines.next();
    lines.take_while(|line| !line.starts_with("$ ")).collect()
}

pub fn report(running: &Running, report: &mut Report) {
    report.heading("shell session");
    let transcript: Transcript = running.wait("session");
    if let Some(error) = &transcript.error {
        report.note(error);
    }
    if let Some(outcome) = &transcript.outcome {
        // The machine ended before the script did: say how, and where.
        report.note(&format!(
            "(the session ended early: {})",
            outcome.exit.describe()
        ));
        let console = Console::from_text(&transcript.log, &transcript.text);
        crate::boots::show_hang(report, outcome, &console);
    }
    let text = &transcript.text;
    let see = format!("(see {})", transcript.log.display());
    let check = |ok: bool, why: &str| {
        if ok {
            Ok(())
        } else {
            Err(format!("{why} {see}"))
        }
    };

    let ls = output_of(text, "ls");
    let listed = |name: &str| {
        ls.iter().any(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            words.len() == 4
                && words[0] == name
                && words[1] == "2"
                && words[2..].iter().all(|w| w.parse::<u64>().is_ok())
        })
    };
    report.check(
        "session-ls",
        check(
            listed("README") && listed("sh"),
            "ls did not list README and sh as files",
        ),
    );

    let wc = output_of(text, "echo hello | wc");
    let wc_words: Vec<&str> = wc.iter().flat_map(|line| line.split_whitespace()).collect();
    report.check(
        "session-pipe-wc",
        check(
            wc_words == ["1", "1", "6"],
            "echo hello | wc did not print 1 1 6",
        ),
    );

    let readme = std::fs::read_to_string("README.md").unwrap_or_default();
    let grepped: Vec<&str> = readme.lines().filter(|line| line.contains("xv6")).collect();
    let out = output_of(text, "cat README | grep xv6 > out; cat out");
    report.check(
        "session-redirect-grep",
        check(
            !grepped.is_empty() && out == grepped,
            "cat out differs from grep xv6 README.md",
        ),
    );

    let listing: Vec<String> = output_of(text, "mkdir d; cd d; ls")
        .iter()
        .map(|line| {
            line.split_whitespace()
                .take(2)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    report.check(
        "session-mkdir-cd-ls",
        check(
            listing == [". 1", ".. 1"],
            "ls in a new directory did not show just . and ..",
        ),
    );

    // The background job's output may land anywhere among the next
    // command's, so look for both anywhere.
    let console = Console::from_text(&transcript.log, text);
    let any_line = |start: &str| console.lines.iter().any(|line| line.starts_with(start));
    report.check(
        "session-background-job",
        check(
            any_line("fork test OK") && console.lines.iter().any(|line| line == "after"),
            "forktest & or the command after it did not finish",
        ),
    );

    let demo = output_of(text, "shmtest foo 8192 4");
    let workers = |lines: &[&str], start: &str| {
        (0..4).all(|n| {
            lines
                .iter()
                .filter(|line| line.starts_with(&format!("{start}{n}")))
                .count()
                >= 1
        }) && lines
            .iter()
            .filter(|line| line.starts_with("worker "))
            .count()
            == 4
    };
    report.check(
        "session-shm-demo",
        check(
            demo.iter().any(|line| line.contains("verified 8192 bytes"))
                && demo.iter().any(|line| line.contains("(4 stripes ok)"))
                && workers(&demo, "worker "),
            "shmtest foo 8192 4 did not show 4 workers and 8192 verified bytes",
        ),
    );

    // C programs, started by the (Rust) shell.
    let args = output_of(text, "args one two");
    report.check(
        "session-c-args",
        check(
            args == ["argc 3", "argv[0] args", "argv[1] one", "argv[2] two"],
            "args one two did not print its three arguments",
        ),
    );
    let share = output_of(text, "share");
    let greeting =
        crate::shape::Shape::of("share: pid {n} wrote \"Hello from PID {n}!\" to shared_buf{..}");
    let read_back = crate::shape::Shape::of(
        "share read: pid {n} read \"Hello from PID {n}!\" from shared_buf{..}",
    );
    report.check(
        "session-c-share",
        check(
            share.iter().any(|line| greeting.matches(line))
                && share.iter().any(|line| read_back.matches(line)),
            "share did not write its greeting and read it back",
        ),
    );
    let demo = output_of(text, "shmdemo foo 8192 4");
    report.check(
        "session-c-shm-demo",
        check(
            demo.iter().any(|line| {
                line.contains("verified 8192 bytes: AAAA...BBBB...CCCC...DDDD (4 stripes ok)")
            }) && (0..4).all(|n| {
                demo.iter()
                    .any(|line| line.starts_with(&format!("worker {n}: filled")))
            }) && demo
                .iter()
                .filter(|line| line.starts_with("worker "))
                .count()
                == 4,
            "shmdemo foo 8192 4 did not show 4 workers and 8192 verified bytes",
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_lies_between_the_command_and_the_next_prompt() {
        let text = "$ ls\n.  1 1 512\nREADME 2 2 9000\n$ echo hi\nhi\n$ ";
        assert_eq!(output_of(text, "ls"), [".  1 1 512", "README 2 2 9000"]);
        assert_eq!(output_of(text, "echo hi"), ["hi"]);
        assert!(output_of(text, "cat").is_empty());
        assert_eq!(count_prompts(text), 3);
    }
}
