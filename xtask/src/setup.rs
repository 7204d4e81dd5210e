//! Installs the system packages the build needs and does not have.
//!
//! The Makefile's set-up step installs the pinned Rust toolchain first
//! (`rustup toolchain install`: this program is built with it) and then
//! runs this. On Debian or Ubuntu, as root or with sudo that needs no
//! password (as on CI machines), the missing packages are installed with
//! apt-get; otherwise this stops with the one command to run.

use std::path::Path;
use std::process::{Command, Stdio};

/// A command the build runs, and the Debian package that has it.
const NEEDED: &[(&str, &str)] = &[
    ("qemu-system-x86_64", "qemu-system-x86"),
    ("grub-mkimage", "grub-common"),
    ("grub-file", "grub-common"),
    ("xorriso", "xorriso"),
    ("strip", "binutils"),
    ("nm", "binutils"),
    ("gcc", "gcc"),
];

/// grub-mkimage builds a BIOS boot image only with the i386-pc modules.
const GRUB_PC_MODULES: (&str, &str) = ("/usr/lib/grub/i386-pc", "grub-pc-bin");

/// Is `command` on the PATH?
fn on_path(command: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(command).is_file()))
}

/// Runs `command` with its output thrown away; did it succeed? (The host
/// suite's checks use it too.)
pub fn succeeds(command: &mut Command) -> bool {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// The packages that `make test` and `make qemu-nox` need and lack
/// (`for_bench`: `make bench`'s plot instead).
pub fn missing(for_bench: bool) -> Vec<&'static str> {
    let mut missing: Vec<&str> = Vec::new();
    if for_bench {
        let has_matplotlib =
            succeeds(Command::new("/usr/bin/python3").args(["-c", "import matplotlib"]));
        if !has_matplotlib {
            missing.push("python3-matplotlib");
        }
        return missing;
    }
    for (command, package) in NEEDED {
        if !on_path(command) && !missing.contains(package) {
            missing.push(package);
        }
    }
    if !Path::new(GRUB_PC_MODULES.0).is_dir() {
        missing.push(GRUB_PC_MODULES.1);
    }
    missing
}

/// Installs what is missing, if it can.
pub fn run(for_bench: bool) -> Result<(), String> {
    let missing = missing(for_bench);
    if missing.is_empty() {
        return Ok(());
    }
    let list = missing.join(" ");
    println!("setup: installing {list}");
    let mut install = vec!["install", "-y", "-qq", "--no-install-recommends"];
    install.extend(&missing);
    apt(&["update", "-qq"])
        .and_then(|()| apt(&install))
        .map_err(|why| {
            format!(
                "{why}\nmissing packages: {list}\nInstall them with:  sudo apt-get install {list}"
            )
        })
}

/// Runs `apt-get ARGS` as root: directly if we are root, with sudo if it
/// needs no password; otherwise stops with the command to run.
pub fn apt(args: &[&str]) -> Result<(), String> {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.stdout.trim_ascii() == b"0");
    let sudo = !is_root && succeeds(Command::new("sudo").args(["-n", "true"]));
    if !on_path("apt-get") || !(is_root || sudo) {
        return Err(format!(
            "this needs apt-get as root; run:  sudo apt-get {}",
            args.join(" ")
        ));
    }
    // Through env(1), so that the setting survives sudo, which drops the
    // caller's environment.
    let mut command = Command::new(if sudo { "sudo" } else { "env" });
    if sudo {
        command.args(["-n", "env"]);
    }
    command
        .arg("DEBIAN_FRONTEND=noninteractive")
        .arg("apt-get")
        .args(args)
        .stdout(Stdio::null());
    if command.status().is_ok_and(|status| status.success()) {
        Ok(())
    } else {
        Err(format!("`apt-get {}` failed", args.join(" ")))
    }
}
