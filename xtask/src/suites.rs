//! Every suite `make test` runs, as data: this file is the list.
//!
//! Most suites are [`Boots`]: a test program booted at some CPU counts,
//! whose `PASS`/`FAIL` lines count as checks, plus what its console and
//! exit must show. Adding a test program is adding an entry to
//! [`boot_suites`]; nothing else names it. Four suites do more than boot
//! and read: the host checks (host.rs), the power cuts (crash.rs), the
//! shell session (session.rs) and the labs (labcheck.rs).

use abi::syscall::ALL as SYSCALLS;

use crate::boots::{Boots, Cpus, Ctx, Expect};
use crate::console::Console;
use crate::disks::{self, DiskKind};
use crate::qemu::{FAILED, PASSED};
use crate::shape::Shape;

/// What a suite is.
pub enum Kind {
    /// Boots of test programs, described as data.
    Boots(Vec<Boots>),
    /// Checks on the host: formatting, lints, unit tests, the build.
    Host,
    /// Power cuts during a file-system workload.
    Crash,
    /// A scripted session with the shell.
    Session,
    /// Every lab, generated, built and graded (the teacher's check).
    Labs,
}

/// A suite: its name (for `SUITES=`), what it tests, and how.
pub struct Suite {
    pub name: &'static str,
    pub about: &'static str,
    pub kind: Kind,
}

impl Suite {
    /// Is this suite the teacher's alone? A student's copy of a lab
    /// (which has no solutions to check) skips it.
    pub fn teachers_only(&self) -> bool {
        matches!(self.kind, Kind::Labs)
    }
}

/// The suites' names, in the order they report.
pub const ORDER: &[&str] = &[
    "host",
    "ktest",
    "proctest",
    "isolationtest",
    "usertests",
    "crash",
    "cowtest",
    "shmtest",
    "synctest",
    "ctest",
    "syscallfuzz",
    "bench",
    "images",
    "labs",
    "session",
    "damage",
    "fuzzdisk",
    "failures",
];

/// The order in which their jobs are queued: the longest first, so that
/// the short ones fill the gaps at the end.
pub const QUEUE_ORDER: &[&str] = &[
    "labs",
    "syscallfuzz",
    "usertests",
    "isolationtest",
    "ktest",
    "proctest",
    "cowtest",
    "shmtest",
    "synctest",
    "ctest",
    "crash",
    "bench",
    "images",
    "session",
    "damage",
    "fuzzdisk",
    "failures",
];

/// Every suite, in [`ORDER`]. `disk_seeds` are the fuzzdisk suite's.
pub fn all(disk_seeds: &[u64]) -> Vec<Suite> {
    let mut suites = vec![
        Suite {
            name: "host",
            about: "on the host: formatting, clippy, unit tests, the C headers, the images",
            kind: Kind::Host,
        },
        Suite {
            name: "crash",
            about: "power cuts during a file-system workload, then recovery and a check",
            kind: Kind::Crash,
        },
        Suite {
            name: "labs",
            about: "every lab: its copy built without warnings, graded low with the stubs and full with the solution",
            kind: Kind::Labs,
        },
        Suite {
            name: "session",
            about: "a scripted session with the shell on the normal image",
            kind: Kind::Session,
        },
    ];
    for (name, about, boots) in boot_suites(disk_seeds) {
        suites.push(Suite {
            name,
            about,
            kind: Kind::Boots(boots),
        });
    }
    suites.sort_by_key(|suite| ORDER.iter().position(|name| *name == suite.name));
    suites
}

/// The checks every test program's boot gets: its summary line says 0
/// failed, and QEMU's exit status says it passed.
fn passes(boots: Boots, program: &str) -> Boots {
    let name = boots.name.clone();
    boots
        .expect(Expect::line(
            format!("{name}-summary"),
            format!("{program}: {{n}} passed, 0 failed"),
        ))
        .expect(Expect::exit(format!("{name}-exit-code"), PASSED))
}

/// The boot line of QEMU's default CPU (FXSAVE, no SMEP/SMAP/UMIP).
const DEFAULT_CPU_LINE: &str = "SMEP off (not in this CPU), SMAP off (not in this CPU), UMIP off (not in this CPU); x87+SSE saved with FXSAVE";
/// The boot line of `-cpu max`.
const CPU_MAX_LINE: &str = "SMEP on, SMAP on, UMIP on; x87+SSE+AVX saved with XSAVE";

/// A trap line: the kernel killing a user process (trap.rs).
const TRAP_LINE: &str = "pid {n} {w}: trap {n} err {n} on cpu {n} rip 0x{x}--kill proc";
const TRAP_LINE_ADDR: &str =
    "pid {n} {w}: trap {n} err {n} on cpu {n} rip 0x{x} addr 0x{x}--kill proc";

/// The line of a process killed because there was no memory to copy a
/// copy-on-write page it wrote (trap.rs).
const COW_OOM_LINE: &str = "pid {n} cowtest: out of memory copying the copy-on-write page at 0x{x} on cpu {n} rip 0x{x}--kill proc";

