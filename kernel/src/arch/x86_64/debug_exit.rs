//! QEMU's `isa-debug-exit` device, which ends a test run with a verdict.
//!
//! The Makefile gives every QEMU machine the device at I/O port
//! `abi::testrun::DEBUG_EXIT_PORT`: writing `v` there makes QEMU exit with
//! status `(v << 1) | 1`, so success is 33 and failure 35, which is what
//! the test runner reads (the values live in `abi::testrun`, for both).
//!
//! This module exists only in the test kernel (the `ktest` feature). The
//! device is *armed* once fw_cfg has asked for a test run
//! (ktest.rs); from then on a panic (main.rs) and init's exit (proc.rs)
//! end the run at once, instead of halting or panicking for a harness
//! timeout to notice.

use core::sync::atomic::{AtomicBool, Ordering};

use abi::testrun::{DEBUG_EXIT_PORT, EXIT_FAILURE, EXIT_SUCCESS};
use x86::io::outl;

/// The value written to isa-debug-exit at the end of a test run.
#[derive(Clone, Copy)]
#[repr(u32)]
pub enum QemuExit {
    Success = EXIT_SUCCESS,
    Failure = EXIT_FAILURE,
}

/// Set when fw_cfg asks for a test run.
static ARMED: AtomicBool = AtomicBool::new(false);

/// Makes panics and init's exit end the run (see the module doc).
pub fn arm() {
    ARMED.store(true, Ordering::Relaxed);
}

/// Does this boot run a test?
pub fn armed() -> bool {
    ARMED.load(Ordering::Relaxed)
}

/// Ends QEMU with `code`.
pub fn exit(code: QemuExit) -> ! {
    // SAFETY: DEBUG_EXIT_PORT is QEMU's isa-debug-exit device, which the Makefile
    // always configures; writing to it ends the virtual machine.
    unsafe { outl(DEBUG_EXIT_PORT, code as u32) };
    // Without the device (a real machine) there is nothing to exit to.
    super::halt_forever()
}
