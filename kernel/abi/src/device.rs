//! Major device numbers, for `mknod` and device inodes.

/// The console: reads give line-edited keyboard input, writes go to the
/// screen and the serial port.
pub const CONSOLE: u16 = 1;
