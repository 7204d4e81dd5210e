//! The `mkfs` command: a thin shell around the library.
//!
//! ```text
//! mkfs IMAGE FILE...    build a fresh FSSIZE-block image holding FILE...
//! mkfs --check IMAGE    check an image; exit 1 if anything is wrong
//! mkfs --check --recover IMAGE
//!                       check it as the kernel will see it after mounting
//!                       it: with a committed transaction in the log
//!                       installed first (in memory; IMAGE is not changed)
//! mkfs --damage IMAGE   for tests: add damaged files to IMAGE (damage.rs)
//! mkfs --damage-random SEED IMAGE
//!                       for tests: add a tree to IMAGE and flip bits of its
//!                       metadata, chosen from SEED (damage.rs)
//! ```
//!
//! Plain `--check` wants an empty log, as every clean shutdown leaves it.
//! `--recover` is for a disk whose machine stopped at any moment, a power
//! cut in the crash test say, which may have stopped in the middle of a
//! commit.
//!
//! A new image is built entirely in memory and written to a temporary file
//! that is then renamed over IMAGE, so a refusal or a failed write never
//! leaves a partial image where the Makefile expects a good one.

use std::ffi::OsString;
use std::fs;
use std::path::Path;
use std::process::ExitCode;

use abi::fs::FSSIZE;

const USAGE: &str = "usage: mkfs IMAGE FILE...\n       mkfs --check [--recover] IMAGE\n       mkfs --damage IMAGE\n       mkfs --damage-random SEED IMAGE";

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    match args.as_slice() {
        [flag, image] if flag == "--check" && !is_flag(image) => check(Path::new(image), false),
        [flag, recover, image] if flag == "--check" && recover == "--recover" => {
            check(Path::new(image), true)
        }
        [flag, image] if flag == "--damage" && !is_flag(image) => damage(Path::new(image), None),
        [flag, seed, image] if flag == "--damage-random" && !is_flag(image) => {
            match seed.to_str().and_then(|seed| seed.parse().ok()) {
                Some(seed) => damage(Path::new(image), Some(seed)),
                None => {
                    eprintln!("mkfs: the seed must be a number\n{USAGE}");
                    ExitCode::from(2)
                }
            }
        }
        [image, files @ ..] if !is_flag(image) => make(Path::new(image), files),
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// Does `arg` look like a flag rather than a file name?
fn is_flag(arg: &OsString) -> bool {
    arg.as_encoded_bytes().starts_with(b"-")
}

fn make(image: &Path, files: &[OsString]) -> ExitCode {
    let built = mkfs::read_inputs(files).and_then(|inputs| mkfs::build(&inputs, FSSIZE));
    let bytes = match built {
        Ok(bytes) => bytes,
        Err(error) => {
            eprintln!("mkfs: {error}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(error) = write_whole(image, &bytes) {
        eprintln!("mkfs: cannot write {}: {error}", image.display());
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// Writes `bytes` to `path` so that `path` holds either its old contents or
/// all of the new ones, never a part.
fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let result = fs::write(&temporary, bytes).and_then(|()| fs::rename(&temporary, path));
    if result.is_err() {
        // Best effort: the error worth reporting is the one we already have.
        let _ = fs::remove_file(&temporary);
    }
    result
}

/// Checks `image`; after recovering its log in memory first if `recover`.
fn check(image: &Path, recover: bool) -> ExitCode {
    let bytes = match fs::read(image) {
        Ok(bytes) => bytes,
        Err(error) => {
            eprintln!("mkfs: cannot read {}: {error}", image.display());
            return ExitCode::FAILURE;
        }
    };
    let checked = if recover {
        mkfs::check_after_recovery(&bytes)
    } else {
        mkfs::check(&bytes)
    };
    match checked {
        Ok(summary) => {
            if summary.installed_from_log > 0 {
                println!(
                    "{}: log: {} committed blocks installed in memory for the check",
                    image.display(),
                    summary.installed_from_log
                );
            }
            println!(
                "{}: ok ({} inodes, {} blocks used)",
                image.display(),
                summary.inodes,
                summary.blocks_used
            );
            ExitCode::SUCCESS
        }
        Err(problems) => {
            for problem in &problems {
                println!("{}: {problem}", image.display());
            }
            println!("{}: {} problems found", image.display(), problems.len());
            ExitCode::FAILURE
        }
    }
}

/// `--damage` (no seed) or `--damage-random SEED`.
fn damage(path: &Path, seed: Option<u64>) -> ExitCode {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) => {
            eprintln!("mkfs: cannot read {}: {error}", path.display());
            return ExitCode::FAILURE;
        }
    };
    let mut image = mkfs::image::Image::open(bytes);
    let done = match seed {
        None => mkfs::damage::damage(&mut image),
        Some(seed) => mkfs::damage::damage_random(&mut image, seed),
    };
    let done = match done {
        Ok(done) => done,
        Err(mkfs::damage::NoRoom) => {
            eprintln!("mkfs: {} has no room for the damaged files", path.display());
            return ExitCode::FAILURE;
        }
    };
    if let Err(error) = write_whole(path, &image.into_bytes()) {
        eprintln!("mkfs: cannot write {}: {error}", path.display());
        return ExitCode::FAILURE;
    }
    if let Some(seed) = seed {
        println!("{}: damaged at random, seed {seed}", path.display());
    }
    for line in done {
        println!("{}: damaged {line}", path.display());
    }
    ExitCode::SUCCESS
}
