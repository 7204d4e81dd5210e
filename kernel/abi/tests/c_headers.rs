//! The C headers agree with `abi`.
//!
//! C programs cannot use this crate, so `user/c/include` restates its
//! numbers and layouts in C (`syscall.h`, `fcntl.h`, `stat.h`, `fs.h`,
//! `param.h`, `traps.h`, `memlayout.h`, `user.h`), readable the way xv6's headers are. This test holds that
//! second copy to the first: it writes a C file that includes the headers
//! and states, as one `_Static_assert` each, every number below as this
//! crate has it, and the size and offset of every field of `struct stat`
//! and `struct dirent`; then it has the host's gcc compile the file. A
//! header that has drifted fails to compile, and gcc's message quotes the
//! assertion that broke.
//!
//! The tables name each constant twice, in Rust and in C. So that a new
//! constant cannot be forgotten here, [`tables_cover_abi`] counts the
//! constants each abi source file defines and compares.

use std::fmt::Write as _;
use std::io::Write as _;
use std::mem::{offset_of, size_of, size_of_val};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use abi::fcntl::*;
use abi::fs::{
    BSIZE, DIRSIZ, DirEntry, FSSIZE, LOGSIZE, MAXFILE, MAXOPBLOCKS, NDIRECT, NINDIRECT, ROOTINO,
};
use abi::memlayout::{DIRECT_MAP, KERNBASE, PGSIZE, USER_BASE, USER_STACK_PAGES, USER_TOP};
use abi::param::*;
use abi::shm::{NSHM, NSHMPROC, NSHMWAIT, SHM_MAXPAGES, SHM_MAXSIZE, SHM_NAME_MAX, SHMBASE};
use abi::stat::{Stat, T_DEVICE, T_DIR, T_FILE};
use abi::syscall::*;
use abi::traps::*;

/// `abi::syscall`: every system call's C name and number, `MAXARG` and
/// `MAXPATH`.
const SYSCALLS: &[(&str, usize)] = &[
    ("MAXARG", MAXARG),
    ("MAXPATH", MAXPATH),
    ("SYS_fork", SYS_FORK),
    ("SYS_exit", SYS_EXIT),
    ("SYS_wait", SYS_WAIT),
    ("SYS_pipe", SYS_PIPE),
    ("SYS_read", SYS_READ),
    ("SYS_kill", SYS_KILL),
    ("SYS_exec", SYS_EXEC),
    ("SYS_fstat", SYS_FSTAT),
    ("SYS_chdir", SYS_CHDIR),
    ("SYS_dup", SYS_DUP),
    ("SYS_getpid", SYS_GETPID),
    ("SYS_sbrk", SYS_SBRK),
    ("SYS_sleep", SYS_SLEEP),
    ("SYS_uptime", SYS_UPTIME),
    ("SYS_open", SYS_OPEN),
    ("SYS_write", SYS_WRITE),
    ("SYS_mknod", SYS_MKNOD),
    ("SYS_unlink", SYS_UNLINK),
    ("SYS_link", SYS_LINK),
    ("SYS_mkdir", SYS_MKDIR),
    ("SYS_close", SYS_CLOSE),
    ("SYS_shm_open", SYS_SHM_OPEN),
    ("SYS_shm_trunc", SYS_SHM_TRUNC),
    ("SYS_shm_map", SYS_SHM_MAP),
    ("SYS_shm_close", SYS_SHM_CLOSE),
    ("SYS_shm_wait", SYS_SHM_WAIT),
    ("SYS_shm_wake", SYS_SHM_WAKE),
    ("SYS_tsc_hz", SYS_TSC_HZ),
];

/// `abi::fcntl`: the `open` flags, `NOFILE`, `PIPESIZE` and `PIPE_BUF`.
const FCNTL: &[(&str, usize)] = &[
    ("O_RDONLY", O_RDONLY as usize),
    ("O_WRONLY", O_WRONLY as usize),
    ("O_RDWR", O_RDWR as usize),
    ("O_CREATE", O_CREATE as usize),
    ("O_TRUNC", O_TRUNC as usize),
    ("NOFILE", NOFILE),
    ("PIPESIZE", PIPESIZE),
    ("PIPE_BUF", PIPE_BUF),
];

/// `abi::stat`'s inode types; xv6's C calls `T_DEVICE` `T_DEV`.
const STAT: &[(&str, usize)] = &[
    ("T_DIR", T_DIR as usize),
    ("T_FILE", T_FILE as usize),
    ("T_DEV", T_DEVICE as usize),
];

