//! System calls about files: descriptors, reading and writing, the names in
//! the file system, pipes.
//!
//! Each process has `NOFILE` descriptors (`Private::files`), each empty or
//! holding a reference to an open file (file.rs). Every call that changes
//! the file system runs inside one log operation (`begin_op`..`end_op`),
//! which is also where inodes are dropped. Path arguments are copied in
//! with a limit of MAXPATH bytes.

use abi::fcntl::{O_CREATE, O_RDWR, O_TRUNC, O_WRONLY};
use abi::stat::InodeKind;

use crate::error::{Error, SysResult};
use crate::file::{self, File, Kind};
use crate::fs::{self, Inode, InodeGuard};
use crate::log;
use crate::param::MAXPATH;
use crate::pipe::{self, Pipe};
use crate::proc::Private;
use crate::syscall::Args;
use crate::vm;

/// The open file behind descriptor argument `n` of the calling process
/// `me`, borrowed from its descriptor table.
fn file_arg<'a>(me: &'a Private, args: &Args, n: usize) -> Result<(usize, &'a File), Error> {
    file_in(&me.files, args, n)
}

/// The open file behind descriptor argument `n` in the descriptor table
/// `files`.
fn file_in<'a>(
    files: &'a [Option<File>],
    args: &Args,
    n: usize,
) -> Result<(usize, &'a File), Error> {
    let fd = usize::try_from(args.int(n)).map_err(|_| Error::BadDescriptor)?;
    let file = files
        .get(fd)
        .and_then(Option::as_ref)
        .ok_or(Error::BadDescriptor)?;
    Ok((fd, file))
}

/// Puts `file` in `me`'s lowest free descriptor; gives it back on failure.
fn fd_alloc(me: &mut Private, file: File) -> Result<usize, (Error, File)> {
    match me.files.iter().position(Option::is_none) {
        Some(fd) => {
            me.files[fd] = Some(file);
            Ok(fd)
        }
        None => Err((Error::OutOfResources, file)),
    }
}

fn cwd(me: &Private) -> &Inode {
    me.cwd.as_ref().expect("a process has a current directory")
}

/// Runs `f` inside a log operation.
fn operation<R>(f: impl FnOnce() -> R) -> R {
    log::begin_op();
    let result = f();
    log::end_op();
    result
}

pub fn dup(args: &Args, me: &mut Private) -> SysResult {
    let (_, file) = file_arg(me, args, 0)?;
    let copy = file.clone();
    // Dropping the copy on failure only lowers the count: no operation needed.
    fd_alloc(me, copy).map_err(|(error, _)| error)
}

pub fn read(args: &Args, me: &mut Private) -> SysResult {
    let (files, space) = me.files_and_space();
    let (_, file) = file_in(files, args, 0)?;
    file.read(space, args.addr(1), args.usize(2))
}

pub fn write(args: &Args, me: &mut Private) -> SysResult {
    let (_, file) = file_arg(me, args, 0)?;
    file.write(me.space(), args.addr(1), args.usize(2))
}

pub fn close(args: &Args, me: &mut Private) -> SysResult {
    let (fd, _) = file_arg(me, args, 0)?;
    drop(me.files[fd].take());
    Ok(0)
}

pub fn fstat(args: &Args, me: &mut Private) -> SysResult {
    let (files, space) = me.files_and_space();
    let (_, file) = file_in(files, args, 0)?;
    file.stat_to(space, args.addr(1))?;
    Ok(0)
}

/// Copies path argument `n` from `me`'s memory into `buffer`.
fn path_arg<'b>(
    me: &Private,
    args: &Args,
    n: usize,
    buffer: &'b mut [u8; MAXPATH],
) -> Result<&'b [u8], Error> {
    args.str(n, me.space(), buffer)
}

/// link(old, new): another name for a file (not a directory).
pub fn link(args: &Args, me: &mut Private) -> SysResult {
    let (mut old_buf, mut new_buf) = ([0; MAXPATH], [0; MAXPATH]);
    let old = path_arg(me, args, 0, &mut old_buf)?;
    let new = path_arg(me, args, 1, &mut new_buf)?;
    let cwd = cwd(me);
    operation(|| {
        let inode = fs::namei(old, cwd)?;
        let mut guard = inode.lock()?;
        if guard.kind() == InodeKind::Dir {
            return Err(Error::IsDirectory);
        }
        guard.add_link()?;
        guard.update()?;
        drop(guard);
        let linked = fs::namei_parent(new, cwd).and_then(|(dir, name)| {
            // A directory entry can only name an inode on its own device.
            if dir.device() != inode.device() {
                return Err(Error::InvalidArgument);
            }
            dir.lock()?.link(name, inode.inum())
        });
        if linked.is_err() {
            // Undo the count (it was at least 1 before, so this cannot take
            // it to 0). The inode was read a moment ago, so locking it
            // again cannot fail; if writing it back does, the disk said
            // so, and the error that matters is the first.
            if let Ok(mut guard) = inode.lock() {
                let _ = guard.remove_link();
                let _ = guard.update();
            }
        }
        linked.map(|()| 0)
    })
}

