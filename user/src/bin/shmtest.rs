//! shmtest: checks shared memory against its contract, docs/shm.md, and
//! shows it at work.
//!
//! `shmtest` with no arguments runs one check per rule of the contract (the
//! table in [`CHECKS`]) with [`ulib::testing::run_checks`], which prints
//! `PASS name` or `FAIL name: why` for each, then
//! `shmtest: N passed, M failed`; the program exits with 0 only if all
//! passed.
//!
//! `shmtest NAME SIZE NPROC` is the demo: it creates the object NAME, sizes
//! it to SIZE bytes, maps it and forks NPROC workers, which inherit the
//! mapping and each fill their own stripe of it with a letter of their own;
//! then it checks every byte and prints what it saw.
//!
//! # How the checks work
//!
//! The checks hold descriptors in [`Shm`]s, which close on drop, so a check
//! that fails half-way leaves nothing open for the next one: every check
//! starts in a process with no shared-memory descriptors, and with every
//! slot of the kernel's table free (nothing else should use shared memory
//! while the tests run). Where a check needs to see exactly what the kernel
//! returns, it makes the raw system call of [`ulib::shm`] on the `Shm`'s
//! descriptor ([`map`] always does, since the `Shm` of an object another
//! process sized does not know its size). The checks reach mapped memory
//! only through [`window_read`] and [`window_write`]: single loads and
//! stores in inline assembly, which the compiler cannot reason about, so it
//! neither caches shared bytes nor assumes an address is mapped.
//!
//! A check that expects a process to die runs the deed in a forked child and
//! looks at how it ended: the kernel kills a process for a page fault, and
//! `wait` then reports status -1. Other children are checks of their own
//! ([`spawn_check`], [`in_child`]), which send back why they failed.
//! Processes that must wait for each other do so on a [`Pipe`]: a read
//! blocks until the other side writes a byte or closes its end.
//!
//! Around the checks, the runner measures free memory before and after,
//! and the last checks make sure that every slot is free again
//! (`slots_free_at_end`) and that no page was lost (`no_leaks`).
//!
//! The exec checks run this program again as `shmtest --exec-child ...` (see
//! [`exec_child`]), which is not meant to be typed.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::ffi::CString;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::hint::black_box;
use core::ptr;

use abi::syscall::{SYS_SHM_MAP, SYS_SHM_OPEN};
use ulib::shm::{
    NSHMPROC, O_RDONLY, O_RDWR, SHM_END, SHM_MAXSIZE, SHM_NAME_MAX, SLOT_SIZE, Shm, ShmError,
    shm_close, shm_map, shm_open, shm_trunc, shm_wait, shm_wake,
};
use ulib::string::Text;
use ulib::testing::{
    BAD_POINTERS, Check, CheckResult, Pipe, expect_killed, fill_shm_table, in_child, join_all,
    probe_read, probe_write, reap_all, receive_verdict, run_checks, send_verdict, spawn,
    spawn_check, wait_all, wait_for,
};
use ulib::usys::{syscall1, syscall3};
use ulib::{
    Args, PGSIZE, SHMBASE, ensure, ensure_eq, eprintln, exec_args, exit, fork, kill, println, read,
    sleep, wait,
};

ulib::entry!(main);

/// Every check, in the order they run. The names say which rule of
/// docs/shm.md each one tests.
const CHECKS: &[Check] = &[
    ("open_lowest_descriptor", open_lowest_descriptor),
    ("open_same_name_twice", open_same_name_twice),
    ("open_exact_names", open_exact_names),
    ("open_name_length", open_name_length),
    ("open_bad_pointers", open_bad_pointers),
    ("open_unterminated_name", open_unterminated_name),
    ("open_descriptor_limit", open_descriptor_limit),
    ("lookup_unrelated_processes", lookup_unrelated_processes),
    ("object_outlives_creator", object_outlives_creator),
    ("trunc_rounds_up_zeroed", trunc_rounds_up_zeroed),
    ("trunc_bad_sizes", trunc_bad_sizes),
    ("trunc_only_once", trunc_only_once),
    ("trunc_race", trunc_race),
    ("map_fixed_address", map_fixed_address),
    ("map_bad_flags", map_bad_flags),
    ("map_unsized", map_unsized),
    ("map_bad_va", map_bad_va),
    ("map_twice", map_twice),
    ("fork_shares_memory", fork_shares_memory),
    ("fork_copies_descriptors", fork_copies_descriptors),
    ("readonly_write_killed", readonly_write_killed),
    ("use_after_close_killed", use_after_close_killed),
    ("unmapped_window_killed", unmapped_window_killed),
    ("exec_closes_descriptors", exec_closes_descriptors),
    (
        "exec_failed_keeps_descriptors",
        exec_failed_keeps_descriptors,
    ),
    ("exit_closes_descriptors", exit_closes_descriptors),
    ("bad_descriptors", bad_descriptors),
    ("library_wrapper", library_wrapper),
    ("long_loop", long_loop),
    ("concurrent_processes", concurrent_processes),
    ("slot_reuse_race", slot_reuse_race),
    ("same_object_cycles", same_object_cycles),
    ("table_limit", table_limit),
    ("wait_wrong_value", wait_wrong_value),
    ("wake_wakes_waiter", wake_wakes_waiter),
    ("wait_wake_bad_arguments", wait_wake_bad_arguments),
    ("slots_free_at_end", slots_free_at_end),
];

fn main(args: Args) -> i32 {
    if args.get(1) == Some(b"--exec-child".as_slice()) {
        return exec_child(args);
    }
    match args.len() {
        1 => run_checks("shmtest", CHECKS),
        4 => demo(args),
        _ => {
            eprintln!("usage: shmtest [NAME SIZE NPROC]");
            1
        }
    }
}

// ---------------------------------------------------------------------------
// Descriptors and the window.

/// Opens `name`; failure is an error naming it.
fn open(name: &[u8]) -> Result<Shm, String> {
    Shm::open(name).map_err(|e| format!("shm_open(\"{}\"): {e}", Text(name)))
}

/// Sizes the object; anything but `size` rounded up to pages is an error.
fn trunc(shm: &mut Shm, size: usize) -> CheckResult {
    let od = shm.descriptor();
    let got = shm
        .trunc(size)
        .map_err(|e| format!("sizing od {od} to {size}: {e}"))?;
    ensure_eq!(
        got,
        size.div_ceil(PGSIZE) * PGSIZE,
        "shm_trunc(od {od}, {size})"
    );
    Ok(())
}

/// Maps the object with `flags` through the raw call; returns the address.
fn map(shm: &Shm, flags: u32) -> Result<usize, String> {
    let mut va = 0;
    let result = shm_map(shm.descriptor(), &mut va, flags);
    ensure!(
        result == 0,
        "shm_map(od {}, flags {flags}) returned {result}",
        shm.descriptor()
    );
    Ok(va)
}

/// Opens `name`, sizes it to `size` bytes and maps it read-write: the start
/// of most checks. Returns the descriptor and the address.
fn create(name: &[u8], size: usize) -> Result<(Shm, usize), String> {
    let mut shm = open(name)?;
    trunc(&mut shm, size)?;
    let va = map(&shm, O_RDWR)?;
    Ok((shm, va))
}

