//! One QEMU machine: what it boots, and running it with a deadline.
//!
//! Every test boots the same test image; what the test kernel does comes
//! from the *request* it finds in QEMU's fw_cfg device (`abi::testrun`),
//! which this module puts on QEMU's command line. (The `images` suite
//! alone boots images of its own, whose request is on the kernel's
//! command line, as `make images` makes them for tools outside the
//! runner.) The file system disk is
//! a file the caller prepared (usually a fresh copy of fs.img), none, or a
//! file behind QEMU's error-injecting `blkdebug` driver.

use std::io;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use abi::testrun::{EXIT_FAILURE, EXIT_SUCCESS, REQUEST_FILE, qemu_status};

use crate::config::Config;

/// QEMU's exit status when the test kernel reported success.
pub const PASSED: i32 = qemu_status(EXIT_SUCCESS);
/// QEMU's exit status after a failure or a panic.
pub const FAILED: i32 = qemu_status(EXIT_FAILURE);

/// Which bootable CD the machine boots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Image {
    /// build/xv6.iso: the kernel users run, with no test hooks.
    Normal,
    /// build/test.iso: the test kernel, which reads a request.
    Test,
    /// This image: the test kernel with its request on the kernel's
    /// command line (build/test-NAME.iso).
    File(PathBuf),
}

/// The file system disk (IDE disk 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disk {
    /// No disk at all.
    None,
    /// This image file, which the machine may write to.
    File(PathBuf),
    /// This image behind QEMU's blkdebug driver, which fails the requests
    /// that the configuration file `config` lists.
    FailingReads { image: PathBuf, config: PathBuf },
}

/// A machine to boot.
#[derive(Debug, Clone)]
pub struct Machine {
    pub image: Image,
    /// The test run the test kernel is asked for (`all`, `user:shmtest`,
    /// `panic`, ...), or none.
    pub request: Option<String>,
    pub cpus: usize,
    /// QEMU's `-cpu` model, if not its default (`max`: SMEP, SMAP, UMIP
    /// and AVX).
    pub cpu_model: Option<&'static str>,
    /// QEMU's `-m`, if not the Makefile's.
    pub memory: Option<&'static str>,
    pub disk: Disk,
}

/// How a machine's run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// QEMU exited with this status ([`PASSED`], [`FAILED`], or QEMU's own).
    Status(i32),
    /// QEMU was killed by this signal (a power cut kills it on purpose).
    Signal(i32),
    /// Still running at its deadline, and stopped.
    TimedOut(Duration),
    /// QEMU could not be started.
    NotStarted(String),
}

impl Exit {
    /// What a check says when it wanted `wanted`.
    pub fn describe(&self) -> String {
        match self {
            Exit::Status(status) => format!("QEMU exited with {status}"),
            Exit::Signal(signal) => format!("QEMU was killed by signal {signal}"),
            Exit::TimedOut(limit) => {
                format!(
                    "QEMU was still running after {} s (a hang?)",
                    limit.as_secs()
                )
            }
            Exit::NotStarted(why) => format!("QEMU did not start: {why}"),
        }
    }
}

/// A finished run: how it ended.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub exit: Exit,
}

/// A value for QEMU's option syntax, in which a comma separates options:
/// a comma in a value is written twice.
fn option_value(value: &str) -> String {
    value.replace(',', ",,")
}

impl Machine {
    /// A test-image machine with `cpus` CPUs, asked for `request`, with
    /// `disk`.
    pub fn test(request: &str, cpus: usize, disk: Disk) -> Machine {
        Machine {
            image: Image::Test,
            request: Some(request.to_string()),
            cpus,
            cpu_model: None,
            memory: None,
            disk,
        }
    }

    /// The QEMU command for this machine, without its serial port.
    pub fn command(&self, config: &Config) -> Command {
        let mut command = Command::new(&config.qemu);
        dies_with_starter(&mut command);
        command.args(&config.qemu_flags);
        command.args(["-smp", &self.cpus.to_string()]);
        if let Some(memory) = self.memory {
            command.args(["-m", memory]);
        }
        if let Some(model) = self.cpu_model {
            command.args(["-cpu", model]);
        }
        let image = match &self.image {
            Image::Normal => &config.image,
            Image::Test => &config.test_image,
            Image::File(path) => path,
        };
        command.arg("-cdrom").arg(image);
        match &self.disk {
            Disk::None => {}
            Disk::File(path) => {
                command.arg("-drive").arg(format!(
                    "file={},index=1,media=disk,format=raw",
                    option_value(&path.to_string_lossy())
                ));
            }
            Disk::FailingReads { image, config } => {
                command.arg("-drive").arg(format!(
                    "driver=raw,file.driver=blkdebug,file.config={},file.image.filename={},index=1,media=disk",
                    option_value(&config.to_string_lossy()),
                    option_value(&image.to_string_lossy())
                ));
            }
        }
        if let Some(request) = &self.request {
            command.arg("-fw_cfg").arg(format!(
                "name={REQUEST_FILE},string={}",
                option_value(request)
            ));
        }
        command.args(["-display", "none", "-monitor", "none"]);
        command
    }

