//! fsdamage: a damaged disk is refused, not fatal.
//!
//! The test harness boots this program on a copy of the file system that
//! `mkfs --damage` has spoiled on purpose (mkfs/src/damage.rs lists the
//! damage, one object in the root directory per kind, named for it). Each
//! check touches one damaged object the way a user program would, and
//! expects the system call that meets the damage to fail with -1 (the
//! kernel prints a line naming the inode or block, which the harness looks
//! for), the part that is not damaged to still read back, and nothing else
//! to be harmed: the last checks use the rest of the file system, run a
//! program, and hand the shell a few commands.
//!
//! The damaged files hold the bytes of `pattern` (the same function as in
//! damage.rs), so a check can tell the good part from garbage.
//!
//! Directories are damaged too: a name for a directory itself, a cycle,
//! and link counts too low or at their limit. The first check counts the
//! free inodes and blocks, and the last counts them again: the damage must
//! not make the kernel lose any.
//!
//! `fsdamage cycle` runs only the cycle's check, which the harness boots
//! at 4 CPUs: two processes remove names through the cycle at once.
//!
//! `fsdamage walk` is for disks damaged at random (`mkfs --damage-random`):
//! it reads every file it can reach and removes every name it can, and
//! whatever fails, it must end, with the kernel still running.
//!
//! `fsdamage disk-error` is the same idea one layer down: the harness boots
//! it with QEMU's `blkdebug` driver failing every read of the README's
//! first block, as a failing disk would. Reading the README must fail with
//! -1 (the IDE driver prints the drive's status), and the rest must work.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::ffi::CString;
use alloc::vec::Vec;
use core::ffi::CStr;
use core::sync::atomic::{AtomicUsize, Ordering};

use abi::fcntl::{O_RDONLY, O_RDWR, O_TRUNC};
use abi::fs::BSIZE;
use abi::stat::{Stat, T_DIR, T_FILE};
use abi::syscall::MAXPATH;
use ulib::string::Text;
use ulib::testing::{
    Check, CheckResult, count_free, dir_names, file_system_works, make_file, read_file, run_checks,
    spawn, stat, wait_all,
};
use ulib::{
    Args, STDIN, chdir, close, dup, ensure, ensure_eq, exec_args, exit, fork, fstat, link, mkdir,
    open, pipe, println, read, unlink, wait, write,
};

ulib::entry!(main);

/// The byte at `offset` of every damaged file.
fn pattern(offset: usize) -> u8 {
    b'a' + (offset % 26) as u8
}

/// The first `len` bytes of every damaged file.
fn patterned(len: usize) -> Vec<u8> {
    (0..len).map(pattern).collect()
}

/// Removes `path`, which must succeed, after which `path` must not open.
fn remove_name(path: &CStr) -> CheckResult {
    ensure_eq!(unlink(path), 0, "unlink of {}", Text(path.to_bytes()));
    ensure!(
        stat(path).is_err(),
        "{} is still there after its unlink",
        Text(path.to_bytes())
    );
    Ok(())
}

const CHECKS: &[Check] = &[
    ("count_free_before", count_free_before),
    ("address_past_the_disk", address_past_the_disk),
    (
        "write_to_an_address_past_the_disk",
        write_to_an_address_past_the_disk,
    ),
    ("address_of_the_superblock", address_of_the_superblock),
    (
        "indirect_address_past_the_disk",
        indirect_address_past_the_disk,
    ),
    ("size_without_blocks", size_without_blocks),
    ("size_past_the_largest_file", size_past_the_largest_file),
    ("unknown_inode_type", unknown_inode_type),
    ("name_for_a_free_inode", name_for_a_free_inode),
    ("name_for_a_missing_inode", name_for_a_missing_inode),
    ("directory_without_dot", directory_without_dot),
    ("blocks_the_bitmap_calls_free", blocks_the_bitmap_calls_free),
    (
        "entry_naming_its_own_directory",
        entry_naming_its_own_directory,
    ),
    ("directory_cycle", directory_cycle),
    ("directory_link_count_0", directory_link_count_0),
    ("directory_link_count_1", directory_link_count_1),
    ("directory_count_one_too_low", directory_count_one_too_low),
    ("directory_count_at_its_limit", directory_count_at_its_limit),
    ("block_of_two_files", block_of_two_files),
    (
        "file_named_twice_with_one_link",
        file_named_twice_with_one_link,
    ),
    ("file_named_with_no_links", file_named_with_no_links),
    (
        "file_with_more_links_than_names",
        file_with_more_links_than_names,
    ),
    ("other_files_still_work", other_files_still_work),
    ("programs_still_run", programs_still_run),
    ("the_shell_still_works", the_shell_still_works),
    ("nothing_leaked", nothing_leaked),
];