/// The numbers of `abi::fs` that `fs.h` gives user programs (the rest of
/// the on-disk layout is the kernel's and mkfs's business).
const FS: &[(&str, usize)] = &[
    ("ROOTINO", ROOTINO as usize),
    ("BSIZE", BSIZE),
    ("NDIRECT", NDIRECT),
    ("NINDIRECT", NINDIRECT),
    ("MAXFILE", MAXFILE),
    ("DIRSIZ", DIRSIZ),
];

/// The limits of `abi::shm` that `user.h` gives C programs.
const SHM: &[(&str, usize)] = &[
    ("NSHM", NSHM),
    ("NSHMPROC", NSHMPROC),
    ("SHM_MAXPAGES", SHM_MAXPAGES),
    ("SHM_MAXSIZE", SHM_MAXSIZE),
    ("SHM_NAME_MAX", SHM_NAME_MAX),
    ("NSHMWAIT", NSHMWAIT),
    ("SHMBASE", SHMBASE),
];

/// `abi::param`, as `param.h` has it: xv6 gives the kernel stack's size in
/// bytes (`KSTACKSIZE`), this kernel in pages.
const PARAM: &[(&str, usize)] = &[
    ("NCPU", NCPU),
    ("NPROC", NPROC),
    ("KSTACKSIZE", KSTACK_PAGES * PGSIZE),
    ("NFILE", NFILE),
    ("NINODE", NINODE),
    ("NBUF", NBUF),
    ("ROOTDEV", ROOTDEV as usize),
];

/// The rest of `param.h`, whose numbers live with the call or the disk
/// layout they limit.
const PARAM_ELSEWHERE: &[(&str, usize)] = &[
    ("NOFILE", NOFILE),
    ("MAXARG", MAXARG),
    ("MAXOPBLOCKS", MAXOPBLOCKS),
    ("LOGSIZE", LOGSIZE),
    ("FSSIZE", FSSIZE as usize),
];

/// `abi::traps`; `traps.h` keeps xv6's abbreviations.
const TRAPS: &[(&str, usize)] = &[
    ("T_DIVIDE", T_DIVIDE as usize),
    ("T_DEBUG", T_DEBUG as usize),
    ("T_NMI", T_NMI as usize),
    ("T_BRKPT", T_BREAKPOINT as usize),
    ("T_OFLOW", T_OVERFLOW as usize),
    ("T_BOUND", T_BOUND as usize),
    ("T_ILLOP", T_ILLEGAL_OPCODE as usize),
    ("T_DEVICE", T_DEVICE_NOT_AVAILABLE as usize),
    ("T_DBLFLT", T_DOUBLE_FAULT as usize),
    ("T_TSS", T_INVALID_TSS as usize),
    ("T_SEGNP", T_SEGMENT_NOT_PRESENT as usize),
    ("T_STACK", T_STACK_FAULT as usize),
    ("T_GPFLT", T_GENERAL_PROTECTION as usize),
    ("T_PGFLT", T_PAGE_FAULT as usize),
    ("T_FPERR", T_FPU_ERROR as usize),
    ("T_ALIGN", T_ALIGNMENT as usize),
    ("T_MCHK", T_MACHINE_CHECK as usize),
    ("T_SIMDERR", T_SIMD_ERROR as usize),
    ("T_SYSCALL", T_SYSCALL as usize),
    ("T_IRQ0", T_IRQ0 as usize),
    ("IRQ_TIMER", IRQ_TIMER as usize),
    ("IRQ_COM1", IRQ_COM1 as usize),
    ("IRQ_IDE", IRQ_IDE as usize),
    ("T_WAKEUP", T_WAKEUP as usize),
    ("T_SPURIOUS", T_SPURIOUS as usize),
];

/// `abi::memlayout`, as `memlayout.h` has it (`SHMBASE` with the shared
/// memory's limits, below).
const MEMLAYOUT: &[(&str, usize)] = &[
    ("PGSIZE", PGSIZE),
    ("USER_BASE", USER_BASE),
    ("USER_STACK_PAGES", USER_STACK_PAGES),
    ("USER_TOP", USER_TOP),
    ("DIRECT_MAP", DIRECT_MAP),
    ("KERNBASE", KERNBASE),
];

