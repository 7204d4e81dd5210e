//! The Linux guest of `make bench-linux`: Debian's kernel and a small
//! initramfs of our own C programs (bench/linux/), booted in the same QEMU
//! as xv6-rs.
//!
//! - The kernel: `apt-get download` of the package that Debian's
//!   `linux-image-amd64` depends on now (or `LINUX_PKG`), its
//!   `/boot/vmlinuz-*` taken out with `dpkg-deb -x`. It is kept in
//!   build/linux/ for the next run (remove that folder to fetch again).
//! - The initramfs: init.c, bench-linux.c and exitnow.c built with
//!   `gcc -O2 -static -s` and packed here in cpio's "newc" format, which
//!   the kernel unpacks into its first file system (uncompressed: the
//!   kernel needs no gzip). /init prints the boot marker, runs
//!   /bench-linux, prints `@LINUX-BENCH-DONE status=N` and powers off.
//! - The machine: `-smp N -m 512M -nic none -no-reboot`, TCG, the serial
//!   port on QEMU's standard output; the boot is timed from QEMU's start
//!   to the marker, as bench.rs times xv6-rs's boot to its first `$ `.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::bench::parse_row;
use crate::config::{Config, optional};
use crate::qemu::{Exit, dies_with_starter, wait_until};

/// What /init prints first: the end of the boot.
const READY: &str = "@LINUX-READY";
/// What /init prints when the benchmark program has ended well.
const DONE: &str = "@LINUX-BENCH-DONE status=0";
/// The kernel's command line: the console on the serial port, no boot
/// messages, and no reboot on a panic (QEMU's -no-reboot then exits).
const APPEND: &str = "console=ttyS0 quiet panic=-1";
/// Where the C programs are, from the repository's root.
const SOURCES: &str = "bench/linux";

/// The built guest: its kernel and initramfs, and the package they came
/// from.
pub struct Guest {
    pub kernel: PathBuf,
    pub initramfs: PathBuf,
    pub package: String,
}

/// Fetches the kernel (once) and builds the initramfs, in `dir`.
pub fn prepare(dir: &Path) -> Result<Guest, String> {
    std::fs::create_dir_all(dir).map_err(|error| format!("{}: {error}", dir.display()))?;
    let kernel = dir.join("vmlinuz");
    let package_file = dir.join("kernel-package.txt");
    if !kernel.is_file() || !package_file.is_file() {
        let package = fetch_kernel(dir, &kernel)?;
        std::fs::write(&package_file, &package).map_err(|error| error.to_string())?;
    }
    let package = std::fs::read_to_string(&package_file).map_err(|error| error.to_string())?;
    let initramfs = dir.join("initramfs.cpio");
    build_initramfs(dir, &initramfs)?;
    Ok(Guest {
        kernel,
        initramfs,
        package: package.trim().to_string(),
    })
}