/// The checks of `fsdamage cycle`.
const CYCLE_CHECKS: &[Check] = &[
    ("directory_cycle", directory_cycle),
    ("cycle_raced_by_two_processes", cycle_raced_by_two_processes),
    ("other_files_still_work", other_files_still_work),
];

/// The checks of `fsdamage disk-error`.
const DISK_ERROR_CHECKS: &[Check] = &[
    (
        "unreadable_block_fails_the_read",
        unreadable_block_fails_the_read,
    ),
    ("other_files_still_work", other_files_still_work),
    ("programs_still_run", programs_still_run),
    ("the_shell_still_works", the_shell_still_works),
];

fn main(args: Args) -> i32 {
    match args.get(1) {
        None => run_checks("fsdamage", CHECKS),
        Some(b"cycle") => run_checks("fsdamage", CYCLE_CHECKS),
        Some(b"walk") => walk_everything(),
        Some(b"disk-error") => run_checks("fsdamage", DISK_ERROR_CHECKS),
        Some(_) => {
            ulib::eprintln!("usage: fsdamage [cycle | walk | disk-error]");
            2
        }
    }
}

/// The disk fails every read of the README's first block: the read fails,
/// again and again (nothing half-read is kept in the cache), while the
/// README's inode, which is elsewhere, still reads.
fn unreadable_block_fails_the_read() -> CheckResult {
    let fd = open(c"README", O_RDONLY);
    ensure!(fd >= 0, "open of README failed: its inode is readable");
    let mut buf = [0u8; 100];
    let first = read(fd, &mut buf);
    let second = read(fd, &mut buf);
    let mut st = Stat::default();
    let stat = fstat(fd, &mut st);
    close(fd);
    ensure_eq!(first, -1, "reading the unreadable block");
    ensure_eq!(second, -1, "reading it again");
    ensure!(stat == 0 && st.size > 0, "fstat of README");
    Ok(())
}

/// Reads `fd` to the end or to its first error; returns what it read and
/// whether a read failed.
fn read_until_error(fd: i32) -> (Vec<u8>, bool) {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match read(fd, &mut buf) {
            0 => return (data, false),
            n if n < 0 => return (data, true),
            n => data.extend_from_slice(&buf[..n as usize]),
        }
    }
}

/// Opens `path`, reads it until an error, and checks that the read fails
/// after exactly `good` bytes of the pattern.
fn expect_read_fails_after(path: &core::ffi::CStr, good: usize) -> CheckResult {
    let fd = open(path, O_RDONLY);
    ensure!(
        fd >= 0,
        "open of {path:?} failed: the inode itself is sound"
    );
    let (data, failed) = read_until_error(fd);
    close(fd);
    ensure!(
        failed,
        "reading {path:?} never failed ({} bytes read)",
        data.len()
    );
    ensure_eq!(
        data.len(),
        good,
        "bytes read from {path:?} before the error"
    );
    ensure!(
        data.iter().enumerate().all(|(i, &b)| b == pattern(i)),
        "the bytes read from {path:?} are not the file's"
    );
    Ok(())
}

/// Block 1 of `badaddr` is past the end of the disk: block 0 reads, then
/// the read fails.
fn address_past_the_disk() -> CheckResult {
    expect_read_fails_after(c"badaddr", BSIZE)
}