/// Closes `shm`, which must succeed.
fn close(shm: Shm) -> CheckResult {
    let od = shm.descriptor();
    shm.close().map_err(|e| format!("closing od {od}: {e}"))
}

/// Closes descriptor `od` by number (raw: -1 if it is not open), for the
/// copies a child inherited and for descriptors opened raw.
fn close_od(od: i32) -> i32 {
    // SAFETY: shmtest holds no Rust reference into any mapping: it reaches
    // mapped memory only through `window_read` and `window_write`, whose
    // assembly takes a fresh address each time.
    unsafe { shm_close(od) }
}

/// `shm_open` of a name given as bytes (no NUL inside), straight to the
/// kernel, even for names `Shm::open` would refuse. Returns the descriptor
/// or -1.
fn open_raw(name: &[u8]) -> i32 {
    match CString::new(name) {
        Ok(name) => shm_open(&name),
        Err(_) => -1,
    }
}

/// Whether `addr` lies in the shared-memory window.
fn in_window(addr: usize) -> bool {
    (SHMBASE..SHM_END).contains(&addr)
}

/// Reads the byte at `addr`, which must be in the shared-memory window. If
/// nothing is mapped there the kernel kills this process, which is what
/// some checks test.
fn window_read(addr: usize) -> u8 {
    assert!(in_window(addr), "{addr:#x} is outside the window");
    probe_read(addr)
}

/// Writes `value` to `addr`, which must be in the shared-memory window. If
/// nothing writable is mapped there the kernel kills this process, which is
/// what some checks test.
fn window_write(addr: usize, value: u8) {
    assert!(in_window(addr), "{addr:#x} is outside the window");
    // SAFETY: the window holds nothing that Rust code of this program owns:
    // the image, stack and heap lie below SHMBASE, and shmtest keeps no
    // references into mappings. So the store cannot break any invariant.
    unsafe { probe_write(addr, value) };
}

/// The test pattern: byte `i` of a region filled with `seed`. Zero only
/// where `seed` and `i` make it so by chance, and different for
/// neighbouring seeds at every offset.
fn pattern(seed: u8, i: usize) -> u8 {
    seed.wrapping_mul(31).wrapping_add((i ^ (i >> 8)) as u8) | 1
}

/// Fills `len` bytes at `va` with `pattern(seed, i)`.
fn fill(va: usize, len: usize, seed: u8) {
    for i in 0..len {
        window_write(va + i, pattern(seed, i));
    }
}

/// Checks that the `len` bytes at `va` are `expected(i)`.
fn check_bytes(va: usize, len: usize, expected: impl Fn(usize) -> u8) -> CheckResult {
    match (0..len).find(|&i| window_read(va + i) != expected(i)) {
        None => Ok(()),
        Some(i) => Err(format!(
            "byte {i} at {:#x} is {:#04x}, expected {:#04x}",
            va + i,
            window_read(va + i),
            expected(i)
        )),
    }
}

/// Checks that `len` bytes at `va` hold the pattern of `seed`.
fn check_pattern(va: usize, len: usize, seed: u8) -> CheckResult {
    check_bytes(va, len, |i| pattern(seed, i))
}

/// Checks that `len` bytes at `va` are zero.
fn check_zero(va: usize, len: usize) -> CheckResult {
    check_bytes(va, len, |_| 0)
}

/// Checks that `name` gives a new, unsized object now: the last reference
/// to any earlier one is gone and its slot freed. The probe object is
/// closed again, so it leaves nothing behind.
fn expect_fresh(name: &[u8], why: &str) -> CheckResult {
    let mut shm = open(name).map_err(|e| format!("{why}: {e}"))?;
    trunc(&mut shm, PGSIZE).map_err(|e| format!("{why}: the old object is still there ({e})"))?;
    let va = map(&shm, O_RDWR).map_err(|e| format!("{why}: {e}"))?;
    check_zero(va, PGSIZE).map_err(|e| format!("{why}: the new object is not zeroed: {e}"))
}

/// Fails unless `shm_open(name)` fails; closes what it opened if not.
fn expect_open_fails(what: &str, name: &[u8]) -> CheckResult {
    match open_raw(name) {
        -1 => Ok(()),
        od => {
            if od >= 0 {
                close_od(od);
            }
            Err(format!("shm_open of {what} returned {od}"))
        }
    }
}

/// Whether `va` is where some slot's object is mapped.
fn is_slot_address(va: usize) -> bool {
    in_window(va) && (va - SHMBASE).is_multiple_of(SLOT_SIZE)
}

// ---------------------------------------------------------------------------
// shm_open.

/// A descriptor is the lowest one free.
fn open_lowest_descriptor() -> CheckResult {
    let a = open(b"t-low-a")?;
    let b = open(b"t-low-b")?;
    let c = open(b"t-low-c")?;
    let got = (a.descriptor(), b.descriptor(), c.descriptor());
    ensure!(
        got == (0, 1, 2),
        "three opens in a fresh process gave {got:?}"
    );
    close(b)?;
    let d = open(b"t-low-d")?;
    ensure_eq!(d.descriptor(), 1, "the next open after closing 1");
    drop((a, c, d));
    Ok(())
}

/// One name opened twice: two descriptors, two references to one object.
fn open_same_name_twice() -> CheckResult {
    let mut first = open(b"t-twice")?;
    let second = open(b"t-twice")?;
    ensure!(
        first.descriptor() != second.descriptor(),
        "both opens returned descriptor {}",
        first.descriptor()
    );
    trunc(&mut first, PGSIZE)?;
    ensure_eq!(
        shm_trunc(second.descriptor(), PGSIZE as i32),
        -1,
        "shm_trunc through the second descriptor"
    );
    let va = map(&first, O_RDWR)?;
    fill(va, PGSIZE, 1);
    close(first)?;
    // The second reference keeps the object, and its data, alive.
    let va = map(&second, O_RDONLY)?;
    check_pattern(va, PGSIZE, 1).map_err(|e| format!("after closing the first: {e}"))?;
    drop(second);
    expect_fresh(b"t-twice", "after closing both")
}

/// Names compare byte for byte over their whole length: no prefix
/// matching, no truncation.
fn open_exact_names() -> CheckResult {
    let names: [&[u8]; 5] = [b"t-exact", b"t-exac", b"t-exactly", b"t-exacT", b"t-exact "];
    let mut opened = Vec::new();
    let mut addresses = Vec::new();
    for name in names {
        let mut shm = open(name)?;
        // Each must be a new object of its own, so each sizes.
        trunc(&mut shm, PGSIZE)
            .map_err(|e| format!("\"{}\" is not a new object: {e}", Text(name)))?;
        let va = map(&shm, O_RDWR)?;
        ensure!(
            !addresses.contains(&va),
            "\"{}\" mapped at {va:#x}, like an earlier name",
            Text(name)
        );
        addresses.push(va);
        opened.push(shm);
    }
    Ok(())
}