/// The suites that only boot and read, each with what it tests.
fn boot_suites(disk_seeds: &[u64]) -> Vec<(&'static str, &'static str, Vec<Boots>)> {
    let each = |counts: &[usize]| Cpus::Each(counts.to_vec());
    vec![
        (
            "ktest",
            "the in-kernel tests, at 1, 2 and 4 CPUs",
            vec![passes(
                Boots::program("ktest", "all", each(&[1, 2, 4]))
                    .expect(Expect::line("boot-banner", crate::console::BANNER))
                    .expect(Expect::line("memory-map", "{..}usable{..}"))
                    .expect(Expect::line(
                        "cpus-running",
                        "xv6-rs: {cpus} CPU{..} running{..}",
                    )),
                "ktest",
            )],
        ),
        (
            "proctest",
            "processes and their system calls, at 1, 2 and 4 CPUs",
            vec![passes(
                Boots::program("proctest", "user:proctest", each(&[1, 2, 4])).expect(Expect::line(
                    "proctest-fault-line",
                    "pid {n} proctest: trap 14 err {n} on cpu {n} rip 0x{x} addr 0x0--kill proc",
                )),
                "proctest",
            )],
        ),
        (
            "isolationtest",
            "ports, privileged instructions, FPU/SSE privacy; -cpu max at 2 and 4",
            vec![
                isolation("isolationtest", each(&[1, 2, 4]), None, DEFAULT_CPU_LINE),
                isolation(
                    "isolationtest-cpumax",
                    each(&[2, 4]),
                    Some("max"),
                    CPU_MAX_LINE,
                ),
            ],
        ),
        (
            "usertests",
            "the file system and the userland (xv6's usertests), at 1 and 2 CPUs",
            vec![
                Boots::program("usertests", "user:usertests", each(&[2, 1]))
                    .expect(Expect::line("usertests-all-passed", "ALL TESTS PASSED{..}"))
                    .expect(Expect::exit("usertests-exit-code", PASSED))
                    .expect(fs_consistent("fs-consistent-after-usertests")),
            ],
        ),
        (
            "cowtest",
            "copy-on-write fork (sharing, copying, out of memory), at 1, 2 and 4 CPUs",
            vec![passes(
                Boots::program("cowtest", "user:cowtest", each(&[1, 2, 4]))
                    .expect(Expect::line("cowtest-out-of-memory-line", COW_OOM_LINE)),
                "cowtest",
            )],
        ),
        (
            "shmtest",
            "shared memory, one check per rule of docs/shm.md, at 1, 2 and 4 CPUs",
            vec![passes(
                Boots::program("shmtest", "user:shmtest", each(&[1, 2, 4])),
                "shmtest",
            )],
        ),
        (
            "synctest",
            "shm_wait/shm_wake and ulib::sync's locks and channel, at 1, 2 and 4 CPUs",
            vec![passes(
                Boots::program("synctest", "user:synctest", each(&[1, 2, 4])),
                "synctest",
            )],
        ),
        (
            "ctest",
            "the C runtime and exec of gcc's output, at 1 and 2 CPUs",
            vec![
                passes(
                    Boots::program("ctest", "user:ctest", each(&[1, 2])),
                    "ctest",
                )
                .expect(fs_consistent("fs-consistent-after-ctest")),
            ],
        ),
        (
            "syscallfuzz",
            "random system calls and instructions, at 1, 2 and 4 CPUs",
            vec![syscallfuzz()],
        ),
        (
            "bench",
            "the benchmark programs run once at 2 CPUs and print well-formed CSV",
            vec![bench("shmbench"), bench("sysbench")],
        ),
        (
            "images",
            "the images that run one test as they are (make images), booted with no fw_cfg request",
            own_images(),
        ),
        (
            "damage",
            "a disk damaged on purpose; a directory cycle raced at 4 CPUs; a failing disk",
            damage(),
        ),
        (
            "fuzzdisk",
            "disks damaged at random (DISK_SEEDS): the kernel neither panics nor hangs",
            disk_seeds.iter().map(|&seed| fuzzdisk(seed)).collect(),
        ),
        ("failures", "boots that must fail, and say why", failures()),
    ]
}

/// After the boot, `mkfs --check` finds the boot's disk consistent.
fn fs_consistent(check: &'static str) -> Expect {
    Expect::check(
        check,
        Box::new(|ctx: &Ctx| match &ctx.disk.path {
            Some(path) => disks::consistent(path),
            None => Err("the boot had no disk".into()),
        }),
    )
}

/// isolationtest's children try every port and privileged instruction,
/// and each must die with a trap line: the program says how many did,
/// and the console must show exactly as many.
fn isolation(name: &str, cpus: Cpus, model: Option<&'static str>, boot_line: &str) -> Boots {
    let mut boots = Boots::program(name, "user:isolationtest", cpus);
    boots.cpu_model = model;
    passes(boots, "isolationtest")
        .expect(Expect::line(
            format!("{name}-boot-line"),
            format!("xv6-rs: NX on, {boot_line}"),
        ))
        .expect(Expect::check(
            format!("{name}-trap-lines"),
            Box::new(|ctx: &Ctx| {
                trap_lines(ctx.console, "isolationtest", "children killed by a trap")
            }),
        ))
        .expect(Expect::line(
            format!("{name}-x87-exception"),
            "pid {n} isolationtest: trap 16 {..}",
        ))
}

