//! The verdict of an in-kernel test: `Ok`, or the reason it failed.
//!
//! The tests live beside the code they test (kalloc.rs, vm.rs,
//! spinlock.rs, ...), and ktest.rs runs them; this type is all those
//! modules need to share, so it has a module of its own rather than
//! making the low layers import the test runner.

/// A kernel test's verdict.
pub type TestResult = Result<(), &'static str>;
