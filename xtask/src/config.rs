//! What the Makefile tells the runner: where things are and how to run
//! QEMU.
//!
//! The Makefile is the front door and the one place that names paths and
//! QEMU's flags; it passes them in the environment. Variables a user may
//! set on make's command line (`CPUS`, `SUITES`, ...) arrive the same way.

use std::path::PathBuf;
use std::time::Duration;

/// Everything the runner's commands read from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// The QEMU binary, and the flags every machine gets (memory, the exit
    /// device, no network card, ...).
    pub qemu: String,
    pub qemu_flags: Vec<String>,
    /// The CPU count of suites that do not choose their own.
    pub cpus: usize,
    /// How long one boot may take before it counts as a hang.
    pub timeout: Duration,
    /// The build directory, the normal image, the test image and the file
    /// system image every boot gets a copy of.
    pub build: PathBuf,
    pub image: PathBuf,
    pub test_image: PathBuf,
    pub fs_image: PathBuf,
    /// The normal kernel and the test kernel (ELF, with symbols), and the
    /// test kernel's cargo target directory.
    pub kernel: PathBuf,
    pub test_kernel: PathBuf,
    pub test_target_dir: PathBuf,
    /// cargo's flags for the kernel and for the user programs, the user
    /// programs' RUSTFLAGS and their target directory.
    pub cargo_kernel: Vec<String>,
    pub cargo_user: Vec<String>,
    pub user_rustflags: String,
    pub user_target_dir: PathBuf,
}

/// A variable the Makefile sets: missing means the runner was not started
/// by make.
fn required(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| {
        format!("{name} is not set: run the runner through make (make test, make bench, ...)")
    })
}

/// A variable a user may set; empty counts as unset.
pub fn optional(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
}

/// A number a user may set, or `default`.
pub fn number(name: &str, default: u64) -> Result<u64, String> {
    match optional(name) {
        None => Ok(default),
        Some(text) => text
            .trim()
            .parse()
            .map_err(|_| format!("{name}={text} is not a number")),
    }
}

/// Splits a list of flags the Makefile wrote on one line.
pub fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_string).collect()
}

impl Config {
    pub fn from_env() -> Result<Config, String> {
        let path = |name: &str| required(name).map(PathBuf::from);
        Ok(Config {
            qemu: required("QEMU")?,
            qemu_flags: words(&required("QEMUOPTS")?),
            cpus: number("CPUS", 2)? as usize,
            timeout: Duration::from_secs(number("TEST_TIMEOUT", 300)?),
            build: path("BUILD")?,
            image: path("ISO")?,
            test_image: path("TEST_ISO")?,
            fs_image: path("FS_IMG")?,
            kernel: path("KERNEL")?,
            test_kernel: path("KTEST_KERNEL")?,
            test_target_dir: path("KTEST_TARGET_DIR")?,
            cargo_kernel: words(&required("CARGO_BARE")?),
            cargo_user: words(&required("CARGO_USER")?),
            user_rustflags: std::env::var("USER_RUSTFLAGS").unwrap_or_default(),
            user_target_dir: path("USER_TARGET_DIR")?,
        })
    }

    /// Where the test logs go.
    pub fn logs(&self) -> PathBuf {
        self.build.join("test-logs")
    }
}
