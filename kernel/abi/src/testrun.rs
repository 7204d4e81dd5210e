//! How a test run is asked for, and how it ends.
//!
//! Only the test kernel (the `ktest` feature) reads or writes any of this;
//! the test runner (`xtask`) on the host uses the same values, so the two
//! agree by construction.
//!
//! **Asking.** The runner boots one test image for every test and names the
//! run it wants through QEMU's firmware configuration device (fw_cfg): a
//! file called [`REQUEST_FILE`] whose contents are the request, for
//! example `user:shmtest` or `panic` (kernel/src/ktest.rs lists them).
//! Unlike a kernel command line, which lives in GRUB's configuration on
//! the CD, the request travels on QEMU's command line, so one image serves
//! every run; GRUB and multiboot2 stay the boot path.
//! (For tools that boot an image as it is, with no fw_cfg, `make images`
//! builds images that each carry one request on the kernel's command line
//! instead, as the word `test=REQUEST`: kernel/src/ktest.rs.)
//!
//! **Ending.** QEMU's `isa-debug-exit` device, at I/O port
//! [`DEBUG_EXIT_PORT`], ends the machine when the kernel writes a value `v`
//! to it; QEMU then exits with status `(v << 1) | 1`. The kernel writes
//! [`EXIT_SUCCESS`] when everything passed and [`EXIT_FAILURE`] on a
//! failure or a panic.

/// The fw_cfg file that holds a test run's request. QEMU asks that names
/// of files a user adds begin with `opt/`.
pub const REQUEST_FILE: &str = "opt/xv6-rs/test";

/// The longest request the kernel reads, in bytes.
pub const REQUEST_MAX: usize = 256;

/// The I/O port of QEMU's isa-debug-exit device.
pub const DEBUG_EXIT_PORT: u16 = 0xF4;

/// What the kernel writes to the exit device when a run passed.
pub const EXIT_SUCCESS: u32 = 0x10;

/// What it writes when a run failed or the kernel panicked.
pub const EXIT_FAILURE: u32 = 0x11;

/// QEMU's exit status after the kernel wrote `value` to the exit device.
pub const fn qemu_status(value: u32) -> i32 {
    ((value << 1) | 1) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_the_ones_qemu_documents() {
        assert_eq!(qemu_status(EXIT_SUCCESS), 33);
        assert_eq!(qemu_status(EXIT_FAILURE), 35);
    }
}