/// `PROGRAM: N WHAT` counts processes killed by a trap; the console must
/// show exactly as many trap lines of PROGRAM.
fn trap_lines(console: &Console, program: &str, what: &str) -> Result<(), String> {
    let said = console.number_after(
        &format!("{program}: "),
        &Shape::of(&format!("{program}: {{n}} {what}{{..}}")),
    );
    let mut shown = 0;
    for line in &console.lines {
        let ours = line.starts_with("pid ") && line.contains(&format!(" {program}: trap "));
        if ours && (Shape::of(TRAP_LINE).matches(line) || Shape::of(TRAP_LINE_ADDR).matches(line)) {
            shown += 1;
        }
    }
    if said.is_some_and(|said| said > 0 && shown == said) {
        Ok(())
    } else {
        Err(format!(
            "{program} counted {} {what}, the console has {shown} trap lines ({})",
            said.map_or("no".into(), |n| n.to_string()),
            console.path.display()
        ))
    }
}

/// Every line a syscallfuzz boot may print from the kernel's banner on:
/// the boot messages (main.rs), init's and the test runner's, the
/// program's verdicts and reports, the kernel's trap line for each child
/// it kills (the random instruction sequences: trap.rs), and its
/// rate-limited note about system-call numbers no call has (syscall.rs).
/// Anything else, a panic, a warning or a mangled line, fails the suite:
/// a run that is expected to be noisy still shows only the expected noise.
pub const FUZZ_LINES: &[&str] = &[
    "",
    crate::console::BANNER,
    "physical memory map:",
    "  0x{x}-0x{x} {..} KiB  {..}",
    "xv6-rs: NX on, SMEP {..}, SMAP {..}, UMIP {..}; x87+SSE saved with {..}",
    "xv6-rs: NX on, SMEP {..}, SMAP {..}, UMIP {..}; x87+SSE+AVX saved with {..}",
    "xv6-rs: TSC at {n}.{n} MHz (calibrated against the PIT)",
    "cpu {n}: started (APIC id {n})",
    "xv6-rs: {n} CPU running, {n} pages ({n} MiB) free",
    "xv6-rs: {n} CPUs running, {n} pages ({n} MiB) free",
    "xv6-rs: {n} more CPU offered, left off: the kernel uses at most NCPU = {n}",
    "xv6-rs: {n} more CPUs offered, left off: the kernel uses at most NCPU = {n}",
    "init: starting syscallfuzz",
    "PASS {w}",
    "PASS {w}: {..}",
    "FAIL {w}",
    "FAIL {w}: {..}",
    "syscallfuzz: coverage {w}({n}) ok={n} err={n}",
    "syscallfuzz: coverage {w} ok={n} err={n}",
    "syscallfuzz: {n} fuzz rounds: {n} made all their calls, the watchdog stopped {n}",
    "syscallfuzz: {n} random instruction sequences: {n} killed by a trap, {n} by the watchdog, {n} ran through, {n} exited otherwise",
    "syscallfuzz: {n} passed, {n} failed",
    "pid {n} syscallfuzz: trap {n} err {n} on cpu {n} rip 0x{x}--kill proc",
    "pid {n} syscallfuzz: trap {n} err {n} on cpu {n} rip 0x{x} addr 0x{x}--kill proc",
    "pid {n} syscallfuzz: trap {n} in virtual-8086 mode on cpu {n} rip 0x{x}--kill proc",
    "pid {n} syscallfuzz: out of memory copying the copy-on-write page at 0x{x} on cpu {n} rip 0x{x}--kill proc",
    "{n} syscallfuzz: unknown sys call {n}",
    "{n} syscallfuzz: unknown sys call {n} ({n} more since the last line)",
    "init: syscallfuzz exited with status {i}",
    "ktest: user test program exited with status {i}",
];

/// The lines of `console`, from the banner on, that have none of
/// `allowed`'s shapes.
pub fn unexpected_lines<'a>(console: &'a Console, allowed: &[&str]) -> Vec<&'a str> {
    let shapes: Vec<Shape> = allowed.iter().map(|shape| Shape::of(shape)).collect();
    console
        .since_banner()
        .iter()
        .map(String::as_str)
        .filter(|line| !shapes.iter().any(|shape| shape.matches(line)))
        .collect()
}

/// syscallfuzz: seeded random system calls, and random instruction bytes
/// in watched child processes; then the kernel must still work, every
/// shared-memory slot be free, and no memory be lost.
fn syscallfuzz() -> Boots {
    passes(
        Boots::program("syscallfuzz", "user:syscallfuzz", Cpus::Each(vec![2, 4, 1])),
        "syscallfuzz",
    )
    .expect(Expect::check(
        "syscallfuzz-trap-lines",
        Box::new(|ctx: &Ctx| sequences_killed(ctx.console)),
    ))
    .expect(Expect::check(
        "syscallfuzz-coverage-lines",
        Box::new(|ctx: &Ctx| coverage(ctx.console)),
    ))
    .expect(Expect::check(
        "syscallfuzz-console-expected",
        Box::new(|ctx: &Ctx| {
            let unexpected = unexpected_lines(ctx.console, FUZZ_LINES);
            match unexpected.first() {
                None => Ok(()),
                Some(first) => Err(format!(
                    "{} unexpected lines, the first: '{first}' ({})",
                    unexpected.len(),
                    ctx.console.path.display()
                )),
            }
        }),
    ))
}