/// 63 bytes is the longest name; 64 bytes and the empty name fail.
fn open_name_length() -> CheckResult {
    let longest = [b'n'; SHM_NAME_MAX];
    let mut shm = open(&longest).map_err(|e| format!("a {SHM_NAME_MAX}-byte name: {e}"))?;
    trunc(&mut shm, PGSIZE)?;
    let again = open(&longest)?;
    ensure_eq!(
        shm_trunc(again.descriptor(), PGSIZE as i32),
        -1,
        "shm_trunc of the 63-byte name opened again"
    );
    // A name one byte too long, whose first 63 bytes are the name above:
    // truncating it would find that object.
    let too_long = [b'n'; SHM_NAME_MAX + 1];
    expect_open_fails("a 64-byte name", &too_long)?;
    expect_open_fails("a 100-byte name", &[b'x'; 100])?;
    expect_open_fails("the empty name", b"")
}

/// Pointers to no name at all.
fn open_bad_pointers() -> CheckResult {
    for (what, pointer) in BAD_POINTERS
        .into_iter()
        .chain([("window", SHM_END - PGSIZE)])
    {
        // SAFETY: shm_open only reads through the pointer, and must refuse
        // these.
        let result = unsafe { syscall1(SYS_SHM_OPEN, pointer) };
        if result >= 0 {
            close_od(result as i32);
        }
        ensure!(
            result == -1,
            "shm_open of a {what} pointer ({pointer:#x}) returned {result}"
        );
    }
    Ok(())
}

/// A name that runs into unmapped memory before its NUL fails; one that
/// ends just before unmapped memory works. The end of a one-page object's
/// mapping is such a place: the rest of its slot is unmapped.
fn open_unterminated_name() -> CheckResult {
    let (_shm, va) = create(b"t-unterminated", PGSIZE)?;
    let end = va + PGSIZE;
    for i in 0..PGSIZE {
        window_write(va + i, b'u');
    }
    for (what, pointer) in [
        ("8 bytes before unmapped memory", end - 8),
        ("1 byte before unmapped memory", end - 1),
        ("64 bytes without a NUL", va),
    ] {
        // SAFETY: shm_open only reads through the pointer, and must refuse
        // these.
        let result = unsafe { syscall1(SYS_SHM_OPEN, pointer) };
        if result >= 0 {
            close_od(result as i32);
        }
        ensure!(result == -1, "shm_open of a name {what} returned {result}");
    }
    // "t-end" and its NUL in the page's last 6 bytes: a whole string.
    for (i, &byte) in b"t-end\0".iter().enumerate() {
        window_write(end - 6 + i, byte);
    }
    // SAFETY: shm_open only reads the name.
    let od = unsafe { syscall1(SYS_SHM_OPEN, end - 6) } as i32;
    ensure!(od >= 0, "shm_open of a name that ends with the page failed");
    ensure_eq!(close_od(od), 0, "closing it");
    Ok(())
}

/// Sixteen descriptors per process; a freed one is used again.
fn open_descriptor_limit() -> CheckResult {
    let mut all = Vec::new();
    for i in 0..NSHMPROC as i32 {
        let shm = open(b"t-limit")?;
        ensure_eq!(shm.descriptor(), i, "open number {}", i + 1);
        all.push(shm);
    }
    expect_open_fails("a 17th descriptor (same name)", b"t-limit")?;
    expect_open_fails("a 17th descriptor (new name)", b"t-limit-new")?;
    close(all.remove(5))?;
    let reopened = open(b"t-limit")?;
    ensure_eq!(reopened.descriptor(), 5, "the open after closing 5");
    Ok(())
}

// ---------------------------------------------------------------------------
// Names across processes, and object lifetime.

/// An object found by name from a process that did not inherit it: the
/// creator and the reader are siblings, and the reader opens after the
/// creator has sized and filled the object.
fn lookup_unrelated_processes() -> CheckResult {
    const NAME: &[u8] = b"t-lookup";
    const SIZE: usize = 3 * PGSIZE;
    let mut ready = Pipe::new()?;
    let mut go = Pipe::new()?;
    let creator = spawn_check(|| {
        go.close_write();
        ready.close_read();
        let (_shm, va) = create(NAME, SIZE)?;
        fill(va, SIZE, 7);
        ready.send_usize(va);
        // Hold the object until the reader is done.
        go.receive();
        Ok(())
    })?;
    go.close_read();
    ready.close_write();
    let Some(creator_va) = ready.receive_usize() else {
        return creator
            .join()
            .and(Err(String::from("the creator sent no address")));
    };
    // Forked now, the reader inherits no descriptor: the parent has none.
    let reader = in_child(|| {
        let shm = open(NAME)?;
        ensure!(
            shm_trunc(shm.descriptor(), PGSIZE as i32) == -1,
            "the object was not the sized one (shm_trunc succeeded)"
        );
        let va = map(&shm, O_RDONLY)?;
        ensure!(
            va == creator_va,
            "the object was mapped at {va:#x}, in its creator at {creator_va:#x}"
        );
        check_pattern(va, SIZE, 7)
            .map_err(|e| format!("the data differed from what the creator wrote: {e}"))
    });
    go.close_write();
    let creator_verdict = creator.join();
    reader?;
    creator_verdict
}

/// An object lives while any process holds it: the creator exits, the
/// parent's descriptor keeps the data. When that last reference goes, the
/// name is free for a new object.
fn object_outlives_creator() -> CheckResult {
    const NAME: &[u8] = b"t-outlive";
    let held = open(NAME)?;
    in_child(|| {
        let (shm, va) = create(NAME, PGSIZE)?;
        fill(va, PGSIZE, 9);
        // Exits holding its descriptor: exit closes it.
        core::mem::forget(shm);
        Ok(())
    })?;
    let va = map(&held, O_RDONLY)?;
    check_pattern(va, PGSIZE, 9).map_err(|e| format!("after the creator exited: {e}"))?;
    close(held)?;
    expect_fresh(NAME, "after the last close")
}

// ---------------------------------------------------------------------------
// shm_trunc.

/// Sizes round up to whole pages, and the pages are zero.
fn trunc_rounds_up_zeroed() -> CheckResult {
    for size in [1, 4095, 4096, 4097, 100_000, SHM_MAXSIZE] {
        let name = format!("t-size-{size}");
        let (_shm, va) = create(name.as_bytes(), size)?;
        let bytes = size.div_ceil(PGSIZE) * PGSIZE;
        check_zero(va, bytes).map_err(|e| format!("size {size}: {e}"))?;
        // The last byte is usable.
        window_write(va + bytes - 1, 0x5A);
        ensure!(
            window_read(va + bytes - 1) == 0x5A,
            "size {size}: the last byte did not keep its value"
        );
    }
    Ok(())
}

/// Sizes out of range fail and leave the object unsized.
fn trunc_bad_sizes() -> CheckResult {
    let mut shm = open(b"t-bad-size")?;
    for size in [0, -1, -4096, i32::MIN, SHM_MAXSIZE as i32 + 1, i32::MAX] {
        ensure_eq!(
            shm_trunc(shm.descriptor(), size),
            -1,
            "shm_trunc(od, {size})"
        );
    }
    trunc(&mut shm, PGSIZE).map_err(|e| format!("after the bad sizes: {e}"))
}