    /// Runs the machine with its serial output written to `log`, for at
    /// most `limit`.
    pub fn run(&self, config: &Config, log: &Path, limit: Duration) -> Outcome {
        let started = Instant::now();
        let _ = std::fs::remove_file(log);
        let spawned = self
            .command(config)
            .arg("-serial")
            .arg(format!("file:{}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let exit = match spawned {
            Ok(mut child) => wait_until(&mut child, started + limit, limit),
            Err(error) => Exit::NotStarted(format!("{}: {error}", config.qemu)),
        };
        Outcome { exit }
    }

    /// Starts the machine with its serial port on QEMU's standard input
    /// and output, both piped to the caller.
    pub fn spawn_piped(&self, config: &Config) -> io::Result<Child> {
        self.command(config)
            .args(["-serial", "stdio"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
    }
}

/// A machine whose serial port the caller reads (and may type into) as
/// it runs. A watchdog thread kills it at its deadline, so a reader
/// blocked on its output never waits for ever.
pub struct Watched {
    child: Arc<Mutex<Child>>,
    /// The serial port: what the machine prints, and what is typed to it
    /// (for the caller to take).
    pub output: Option<ChildStdout>,
    pub input: Option<ChildStdin>,
    started: Instant,
    limit: Duration,
}

impl Watched {
    /// Starts `machine` with its serial port piped; it is killed after
    /// `limit`.
    pub fn start(machine: &Machine, config: &Config, limit: Duration) -> io::Result<Watched> {
        let mut child = machine.spawn_piped(config)?;
        let output = child.stdout.take();
        let input = child.stdin.take();
        let child = Arc::new(Mutex::new(child));
        let started = Instant::now();
        let watched = Arc::clone(&child);
        thread::spawn(move || {
            loop {
                thread::sleep(Duration::from_millis(50));
                let mut child = watched.lock().unwrap();
                match child.try_wait() {
                    Ok(None) if started.elapsed() < limit => {}
                    Ok(None) => {
                        let _ = child.kill();
                        return;
                    }
                    _ => return,
                }
            }
        });
        Ok(Watched {
            child,
            output,
            input,
            started,
            limit,
        })
    }

    /// Kills the machine at once (SIGKILL: as a power cut, it stops
    /// between two instructions).
    pub fn kill(&self) {
        let _ = self.child.lock().unwrap().kill();
    }

    /// Is the machine still running?
    pub fn running(&self) -> bool {
        matches!(self.child.lock().unwrap().try_wait(), Ok(None))
    }

    /// Waits for the machine to end (the watchdog ends it at its deadline).
    pub fn wait(self) -> Outcome {
        drop(self.input);
        let exit = loop {
            let mut child = self.child.lock().unwrap();
            match child.try_wait() {
                Ok(Some(status)) => {
                    break if self.started.elapsed() >= self.limit && status.signal() == Some(9) {
                        Exit::TimedOut(self.limit)
                    } else {
                        exit_of(status)
                    };
                }
                Ok(None) => {}
                Err(error) => break Exit::NotStarted(format!("cannot wait for QEMU: {error}")),
            }
            drop(child);
            thread::sleep(Duration::from_millis(20));
        };
        Outcome { exit }
    }
}

/// Has the process `command` starts killed (SIGKILL) when the thread that
/// started it ends, however it ends: a runner killed by CI's time limit or
/// by hand leaves no QEMU behind, running on with nobody to read it.
///
/// This is Linux's `prctl(PR_SET_PDEATHSIG)`, set in the child between
/// `fork` and `exec`. Linux sends the signal when the *thread* that forked
/// the child ends, not the whole process, so start a long-lived child only
/// from a thread that waits for it (every caller here does). If the runner
/// died before the child set the signal up, the child sees a new parent
/// and does not start at all.
pub fn dies_with_starter(command: &mut Command) -> &mut Command {
    let starter = std::process::id();
    // SAFETY: the closure runs in the forked child before `exec`, where
    // only async-signal-safe calls may be made (another thread of the
    // runner may have held the allocator's lock at the fork): it makes two
    // system calls, prctl and getppid, and allocates nothing, its errors
    // included.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(io::Error::last_os_error());
            }
            if u32::try_from(libc::getppid()) != Ok(starter) {
                // The runner has already ended: "no such process".
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        })
    }
}

/// Waits for `child` to end; kills it at `deadline`, reporting a run of
/// more than `limit`.
pub fn wait_until(child: &mut Child, deadline: Instant, limit: Duration) -> Exit {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return exit_of(status),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Exit::TimedOut(limit);
            }
            Ok(None) => thread::sleep(Duration::from_millis(20)),
            Err(error) => return Exit::NotStarted(format!("cannot wait for QEMU: {error}")),
        }
    }
}

/// An exit status as an [`Exit`].
pub fn exit_of(status: std::process::ExitStatus) -> Exit {
    match (status.code(), status.signal()) {
        (Some(code), _) => Exit::Status(code),
        (None, Some(signal)) => Exit::Signal(signal),
        (None, None) => Exit::Status(-1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commas_in_a_request_are_doubled() {
        assert_eq!(option_value("user:crashtest,run"), "user:crashtest,,run");
    }

    #[test]
    fn a_child_dies_with_the_thread_that_started_it() {
        // The thread starts a child that would sleep for a minute and
        // ends at once; the child must then be killed, not exit normally.
        let mut child = thread::spawn(|| {
            dies_with_starter(Command::new("sleep").arg("60"))
                .spawn()
                .expect("sleep starts")
        })
        .join()
        .expect("the starting thread ends");
        let status = child.wait().expect("the child can be waited for");
        assert_eq!(status.signal(), Some(libc::SIGKILL), "{status:?}");
    }

    #[test]
    fn statuses_follow_the_exit_device() {
        assert_eq!((PASSED, FAILED), (33, 35));
    }
}