/// Each random instruction sequence ends with a trap line, an exit or
/// the watchdog's kill: the console shows at least as many trap lines (in
/// any format, virtual-8086 ones too) as syscallfuzz counted sequences
/// killed by a trap.
fn sequences_killed(console: &Console) -> Result<(), String> {
    let report =
        Shape::of("syscallfuzz: {n} random instruction sequences: {n} killed by a trap{..}");
    // "syscallfuzz: N random instruction sequences: K killed by ...": K.
    let killed = console.find(&report).and_then(|line| {
        line.split(": ")
            .nth(2)?
            .split(' ')
            .next()?
            .parse::<u64>()
            .ok()
    });
    let shown = console.count(&Shape::of("pid {n} syscallfuzz: trap {n} {..}")) as u64;
    match killed {
        Some(killed) if killed > 0 && shown >= killed => Ok(()),
        _ => Err(format!(
            "{} sequences killed by a trap, {shown} trap lines ({})",
            killed.map_or("no".into(), |n| n.to_string()),
            console.path.display()
        )),
    }
}

/// syscallfuzz printed a coverage line for every system call `abi` knows.
fn coverage(console: &Console) -> Result<(), String> {
    let missing: Vec<String> = SYSCALLS
        .iter()
        .filter(|(number, _)| {
            !console.has(&Shape::of(&format!(
                "syscallfuzz: coverage {{w}}({number}) ok={{n}} err={{n}}"
            )))
        })
        .map(|(number, name)| format!("{name} ({number})"))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "no coverage line for {} ({})",
            missing.join(", "),
            console.path.display()
        ))
    }
}

/// A benchmark program run once at 2 CPUs: its CSV is well formed (its
/// figures are `make bench`'s business).
fn bench(program: &'static str) -> Boots {
    let mut boots = Boots::program(program, &format!("user:{program}"), Cpus::Fixed(2));
    boots.name = format!("{program}-2");
    boots.heading = program.to_string();
    boots.verdicts = false;
    boots
        .expect(Expect::line(
            format!("{program}-csv-header"),
            crate::bench::CSV_HEADER,
        ))
        .expect(Expect::check(
            format!("{program}-csv-rows"),
            Box::new(|ctx: &Ctx| {
                let rows: Vec<&String> = ctx
                    .console
                    .lines
                    .iter()
                    .filter(|line| crate::bench::looks_like_row(line))
                    .collect();
                let bad = rows
                    .iter()
                    .filter(|row| crate::bench::parse_row(row).is_none())
                    .count();
                if rows.len() >= 5 && bad == 0 {
                    Ok(())
                } else {
                    Err(format!(
                        "{} rows, {bad} of them malformed ({})",
                        rows.len(),
                        ctx.console.path.display()
                    ))
                }
            }),
        ))
        .expect(Expect::exit(format!("{program}-exit-code"), PASSED))
}

/// The images that each run one test as they are, their request on the
/// kernel's command line (`make images`, made here the same way, in a
/// temporary folder), booted the way tools outside the runner boot them,
/// with no fw_cfg request: the in-kernel tests, and sysbench, which
/// ../shared's comparison with Linux boots so. (The others differ only in
/// the name, from which the request comes.)
fn own_images() -> Vec<Boots> {
    let ktest = Boots::own_image("image-ktest", "ktest", Cpus::Default).expect(Expect::line(
        "image-ktest-request",
        "PASS kalloc_every_page_once",
    ));
    let mut sysbench = Boots::own_image("image-sysbench", "sysbench", Cpus::Default)
        .expect(Expect::line("image-sysbench-row", "getpid,1,{n},{..}"))
        .expect(Expect::exit("image-sysbench-exit-code", PASSED));
    sysbench.verdicts = false;
    vec![passes(ktest, "ktest"), sysbench]
}