/// Writing over `badaddr`: block 0 takes the bytes, block 1 is refused,
/// so the write is short and the next one fails.
fn write_to_an_address_past_the_disk() -> CheckResult {
    let fd = open(c"badaddr", O_RDWR);
    ensure!(fd >= 0, "open of badaddr for writing failed");
    let data: Vec<u8> = (0..2 * BSIZE).map(pattern).collect();
    let first = write(fd, &data);
    let second = write(fd, &data[BSIZE..]);
    close(fd);
    ensure_eq!(first, BSIZE as isize, "a write across the bad block");
    ensure_eq!(second, -1, "a write at the bad block");
    Ok(())
}

/// `badmeta` says its block 0 is block 1, the superblock: reading it fails
/// at once, and so does writing, which would have overwritten the
/// superblock. The harness checks afterwards that block 1 is unchanged.
fn address_of_the_superblock() -> CheckResult {
    expect_read_fails_after(c"badmeta", 0)?;
    let fd = open(c"badmeta", O_RDWR);
    ensure!(fd >= 0, "open of badmeta for writing failed");
    let written = write(fd, &[0u8; BSIZE]);
    close(fd);
    ensure_eq!(written, -1, "a write to the superblock's block");
    // O_TRUNC would free the superblock's block: refused whole.
    ensure_eq!(open(c"badmeta", O_RDWR | O_TRUNC), -1, "open with O_TRUNC");
    Ok(())
}

/// `badind`'s indirect block lists a block past the disk as its block 13:
/// the twelve direct blocks and block 12 read, then the read fails.
fn indirect_address_past_the_disk() -> CheckResult {
    expect_read_fails_after(c"badind", 13 * BSIZE)
}

/// `badsize` claims three blocks and has one: the block reads, then the
/// read fails where the second should be; fstat still shows the size.
fn size_without_blocks() -> CheckResult {
    expect_read_fails_after(c"badsize", BSIZE)?;
    let fd = open(c"badsize", O_RDONLY);
    let mut st = Stat::default();
    ensure_eq!(fstat(fd, &mut st), 0);
    close(fd);
    ensure_eq!(st.size, 3 * BSIZE as u64, "badsize's size");
    Ok(())
}

/// An inode larger than any file: refused when it is read from disk.
fn size_past_the_largest_file() -> CheckResult {
    ensure_eq!(open(c"hugesize", O_RDONLY), -1, "open of hugesize");
    Ok(())
}

/// An inode of type 9: no call can use it, and it cannot be removed
/// either (the kernel does not know what it is freeing).
fn unknown_inode_type() -> CheckResult {
    ensure_eq!(open(c"badtype", O_RDONLY), -1, "open of badtype");
    ensure_eq!(link(c"badtype", c"badtype2"), -1, "link to badtype");
    ensure_eq!(unlink(c"badtype"), -1, "unlink of badtype");
    Ok(())
}

/// `ghost` names an inode that is free on disk.
fn name_for_a_free_inode() -> CheckResult {
    ensure_eq!(open(c"ghost", O_RDONLY), -1, "open of ghost");
    ensure_eq!(unlink(c"ghost"), -1, "unlink of ghost");
    // Making a new file of that name would reuse the entry's inode.
    ensure_eq!(
        open(c"ghost", O_RDWR | abi::fcntl::O_CREATE),
        -1,
        "create over ghost"
    );
    Ok(())
}

/// `faraway` names an inode number past the last one the disk has.
fn name_for_a_missing_inode() -> CheckResult {
    ensure_eq!(open(c"faraway", O_RDONLY), -1, "open of faraway");
    ensure_eq!(unlink(c"faraway"), -1, "unlink of faraway");
    Ok(())
}

