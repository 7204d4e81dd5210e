//! `mkfs`: builds and checks xv6 file system images on the host.
//!
//! The kernel boots with a disk that someone had to format first. This crate
//! is that someone: it lays out a fresh file system holding the user programs
//! in its root directory, exactly as the kernel's `fs.rs` expects to read it,
//! and it can check an existing image for inconsistencies, which is how we
//! find out whether the kernel kept its file system intact.
//!
//! The on-disk format itself lives in `abi::fs`, shared with the kernel, so
//! the two cannot drift apart. Here:
//!
//! - [`image`]: a disk held in memory, with accessors for blocks, inodes, the
//!   bitmap and file contents;
//! - [`builder`]: validating the inputs and laying out a new image;
//! - [`check`]: checking an image, pass by pass, as it is or as the kernel
//!   will see it once it has recovered its log, and reporting every problem;
//! - [`damage`]: damaging an image on purpose, for the kernel's tests.
//!
//! The command line (`main.rs`) only parses arguments, reads and writes
//! files, and prints; all decisions are made here, where they are tested.

pub mod builder;
pub mod check;
pub mod damage;
pub mod image;

pub use builder::{BuildError, InputFile, build, read_inputs};
pub use check::{Problem, Summary, check, check_after_recovery};