/// The line the kernel prints for each kind of damage (fs.rs and log.rs),
/// one per object of mkfs's damage.rs: the object's name (its inode comes
/// from mkfs's report), whether the line comes from the mount (before
/// init starts fsdamage) or from fsdamage's own calls (which must each
/// report the damage they meet, even if the mount's scan reported it
/// already), and the line's shape, in which `{inum}` stands for the
/// object's inode.
#[rustfmt::skip]
const DAMAGE_LINES: &[(&str, When, &str)] = &[
    ("badaddr", When::Calls, "fs: inode {n}: block 1 of the file is block {n}, outside the data blocks{..}"),
    ("badmeta", When::Calls, "fs: inode {n}: block 0 of the file is block 1, outside the data blocks{..}"),
    ("badind", When::Calls, "fs: inode {n}: block 13 of the file is block {n}, outside the data blocks{..}"),
    ("badsize", When::Calls, "fs: inode {n}: size 3072 but no block for byte 1024{..}"),
    ("hugesize", When::Calls, "fs: inode {n}: size {n} is more than a file can hold{..}"),
    ("badtype", When::Calls, "fs: inode {n} has type 9, which is no kind of inode{..}"),
    ("ghost", When::Calls, "fs: inode {n} is in use, but it is free on disk{..}"),
    ("faraway", When::Calls, "fs: directory inode 1: entry 'faraway' names inode {n}, but the disk has{..}"),
    ("nodot", When::Calls, "fs: directory inode {n}: its first entry is not '.'{..}"),
    ("badbitmap", When::Calls, "fs: inode {n} uses block {n}, but the bitmap marks it free{..}"),
    ("badbitmap-at-mount", When::Mount, "fs: inode {n} uses block {n}, but the bitmap marks it free; it will not be handed out{..}"),
    ("log", When::Mount, "log: the header on disk is damaged{..}"),
    ("loop", When::Calls, "fs: directory inode 1: entry 'loop' names the directory itself{..}"),
    ("cycle", When::Calls, "fs: directory inode {n}: its '..' is inode {inum}, but directory inode {n} names it 'up'{..}"),
    ("nlink0-at-mount", When::Mount, "fs: inode {inum} has no links, but a directory names it; it is kept{..}"),
    ("nlink0-mkdir", When::Calls, "fs: directory inode {inum} has a link count of 0 but a name{..}"),
    ("nlink0-unlink", When::Calls, "fs: directory inode {inum}: link count 0 is too low for a subdirectory{..}"),
    ("nlink1", When::Calls, "fs: directory inode {inum}: link count 1 is too low for a subdirectory{..}"),
    ("toolow", When::Calls, "fs: directory inode {inum}: link count 1 is too low for a subdirectory{..}"),
    ("maxlink", When::Calls, "fs: directory inode {inum}: link count 65535 cannot grow{..}"),
    ("sharedb-at-mount", When::Mount, "fs: inode {inum} uses block {n}, which another inode uses too; neither will free it{..}"),
    ("sharedb", When::Calls, "fs: inode {inum} uses block {n}, which another inode uses too{..}"),
    ("twonames-at-mount", When::Mount, "fs: inode {inum}: 2 directory entries name it, but its link count is 1; the count is now 2{..}"),
    ("zerolinks-at-mount", When::Mount, "fs: inode {inum}: 1 directory entry names it, but its link count is 0; the count is now 1{..}"),
    ("highcount-at-mount", When::Mount, "fs: inode {inum}: 1 directory entry names it, but its link count is 3; the count is now 1{..}"),
];

/// Where a damage line must appear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum When {
    /// While the kernel mounts the disk, before init starts fsdamage.
    Mount,
    /// During fsdamage's calls.
    Calls,
}

/// The line where init starts fsdamage: the mount's lines are before it.
const FSDAMAGE_STARTS: &str = "init: starting fsdamage";

/// A damaged disk: `mkfs`'s damage adds one damaged object per kind to a
/// copy of fs.img, and fsdamage touches each one and expects -1 where the
/// damage is met. The console must name each piece of damage in one line,
/// nothing may panic, and the superblock (which one damaged file points
/// at) must be unchanged. Then the cycle again, raced by two processes at
/// 4 CPUs, and a disk that fails to read the README's first block.
fn damage() -> Vec<Boots> {
    let mut fsdamage = Boots::program("fsdamage", "user:fsdamage", Cpus::Default);
    fsdamage.heading = "a damaged disk".into();
    fsdamage.disk = DiskKind::Damaged;
    fsdamage = fsdamage.expect(Expect::check(
        "damage-made",
        Box::new(|ctx: &Ctx| {
            let damaged = ctx
                .disk
                .damage
                .iter()
                .any(|line| line.starts_with("badbitmap:"));
            if damaged && !ctx.disk.problems_before.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "mkfs's damage did not damage the image: {}",
                    ctx.disk
                        .error
                        .as_deref()
                        .unwrap_or("mkfs --check found nothing")
                ))
            }
        }),
    ));
    fsdamage = passes(fsdamage, "fsdamage");
    for &(name, when, shape) in DAMAGE_LINES {
        fsdamage = fsdamage.expect(Expect::check(
            format!("damage-reported-{name}"),
            Box::new(move |ctx: &Ctx| damage_reported(ctx, name, when, shape)),
        ));
    }
    fsdamage = fsdamage
        .expect(Expect::no_panic("damage-no-panic"))
        .expect(Expect::check(
            "damage-shell-and-exec",
            Box::new(|ctx: &Ctx| {
                // The shell's `echo ... | wc` printed 1 3 19, and echo ran.
                let wc = ctx.console.lines.iter().any(|line| {
                    line.split_whitespace()
                        .collect::<Vec<_>>()
                        .ends_with(&["1", "3", "19"])
                });
                if wc && ctx.console.has(&Shape::of("fsdamage: echo ran{..}")) {
                    Ok(())
                } else {
                    Err(format!(
                        "the shell's pipeline or echo printed nothing after the damage ({})",
                        ctx.console.path.display()
                    ))
                }
            }),
        ))
        .expect(Expect::check(
            "damage-superblock-unchanged",
            Box::new(|ctx: &Ctx| {
                let path = ctx.disk.path.as_ref().ok_or("no disk")?;
                let bytes = std::fs::read(path).map_err(|error| error.to_string())?;
                let at = abi::fs::SUPERBLOCK_BLOCK as usize * abi::fs::BSIZE;
                if bytes.get(at..at + abi::fs::BSIZE) == Some(&ctx.disk.superblock[..]) {
                    Ok(())
                } else {
                    Err("the superblock changed: a write through badmeta reached it".into())
                }
            }),
        ))
        .expect(Expect::check("damage-orphan-freed", Box::new(orphan_freed)))
        .expect(Expect::check(
            "damage-link-counts-leave-nothing",
            Box::new(link_counts_leave_nothing),
        ));
    // The exit check comes last, as the damage-made check came first.
    let exit = fsdamage
        .expect
        .iter()
        .position(|expect| matches!(expect, Expect::Exit(..)))
        .expect("passes() added an exit check");
    let exit = fsdamage.expect.remove(exit);
    fsdamage.expect.push(exit);

    let mut cycle = Boots::program("fsdamagecycle", "user:fsdamage,cycle", Cpus::Fixed(4));
    cycle.heading = "a directory cycle raced by two processes".into();
    cycle.disk = DiskKind::Damaged;
    let cycle = passes(cycle, "fsdamage")
        .expect(Expect::line(
            "fsdamagecycle-reported",
            "fs: directory inode {n}: its '..' is inode {n}, but directory inode {n} names it 'up'{..}",
        ))
        .expect(Expect::no_panic("fsdamagecycle-no-panic"));

    let mut disk_error = Boots::program("fsdiskerror", "user:fsdamage,disk-error", Cpus::Default);
    disk_error.heading = "a disk that fails to read a block".into();
    disk_error.disk = DiskKind::FailingReadme;
    let disk_error = passes(disk_error, "fsdamage")
        .expect(Expect::check(
            "fsdiskerror-reported",
            Box::new(|ctx: &Ctx| {
                let block = ctx.disk.failing_block.ok_or("the disk was not prepared")?;
                let shape = format!(
                    "ide: disk 1 failed to read block {block} (status 0x{{x}}, error 0x04){{..}}"
                );
                if ctx.console.has(&Shape::of(&shape)) {
                    Ok(())
                } else {
                    Err(format!(
                        "no line '{shape}' in {}",
                        ctx.console.path.display()
                    ))
                }
            }),
        ))
        .expect(Expect::no_panic("fsdiskerror-no-panic"));
    vec![fsdamage, cycle, disk_error]
}