/// `nodot` is a directory whose first entry, `.`, is gone: a path through
/// it, a new name in it, and removing it all fail. Reading it as a file
/// (as `ls` does) still works: only its entries are suspect.
fn directory_without_dot() -> CheckResult {
    ensure_eq!(open(c"nodot/inner", O_RDONLY), -1, "open of nodot/inner");
    ensure_eq!(mkdir(c"nodot/new"), -1, "mkdir nodot/new");
    ensure_eq!(link(c"README", c"nodot/readme"), -1, "link into nodot");
    ensure_eq!(unlink(c"nodot"), -1, "unlink of nodot");
    let fd = open(c"nodot", O_RDONLY);
    ensure!(fd >= 0, "open of the directory nodot failed");
    let (data, failed) = read_until_error(fd);
    close(fd);
    ensure!(!failed && data.len() == BSIZE, "reading nodot's entries");
    // In it, relative paths go through it too.
    ensure_eq!(chdir(c"nodot"), 0, "chdir nodot");
    let inner = open(c"inner", O_RDONLY);
    ensure_eq!(chdir(c"/"), 0, "chdir /");
    ensure_eq!(inner, -1, "open of inner inside nodot");
    Ok(())
}

/// `badbitmap`'s blocks are marked free in the bitmap, and they are the
/// first blocks the bitmap calls free: the file reads; a new file does not
/// get its blocks (the mount kept them back); removing or truncating it
/// (which would free its blocks a second time) is refused; and the file is
/// still whole afterwards.
fn blocks_the_bitmap_calls_free() -> CheckResult {
    let whole = |data: &[u8]| {
        data.len() == 2 * BSIZE && data.iter().enumerate().all(|(i, &b)| b == pattern(i))
    };
    ensure!(
        whole(&read_file(c"badbitmap")?),
        "badbitmap did not read back"
    );
    make_file(c"fsdamage.new", &[0x5a; 8 * BSIZE])?;
    let intact = whole(&read_file(c"badbitmap")?);
    ensure_eq!(unlink(c"fsdamage.new"), 0);
    ensure!(
        intact,
        "a new file was given badbitmap's blocks and overwrote them"
    );
    ensure_eq!(unlink(c"badbitmap"), -1, "unlink of badbitmap");
    ensure_eq!(
        open(c"badbitmap", O_RDWR | O_TRUNC),
        -1,
        "open with O_TRUNC"
    );
    ensure!(
        whole(&read_file(c"badbitmap")?),
        "badbitmap is not whole after"
    );
    Ok(())
}

/// The rest of the file system is unharmed: a program file reads whole,
/// and a new file and directory can be made, read back and removed.
fn other_files_still_work() -> CheckResult {
    let echo = read_file(c"echo")?;
    ensure!(
        echo.starts_with(b"\x7fELF"),
        "echo does not read back as an ELF file"
    );
    file_system_works("fsdamage")
}

/// exec still loads programs from the disk.
fn programs_still_run() -> CheckResult {
    let pid = fork();
    ensure!(pid >= 0, "fork failed");
    if pid == 0 {
        exec_args("echo", &["echo", "fsdamage: echo ran"]);
        exit(1);
    }
    let mut status = -1;
    ensure_eq!(wait(Some(&mut status)), pid);
    ensure_eq!(status, 0, "echo's exit status");
    Ok(())
}

/// The shell, fed commands on its standard input, runs them (the harness
/// checks their output) and exits at the end of its input.
fn the_shell_still_works() -> CheckResult {
    let mut fds = [0i32; 2];
    ensure_eq!(pipe(&mut fds), 0);
    let pid = fork();
    ensure!(pid >= 0, "fork failed");
    if pid == 0 {
        close(STDIN);
        dup(fds[0]);
        close(fds[0]);
        close(fds[1]);
        exec_args("sh", &["sh"]);
        exit(1);
    }
    close(fds[0]);
    let script = b"echo shell after damage | wc\nls nodot\ncat badsize\ncat README\n";
    let written = write(fds[1], script);
    close(fds[1]);
    ensure_eq!(written, script.len() as isize);
    let mut status = -1;
    ensure_eq!(wait(Some(&mut status)), pid);
    // The shell's last prompt has no newline: end its line, so that this
    // check's verdict starts a line of its own.
    println!();
    ensure_eq!(status, 0, "the shell's exit status");
    Ok(())
}

// ------------------------------------------------------------ directories

