//! The host suite: checks that boot nothing.
//!
//! Formatting and clippy everywhere (the kernel twice: with and without
//! the test hooks), the host crates' unit tests (the runner's own among
//! them), the C headers against `abi`, the C programs without warnings,
//! the kernel's multiboot2 header, the test hooks only in the test
//! kernel, the images `make test` leaves, and an unchanged tree not being
//! rebuilt.

use std::path::Path;
use std::process::Command;
use std::time::SystemTime;

use crate::config::Config;
use crate::report::Report;
use crate::setup::succeeds;

/// Symbols only the test kernel may have: the test runner, the faults it
/// makes on purpose, the exit device and the request reader.
const TEST_HOOKS: &[&str] = &[
    "ktest::run",
    "test_every_page_once",
    "touch_user_page",
    "overflow_kernel_stack",
    "debug_exit::exit",
    "fw_cfg::read_file",
];

fn cargo(args: &[&str]) -> Command {
    let mut command = Command::new("cargo");
    command.args(args);
    command
}

/// The symbols of the ELF file `path`, demangled, as `nm -C` lists them.
fn symbols(path: &Path) -> Result<String, String> {
    let output = Command::new("nm")
        .arg("-C")
        .arg(path)
        .output()
        .map_err(|error| format!("cannot run nm: {error}"))?;
    if !output.status.success() {
        return Err(format!("nm cannot read {}", path.display()));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn has_hooks(symbols: &str) -> bool {
    symbols
        .lines()
        .any(|line| TEST_HOOKS.iter().any(|hook| line.contains(hook)))
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path)
        .and_then(|meta| meta.modified())
        .ok()
}

/// The boot images under `dir`, at any depth.
fn images_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(images_under(&path));
        } else if path.extension().is_some_and(|ext| ext == "iso") {
            found.push(path.display().to_string());
        }
    }
    found.sort();
    found
}

pub fn report(config: &Config, report: &mut Report) {
    report.heading("host checks");
    let check = |report: &mut Report, name: &str, why: &str, ok: bool| {
        report.check(name, if ok { Ok(()) } else { Err(why.to_string()) });
    };

    check(
        report,
        "multiboot2-header",
        &format!("grub-file rejects {}", config.kernel.display()),
        succeeds(
            Command::new("grub-file")
                .arg("--is-x86-multiboot2")
                .arg(&config.kernel),
        ),
    );
    check(
        report,
        "cargo-fmt",
        "run 'cargo fmt --all' and commit the result",
        succeeds(&mut cargo(&["fmt", "--all", "--check"])),
    );
    let mut clippy = cargo(&["clippy", "-p", "kernel"]);
    clippy
        .args(&config.cargo_kernel)
        .args(["--", "-D", "warnings"]);
    check(
        report,
        "clippy-kernel",
        "clippy reports warnings: run make and fix them",
        succeeds(&mut clippy),
    );
    let mut clippy_ktest = cargo(&[
        "clippy",
        "-p",
        "kernel",
        "--features",
        "ktest",
        "--target-dir",
    ]);
    clippy_ktest
        .arg(&config.test_target_dir)
        .args(&config.cargo_kernel)
        .args(["--", "-D", "warnings"]);
    check(
        report,
        "clippy-kernel-ktest",
        "clippy reports warnings in the test kernel (--features ktest)",
        succeeds(&mut clippy_ktest),
    );
    let hooks = symbols(&config.test_kernel).and_then(|test| Ok((test, symbols(&config.kernel)?)));
    report.check(
        "test-hooks-only-in-test-kernel",
        match hooks {
            Ok((test, normal)) if has_hooks(&test) && !has_hooks(&normal) => Ok(()),
            Ok(_) => Err("xv6.iso's kernel has test hooks, or the test kernel lacks them".into()),
            Err(why) => Err(why),
        },
    );

    let before = (modified(&config.image), modified(&config.fs_image));
    let rebuilt = succeeds(Command::new("make").args(["--no-print-directory", "all"]));
    let after = (modified(&config.image), modified(&config.fs_image));
    check(
        report,
        "incremental-build",
        "make rebuilt the ISO or fs.img of an unchanged tree",
        rebuilt && before.0.is_some() && before == after,
    );
    // `make images` (not `make test`) adds build/test-NAME.iso, images
    // that each run one test for tools outside the runner.
    let program_image = |path: &String| {
        Path::new(path).parent() == Some(config.build.as_path())
            && Path::new(path)
                .file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with("test-") && name.ends_with(".iso"))
    };
    let images: Vec<String> = images_under(&config.build)
        .into_iter()
        .filter(|path| !program_image(path))
        .collect();
    let wanted = {
        let mut wanted = vec![
            config.image.display().to_string(),
            config.test_image.display().to_string(),
        ];
        wanted.sort();
        wanted
    };
    check(
        report,
        "one-test-image",
        &format!(
            "build/ should hold the normal image and the test image (and `make images`'s), and \
             holds {images:?}"
        ),
        images == wanted,
    );

    let mut clippy_user = cargo(&["clippy", "-q", "-p", "user", "--target-dir"]);
    clippy_user
        .arg(&config.user_target_dir)
        .args(&config.cargo_user)
        .args(["--", "-D", "warnings"])
        .env("RUSTFLAGS", &config.user_rustflags);
    check(
        report,
        "clippy-user",
        "clippy reports warnings in the user programs",
        succeeds(&mut clippy_user),
    );

    report.heading("host unit tests (abi, mkfs, shmtable, xtask)");
    check(
        report,
        "host-unit-tests",
        "cargo test -p abi -p mkfs -p shmtable failed: run it to see why",
        succeeds(&mut cargo(&[
            "test", "-q", "-p", "abi", "-p", "mkfs", "-p", "shmtable",
        ])),
    );
    check(
        report,
        "runner-unit-tests",
        "cargo test -p xtask failed: run it to see why",
        succeeds(&mut cargo(&["test", "-q", "-p", "xtask"])),
    );
    // (Also part of the unit tests above; named here so that its failure
    // says what it means.)
    check(
        report,
        "c-headers-match-abi",
        "user/c/include disagrees with kernel/abi: run cargo test -p abi --test c_headers",
        succeeds(&mut cargo(&[
            "test",
            "-q",
            "-p",
            "abi",
            "--test",
            "c_headers",
        ])),
    );
    check(
        report,
        "c-no-warnings",
        "gcc -Wall -Wextra warns about a C program: run make c-warnings",
        succeeds(Command::new("make").args(["--no-print-directory", "c-warnings"])),
    );
    check(
        report,
        "clippy-host",
        "clippy reports warnings in abi, mkfs, shmtable or xtask",
        succeeds(&mut cargo(&[
            "clippy",
            "-q",
            "-p",
            "abi",
            "-p",
            "mkfs",
            "-p",
            "shmtable",
            "-p",
            "xtask",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ])),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hooks_are_found_by_name() {
        assert!(has_hooks("ffffffff80012345 T kernel::ktest::run\n"));
        assert!(!has_hooks(
            "ffffffff80012345 T kernel::proc::run_scheduler\n"
        ));
    }
}