/// The console named the damage of the object `name`, at mount or during
/// fsdamage's calls.
fn damage_reported(ctx: &Ctx, name: &str, when: When, shape: &str) -> Result<(), String> {
    let object = name.split('-').next().unwrap_or(name);
    let shape = if shape.contains("{inum}") {
        let inum = mkfs::damage::damaged_inode(&ctx.disk.damage, object)
            .ok_or_else(|| format!("mkfs's damage report names no inode for {object}"))?;
        shape.replace("{inum}", &inum.to_string())
    } else {
        shape.to_string()
    };
    let (mount, calls) = ctx.console.split_at(&Shape::of(FSDAMAGE_STARTS));
    let part = match when {
        When::Mount => mount,
        When::Calls => calls,
    };
    if part.has(&Shape::of(&shape)) {
        Ok(())
    } else {
        let part_name = match when {
            When::Mount => "the mount's lines",
            When::Calls => "fsdamage's calls' lines",
        };
        Err(format!(
            "no line '{shape}' among {part_name} ({})",
            ctx.console.path.display()
        ))
    }
}

/// The orphan (a file a crash left with no links) was unreachable before
/// the boot, is gone after it, and the kernel said it freed it.
fn orphan_freed(ctx: &Ctx) -> Result<(), String> {
    let orphan = mkfs::damage::damaged_inode(&ctx.disk.damage, "orphan")
        .ok_or("mkfs's damage report names no orphan")?;
    let path = ctx.disk.path.as_ref().ok_or("no disk")?;
    let mentions = |problem: &String| {
        problem.contains(&format!("inode {orphan} "))
            || problem.contains(&format!("inode {orphan}:"))
    };
    let before = ctx.disk.problems_before.iter().any(mentions);
    let after = disks::problems(path)?.iter().any(mentions);
    let said = ctx.console.has(&Shape::of(&format!(
        "fs: inode {orphan} has no links (removed while open, before a crash): freed{{..}}"
    )));
    if before && !after && said {
        Ok(())
    } else {
        Err(format!(
            "the orphan inode {orphan} was not freed at mount (unreachable before: {before}, after: {after}, the kernel said so: {said}; {})",
            ctx.console.path.display()
        ))
    }
}

/// The files whose link count was not their names (`twonames`,
/// `zerolinks`, `highcount`): `mkfs --check` found each wrong before the
/// boot, and finds nothing of them after it, in which fsdamage removed
/// every name they had: neither a wrong count nor an inode left allocated
/// with no name.
fn link_counts_leave_nothing(ctx: &Ctx) -> Result<(), String> {
    let path = ctx.disk.path.as_ref().ok_or("no disk")?;
    let after = disks::problems(path)?;
    for object in ["twonames", "zerolinks", "highcount"] {
        let inum = mkfs::damage::damaged_inode(&ctx.disk.damage, object)
            .ok_or_else(|| format!("mkfs's damage report names no {object}"))?;
        let mentions = |problem: &String| {
            problem.contains(&format!("inode {inum} "))
                || problem.contains(&format!("inode {inum}:"))
        };
        let before = ctx.disk.problems_before.iter().any(mentions);
        let left: Vec<&String> = after.iter().filter(|p| mentions(p)).collect();
        if !before || !left.is_empty() {
            return Err(format!(
                "{object} (inode {inum}): mkfs --check found it wrong before the boot: {before}; \
                 after: {left:?} ({})",
                ctx.console.path.display()
            ));
        }
    }
    Ok(())
}