/// The free inodes and blocks when the checks began (`count_free_before`).
static FREE_BEFORE: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];

/// Where the counts take the disk's free inodes and blocks.
const SCRATCH: &CStr = c"/fsdamage.count";

fn count_free_before() -> CheckResult {
    let (inodes, blocks) = count_free(SCRATCH)?;
    FREE_BEFORE[0].store(inodes, Ordering::Relaxed);
    FREE_BEFORE[1].store(blocks, Ordering::Relaxed);
    Ok(())
}

/// The free inodes and blocks are what they were before the checks, but
/// for what the checks remove: `toolow/a` (an inode and its block),
/// `twonames` (an inode and two blocks), `zerolinks` and `highcount` (an
/// inode and a block each).
fn nothing_leaked() -> CheckResult {
    let before = (
        FREE_BEFORE[0].load(Ordering::Relaxed),
        FREE_BEFORE[1].load(Ordering::Relaxed),
    );
    ensure!(before.0 > 0, "the first count did not run");
    let after = count_free(SCRATCH)?;
    ensure_eq!(
        after,
        (before.0 + 4, before.1 + 5),
        "free (inodes, blocks) after the checks, with toolow/a, twonames, zerolinks and \
         highcount removed"
    );
    Ok(())
}

/// `twonames` and `twonames2` name one file of two blocks whose link
/// count said 1. Removing one name would have counted it down to 0 and
/// freed it under the other; the mount counted its names and made the
/// count 2 (the harness looks for the line). So the file stays whole under
/// either name while the other goes, a new file cannot be given its inode
/// or blocks, and removing both names frees it (`nothing_leaked`).
fn file_named_twice_with_one_link() -> CheckResult {
    let whole = patterned(2 * BSIZE);
    ensure_eq!(stat(c"twonames")?.nlink, 2, "twonames' link count");
    remove_name(c"twonames")?;
    // Were the inode freed, this file would be given it, or its blocks.
    make_file(c"fsdamage.new", &[0x5a; 4 * BSIZE])?;
    let intact = read_file(c"twonames2")? == whole;
    let count = stat(c"twonames2")?.nlink;
    ensure_eq!(unlink(c"fsdamage.new"), 0);
    ensure!(intact, "twonames2 is not whole after twonames went");
    ensure_eq!(count, 1, "twonames2's link count after twonames went");
    remove_name(c"twonames2")
}

/// `zerolinks` has a name but a link count of 0: the mount counted the
/// name and made the count 1, so the file reads whole, takes a second
/// name, and goes when both names are removed.
fn file_named_with_no_links() -> CheckResult {
    let whole = patterned(BSIZE);
    ensure_eq!(stat(c"zerolinks")?.nlink, 1, "zerolinks' link count");
    ensure!(
        read_file(c"zerolinks")? == whole,
        "zerolinks did not read back"
    );
    ensure_eq!(link(c"zerolinks", c"zerolinks2"), 0, "link to zerolinks");
    remove_name(c"zerolinks")?;
    ensure!(
        read_file(c"zerolinks2")? == whole,
        "zerolinks2 is not whole after zerolinks went"
    );
    remove_name(c"zerolinks2")
}

/// `highcount` has one name but a link count of 3: removing the name
/// would have left the count at 2, and the file allocated for good, with
/// nothing naming it. The mount, which read every directory whole, made
/// the count 1, so removing the name frees the file (`nothing_leaked`).
fn file_with_more_links_than_names() -> CheckResult {
    ensure_eq!(stat(c"highcount")?.nlink, 1, "highcount's link count");
    ensure!(
        read_file(c"highcount")? == patterned(BSIZE),
        "highcount did not read back"
    );
    remove_name(c"highcount")
}

/// Whether `path` is a directory that opens.
fn is_dir(path: &CStr) -> bool {
    stat(path).is_ok_and(|st| st.kind == T_DIR)
}