/// Where `DirEntry::encode` puts the inode number and the name, found by
/// encoding an entry and looking for its bytes, so that the layout checked
/// is the one written to disk.
fn dirent_offsets() -> (usize, usize) {
    let entry = DirEntry {
        inum: 0xa1b2,
        name: [b'n'; DIRSIZ],
    };
    let mut bytes = [0u8; DirEntry::SIZE];
    entry.encode(&mut bytes);
    let inum = bytes
        .windows(2)
        .position(|pair| pair == 0xa1b2u16.to_le_bytes())
        .expect("the encoded entry holds its inode number");
    let name = bytes
        .iter()
        .position(|&byte| byte == b'n')
        .expect("the encoded entry holds its name");
    (inum, name)
}

/// The C file: the headers, then one assertion per fact.
fn assertions() -> String {
    let mut c = String::from(
        "#include <stddef.h>\n#include \"types.h\"\n#include \"stat.h\"\n#include \"fcntl.h\"\n\
         #include \"fs.h\"\n#include \"syscall.h\"\n#include \"param.h\"\n#include \"traps.h\"\n\
         #include \"memlayout.h\"\n#include \"user.h\"\n",
    );
    let mut assert = |claim: String| {
        writeln!(c, "_Static_assert({claim}, \"abi says: {claim}\");").unwrap();
    };
    let tables = [
        SYSCALLS,
        FCNTL,
        STAT,
        FS,
        SHM,
        PARAM,
        PARAM_ELSEWHERE,
        TRAPS,
        MEMLAYOUT,
    ];
    for (name, value) in tables.concat() {
        // Unsigned: the kernel's addresses do not fit in a signed long.
        assert(format!("{name} == {value}UL"));
    }
    let st = Stat::default();
    assert(format!("sizeof(struct stat) == {}", size_of::<Stat>()));
    for (c_name, offset, size) in [
        ("dev", offset_of!(Stat, dev), size_of_val(&st.dev)),
        ("ino", offset_of!(Stat, ino), size_of_val(&st.ino)),
        ("type", offset_of!(Stat, kind), size_of_val(&st.kind)),
        ("nlink", offset_of!(Stat, nlink), size_of_val(&st.nlink)),
        ("pad", offset_of!(Stat, pad), size_of_val(&st.pad)),
        ("size", offset_of!(Stat, size), size_of_val(&st.size)),
    ] {
        assert(format!("offsetof(struct stat, {c_name}) == {offset}"));
        assert(format!("sizeof(((struct stat *)0)->{c_name}) == {size}"));
    }
    let (inum_at, name_at) = dirent_offsets();
    assert(format!("sizeof(struct dirent) == {}", DirEntry::SIZE));
    assert(format!("offsetof(struct dirent, inum) == {inum_at}"));
    assert("sizeof(((struct dirent *)0)->inum) == 2".to_string());
    assert(format!("offsetof(struct dirent, name) == {name_at}"));
    assert(format!("sizeof(((struct dirent *)0)->name) == {DIRSIZ}"));
    c
}

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn c_headers_agree_with_abi() {
    let include = repository().join("user/c/include");
    let mut gcc = Command::new("gcc")
        .args(["-std=gnu17", "-ffreestanding", "-fsyntax-only"])
        .args(["-Wall", "-Wextra", "-Werror", "-x", "c", "-", "-I"])
        .arg(&include)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot run gcc (make's set-up step installs it)");
    gcc.stdin
        .take()
        .expect("gcc's stdin is piped")
        .write_all(assertions().as_bytes())
        .expect("cannot write to gcc");
    let output = gcc.wait_with_output().expect("gcc did not finish");
    assert!(
        output.status.success(),
        "the C headers in {} disagree with abi:\n{}",
        include.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// How many `pub const PREFIX...` items the abi source file `file` has
/// (tables of them, like `syscall::ALL`, are not constants C needs).
fn constants_in(file: &str, prefix: &str) -> usize {
    let path = repository().join("kernel/abi/src").join(file);
    let source = std::fs::read_to_string(&path).expect("the abi source is readable");
    source
        .lines()
        .filter(|line| line.starts_with(&format!("pub const {prefix}")))
        .filter(|line| !line.contains(": &["))
        .count()
}

#[test]
fn tables_cover_abi() {
    for (file, prefix, table) in [
        ("syscall.rs", "", SYSCALLS),
        ("fcntl.rs", "", FCNTL),
        ("stat.rs", "T_", STAT),
        ("param.rs", "", PARAM),
        ("traps.rs", "", TRAPS),
    ] {
        assert_eq!(
            constants_in(file, prefix),
            table.len(),
            "kernel/abi/src/{file} defines a constant this test does not check: \
             add it to the C header and to this test's table"
        );
    }
}