/// A disk damaged at random from `seed`: fsdamage walks, reads and
/// removes everything it can. The calls may fail (the console says why);
/// the kernel must not panic, hang or kill the program, and the walk
/// must end.
fn fuzzdisk(seed: u64) -> Boots {
    let name = format!("fuzzdisk-{seed}");
    let replay = format!("replay: make fuzz-disk SEEDS={seed}");
    let mut boots = Boots::program(&name, "user:fsdamage,walk", Cpus::Default);
    boots.heading = format!("a disk damaged at random, seed {seed}");
    boots.disk = DiskKind::DamagedAtRandom(seed);
    boots.verdicts = false;
    let with_replay = move |result: Result<(), String>, replay: &str| {
        result.map_err(|why| format!("{why}; {replay}"))
    };
    let r1 = replay.clone();
    let r2 = replay.clone();
    let r3 = replay.clone();
    boots
        .expect(Expect::check(
            format!("{name}-damaged"),
            Box::new(|ctx: &Ctx| match &ctx.disk.error {
                None if !ctx.disk.damage.is_empty() => Ok(()),
                None => Err("mkfs's random damage changed nothing".into()),
                Some(error) => Err(error.clone()),
            }),
        ))
        .expect(Expect::check(
            format!("{name}-walk-ended"),
            Box::new(move |ctx: &Ctx| {
                let ended = ctx.console.has(&Shape::of("fsdamage: walk done{..}"));
                with_replay(
                    if ended {
                        Ok(())
                    } else {
                        Err(format!(
                            "the walk did not end ({}; {})",
                            ctx.outcome.exit.describe(),
                            ctx.console.path.display()
                        ))
                    },
                    &r1,
                )
            }),
        ))
        .expect(Expect::check(
            format!("{name}-no-panic"),
            Box::new(move |ctx: &Ctx| with_replay(crate::boots::no_panic(ctx.console), &r2)),
        ))
        .expect(Expect::check(
            format!("{name}-no-trap"),
            Box::new(move |ctx: &Ctx| {
                match ctx.console.find(&Shape::of("pid {n} fsdamage: trap{..}")) {
                    None => Ok(()),
                    Some(line) => Err(format!("the walk was killed by a trap: '{line}'; {r3}")),
                }
            }),
        ))
        .expect(Expect::exit(format!("{name}-exit-code"), PASSED))
}

/// A boot that must fail: `request` asks the test kernel to fail on
/// purpose, and the console must say why: each of `lines` is a check,
/// `NAME-SUFFIX`, that a line has the shape.
fn failure(name: &str, heading: &str, request: &str, lines: &[(&str, &str)]) -> Boots {
    let mut boots = Boots::program(name, request, Cpus::Default);
    boots.heading = heading.to_string();
    boots.verdicts = false;
    for (check, shape) in lines {
        boots = boots.expect(Expect::line(format!("{name}-{check}"), *shape));
    }
    boots.expect(Expect::exit(format!("{name}-exit-code"), FAILED))
}