/// `loop` in the root names the root itself. Removing it would lock the
/// root twice; every call refuses it instead.
fn entry_naming_its_own_directory() -> CheckResult {
    ensure_eq!(unlink(c"loop"), -1, "unlink of loop");
    ensure_eq!(open(c"loop", O_RDONLY), -1, "open of loop");
    ensure_eq!(chdir(c"loop"), -1, "chdir loop");
    ensure_eq!(mkdir(c"loop/x"), -1, "mkdir loop/x");
    ensure!(is_dir(c"/"), "the root is no longer a directory");
    Ok(())
}

/// `cycle/ab/c/up` names `cycle/ab`. Removing `up` would remove `ab`'s
/// second name (it is refused as damage: `ab`'s `..` is `cycle`, not
/// `c`); removing `c` fails as `c` is not empty.
fn directory_cycle() -> CheckResult {
    ensure_eq!(unlink(c"cycle/ab/c/up"), -1, "unlink of cycle/ab/c/up");
    ensure_eq!(unlink(c"cycle/ab/c"), -1, "unlink of cycle/ab/c");
    ensure!(
        is_dir(c"cycle/ab/c/up/c"),
        "the cycle's directories are gone"
    );
    Ok(())
}

/// Two processes, again and again, at once: one removes `cycle/ab/c/up`
/// (which locks `c`, then `ab`) while the other removes `cycle/ab/c`
/// (which locks `ab`, then `c`). Parent-before-child order cannot keep
/// them apart here; both must finish.
fn cycle_raced_by_two_processes() -> CheckResult {
    const ROUNDS: usize = 400;
    let racer = |path: &'static CStr| {
        spawn(move || {
            for _ in 0..ROUNDS {
                if unlink(path) != -1 {
                    return 1;
                }
            }
            0
        })
    };
    let pids = [racer(c"cycle/ab/c/up")?, racer(c"cycle/ab/c")?];
    let statuses = wait_all(&pids)?;
    ensure_eq!(statuses, [0, 0], "the racers' exit statuses");
    ensure!(
        is_dir(c"cycle/ab/c/up/c"),
        "the cycle's directories are gone"
    );
    Ok(())
}

/// `nlink0` holds `sub` but has a link count of 0: the mount kept it (a
/// directory names it), it takes no new name, and removing `sub` (which
/// would count it below 0) is refused; everything in it stays.
fn directory_link_count_0() -> CheckResult {
    ensure_eq!(mkdir(c"nlink0/new"), -1, "mkdir nlink0/new");
    ensure_eq!(unlink(c"nlink0/sub"), -1, "unlink of nlink0/sub");
    ensure!(is_dir(c"nlink0/sub"), "nlink0/sub is gone");
    ensure!(is_dir(c"nlink0"), "nlink0 is gone");
    Ok(())
}

/// `nlink1` holds `sub` but has a link count of 1: removing `sub` would
/// take it to 0 and free it while the root still names it.
fn directory_link_count_1() -> CheckResult {
    ensure_eq!(unlink(c"nlink1/sub"), -1, "unlink of nlink1/sub");
    ensure!(is_dir(c"nlink1/sub"), "nlink1/sub is gone");
    ensure!(is_dir(c"nlink1"), "nlink1 is gone");
    Ok(())
}

/// `toolow` holds `a` and `b` with a count of 2, one too low: `a` goes
/// (the count is 1 then), and `b` is refused; `toolow` is not freed.
fn directory_count_one_too_low() -> CheckResult {
    ensure_eq!(unlink(c"toolow/a"), 0, "unlink of toolow/a");
    ensure_eq!(unlink(c"toolow/b"), -1, "unlink of toolow/b");
    ensure!(is_dir(c"toolow/b"), "toolow/b is gone");
    ensure!(is_dir(c"toolow"), "toolow is gone");
    Ok(())
}

/// `maxlink` has a link count of 65535: a new subdirectory would overflow
/// it. The mkdir is refused before anything is made.
fn directory_count_at_its_limit() -> CheckResult {
    ensure_eq!(mkdir(c"maxlink/x"), -1, "mkdir maxlink/x");
    ensure_eq!(open(c"maxlink/x", O_RDONLY), -1, "open of maxlink/x");
    ensure!(is_dir(c"maxlink"), "maxlink is gone");
    Ok(())
}