/// Runs `program` with `args`; its standard output, or why it failed.
fn output(program: &str, args: &[&str], dir: &Path) -> Result<String, String> {
    let result = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|error| format!("cannot run {program}: {error}"))?;
    if !result.status.success() {
        return Err(format!(
            "`{program} {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&result.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&result.stdout).into_owned())
}

/// The kernel package `apt-cache depends linux-image-amd64` names.
fn default_package(apt_cache_output: &str) -> Option<String> {
    apt_cache_output.lines().find_map(|line| {
        let name = line.trim().strip_prefix("Depends:")?.trim();
        name.starts_with("linux-image-").then(|| name.to_string())
    })
}

/// `apt-get download`s the kernel package into `dir` and takes out its
/// vmlinuz as `kernel`; returns the package's name. apt's lists are
/// updated first only if apt does not know the package (which needs root,
/// or sudo without a password).
fn fetch_kernel(dir: &Path, kernel: &Path) -> Result<String, String> {
    let known = || {
        optional("LINUX_PKG").or_else(|| {
            output("apt-cache", &["depends", "linux-image-amd64"], dir)
                .ok()
                .and_then(|text| default_package(&text))
        })
    };
    let package = match known() {
        Some(package) => package,
        None => {
            crate::setup::apt(&["update", "-qq"])?;
            known().ok_or("apt knows no linux-image-amd64: set LINUX_PKG to a kernel package")?
        }
    };
    println!("bench-linux: fetching {package}");
    let packages = dir.join("packages");
    let _ = std::fs::remove_dir_all(&packages);
    std::fs::create_dir_all(&packages).map_err(|error| error.to_string())?;
    if output("apt-get", &["download", &package], &packages).is_err() {
        crate::setup::apt(&["update", "-qq"])?;
        output("apt-get", &["download", &package], &packages)?;
    }
    let deb = first_entry(&packages, |name| name.ends_with(".deb"))?;
    let unpacked = packages.join("unpacked");
    output(
        "dpkg-deb",
        &["-x", &deb.to_string_lossy(), &unpacked.to_string_lossy()],
        Path::new("."),
    )?;
    let vmlinuz = first_entry(&unpacked.join("boot"), |name| name.starts_with("vmlinuz-"))?;
    std::fs::copy(&vmlinuz, kernel).map_err(|error| error.to_string())?;
    let _ = std::fs::remove_dir_all(&packages);
    Ok(package)
}

/// The first file in `dir` whose name passes `wanted`.
fn first_entry(dir: &Path, wanted: impl Fn(&str) -> bool) -> Result<PathBuf, String> {
    std::fs::read_dir(dir)
        .map_err(|error| format!("{}: {error}", dir.display()))?
        .flatten()
        .map(|entry| entry.path())
        .find(|path| {
            path.file_name()
                .is_some_and(|name| wanted(&name.to_string_lossy()))
        })
        .ok_or_else(|| format!("nothing expected in {}", dir.display()))
}

/// Builds the three programs and packs them, with the folders /init
/// mounts on and a console device, into `out`.
fn build_initramfs(dir: &Path, out: &Path) -> Result<(), String> {
    let sources = Path::new(SOURCES);
    let mut archive = Cpio::default();
    for folder in ["dev", "proc", "sys"] {
        archive.add(folder, DIRECTORY | 0o755, (0, 0), &[]);
    }
    // The kernel opens /dev/console for init before any devtmpfs exists.
    archive.add("dev/console", CHARACTER_DEVICE | 0o600, (5, 1), &[]);
    for program in ["init", "bench-linux", "exitnow"] {
        let binary = dir.join(program);
        let source = sources.join(format!("{program}.c"));
        let mut gcc = Command::new("gcc");
        gcc.args(["-O2", "-static", "-s", "-Wall", "-o"])
            .arg(&binary)
            .arg(&source);
        if program == "bench-linux" {
            gcc.arg("-lpthread");
        }
        let built = gcc.status().is_ok_and(|status| status.success());
        if !built {
            return Err(format!(
                "gcc could not build {} (static glibc: Debian's libc6-dev)",
                source.display()
            ));
        }
        let contents = std::fs::read(&binary).map_err(|error| error.to_string())?;
        archive.add(program, REGULAR_FILE | 0o755, (0, 0), &contents);
    }
    std::fs::write(out, archive.finish()).map_err(|error| format!("{}: {error}", out.display()))
}

/// The file-type bits of a cpio entry's mode (as in `stat`'s st_mode).
const DIRECTORY: u32 = 0o040_000;
const REGULAR_FILE: u32 = 0o100_000;
const CHARACTER_DEVICE: u32 = 0o020_000;

/// A cpio archive in the "newc" format, the one the kernel unpacks.
///
/// Each entry is a header of `070701` and thirteen 8-digit hexadecimal
/// fields (inode, mode, uid, gid, link count, mtime, file size, the
/// device's major and minor, the special file's major and minor, the
/// name's length with its NUL, a checksum that newc leaves 0), then the
/// name and a NUL, padded with NULs to a multiple of 4 bytes, then the
/// contents, padded likewise. An entry named `TRAILER!!!` ends the archive.
#[derive(Default)]
pub struct Cpio {
    bytes: Vec<u8>,
    entries: u32,
}

impl Cpio {
    /// Adds an entry: `name` without a leading `/`, `mode` with its type
    /// bits, `device` the (major, minor) of a special file.
    pub fn add(&mut self, name: &str, mode: u32, device: (u32, u32), contents: &[u8]) {
        self.entries += 1;
        let links = if mode & DIRECTORY == DIRECTORY { 2 } else { 1 };
        let fields = [
            self.entries,
            mode,
            0,
            0,
            links,
            0,
            contents.len() as u32,
            0,
            0,
            device.0,
            device.1,
            name.len() as u32 + 1,
            0,
        ];
        self.bytes.extend_from_slice(b"070701");
        for field in fields {
            self.bytes
                .extend_from_slice(format!("{field:08x}").as_bytes());
        }
        self.bytes.extend_from_slice(name.as_bytes());
        self.bytes.push(0);
        self.pad();
        self.bytes.extend_from_slice(contents);
        self.pad();
    }

    fn pad(&mut self) {
        while !self.bytes.len().is_multiple_of(4) {
            self.bytes.push(0);
        }
    }

    /// The archive, with its trailer.
    pub fn finish(mut self) -> Vec<u8> {
        self.add("TRAILER!!!", 0, (0, 0), &[]);
        self.bytes
    }
}

/// One boot of the Linux guest with `cpus` CPUs: the boot's time in
/// seconds and the benchmark's rows, or why it failed. The serial output
/// goes to `log`.
pub fn run(
    config: &Config,
    guest: &Guest,
    cpus: usize,
    log: &Path,
) -> Result<(f64, Vec<String>), String> {
    let started = Instant::now();
    let mut child = dies_with_starter(&mut Command::new(&config.qemu))
        .args(["-smp", &cpus.to_string(), "-m", "512M", "-nic", "none"])
        .args(["-no-reboot", "-display", "none", "-monitor", "none"])
        .arg("-kernel")
        .arg(&guest.kernel)
        .arg("-initrd")
        .arg(&guest.initramfs)
        .args(["-append", APPEND, "-serial", "stdio"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|error| format!("cannot start {}: {error}", config.qemu))?;
    let mut output = child.stdout.take().ok_or("QEMU has no output")?;
    // A thread reads the serial line and notes when the marker came; this
    // thread waits for QEMU, and kills it at the deadline, which ends the
    // reader's pipe too.
    let reader = std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut ready = None;
        let mut buffer = [0; 4096];
        while let Ok(n @ 1..) = output.read(&mut buffer) {
            seen.extend_from_slice(&buffer[..n]);
            if ready.is_none() && contains_line(&seen, READY) {
                ready = Some(started.elapsed());
            }
        }
        (seen, ready)
    });
    let exit = wait_until(&mut child, started + config.timeout, config.timeout);
    let (seen, ready) = reader.join().map_err(|_| "the serial reader panicked")?;
    let _ = std::fs::write(log, &seen);
    let text = String::from_utf8_lossy(&seen).replace('\r', "");
    let failed = |what: &str| {
        format!(
            "Linux at -smp {cpus}: {what} ({}; log: {})",
            exit.describe(),
            log.display()
        )
    };
    let boot = ready.ok_or_else(|| failed("no boot marker"))?;
    if !text.lines().any(|line| line == DONE) || matches!(exit, Exit::TimedOut(_)) {
        return Err(failed("the benchmark did not finish"));
    }
    let rows = text
        .lines()
        .filter(|line| parse_row(line).is_some())
        .map(str::to_string)
        .collect();
    Ok((boot.as_secs_f64(), rows))
}

/// Does `seen` hold `line` as a whole line?
fn contains_line(seen: &[u8], line: &str) -> bool {
    String::from_utf8_lossy(seen)
        .lines()
        .any(|candidate| candidate.trim_end_matches('\r') == line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cpio_entry_is_a_header_a_padded_name_and_padded_contents() {
        let mut archive = Cpio::default();
        archive.add("init", REGULAR_FILE | 0o755, (0, 0), b"hello");
        let bytes = archive.finish();
        let header = std::str::from_utf8(&bytes[..110]).unwrap();
        assert_eq!(
            header,
            "070701\
             00000001000081ed000000000000000000000001\
             0000000000000005000000000000000000000000\
             000000000000000500000000"
        );
        // 110 + "init\0" = 115, padded to 116; then 5 bytes, padded to 124.
        assert_eq!(&bytes[110..116], b"init\0\0");
        assert_eq!(&bytes[116..124], b"hello\0\0\0");
        assert_eq!(&bytes[124..130], b"070701");
        assert!(bytes.ends_with(b"TRAILER!!!\0\0\0\0"));
        assert_eq!(bytes.len() % 4, 0);
    }

    #[test]
    fn a_device_entry_carries_its_numbers() {
        let mut archive = Cpio::default();
        archive.add("dev/console", CHARACTER_DEVICE | 0o600, (5, 1), &[]);
        let bytes = archive.finish();
        let header = std::str::from_utf8(&bytes[..110]).unwrap();
        let field = |index: usize| &header[6 + 8 * index..6 + 8 * (index + 1)];
        assert_eq!(field(1), "00002180");
        assert_eq!((field(9), field(10)), ("00000005", "00000001"));
        assert_eq!(field(11), "0000000c");
    }

    #[test]
    fn the_kernel_package_is_what_the_meta_package_depends_on() {
        let text = "linux-image-amd64\n  Depends: linux-image-6.1.0-57-amd64\n";
        assert_eq!(
            default_package(text).as_deref(),
            Some("linux-image-6.1.0-57-amd64")
        );
        assert_eq!(default_package("linux-image-amd64\n"), None);
    }

    #[test]
    fn the_marker_must_be_a_whole_line() {
        assert!(contains_line(b"x\r\n@LINUX-READY\r\n", READY));
        assert!(!contains_line(b"echo @LINUX-READY-not\n", READY));
    }
}