/// Boots that must fail, and say why: a panic, a kernel page fault, a
/// lock taken twice, a kernel stack and a CPU stack overflowing, SMAP and
/// SMEP stopping the kernel, no file system disk, a corrupt superblock.
fn failures() -> Vec<Boots> {
    let stack_overflow = |name: &'static str, heading: &str| {
        failure(
            name,
            heading,
            name,
            &[
                ("double-fault", "{..}kernel trap 8 (double fault){..}"),
                ("panic", "panic: double fault in the kernel{..}"),
            ],
        )
    };
    let user_page = |guard: &'static str| {
        let mut boots = failure(
            guard,
            &format!("kernel touching a user page ({guard})"),
            guard,
            &[
                ("fault", "{..}kernel trap 14 (page fault){..}"),
                (
                    "named",
                    &format!("  {}: the kernel{{..}}", guard.to_uppercase()),
                ),
                ("panic", "panic: page fault in the kernel{..}"),
            ],
        );
        boots.cpu_model = Some("max");
        boots
    };
    let mut nodisk = failure(
        "nodisk",
        "no file system disk",
        "all",
        &[(
            "message",
            "panic: ide: no disk 1 (the file system image is missing{..}",
        )],
    );
    nodisk.disk = DiskKind::None;
    // A superblock whose bitmap starts inside the inode blocks: the
    // kernel must refuse to mount it, and `mkfs --check` must find the
    // same fault.
    let mut badsuper = failure(
        "badsuper",
        "corrupt superblock",
        "user:usertests",
        &[(
            "message",
            "panic: fs: disk 1 has a corrupt superblock: the bitmap starts at block 40{..}",
        )],
    );
    badsuper.disk = DiskKind::BitmapAt(40);
    badsuper = badsuper.expect(Expect::check(
        "badsuper-mkfs-check",
        Box::new(|ctx: &Ctx| {
            let path = ctx.disk.path.as_ref().ok_or("no disk")?;
            let found = disks::problems(path)?;
            if found
                .iter()
                .any(|problem| problem.contains("the bitmap starts at block 40"))
            {
                Ok(())
            } else {
                Err(format!(
                    "mkfs --check found {found:?}, not the bitmap at block 40"
                ))
            }
        }),
    ));
    vec![
        failure(
            "panic",
            "panic report",
            "panic",
            &[
                ("message", "panic: deliberate panic{..}"),
                ("location", "{..}at kernel/src/ktest.rs:{n}:{n}{..}"),
            ],
        ),
        failure(
            "pagefault",
            "kernel page fault report",
            "pagefault",
            &[
                (
                    "vector",
                    "{..}kernel trap 14 (page fault), error code 0x0{..}",
                ),
                (
                    "cr2",
                    "{..}faulting address (cr2) 0x00000000dead0000: read on a missing page{..}",
                ),
                ("registers", "  rax 0x00000000dead0000{..}"),
                ("backtrace", "  backtrace:{..}"),
                ("panic", "panic: page fault in the kernel{..}"),
            ],
        ),
        failure(
            "relock",
            "lock taken twice",
            "relock",
            &[(
                "names-lock",
                "panic: acquire: lock 'deliberately relocked' already held by this CPU{..}",
            )],
        ),
        failure(
            "sleeprelock",
            "a sleep lock taken twice by its holder",
            "sleeprelock",
            &[(
                "names-lock",
                "panic: sleep lock 'deliberately relocked' taken again by its holder{..}",
            )],
        ),
        stack_overflow("stackoverflow", "kernel stack overflow"),
        stack_overflow("cpustackoverflow", "CPU stack overflow"),
        user_page("smap"),
        user_page("smep"),
        nodisk,
        badsuper,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::path::Path;

    /// Every shape in the table parses, and every check name is unique.
    #[test]
    fn the_table_is_well_formed() {
        let config = crate::testing::config();
        let mut names = HashSet::new();
        for suite in all(&[1, 2]) {
            assert!(
                ORDER.contains(&suite.name),
                "{} is not in ORDER",
                suite.name
            );
            let Kind::Boots(groups) = suite.kind else {
                continue;
            };
            assert!(QUEUE_ORDER.contains(&suite.name));
            for boots in groups {
                for (_, job, suffix) in boots.instances(&config) {
                    assert!(names.insert(job.clone()), "two jobs called {job}");
                    for expect in &boots.expect {
                        if let Expect::Line(_, shape) = expect {
                            Shape::parse(&shape.replace("{cpus}", "2")).unwrap();
                        }
                        let check = format!("{}{suffix}", expect.name());
                        assert!(names.insert(check.clone()), "two checks called {check}");
                    }
                }
            }
        }
        for (_, _, shape) in DAMAGE_LINES {
            Shape::parse(&shape.replace("{inum}", "7")).unwrap();
        }
        for shape in FUZZ_LINES {
            Shape::parse(shape).unwrap();
        }
    }

    #[test]
    fn the_fuzz_console_rule_fails_on_a_stray_line() {
        let text = "SeaBIOS\nxv6-rs: a Rust rewrite of xv6 for x86_64\ncpu 1: started (APIC id 1)\nPASS a\npid 7 syscallfuzz: trap 13 err 0 on cpu 1 rip 0x1000--kill proc\n";
        let console = Console::from_text(Path::new("x"), text);
        assert!(unexpected_lines(&console, FUZZ_LINES).is_empty());
        let console = Console::from_text(Path::new("x"), &format!("{text}panic: oops\n"));
        assert_eq!(unexpected_lines(&console, FUZZ_LINES), ["panic: oops"]);
    }

    #[test]
    fn coverage_names_the_missing_call() {
        let mut text = String::new();
        for (number, name) in SYSCALLS.iter().skip(1) {
            text.push_str(&format!(
                "syscallfuzz: coverage {name}({number}) ok=1 err=2\n"
            ));
        }
        let why = coverage(&Console::from_text(Path::new("x"), &text)).unwrap_err();
        assert!(why.starts_with("no coverage line for fork (1)"), "{why}");
        text.push_str("syscallfuzz: coverage fork(1) ok=1 err=0\n");
        assert!(coverage(&Console::from_text(Path::new("x"), &text)).is_ok());
    }

    #[test]
    fn trap_lines_are_counted_exactly() {
        let text = "isolationtest: 2 children killed by a trap\npid 4 isolationtest: trap 13 err 0 on cpu 0 rip 0x10--kill proc\npid 5 isolationtest: trap 14 err 4 on cpu 1 rip 0x10 addr 0x0--kill proc\n";
        let console = Console::from_text(Path::new("x"), text);
        assert!(trap_lines(&console, "isolationtest", "children killed by a trap").is_ok());
        let console = Console::from_text(Path::new("x"), &text.replace("2 children", "3 children"));
        assert!(trap_lines(&console, "isolationtest", "children killed by a trap").is_err());
    }
}
