//! Bootable CD images: GRUB, which boots a kernel through multiboot2 at
//! once.
//!
//! GRUB here is one El Torito boot image made by grub-mkimage, with the
//! few modules it needs built in and its configuration embedded: it never
//! loads GRUB's `normal` mode, its menu or any module from the CD, which
//! is most of the time grub-mkrescue's image spends before the kernel. The
//! embedded configuration runs in GRUB's simple (rescue) parser, one
//! command a line: serial output, a line to say what boots, the kernel,
//! and boot. There is no menu, so nothing ever waits. A test run's request
//! reaches the test kernel through QEMU's fw_cfg (`abi::testrun`), so one
//! test image serves every test; the images that run one test as they are
//! (`build/test-NAME.iso`, for tools that boot an image without fw_cfg)
//! carry it on the kernel's command line instead (kernel/src/ktest.rs).

use std::path::{Path, PathBuf};
use std::process::Command;

/// GRUB's configuration, with `command_line` for the kernel: GRUB talks
/// on both the screen and COM1, so a headless run sees it too.
fn grub_cfg(command_line: &str) -> String {
    format!(
        "serial --unit=0 --speed=115200
terminal_output serial console
echo \"Booting xv6-rs\"
multiboot2 /boot/kernel {command_line}
boot
"
    )
}

/// Checks that `command_line` reads as plain words in GRUB's
/// configuration: nothing GRUB's parser would take as quoting, a variable,
/// a comment or the end of the command.
fn check_command_line(command_line: &str) -> Result<(), String> {
    let plain = |c: char| (c.is_ascii_graphic() && !"\"'\\$#;{}|&<>".contains(c)) || c == ' ';
    if command_line.chars().all(plain) {
        Ok(())
    } else {
        Err(format!(
            "the kernel command line '{command_line}' holds a character GRUB's configuration would read as more than text"
        ))
    }
}

/// GRUB's modules: biosdisk and iso9660 read the CD through the BIOS; the
/// rest are the commands above.
const GRUB_MODULES: &[&str] = &[
    "biosdisk",
    "iso9660",
    "serial",
    "terminal",
    "echo",
    "multiboot2",
    "boot",
];

/// Runs `command`; on failure, says what it printed.
fn run(command: &mut Command) -> Result<(), String> {
    let output = command
        .output()
        .map_err(|error| format!("cannot run {:?}: {error}", command.get_program()))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{:?} failed:\n{}{}",
            command.get_program(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// A directory of our own under the system's temporary directory,
/// removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir, String> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "xv6-iso-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path)
            .map_err(|error| format!("cannot create {}: {error}", path.display()))?;
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes the image `.../test-NAME.iso` that runs one test as it is: the
/// test kernel `kernel` with the request on its command line, `all` (the
/// in-kernel tests) for NAME `ktest` and `user:NAME` otherwise.
pub fn make_program_image(iso: &Path, kernel: &Path) -> Result<(), String> {
    let request = iso
        .file_name()
        .and_then(|name| name.to_str())
        .and_then(|name| name.strip_prefix("test-")?.strip_suffix(".iso"))
        .filter(|name| !name.is_empty())
        .map(|name| match name {
            "ktest" => "all".to_string(),
            program => format!("user:{program}"),
        })
        .ok_or_else(|| format!("{} is not named test-NAME.iso", iso.display()))?;
    make(iso, kernel, &format!("test={request}"))
}

/// Writes a CD image to `iso` that boots `kernel`, with `command_line`
/// (often empty) as the kernel's command line.
pub fn make(iso: &Path, kernel: &Path, command_line: &str) -> Result<(), String> {
    check_command_line(command_line)?;
    let temp = TempDir::new()?;
    // The CD's contents go in `cd`; the configuration beside it, never
    // inside it.
    let cd = temp.0.join("cd");
    let grub_dir = cd.join("boot/grub");
    std::fs::create_dir_all(&grub_dir).map_err(|error| error.to_string())?;
    // The CD gets the kernel without its debug sections (most of its
    // size, which GRUB would spend over a second loading); gdb reads the
    // full ELF from target/.
    run(Command::new("strip")
        .arg("--strip-debug")
        .arg("-o")
        .arg(cd.join("boot/kernel"))
        .arg(kernel))?;
    let config = temp.0.join("grub.cfg");
    std::fs::write(&config, grub_cfg(command_line)).map_err(|error| error.to_string())?;
    run(Command::new("grub-mkimage")
        .args(["-O", "i386-pc-eltorito", "-o"])
        .arg(grub_dir.join("eltorito.img"))
        .args(["-p", "/boot/grub", "-c"])
        .arg(&config)
        .args(GRUB_MODULES))?;
    if let Some(parent) = iso.parent() {
        std::fs::create_dir_all(parent).map_err(|error| error.to_string())?;
    }
    // Written beside the target and renamed, so that a failure never
    // leaves half an image where make expects a whole one.
    let partial = temp.0.join("image.iso");
    run(Command::new("xorriso")
        .args([
            "-as",
            "mkisofs",
            "-quiet",
            "-R",
            "-b",
            "boot/grub/eltorito.img",
            "-no-emul-boot",
        ])
        .args(["-boot-load-size", "4", "-boot-info-table", "-o"])
        .arg(&partial)
        .arg(&cd))?;
    let beside = iso.with_extension("iso.partial");
    std::fs::copy(&partial, &beside)
        .and_then(|_| std::fs::rename(&beside, iso))
        .map_err(|error| format!("cannot write {}: {error}", iso.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_are_plain_words() {
        assert!(check_command_line("").is_ok());
        assert!(check_command_line("test=user:fsdamage,cycle").is_ok());
        for bad in ["test=a;boot", "test=\"x\"", "test=$x", "a\nb", "x#y"] {
            assert!(check_command_line(bad).is_err(), "{bad:?}");
        }
        assert!(grub_cfg("test=all").contains("multiboot2 /boot/kernel test=all\n"));
    }

    #[test]
    fn program_images_are_named_for_their_request() {
        let kernel = Path::new("/nonexistent/kernel");
        for bad in ["test.iso", "test-.iso", "shmbench.iso", "test-shmbench.img"] {
            let why = make_program_image(Path::new(bad), kernel).unwrap_err();
            assert!(why.contains("is not named test-NAME.iso"), "{bad}: {why}");
        }
    }
}