// ------------------------------------------------------------ the walk

/// How deep the walk goes: a damaged disk may hold a cycle.
const WALK_DEPTH: usize = 6;

#[derive(Default)]
struct Walk {
    dirs: usize,
    files: usize,
    bytes: usize,
    failed: usize,
    removed: usize,
}

/// `fsdamage walk`: reads everything reachable from the root, then
/// removes every name it can, deepest first. Failures are expected on a
/// damaged disk (the kernel prints why); the walk only has to end.
fn walk_everything() -> i32 {
    let mut walk = Walk::default();
    read_tree(c"/", 0, &mut walk);
    remove_tree(c"/", 0, &mut walk);
    println!(
        "fsdamage: walked {} directories and {} files ({} bytes), removed {} names; {} calls \
         failed",
        walk.dirs, walk.files, walk.bytes, walk.removed, walk.failed
    );
    println!("fsdamage: walk done");
    0
}

/// The paths of the entries of directory `dir`, "." and ".." left out.
fn children(dir: &CStr, walk: &mut Walk) -> Vec<CString> {
    let Ok(names) = dir_names(dir) else {
        walk.failed += 1;
        return Vec::new();
    };
    let prefix = if dir.to_bytes() == b"/" {
        b"".as_slice()
    } else {
        dir.to_bytes()
    };
    names
        .into_iter()
        .filter(|name| name.to_bytes() != b"." && name.to_bytes() != b"..")
        .filter_map(|name| {
            let mut path = prefix.to_vec();
            path.push(b'/');
            path.extend_from_slice(name.to_bytes());
            (path.len() < MAXPATH).then(|| CString::new(path).expect("names hold no NUL"))
        })
        .collect()
}

fn read_tree(dir: &CStr, depth: usize, walk: &mut Walk) {
    walk.dirs += 1;
    for path in children(dir, walk) {
        match stat(&path) {
            Ok(st) if st.kind == T_DIR => {
                if depth < WALK_DEPTH {
                    read_tree(&path, depth + 1, walk);
                }
            }
            // A device (the console) would wait for input: not read.
            Ok(st) if st.kind != T_FILE => {}
            Ok(_) => {
                walk.files += 1;
                let fd = open(&path, O_RDONLY);
                if fd < 0 {
                    walk.failed += 1;
                    continue;
                }
                let (data, failed) = read_until_error(fd);
                close(fd);
                walk.bytes += data.len();
                walk.failed += usize::from(failed);
            }
            Err(_) => walk.failed += 1,
        }
    }
}

fn remove_tree(dir: &CStr, depth: usize, walk: &mut Walk) {
    for path in children(dir, walk) {
        if depth < WALK_DEPTH && is_dir(&path) {
            remove_tree(&path, depth + 1, walk);
        }
        if unlink(&path) == 0 {
            walk.removed += 1;
        } else {
            walk.failed += 1;
        }
    }
}

/// `shareda` and `sharedb` both use one block: both read it, and neither
/// can be removed or truncated (which would free the block under the
/// other); both are whole afterwards.
fn block_of_two_files() -> CheckResult {
    ensure!(
        read_file(c"shareda")? == patterned(2 * BSIZE),
        "shareda did not read back"
    );
    ensure!(
        read_file(c"sharedb")? == patterned(BSIZE),
        "sharedb did not read back"
    );
    ensure_eq!(unlink(c"sharedb"), -1, "unlink of sharedb");
    ensure_eq!(unlink(c"shareda"), -1, "unlink of shareda");
    ensure_eq!(
        open(c"sharedb", O_RDWR | O_TRUNC),
        -1,
        "open of sharedb with O_TRUNC"
    );
    ensure!(
        read_file(c"shareda")? == patterned(2 * BSIZE),
        "shareda is not whole after"
    );
    ensure!(
        read_file(c"sharedb")? == patterned(BSIZE),
        "sharedb is not whole after"
    );
    Ok(())
}
