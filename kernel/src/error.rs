//! Why a system call failed: the kernel's one error type.
//!
//! A user program only ever sees -1 (xv6 has no error codes); the kinds
//! exist so that the kernel's own code says what went wrong, and so that
//! every layer, from the disk up to the system calls, returns the same
//! type without importing the layer above it. `syscall.rs` turns an
//! `Err` into -1 at the boundary.

/// Why a system call failed. User programs only see -1; the kinds make the
/// kernel's own code say what went wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// A pointer argument is not valid user memory.
    BadAddress,
    /// An argument is out of range.
    InvalidArgument,
    /// No free memory, process slot or table entry.
    OutOfResources,
    /// No such process, program or file.
    NotFound,
    /// The caller has no children to wait for.
    NoChildren,
    /// The program file is not a valid executable.
    BadExecutable,
    /// The caller was killed while it waited.
    Interrupted,
    /// A file descriptor that is out of range or not open.
    BadDescriptor,
    /// A directory where a file is needed.
    IsDirectory,
    /// A file where a directory is needed.
    NotADirectory,
    /// Removing a directory that still has entries.
    NotEmpty,
    /// Creating a name that exists.
    AlreadyExists,
    /// Writing to a pipe nobody reads.
    BrokenPipe,
    /// The file system on disk is damaged: a block address, inode or
    /// directory entry that cannot be right. The kernel printed a line
    /// naming it (fs.rs, "Damaged disks").
    Corrupt,
    /// The disk reported an error for a block (ide.rs printed it).
    DiskFailed,
}

/// What a system-call handler returns: the value for `rax`, or why not.
pub type SysResult = Result<usize, Error>;