/// An object is sized once: a second size fails, from any descriptor or
/// process, and leaves the data alone.
fn trunc_only_once() -> CheckResult {
    let (shm, va) = create(b"t-once", 2 * PGSIZE)?;
    let od = shm.descriptor();
    fill(va, 2 * PGSIZE, 3);
    ensure_eq!(shm_trunc(od, PGSIZE as i32), -1, "a second shm_trunc");
    ensure_eq!(
        shm_trunc(od, 2 * PGSIZE as i32),
        -1,
        "a second shm_trunc to the same size"
    );
    let other = open(b"t-once")?;
    ensure_eq!(
        shm_trunc(other.descriptor(), 8 * PGSIZE as i32),
        -1,
        "shm_trunc through another descriptor"
    );
    in_child(|| {
        let own = open(b"t-once")?;
        ensure!(
            shm_trunc(own.descriptor(), PGSIZE as i32) == -1,
            "shm_trunc succeeded in another process"
        );
        ensure!(
            shm_trunc(od, PGSIZE as i32) == -1,
            "shm_trunc through an inherited descriptor succeeded"
        );
        Ok(())
    })?;
    check_pattern(va, 2 * PGSIZE, 3).map_err(|e| format!("after the failed sizes: {e}"))
}

/// Two processes sizing one object at once: exactly one succeeds.
fn trunc_race() -> CheckResult {
    const ROUNDS: usize = 5;
    for round in 0..ROUNDS {
        let name = format!("t-race-{round}");
        // The parent's reference keeps the object alive between the two
        // children, so both size the same one.
        let _held = open(name.as_bytes())?;
        let mut go = Pipe::new()?;
        let mut pids = Vec::new();
        for size in [PGSIZE, 2 * PGSIZE] {
            // A racer's exit status says how it fared: 0 sized the object,
            // 1 was refused.
            pids.push(spawn(|| {
                go.close_write();
                let Ok(shm) = open(name.as_bytes()) else {
                    return 3;
                };
                go.receive();
                match shm_trunc(shm.descriptor(), size as i32) {
                    got if got as usize == size => 0,
                    -1 => 1,
                    _ => 2,
                }
            })?);
        }
        // Closing the write end wakes both children at once.
        go.close_write();
        let mut statuses = wait_all(&pids)?;
        statuses.sort_unstable();
        ensure!(
            statuses == [0, 1],
            "round {round}: the racers ended with {statuses:?} (0 = sized, 1 = refused)"
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// shm_map.

/// An object is mapped at SHMBASE + slot * 128 KiB: different objects at
/// different slots, the same object at the same address in every process.
fn map_fixed_address() -> CheckResult {
    let (first, va1) = create(b"t-addr-1", PGSIZE)?;
    let (second, va2) = create(b"t-addr-2", PGSIZE)?;
    for va in [va1, va2] {
        ensure!(
            is_slot_address(va),
            "mapped at {va:#x}, not the start of a slot"
        );
    }
    ensure!(va1 != va2, "two objects both mapped at {va1:#x}");
    // A child sees the first object at the same address. It inherits both
    // mappings, so it first closes its copies to map the object afresh.
    in_child(|| {
        ensure!(
            close_od(first.descriptor()) == 0 && close_od(second.descriptor()) == 0,
            "closing the inherited descriptors failed"
        );
        let own = open(b"t-addr-1")?;
        let va = map(&own, O_RDONLY)?;
        ensure!(
            va == va1,
            "the object was mapped at {va:#x} in the child, at {va1:#x} in the parent"
        );
        Ok(())
    })
}

/// Only O_RDONLY and O_RDWR are flags; a refused map maps nothing.
fn map_bad_flags() -> CheckResult {
    let mut shm = open(b"t-flags")?;
    trunc(&mut shm, PGSIZE)?;
    for flags in [1, 3, usize::MAX, 0x200, 0x202] {
        let mut va = 0usize;
        // SAFETY: the kernel writes at most one usize into `va`.
        let result = unsafe {
            syscall3(
                SYS_SHM_MAP,
                shm.descriptor() as usize,
                ptr::from_mut(&mut va) as usize,
                flags,
            )
        };
        ensure!(
            result == -1,
            "shm_map with flags {flags:#x} returned {result}"
        );
    }
    map(&shm, O_RDWR)
        .map(drop)
        .map_err(|e| format!("after the bad flags: {e}"))
}

/// An object without a size cannot be mapped.
fn map_unsized() -> CheckResult {
    let mut shm = open(b"t-unsized")?;
    let mut va = 0;
    for flags in [O_RDWR, O_RDONLY] {
        ensure_eq!(
            shm_map(shm.descriptor(), &mut va, flags),
            -1,
            "shm_map of an unsized object with flags {flags}"
        );
    }
    trunc(&mut shm, PGSIZE)?;
    map(&shm, O_RDWR)
        .map(drop)
        .map_err(|e| format!("after sizing: {e}"))
}

/// A value in read-only data, whose address `map_bad_va` passes as `va`.
static READ_ONLY: usize = 0;

/// A `va` the kernel cannot write fails before anything is mapped.
fn map_bad_va() -> CheckResult {
    let mut shm = open(b"t-bad-va")?;
    trunc(&mut shm, PGSIZE)?;
    // Two more objects make more bad places: the last bytes of a one-page
    // read-write mapping (an 8-byte write would cross into unmapped
    // memory), and a read-only mapping.
    let (_edge_shm, edge) = create(b"t-bad-va-edge", PGSIZE)?;
    let mut read_only = open(b"t-bad-va-ro")?;
    trunc(&mut read_only, PGSIZE)?;
    let read_only_mapping = map(&read_only, O_RDONLY)?;
    for (what, pointer) in BAD_POINTERS.into_iter().chain([
        ("read-only data", black_box(&raw const READ_ONLY).addr()),
        (
            "string literal",
            black_box("a string literal").as_ptr().addr(),
        ),
        (
            "program text",
            black_box(map_bad_va as fn() -> CheckResult) as usize,
        ),
        ("page-crossing", edge + PGSIZE - 4),
        ("read-only mapping", read_only_mapping),
        ("unmapped window", SHM_END - PGSIZE),
    ]) {
        // SAFETY: the kernel must refuse to write through the pointer; none
        // of them points at memory Rust code of this program uses.
        let result = unsafe {
            syscall3(
                SYS_SHM_MAP,
                shm.descriptor() as usize,
                pointer,
                O_RDWR as usize,
            )
        };
        ensure!(
            result == -1,
            "shm_map with a {what} va ({pointer:#x}) returned {result}"
        );
    }
    // Had a refused call mapped the object, this map would fail.
    let va = map(&shm, O_RDWR).map_err(|e| format!("after the bad pointers: {e}"))?;
    check_zero(va, PGSIZE)
}

/// A process maps an object once, through whichever descriptor.
fn map_twice() -> CheckResult {
    let (first, va) = create(b"t-map-twice", PGSIZE)?;
    let mut again = 0;
    ensure_eq!(
        shm_map(first.descriptor(), &mut again, O_RDWR),
        -1,
        "a second shm_map of one descriptor"
    );
    let second = open(b"t-map-twice")?;
    ensure_eq!(
        shm_map(second.descriptor(), &mut again, O_RDONLY),
        -1,
        "shm_map through a second descriptor"
    );
    close(first)?;
    // The close unmapped it, so the other descriptor may map it now.
    let remapped =
        map(&second, O_RDWR).map_err(|e| format!("after closing the first mapping: {e}"))?;
    ensure_eq!(remapped, va, "the address of the same object mapped again");
    Ok(())
}

// ---------------------------------------------------------------------------
// fork, exec, exit.

/// After fork, parent and child share the pages: each sees what the other
/// writes afterwards.
fn fork_shares_memory() -> CheckResult {
    let (shm, va) = create(b"t-fork", PGSIZE)?;
    // The child writes; the parent sees it.
    in_child(|| {
        let mut again = 0;
        ensure!(
            shm_map(shm.descriptor(), &mut again, O_RDWR) == -1,
            "the child could map the object again, though it inherited the mapping"
        );
        fill(va, PGSIZE / 2, 21);
        Ok(())
    })?;
    check_pattern(va, PGSIZE / 2, 21).map_err(|e| format!("the child's writes: {e}"))?;
    // The parent writes after the fork; the child sees it.
    let mut go = Pipe::new()?;
    let child = spawn_check(|| {
        go.close_write();
        ensure!(go.receive() == Some(1), "the parent's signal did not come");
        check_pattern(va + PGSIZE / 2, PGSIZE / 2, 22)
            .map_err(|e| format!("the child did not see the parent's writes: {e}"))
    })?;
    go.close_read();
    fill(va + PGSIZE / 2, PGSIZE / 2, 22);
    go.send(1);
    child.join()
}

/// The child gets its own copy of each descriptor: it can use it, and
/// closing it takes away only the child's mapping.
fn fork_copies_descriptors() -> CheckResult {
    let shm = open(b"t-fork-od")?;
    let od = shm.descriptor();
    in_child(|| {
        ensure!(
            shm_trunc(od, 2 * PGSIZE as i32) == 2 * PGSIZE as i32,
            "shm_trunc through the inherited descriptor failed"
        );
        ensure!(close_od(od) == 0, "closing the inherited descriptor failed");
        Ok(())
    })?;
    ensure_eq!(
        shm_trunc(od, PGSIZE as i32),
        -1,
        "shm_trunc after the child sized it"
    );
    let va = map(&shm, O_RDWR)?;
    fill(va, 2 * PGSIZE, 5);
    // A child that closes its copy loses the mapping...
    expect_killed(
        "touching the mapping after closing the inherited copy",
        || {
            ensure!(close_od(od) == 0, "closing the inherited copy failed");
            window_read(va);
            Ok(())
        },
    )?;
    // ... and the parent keeps it.
    check_pattern(va, 2 * PGSIZE, 5).map_err(|e| format!("after the child closed: {e}"))?;
    window_write(va, 0xAA);
    ensure_eq!(
        window_read(va),
        0xAA,
        "the parent's write after the child closed"
    );
    Ok(())
}

/// A write to a read-only mapping kills the writer, and only it.
fn readonly_write_killed() -> CheckResult {
    let (shm, va) = create(b"t-readonly", PGSIZE)?;
    fill(va, PGSIZE, 11);
    let mut ready = Pipe::new()?;
    expect_killed("writing to a read-only mapping", || {
        ready.close_read();
        // Drop the inherited read-write mapping, then map read-only.
        ensure!(
            close_od(shm.descriptor()) == 0,
            "closing the inherited descriptor failed"
        );
        let own = open(b"t-readonly")?;
        let ro = map(&own, O_RDONLY)?;
        ensure!(
            ro == va,
            "mapped read-only at {ro:#x}, read-write at {va:#x}"
        );
        check_pattern(ro, PGSIZE, 11)?;
        ready.send(1);
        window_write(ro + 100, 0);
        Ok(())
    })?;
    ready.close_write();
    ensure!(ready.receive() == Some(1), "the child died before writing");
    check_pattern(va, PGSIZE, 11).map_err(|e| format!("after the writer died: {e}"))?;
    window_write(va + 100, 0x42);
    ensure_eq!(window_read(va + 100), 0x42, "the parent's write afterwards");
    ensure_eq!(
        shm_trunc(shm.descriptor(), PGSIZE as i32),
        -1,
        "shm_trunc of the surviving object"
    );
    Ok(())
}

/// After close, the mapping is gone, even from the TLB: touching it kills,
/// whether or not another process still holds the object.
fn use_after_close_killed() -> CheckResult {
    let _held = open(b"t-after-close-held")?;
    for name in [b"t-after-close-held".as_slice(), b"t-after-close"] {
        expect_killed(
            &format!("touching \"{}\" after closing", Text(name)),
            || {
                let (shm, va) = create(name, PGSIZE)?;
                // Touch it first, so the TLB holds the translation.
                window_write(va, 1);
                close(shm)?;
                window_read(va);
                Ok(())
            },
        )?;
    }
    Ok(())
}

/// The window is unmapped wherever this process has no object mapped,
/// including past an object's last page.
fn unmapped_window_killed() -> CheckResult {
    expect_killed("reading SHMBASE with nothing mapped", || {
        window_read(SHMBASE);
        Ok(())
    })?;
    expect_killed("writing the window's last byte", || {
        window_write(SHM_END - 1, 1);
        Ok(())
    })?;
    for (what, offset) in [
        ("reading just past a one-page object", PGSIZE),
        ("reading the end of its slot", SLOT_SIZE - 1),
    ] {
        expect_killed(what, || {
            let (_shm, va) = create(b"t-past-end", PGSIZE)?;
            window_read(va + offset);
            Ok(())
        })?;
    }
    Ok(())
}

/// exec closes every descriptor: the new program has none, the old mapping
/// is gone, and the object's reference is dropped — with the exec'd process
/// still alive, the name already gives a new object.
fn exec_closes_descriptors() -> CheckResult {
    const NAME: &[u8] = b"t-exec";
    let mut ready = Pipe::new()?;
    let mut go = Pipe::new()?;
    let child = spawn_check(|| {
        ready.close_read();
        go.close_write();
        let (_shm, va) = create(NAME, PGSIZE)?;
        fill(va, PGSIZE, 13);
        // A second descriptor, unmapped, so exec has two to close.
        let _second = open(b"t-exec-2")?;
        let args = [
            String::from("shmtest"),
            String::from("--exec-child"),
            format!("{va}"),
            format!("{}", ready.write_end()),
            format!("{}", go.read_end()),
        ];
        exec_args("shmtest", &args);
        exec_args("/shmtest", &args);
        Err(String::from("exec of shmtest failed"))
    })?;
    ready.close_write();
    go.close_read();
    match receive_verdict(ready.read_end()) {
        Some(Ok(())) => {}
        Some(Err(why)) => {
            go.close_write();
            // The exec'd program said what went wrong; its exit says no more.
            let _ = child.join();
            return Err(format!("in the exec'd program: {why}"));
        }
        None => {
            return child
                .join()
                .and(Err(String::from("the exec'd program sent no verdict")));
        }
    }
    // The exec'd process is alive and waiting for `go`. It holds no
    // reference, and neither do we, so the objects must be gone.
    let fresh = expect_fresh(NAME, "while the exec'd process lives")
        .and_then(|()| expect_fresh(b"t-exec-2", "while the exec'd process lives"));
    go.close_write();
    let exited = child.join();
    fresh?;
    exited
}

/// The program the exec checks run: `shmtest --exec-child VA READY GO`.
/// It must start with no shared-memory descriptors and nothing mapped at
/// VA (the mapping the process had before exec). It sends its verdict on
/// the pipe end READY, then waits until the pipe end GO closes, so the
/// parent can look at the objects while it lives.
fn exec_child(args: Args) -> i32 {
    let number = |i| args.get(i).and_then(parse_number);
    let (Some(va), Some(ready), Some(go)) = (number(2), number(3), number(4)) else {
        return 1;
    };
    let verdict = exec_child_checks(va);
    send_verdict(ready as i32, &verdict);
    let mut byte = [0];
    while read(go as i32, &mut byte) > 0 {}
    if verdict.is_ok() { 0 } else { 1 }
}

/// The checks of [`exec_child`].
fn exec_child_checks(va: usize) -> CheckResult {
    ensure!(in_window(va), "bad arguments to shmtest --exec-child");
    // If a descriptor had survived, this closes it, and the parent's look
    // at the objects would miss the leak; but this check fails first.
    let open = (0..NSHMPROC as i32).find(|&od| close_od(od) != -1);
    ensure!(
        open.is_none(),
        "descriptor {} was still open after exec",
        open.unwrap_or(-1)
    );
    expect_killed("touching the old mapping after exec", || {
        window_read(va);
        Ok(())
    })
}

/// A failed exec changes nothing: descriptors and mappings stay.
fn exec_failed_keeps_descriptors() -> CheckResult {
    in_child(|| {
        let (shm, va) = create(b"t-exec-fail", PGSIZE)?;
        fill(va, PGSIZE, 17);
        ensure!(
            exec_args("no-such-program", &["no-such-program"]) == -1,
            "exec of a missing program did not return -1"
        );
        check_pattern(va, PGSIZE, 17)
            .map_err(|e| format!("the mapping changed after the failed exec: {e}"))?;
        window_write(va, 0);
        close(shm).map_err(|e| format!("the descriptor was gone after the failed exec: {e}"))
    })?;
    expect_fresh(b"t-exec-fail", "after the child closed")
}

/// Exit closes every descriptor, whether the process exits, is killed, or
/// dies of a fault.
fn exit_closes_descriptors() -> CheckResult {
    const NAME: &[u8] = b"t-exit";
    // Each child creates the object, holds it, and ends the given way.
    let open_and_hold = |ready: &Pipe| -> usize {
        let Ok((shm, va)) = create(NAME, PGSIZE) else {
            exit(1)
        };
        fill(va, PGSIZE, 19);
        // Keep the descriptor open: the end of the process must close it.
        core::mem::forget(shm);
        ready.send(1);
        va
    };
    for how in ["exit", "kill", "fault"] {
        let mut ready = Pipe::new()?;
        let pid = spawn(|| {
            ready.close_read();
            let va = open_and_hold(&ready);
            match how {
                "exit" => exit(0),
                // Killed while asleep; exits by itself after ten seconds, so
                // that a kill that fails cannot hang the run.
                "kill" => {
                    sleep(1000);
                    3
                }
                _ => {
                    window_write(va + PGSIZE, 1);
                    2
                }
            }
        })?;
        ready.close_write();
        if ready.receive() != Some(1) {
            wait_for(pid)?;
            return Err(format!("{how}: the child could not create the object"));
        }
        ensure!(how != "kill" || kill(pid) == 0, "kill({pid}) failed");
        let want = if how == "exit" { 0 } else { -1 };
        ensure_eq!(wait_for(pid)?, want, "{how}: the child's status");
        expect_fresh(NAME, &format!("after {how}"))?;
    }
    Ok(())
}

/// Descriptors that are out of range or not open fail everywhere.
fn bad_descriptors() -> CheckResult {
    // Descriptor 0, opened and closed, is a closed one; 7 was never open.
    close(open(b"t-bad-od")?)?;
    for od in [-1, 16, 1000, i32::MIN, 0, 7] {
        ensure_eq!(shm_trunc(od, PGSIZE as i32), -1, "shm_trunc(od {od})");
        let mut va = 0;
        ensure_eq!(shm_map(od, &mut va, O_RDWR), -1, "shm_map(od {od})");
        ensure_eq!(close_od(od), -1, "shm_close(od {od})");
        ensure!(va == 0, "a failed shm_map(od {od}) wrote {va:#x} to va");
    }
    Ok(())
}

/// shm_wait on a word that does not hold the expected value returns -1
/// at once, and shm_wake with nobody waiting wakes nobody (docs/shm.md,
/// "Waiting on shared memory"; synctest checks the rest, and the locks).
fn wait_wrong_value() -> CheckResult {
    let mut shm = open(b"t-wait-value")?;
    trunc(&mut shm, PGSIZE)?;
    let mapping = shm.map_rw().map_err(|e| format!("mapping: {e}"))?;
    mapping.store_u32(0, 5);
    let va = mapping.address();
    ensure_eq!(shm_wait(va, 4), -1, "shm_wait on a 5, expecting 4");
    ensure_eq!(shm_wake(va, 1), 0, "shm_wake with nobody waiting");
    close(shm)
}

/// A child asleep in shm_wait on a word of a shared object wakes when the
/// parent calls shm_wake on the same word, which says it woke one.
fn wake_wakes_waiter() -> CheckResult {
    let (shm, va) = create(b"t-wait-wake", PGSIZE)?;
    let child = spawn_check(|| {
        ensure_eq!(shm_wait(va, 0), 0, "shm_wait in the child");
        Ok(())
    })?;
    // The child may not be asleep yet: try a tick at a time. The bound is
    // only a hang-breaker, far past the few ticks the child needs, because
    // a host that starves the virtual CPUs can run it many ticks late.
    const PATIENCE_TICKS: i32 = 3000;
    let mut woken = 0;
    for _ in 0..PATIENCE_TICKS {
        woken = shm_wake(va, 1);
        if woken != 0 {
            break;
        }
        sleep(1);
    }
    child.join()?;
    ensure_eq!(woken, 1, "shm_wake's count of the waiters it woke");
    close(shm)
}

/// Both calls refuse a misaligned word, a word outside any object this
/// process maps, and (shm_wake) a count below 1.
fn wait_wake_bad_arguments() -> CheckResult {
    let (shm, va) = create(b"t-wait-bad", PGSIZE)?;
    for (what, address) in [
        ("a misaligned word", va + 2),
        ("past the object", va + PGSIZE),
        ("below the window", SHMBASE - 4),
        ("null", 0),
    ] {
        ensure_eq!(shm_wait(address, 0), -1, "shm_wait on {what}");
        ensure_eq!(shm_wake(address, 1), -1, "shm_wake on {what}");
    }
    ensure_eq!(shm_wake(va, 0), -1, "shm_wake(n = 0)");
    ensure_eq!(shm_wake(va, -5), -1, "shm_wake(n = -5)");
    close(shm)
}

/// The library's `Shm`: names checked before the kernel sees them, sizes
/// recorded, views of the mapping, and close on drop.
fn library_wrapper() -> CheckResult {
    for (what, name) in [
        ("the empty name", &b""[..]),
        ("a 64-byte name", &[b'w'; 64][..]),
        ("a name with a NUL", &b"t-wr\0apper"[..]),
    ] {
        ensure!(
            Shm::open(name).map(drop) == Err(ShmError::InvalidName),
            "Shm::open accepted {what}"
        );
    }
    {
        let mut shm = open(b"t-wrapper")?;
        ensure!(
            shm.map_rw().map(drop) == Err(ShmError::UnknownSize),
            "mapping an unsized Shm did not fail"
        );
        ensure!(
            shm.trunc(0) == Err(ShmError::InvalidSize),
            "Shm::trunc(0) did not fail"
        );
        let size = shm.trunc(5000).map_err(|e| format!("Shm::trunc: {e}"))?;
        ensure!(
            size == 2 * PGSIZE && shm.size() == size,
            "Shm::trunc(5000) gave {size}, size() {}",
            shm.size()
        );
        let view = shm.map_rw().map_err(|e| format!("Shm::map_rw: {e}"))?;
        ensure!(
            view.len() == size && is_slot_address(view.address()),
            "a view of {} bytes at {:#x}",
            view.len(),
            view.address()
        );
        view.write(10, b"hello");
        view.store_u32(4, 0xDEAD_BEEF);
        let mut text = [0; 5];
        view.read(10, &mut text);
        ensure!(
            &text == b"hello" && view.load_u32(4) == 0xDEAD_BEEF,
            "a view did not read back what it wrote"
        );
        check_bytes(view.address() + 10, 5, |i| b"hello"[i])?;
        // Dropping `shm` here closes it: the last reference.
    }
    expect_fresh(b"t-wrapper", "after dropping the Shm")
}

/// The same cycle a thousand times: nothing wears out, nothing leaks, and
/// every new object starts zeroed.
fn long_loop() -> CheckResult {
    const CYCLES: usize = 1000;
    for cycle in 0..CYCLES {
        let seed = cycle as u8;
        let fail = |e: String| format!("cycle {cycle}: {e}");
        let (shm, va) = create(b"t-loop", PGSIZE).map_err(fail)?;
        ensure!(
            shm.descriptor() == 0,
            "cycle {cycle}: descriptor {} instead of 0",
            shm.descriptor()
        );
        // The last cycle's object was freed, so these bytes must be zero
        // again, and this cycle's pattern differs from the last one's.
        for i in (0..PGSIZE).step_by(61).chain([PGSIZE - 1]) {
            ensure!(
                window_read(va + i) == 0,
                "cycle {cycle}: byte {i} of a new object is not zero"
            );
            window_write(va + i, pattern(seed, i));
        }
        for i in (0..PGSIZE).step_by(61).chain([PGSIZE - 1]) {
            ensure!(
                window_read(va + i) == pattern(seed, i),
                "cycle {cycle}: byte {i} did not keep its value"
            );
        }
        close(shm).map_err(fail)?;
    }
    Ok(())
}

/// The names the workers of [`concurrent_processes`] share.
const CONCURRENT_NAMES: [&[u8]; 3] = [b"t-conc-0", b"t-conc-1", b"t-conc-2"];

/// Several processes, on as many CPUs as there are, open, size, map and
/// close a few shared names as fast as they can. Every call must succeed,
/// except that sizing an object someone else has sized fails; at the end
/// every object is gone.
fn concurrent_processes() -> CheckResult {
    const WORKERS: usize = 6;
    let mut workers = Vec::new();
    for worker in 0..WORKERS {
        workers.push(spawn_check(move || concurrent_worker(worker))?);
    }
    join_all(workers)?;
    for name in CONCURRENT_NAMES {
        expect_fresh(name, "after all workers exited")?;
    }
    Ok(())
}

/// What worker `worker` of [`concurrent_processes`] does: 200 cycles, each
/// opening one of the names and either closing it at once or sizing (if
/// no one has), mapping and writing bytes of its own before closing.
fn concurrent_worker(worker: usize) -> CheckResult {
    const CYCLES: usize = 200;
    for cycle in 0..CYCLES {
        let name = CONCURRENT_NAMES[(cycle + worker) % CONCURRENT_NAMES.len()];
        let at = format!("worker {worker}, cycle {cycle}");
        let od = open_raw(name);
        ensure!(od >= 0, "{at}: shm_open failed");
        if cycle % 2 == 0 {
            ensure!(
                close_od(od) == 0,
                "{at}: closing an unmapped descriptor failed"
            );
            continue;
        }
        // -1 means another worker sized it first: then it is sized.
        let sized = shm_trunc(od, 2 * PGSIZE as i32);
        ensure!(
            sized == -1 || sized == 2 * PGSIZE as i32,
            "{at}: shm_trunc returned {sized}"
        );
        let mut va = 0;
        ensure!(
            shm_map(od, &mut va, O_RDWR) == 0 && is_slot_address(va),
            "{at}: shm_map of a sized object failed, or gave {va:#x}"
        );
        // Each worker has its own bytes in every object.
        let mine = va + worker * 64;
        for i in 0..64 {
            window_write(mine + i, pattern(cycle as u8, i));
        }
        check_pattern(mine, 64, cycle as u8)
            .map_err(|e| format!("{at}: a worker's own bytes changed under it: {e}"))?;
        ensure!(
            close_od(od) == 0,
            "{at}: closing a mapped descriptor failed"
        );
    }
    Ok(())
}

/// Four workers, each on a name of its own, cycle through open, trunc,
/// map, check, write and close, so that slots pass from one worker's
/// object to another's all the time: the last close of one object races
/// the open of the next in the same slot. Each object is new, so every
/// trunc must size it (none may find the dead object's pages still
/// there), and its page must read zero (none may see another object's
/// bytes).
fn slot_reuse_race() -> CheckResult {
    const WORKERS: usize = 4;
    const CYCLES: usize = 200;
    let mut workers = Vec::new();
    for worker in 0..WORKERS {
        workers.push(spawn_check(move || {
            let name = format!("t-reuse-{worker}");
            for cycle in 0..CYCLES {
                let at = format!("worker {worker}, cycle {cycle}");
                let od = open_raw(name.as_bytes());
                ensure!(od >= 0, "{at}: shm_open failed");
                let sized = shm_trunc(od, PGSIZE as i32);
                ensure!(
                    sized == PGSIZE as i32,
                    "{at}: shm_trunc of a new object returned {sized}"
                );
                let mut va = 0;
                ensure!(
                    shm_map(od, &mut va, O_RDWR) == 0 && is_slot_address(va),
                    "{at}: shm_map failed, or gave {va:#x}"
                );
                if let Some(i) = (0..PGSIZE).find(|&i| window_read(va + i) != 0) {
                    return Err(format!("{at}: a new object's byte {i} is not zero"));
                }
                for i in 0..64 {
                    window_write(va + i, pattern(cycle as u8, i));
                }
                ensure!(close_od(od) == 0, "{at}: shm_close failed");
            }
            Ok(())
        })?);
    }
    join_all(workers)
}

/// Four workers cycle through open, trunc, map, add one, close on one
/// name that the parent keeps open and sized: every trunc loses (and the
/// pages it got ready go back), every map finds the parent's page, so the
/// counter in it ends exact.
fn same_object_cycles() -> CheckResult {
    const WORKERS: usize = 4;
    const CYCLES: usize = 100;
    let name = b"t-same-object";
    let (shm, va) = create(name, PGSIZE)?;
    let inherited = shm.descriptor();
    let mut workers = Vec::new();
    for worker in 0..WORKERS {
        workers.push(spawn_check(move || {
            // The copy fork gave maps the object already: drop it, so that
            // every cycle maps it afresh.
            ensure!(
                close_od(inherited) == 0,
                "closing the inherited descriptor failed"
            );
            for cycle in 0..CYCLES {
                let at = format!("worker {worker}, cycle {cycle}");
                let (mine, sized_here) =
                    Shm::open_first_page(name).map_err(|e| format!("{at}: {e}"))?;
                ensure!(
                    !sized_here,
                    "{at}: the parent's sized object was sized again"
                );
                let mapping = mine.map_rw().map_err(|e| format!("{at}: {e}"))?;
                ensure!(
                    mapping.address() == va,
                    "{at}: mapped at {:#x}, not at the parent's {va:#x}",
                    mapping.address()
                );
                mapping.add_u32(0, 1);
                mine.close().map_err(|e| format!("{at}: {e}"))?;
            }
            Ok(())
        })?);
    }
    join_all(workers)?;
    // The workers have exited: the parent's own mapping reads the count.
    let count = u32::from_ne_bytes(core::array::from_fn(|i| window_read(va + i)));
    ensure!(
        count == (WORKERS * CYCLES) as u32,
        "the counter holds {count}, not {}",
        WORKERS * CYCLES
    );
    close(shm)
}

// ---------------------------------------------------------------------------
// The table.

/// The table has 64 slots: fill it with distinct names from four children
/// (a process has only 16 descriptors); a 65th name fails, an existing name
/// still opens, and once the children exit the slots are free again.
fn table_limit() -> CheckResult {
    fill_shm_table("t-table-a")?;
    expect_fresh(b"t-table-a-extra", "after the holders exited")
}

/// At the end of the run every slot is free: the table fills completely
/// once more.
fn slots_free_at_end() -> CheckResult {
    fill_shm_table("t-table-z")?;
    expect_fresh(b"t-table-z-extra", "after the holders exited")
}

// ---------------------------------------------------------------------------
// The demo.

/// Most workers the demo forks: the process table has 64 slots.
const MAX_WORKERS: usize = 32;

/// `shmtest NAME SIZE NPROC`: NPROC workers fill their stripes of the
/// object NAME; the parent checks every byte.
fn demo(args: Args) -> i32 {
    let (Some(name), Some(size), Some(workers)) = (
        args.get(1),
        args.get(2).and_then(parse_number),
        args.get(3).and_then(parse_number),
    ) else {
        eprintln!("usage: shmtest [NAME SIZE NPROC]");
        return 1;
    };
    if !(1..=SHM_MAXSIZE).contains(&size) || !(1..=MAX_WORKERS).contains(&workers) {
        eprintln!("shmtest: SIZE must be 1..={SHM_MAXSIZE}, NPROC 1..={MAX_WORKERS}");
        return 1;
    }
    let mut shm = match Shm::open(name) {
        Ok(shm) => shm,
        Err(e) => {
            eprintln!("shmtest: cannot open \"{}\": {e}", Text(name));
            return 1;
        }
    };
    let size = match shm.trunc(size) {
        Ok(size) => size,
        Err(e) => {
            eprintln!(
                "shmtest: cannot size \"{}\": {e} (is it sized already?)",
                Text(name)
            );
            return 1;
        }
    };
    // Mapped before the fork, so every worker inherits the same mapping.
    let view = match shm.map_rw() {
        Ok(view) => view,
        Err(e) => {
            eprintln!("shmtest: cannot map \"{}\": {e}", Text(name));
            return 1;
        }
    };
    println!(
        "shmtest: object \"{}\" at {:#x}, {size} bytes, {workers} worker{}",
        Text(name),
        view.address(),
        if workers == 1 { "" } else { "s" }
    );

    let stripe = |worker: usize| {
        let start = worker * (size / workers);
        let end = if worker == workers - 1 {
            size
        } else {
            start + size / workers
        };
        start..end
    };
    let mut pids = Vec::new();
    for worker in 0..workers {
        match fork() {
            0 => {
                view.fill(stripe(worker), stripe_letter(worker));
                exit(0);
            }
            pid if pid < 0 => {
                eprintln!("shmtest: fork failed");
                reap_all();
                return 1;
            }
            pid => pids.push(pid),
        }
    }
    // Report in worker order once all are done, so that lines never mix.
    let mut statuses = Vec::new();
    for _ in 0..workers {
        let mut status = 0;
        let pid = wait(Some(&mut status));
        statuses.push((pid, status));
    }
    let mut ok = true;
    for (worker, pid) in pids.iter().enumerate() {
        let range = stripe(worker);
        match statuses.iter().find(|(p, _)| p == pid) {
            Some((_, 0)) => println!(
                "worker {worker}: filled bytes {}..{} with '{}'",
                range.start,
                range.end,
                char::from(stripe_letter(worker))
            ),
            Some((_, status)) => {
                println!("worker {worker}: exited with status {status}");
                ok = false;
            }
            None => {
                println!("worker {worker}: lost");
                ok = false;
            }
        }
    }

    // What the object holds, as runs of equal bytes.
    let mut runs: Vec<(u8, usize)> = Vec::new();
    for i in 0..size {
        let byte = view.load(i);
        match runs.last_mut() {
            Some((last, count)) if *last == byte => *count += 1,
            _ => runs.push((byte, 1)),
        }
    }
    let seen: Vec<String> = runs
        .iter()
        .map(|&(byte, count)| match byte {
            0x21..=0x7E => format!("'{}' x{count}", char::from(byte)),
            _ => format!("{byte:#04x} x{count}"),
        })
        .collect();
    println!("shmtest: saw {}", seen.join(", "));

    let bad = (0..workers).find_map(|worker| {
        stripe(worker)
            .find(|&i| view.load(i) != stripe_letter(worker))
            .map(|i| (worker, i))
    });
    match bad {
        None if ok => {
            let summary: String = (0..workers)
                .map(|worker| {
                    core::iter::repeat_n(char::from(stripe_letter(worker)), 4).collect::<String>()
                })
                .collect::<Vec<_>>()
                .join("...");
            let stripes = if workers == 1 { "stripe" } else { "stripes" };
            println!("shmtest: verified {size} bytes: {summary} ({workers} {stripes} ok)");
            0
        }
        None => 1,
        Some((worker, i)) => {
            println!(
                "shmtest: byte {i} is {:#04x}, expected '{}' from worker {worker}",
                view.load(i),
                char::from(stripe_letter(worker))
            );
            1
        }
    }
}

/// The letter worker `worker` writes: A..Z, then a..z.
fn stripe_letter(worker: usize) -> u8 {
    match worker % 52 {
        w @ 0..26 => b'A' + w as u8,
        w => b'a' + (w - 26) as u8,
    }
}

/// Parses a decimal number made only of digits.
fn parse_number(text: &[u8]) -> Option<usize> {
    if text.is_empty() || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    text.iter().try_fold(0usize, |n, &digit| {
        n.checked_mul(10)?.checked_add(usize::from(digit - b'0'))
    })
}