/// unlink(path): removes a name; the file goes when its last link and
/// last open reference are gone.
///
/// The directory is locked, then the inode its entry names: parent before
/// child, the order every path walk keeps. A damaged disk can break that
/// order (an entry naming an ancestor, which another process may hold
/// while it waits for this directory), so the child is only tried: if it
/// is busy, the directory is let go before waiting for the child, and the
/// lookup starts again. (An entry naming the directory itself is refused
/// by the lookup.)
pub fn unlink(args: &Args, me: &mut Private) -> SysResult {
    let mut buf = [0; MAXPATH];
    let path = path_arg(me, args, 0, &mut buf)?;
    operation(|| {
        let (dir, name) = fs::namei_parent(path, cwd(me))?;
        if name == b"." || name == b".." {
            return Err(Error::InvalidArgument);
        }
        loop {
            let mut dir_guard = dir.lock()?;
            let (inode, offset) = dir_guard.lookup(name)?.ok_or(Error::NotFound)?;
            let Some(guard) = inode.try_lock()? else {
                drop(dir_guard);
                drop(inode.lock()?);
                continue;
            };
            return remove_entry(dir_guard, offset, name, guard);
        }
    })
}

/// The rest of `unlink`, with the directory and the inode its entry
/// `name` (at `offset`) names both locked. Every check comes before the
/// first change, so a refused call changes nothing.
fn remove_entry(
    mut dir_guard: InodeGuard<'_>,
    offset: u32,
    name: &[u8],
    mut guard: InodeGuard<'_>,
) -> SysResult {
    let is_dir = guard.kind() == InodeKind::Dir;
    if is_dir {
        guard.check_parent(dir_guard.inum(), name)?;
        if !guard.is_empty_dir()? {
            return Err(Error::NotEmpty);
        }
        dir_guard.check_subdirectory_link()?;
    } else if guard.nlink() == 0 {
        // Counting it down would fail anyway; fail before changing anything.
        return guard.remove_link().map(|()| 0);
    }
    let last_link = is_dir || guard.nlink() == 1;
    if last_link {
        // The blocks are freed when the last reference goes. Refuse now if
        // they cannot be, while nothing changed.
        guard.check_blocks()?;
    }
    dir_guard.erase_entry(offset)?;
    if is_dir {
        // The child's ".." no longer counts as a link to the parent
        // (checked above: this leaves at least 1).
        dir_guard.remove_link()?;
        dir_guard.update()?;
        drop(dir_guard);
        // Empty, it has no other link: whatever its count said, none is
        // left.
        guard.unlink_all();
    } else {
        drop(dir_guard);
        guard.remove_link()?;
    }
    guard.update()?;
    Ok(0)
}

/// Creates `path` (relative to `cwd`) as an inode of `kind` (for a
/// regular file, an existing file or device of that name will do) and
/// returns it, unlocked. Must run inside a log operation.
fn create(
    path: &[u8],
    cwd: &Inode,
    kind: InodeKind,
    major: u16,
    minor: u16,
) -> Result<Inode, Error> {
    let (dir, name) = fs::namei_parent(path, cwd)?;
    let mut dir_guard = dir.lock()?;
    if let Some((existing, _)) = dir_guard.lookup(name)? {
        drop(dir_guard);
        let guard = existing.lock()?;
        let reusable = kind == InodeKind::File
            && (guard.kind() == InodeKind::File || guard.kind() == InodeKind::Device);
        drop(guard);
        return if reusable {
            Ok(existing)
        } else {
            Err(Error::AlreadyExists)
        };
    }
    dir_guard.check_accepts_names()?;
    if kind == InodeKind::Dir {
        // The new directory's ".." will link to the parent: counted first,
        // in memory only, so that a count that cannot grow stops the call
        // before anything is made.
        dir_guard.add_link()?;
    }
    let made = (|| {
        let inode = fs::ialloc(dir.device(), kind)?;
        let mut guard = inode.lock()?;
        guard.set_device(major, minor);
        guard.set_first_link();
        guard.update()?;
        let linked = (|| {
            if kind == InodeKind::Dir {
                // "." and ".." first; "." does not count as a link.
                guard.link_dots(dir.inum())?;
            }
            dir_guard.link(name, inode.inum())?;
            if kind == InodeKind::Dir {
                // The parent's raised count goes to the disk.
                dir_guard.update()?;
            }
            Ok(())
        })();
        if let Err(error) = linked {
            // Undo: no links, so dropping the last reference frees it. (If
            // the disk fails to take that, it said so; the first error is
            // the one to return.)
            guard.unlink_all();
            let _ = guard.update();
            return Err(error);
        }
        drop(guard);
        Ok(inode)
    })();
    if made.is_err() && kind == InodeKind::Dir {
        // Give back the count taken above (the directory's entry may have
        // written it to the disk, so write it again).
        let _ = dir_guard.remove_link();
        let _ = dir_guard.update();
    }
    made
}

pub fn open(args: &Args, me: &mut Private) -> SysResult {
    let mut buf = [0; MAXPATH];
    let path = path_arg(me, args, 0, &mut buf)?;
    let cwd = cwd(me);
    let mode = args.int(1) as u32;
    // The file is made inside the operation, but put in a descriptor after
    // it: if no descriptor is free, dropping the file closes it, which
    // starts an operation of its own.
    let file = operation(|| {
        let inode = if mode & O_CREATE != 0 {
            create(path, cwd, InodeKind::File, 0, 0)?
        } else {
            fs::namei(path, cwd)?
        };
        let mut guard = inode.lock()?;
        let writable = mode & (O_WRONLY | O_RDWR) != 0;
        let readable = mode & O_WRONLY == 0;
        if guard.kind() == InodeKind::Dir && writable {
            return Err(Error::IsDirectory);
        }
        let major = guard.major();
        if guard.kind() == InodeKind::Device && major != abi::device::CONSOLE {
            return Err(Error::NotFound);
        }
        if mode & O_TRUNC != 0 && guard.kind() == InodeKind::File {
            guard.truncate()?;
        }
        let is_device = guard.kind() == InodeKind::Device;
        drop(guard);
        let kind = if is_device {
            Kind::Device { inode, major }
        } else {
            Kind::Inode(inode)
        };
        // If the table is full, `kind` (and its inode) is dropped here,
        // inside the operation, as inodes must be.
        file::alloc(kind, readable, writable).map_err(|(error, _kind)| error)
    })?;
    fd_alloc(me, file).map_err(|(error, _file)| error)
}

pub fn mkdir(args: &Args, me: &mut Private) -> SysResult {
    let mut buf = [0; MAXPATH];
    let path = path_arg(me, args, 0, &mut buf)?;
    operation(|| create(path, cwd(me), InodeKind::Dir, 0, 0).map(|_| 0))
}

pub fn mknod(args: &Args, me: &mut Private) -> SysResult {
    let mut buf = [0; MAXPATH];
    let path = path_arg(me, args, 0, &mut buf)?;
    let (major, minor) = (args.int(1) as u16, args.int(2) as u16);
    operation(|| create(path, cwd(me), InodeKind::Device, major, minor).map(|_| 0))
}

pub fn chdir(args: &Args, me: &mut Private) -> SysResult {
    let mut buf = [0; MAXPATH];
    let path = path_arg(me, args, 0, &mut buf)?;
    operation(|| {
        let inode = fs::namei(path, cwd(me))?;
        if inode.lock()?.kind() != InodeKind::Dir {
            return Err(Error::NotADirectory);
        }
        // The old directory is dropped inside the operation.
        me.cwd = Some(inode);
        Ok(0)
    })
}

/// pipe(fds): a new pipe; fds[0] reads, fds[1] writes.
pub fn pipe(args: &Args, me: &mut Private) -> SysResult {
    let fds_addr = args.addr(0);
    // Check the destination before creating anything.
    me.space().check(fds_addr, 8, true)?;
    let pipe = pipe::alloc()?;
    let read_end = match file::alloc(Kind::Pipe(pipe), true, false) {
        Ok(file) => file,
        Err((error, _)) => {
            // SAFETY: neither end was handed out; close both.
            unsafe {
                Pipe::close(pipe, false);
                Pipe::close(pipe, true);
            }
            return Err(error);
        }
    };
    let write_end = match file::alloc(Kind::Pipe(pipe), false, true) {
        Ok(file) => file,
        Err((error, _)) => {
            drop(read_end);
            // SAFETY: the write end was never handed out.
            unsafe { Pipe::close(pipe, true) };
            return Err(error);
        }
    };
    let read_fd = fd_alloc(me, read_end).map_err(|(error, _)| error)?;
    let write_fd = match fd_alloc(me, write_end) {
        Ok(fd) => fd,
        Err((error, _)) => {
            me.files[read_fd] = None;
            return Err(error);
        }
    };
    let mut fds = [0u8; 8];
    fds[..4].copy_from_slice(&(read_fd as i32).to_ne_bytes());
    fds[4..].copy_from_slice(&(write_fd as i32).to_ne_bytes());
    if let Err(error) = vm::copy_out(me.space_mut(), fds_addr, &fds) {
        me.files[read_fd] = None;
        me.files[write_fd] = None;
        return Err(error);
    }
    Ok(0)
}
