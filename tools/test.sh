#!/bin/bash
# The test harness behind `make test`. The Makefile has built the ISOs and
# passes QEMU, QEMUOPTS, CPUS, TIMEOUT, BUILD, KERNEL (the kernel of
# xv6.iso), KTEST_KERNEL and KTEST_TARGET_DIR (the test kernel, built with
# the `ktest` feature, and its cargo target directory), CARGO_BARE (the
# kernel's cargo flags), CARGO_USER (the user programs'), FS_IMG, MKFS,
# USER_RUSTFLAGS, USER_TARGET_DIR, SUITES and JOBS (below), and CRASH_SEED
# and CRASH_CUTS (the crash suite's).
#
# Every check prints "PASS name" or "FAIL name: why". In-OS checks are the
# PASS/FAIL lines the kernel and the test programs print on the serial
# port; the harness adds its own (exit codes, expected text, host tools).
# The last line is "N passed, M failed", and the exit status is non-zero on
# any failure.
#
# Suites. The checks come in suites, which run and report in this order:
#
#   host           on the host: cargo fmt, clippy, the unit tests of abi,
#                  mkfs and shmtable, the C headers against abi, the C
#                  programs without warnings, the multiboot header, and an
#                  unchanged tree not being rebuilt
#   ktest          the in-kernel tests, at 1, 2 and 4 CPUs
#   proctest       a user test program that init runs: processes and their
#                  system calls, at 1, 2 and 4 CPUs
#   isolationtest  ports, privileged instructions, FPU/SSE privacy, at 1, 2
#                  and 4 CPUs, and on -cpu max at 2 and 4
#   usertests      the file system and the userland (xv6's usertests), at 1
#                  and 2 CPUs; the disk must be consistent afterwards
#   crash          power cuts (tools/crashtest.sh): a file-system workload
#                  killed with SIGKILL at CRASH_CUTS (default 30) moments
#                  chosen from CRASH_SEED (default: a new one each run,
#                  printed), each followed by mkfs --check and a boot that
#                  checks every finished system call is on disk and no
#                  unfinished one is half there; and the workload run
#                  whole
#   shmtest        shared memory, one check per rule of docs/shm.md, at 1, 2
#                  and 4 CPUs
#   synctest       waiting on shared memory (shm_wait, shm_wake) and the
#                  locks and channel of ulib::sync, at 1, 2 and 4 CPUs
#   ctest          the C runtime and exec of gcc's output, at 1 and 2 CPUs;
#                  the disk must be consistent afterwards
#   syscallfuzz    random system calls and instructions, at 1, 2 and 4 CPUs
#   bench          the benchmark programs, shmbench and sysbench, run once
#                  (at 2 CPUs) and print well-formed CSV; their figures are
#                  `make bench`'s business
#   lab            `make lab-shm`'s lab: generated, its kernel built, and
#                  booted with shmtest, which must report failures (the
#                  solution is gone) without the kernel panicking
#   session        a scripted session with the shell, through the serial
#                  console
#   damage         a disk damaged on purpose (mkfs --damage): each system
#                  call that meets the damage fails and the console names
#                  the inode or block, and the kernel, the other files and
#                  the shell keep working; a directory cycle raced by two
#                  processes at 4 CPUs
#   fuzzdisk       disks damaged at random (mkfs --damage-random) from the
#                  seeds DISK_SEEDS (default 1 2 3 4): fsdamage walks,
#                  reads and removes everything, and the kernel must
#                  neither panic nor hang
#   failures       boots that must fail, and say why: a panic, a kernel page
#                  fault, a lock taken twice, a kernel stack and a CPU stack
#                  overflowing, SMAP and SMEP stopping the kernel, no file
#                  system disk, a corrupt superblock
#
# `make test SUITES="shmtest usertests"` runs only the suites named (in the
# order above, whatever the order named); without SUITES, all of them.
#
# Boots run in parallel: every QEMU boot of the chosen suites is queued at
# the start and run in the background, JOBS at a time (default: 2 where
# `nproc` reports at least 2 cores, else 1), each writing its serial output
# to its own log in $BUILD/test-logs. The suites then report in the order
# above, each waiting for its own boots, so the output reads the same
# however the boots interleaved. The longest boots are queued first, so
# that the short ones fill the gaps.
set -u

# How a boot ends. The kernel leaves QEMU through the isa-debug-exit device
# (see QEMUOPTS in the Makefile): writing v makes QEMU exit with status
# (v << 1) | 1, and the kernel writes 0x10 when everything passed, 0x11 on
# a failure or a panic (ktest.rs). timeout(1) exits with 124 when it had to
# stop QEMU.
EXIT_PASSED=33
EXIT_FAILED=35
EXIT_TIMEOUT=124

# Where `corrupt superblock` writes: the file system's block size (BSIZE in
# kernel/abi/src/fs.rs), the superblock's block number, and the offset of
# its bmapstart field (the seventh u32 after the magic number).
BSIZE=1024
SUPERBLOCK_BLOCK=1
BMAPSTART_OFFSET=28
# Where the disk-error test finds the README's first block: the
# superblock's inodestart field, the size of an on-disk inode, and the
# offset of its block addresses (abi::fs::DiskInode).
INODESTART_OFFSET=24
DINODE_SIZE=64
ADDRS_OFFSET=12

ALL_SUITES="host ktest proctest isolationtest usertests crash shmtest synctest ctest syscallfuzz bench lab session damage fuzzdisk failures"
# The order in which the suites' boots are queued: longest first.
QUEUE_ORDER="lab syscallfuzz usertests isolationtest ktest proctest shmtest synctest ctest crash bench session damage fuzzdisk failures"
# The seeds of the fuzzdisk suite's damage.
DISK_SEEDS=${DISK_SEEDS:-1 2 3 4}

SUITES=${SUITES:-$ALL_SUITES}
for name in $SUITES; do
    case " $ALL_SUITES " in
        *" $name "*) ;;
        *)
            echo "test.sh: no suite named '$name'; the suites are: $ALL_SUITES" >&2
            exit 2
            ;;
    esac
done
# selected SUITE: is SUITE among those to run?
selected() {
    case " $SUITES " in *" $1 "*) return 0 ;; *) return 1 ;; esac
}

if [ -z "${JOBS:-}" ]; then
    if [ "$(nproc)" -ge 2 ]; then JOBS=2; else JOBS=1; fi
fi

passed=0
failed=0
logs=$BUILD/test-logs
mkdir -p "$logs"
rm -f "$logs"/*.status

pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
check() { # check NAME WHY-IF-FAILED COMMAND...
    local name=$1 why=$2
    shift 2
    if "$@" >/dev/null 2>&1; then pass "$name"; else fail "$name" "$why"; fi
}

# expect_exit NAME WANTED: checks $status from the last boot awaited.
expect_exit() {
    if [ "$status" = "$2" ]; then pass "$1"; else fail "$1" "QEMU exited with $status, expected $2"; fi
}

# expect_text NAME LOG PATTERN: checks that LOG has a line matching PATTERN.
expect_text() {
    if grep -q -- "$3" "$2"; then pass "$1"; else fail "$1" "no line matching '$3' in $2"; fi
}

# in_os_results LOG: counts the PASS/FAIL lines the OS printed.
in_os_results() {
    local line
    while IFS= read -r line; do
        line=${line%$'\r'}
        case $line in
            "PASS "*) echo "$line"; passed=$((passed + 1)) ;;
            "FAIL "*) echo "$line"; failed=$((failed + 1)) ;;
        esac
    done <"$1"
}

# ---------------------------------------------------------------------------
# The boot queue.

job_names=()
job_commands=()

# queue NAME COMMAND...: adds a boot to the queue. COMMAND runs in the
# background, writes its output to $logs/NAME.log, and returns QEMU's exit
# status, which is then recorded in $logs/NAME.status.
queue() {
    local name=$1
    shift
    job_names+=("$name")
    job_commands+=("$(printf '%q ' "$@")")
}

# boot NAME ISO [CPUS [DISK [QEMU_EXTRA]]]: boots $BUILD/ISO headless with
# CPUS CPUs (default $CPUS), serial output to $logs/NAME.log, with the
# extra QEMU flags QEMU_EXTRA (e.g. "-cpu max"); returns QEMU's exit
# status. The file system disk is a fresh copy of fs.img
# ($logs/NAME.img, kept for `mkfs --check`), or the image DISK, or none at
# all if DISK is "none", or IMAGE behind QEMU's error-injecting blkdebug
# driver if DISK is "blkdebug:CONFIG:IMAGE".
boot() {
    local log=$logs/$1.log iso=$BUILD/$2 cpus=${3:-$CPUS} disk=${4:-} extra=${5:-}
    if [ -z "$disk" ]; then
        disk=$logs/$1.img
        cp "$FS_IMG" "$disk"
    fi
    local drive="-drive file=$disk,index=1,media=disk,format=raw"
    if [ "$disk" = none ]; then
        drive=
    elif [ "${disk#blkdebug:}" != "$disk" ]; then
        # blkdebug:CONFIG:IMAGE: QEMU's blkdebug driver between the drive
        # and IMAGE, failing the requests CONFIG lists.
        local config=${disk#blkdebug:}
        config=${config%%:*}
        drive="-drive driver=raw,file.driver=blkdebug,file.config=$config,file.image.filename=${disk##*:},index=1,media=disk"
    fi
    # --foreground keeps timeout (and QEMU) in the queue's process group,
    # so that stopping the queue stops them too.
    # shellcheck disable=SC2086 # QEMUOPTS, extra and drive are lists of flags
    timeout --foreground -k 5 "$TIMEOUT" $QEMU $QEMUOPTS $extra -smp "$cpus" -cdrom "$iso" \
        $drive -display none -serial "file:$log" -monitor none </dev/null >/dev/null 2>&1
}

# run_queue: runs every queued boot, JOBS at a time, and records each one's
# exit status when it ends (written whole, then renamed, so that a reader
# never sees half of it).
run_queue() {
    local i running=0
    for i in "${!job_names[@]}"; do
        if [ "$running" -ge "$JOBS" ]; then
            wait -n
            running=$((running - 1))
        fi
        (
            eval "${job_commands[i]}" >/dev/null 2>&1
            echo $? >"$logs/${job_names[i]}.status.new"
            mv "$logs/${job_names[i]}.status.new" "$logs/${job_names[i]}.status"
        ) &
        running=$((running + 1))
    done
    wait
}

# await NAME: waits until the boot NAME has ended; sets $log to its serial
# log and $status to QEMU's exit status.
await() {
    log=$logs/$1.log
    while [ ! -e "$logs/$1.status" ]; do
        if ! kill -0 "$queue_pid" 2>/dev/null; then
            # The queue is gone; the status file may have landed just now.
            [ -e "$logs/$1.status" ] && break
            status="none (the boot queue stopped)"
            return
        fi
        sleep 0.2
    done
    status=$(cat "$logs/$1.status")
    if [ "$status" = "$EXIT_TIMEOUT" ]; then
        echo "  (QEMU timed out after $TIMEOUT s; log: $log)"
    fi
}

# suite NAME CPUS: awaits the boot NAME-CPUS and counts the PASS/FAIL lines
# the OS printed; leaves its log in $log and its exit status in $status,
# for the suite's own checks.
suite() {
    echo "== $1 (CPUS=$2)"
    await "$1-$2"
    in_os_results "$log"
}

# ---------------------------------------------------------------------------
# The suites' boots, queued; and their reports, which await them.

queue_ktest() {
    for cpus in 1 2 4; do queue "ktest-$cpus" boot "ktest-$cpus" test.iso "$cpus"; done
}
report_ktest() {
    for cpus in 1 2 4; do
        suite ktest "$cpus"
        expect_text "boot-banner-$cpus" "$log" "^xv6-rs: a Rust rewrite of xv6"
        expect_text "memory-map-$cpus" "$log" "usable"
        expect_text "cpus-running-$cpus" "$log" "^xv6-rs: $cpus CPUs\? running"
        expect_text "ktest-summary-$cpus" "$log" "^ktest: [0-9]* passed, 0 failed"
        expect_exit "ktest-exit-code-$cpus" "$EXIT_PASSED"
    done
}

# Processes, user mode and system calls: init runs proctest.
queue_proctest() {
    for cpus in 1 2 4; do queue "proctest-$cpus" boot "proctest-$cpus" test-proctest.iso "$cpus"; done
}
report_proctest() {
    for cpus in 1 2 4; do
        suite proctest "$cpus"
        expect_text "proctest-summary-$cpus" "$log" "^proctest: [0-9]* passed, 0 failed"
        expect_text "proctest-fault-line-$cpus" "$log" \
            "^pid [0-9]* proctest: trap 14 err [0-9]* on cpu [0-9]* rip 0x[0-9a-f]* addr 0x0--kill proc"
        expect_exit "proctest-exit-code-$cpus" "$EXIT_PASSED"
    done
}

# Isolation: init runs isolationtest, whose children try every port and
# privileged instruction (each must die with a trap line: the program says
# how many did, and the console must show as many) and check that FPU/SSE
# registers are private. Once on QEMU's default CPU (FXSAVE, no SMEP/SMAP)
# at every CPU count, and on `-cpu max` (XSAVE with AVX, SMEP, SMAP, UMIP).
DEFAULT_CPU_LINE="SMEP off (not in this CPU), SMAP off (not in this CPU), UMIP off (not in this CPU); x87+SSE saved with FXSAVE"
CPU_MAX_LINE="SMEP on, SMAP on, UMIP on; x87+SSE+AVX saved with XSAVE"
queue_isolationtest() {
    for cpus in 1 2 4; do
        queue "isolationtest-$cpus" boot "isolationtest-$cpus" test-isolationtest.iso "$cpus"
    done
    for cpus in 2 4; do
        queue "isolationtest-cpumax-$cpus" boot "isolationtest-cpumax-$cpus" test-isolationtest.iso "$cpus" "" "-cpu max"
    done
}
isolation_report() { # isolation_report NAME CPUS BOOT-LINE
    suite "$1" "$2"
    expect_text "$1-summary-$2" "$log" "^isolationtest: [0-9]* passed, 0 failed"
    expect_text "$1-boot-line-$2" "$log" "^xv6-rs: NX on, $3"
    local want got
    want=$(sed -n 's/^isolationtest: \([0-9]*\) children killed by a trap.*/\1/p' "$log")
    # The serial log ends its lines with \r\n: drop the \r, or "proc$"
    # never matches.
    got=$(tr -d '\r' <"$log" |
        grep -c "^pid [0-9]* isolationtest: trap [0-9]* err [0-9]* on cpu [0-9]* rip 0x[0-9a-f]*\( addr 0x[0-9a-f]*\)\?--kill proc$")
    if [ -n "$want" ] && [ "$want" -gt 0 ] && [ "$got" = "$want" ]; then
        pass "$1-trap-lines-$2"
    else
        fail "$1-trap-lines-$2" "isolationtest saw ${want:-no} children killed, the console has $got trap lines ($log)"
    fi
    expect_text "$1-x87-exception-$2" "$log" "^pid [0-9]* isolationtest: trap 16 "
    expect_exit "$1-exit-code-$2" "$EXIT_PASSED"
}
report_isolationtest() {
    for cpus in 1 2 4; do isolation_report isolationtest "$cpus" "$DEFAULT_CPU_LINE"; done
    for cpus in 2 4; do isolation_report isolationtest-cpumax "$cpus" "$CPU_MAX_LINE"; done
}

# The file system and the userland: init runs usertests; afterwards the
# disk must still be consistent.
queue_usertests() {
    for cpus in 2 1; do queue "usertests-$cpus" boot "usertests-$cpus" test-usertests.iso "$cpus"; done
}
report_usertests() {
    for cpus in 1 2; do
        suite usertests "$cpus"
        expect_text "usertests-all-passed-$cpus" "$log" "^ALL TESTS PASSED"
        expect_exit "usertests-exit-code-$cpus" "$EXIT_PASSED"
        check "fs-consistent-after-usertests-$cpus" "mkfs --check ${log%.log}.img found problems" \
            "$MKFS" --check "${log%.log}.img"
    done
}

# Power cuts. Each cut is one job of the queue, tools/crashtest.sh, which
# boots the workload (crashtest run), kills QEMU at a moment chosen from
# CRASH_SEED and the cut's number, checks the image with
# `mkfs --check --recover`, boots `crashtest check` on it, judges what it
# found, and checks the image again; its verdict, with where the cut fell,
# is in $logs/crash-cut-NN.log. The same seed cuts at the same steps
# after the same delays again (the instant within them depends on the
# host's timing).
CRASH_CUTS=${CRASH_CUTS:-30}
CRASH_SEED=${CRASH_SEED:-$(($(date +%s) % 1000000))}
crash_names() {
    echo crash-whole
    seq -f 'crash-cut-%02g' 1 "$CRASH_CUTS"
}
queue_crash() {
    local name index=0
    local run=(env BUILD="$BUILD" FS_IMG="$FS_IMG" MKFS="$MKFS" QEMU="$QEMU" QEMUOPTS="$QEMUOPTS"
        CPUS="$CPUS" TIMEOUT="$TIMEOUT" tools/crashtest.sh)
    for name in $(crash_names); do
        if [ "$name" = crash-whole ]; then
            queue "$name" "${run[@]}" whole "$logs/$name"
        else
            index=$((index + 1))
            queue "$name" "${run[@]}" cut "$logs/$name" "$CRASH_SEED" "$index" "$CRASH_CUTS"
        fi
    done
}
report_crash() {
    echo "== crash: $CRASH_CUTS power cuts from CRASH_SEED=$CRASH_SEED"
    local name result failed_before=$failed
    for name in $(crash_names); do
        await "$name"
        # The verdict's middle lines say where the cut fell and what the
        # disk held; the last is PASS or FAIL and why.
        echo "  $name: $(sed '1d;$d' "$log" | grep -v '^end ' | paste -sd '|' | sed 's/|/; /g')"
        result=$(tail -n 1 "$log")
        case $result in
            PASS) pass "$name" ;;
            "FAIL "*) fail "$name" "${result#FAIL }" ;;
            *) fail "$name" "tools/crashtest.sh left no verdict (it exited with $status; see $log)" ;;
        esac
    done
    # How long the suite took: from the first job's start to the last
    # one's end, and the jobs' time added up.
    for name in $(crash_names); do cat "$logs/$name.log"; done | awk '
        $1 == "start" { if (first == "" || $2 < first) first = $2; begun = $2 }
        $1 == "end" { if ($2 > last) last = $2; total += $2 - begun }
        END { printf "  crash: %.0f s from the first boot to the last, %.0f s of jobs in all\n", last - first, total }'
    if [ "$failed" -gt "$failed_before" ]; then
        echo "  (replay these cuts: make test SUITES=crash CRASH_SEED=$CRASH_SEED CRASH_CUTS=$CRASH_CUTS)"
    fi
}

# Shared memory: init runs shmtest, one check per rule of docs/shm.md,
# including its own free-page comparison.
queue_shmtest() {
    for cpus in 1 2 4; do queue "shmtest-$cpus" boot "shmtest-$cpus" test-shmtest.iso "$cpus"; done
}
report_shmtest() {
    for cpus in 1 2 4; do
        suite shmtest "$cpus"
        expect_text "shmtest-summary-$cpus" "$log" "^shmtest: [0-9]* passed, 0 failed"
        expect_exit "shmtest-exit-code-$cpus" "$EXIT_PASSED"
    done
}

# Waiting on shared memory, and the locks and channel built on it: init
# runs synctest.
queue_synctest() {
    for cpus in 1 2 4; do queue "synctest-$cpus" boot "synctest-$cpus" test-synctest.iso "$cpus"; done
}
report_synctest() {
    for cpus in 1 2 4; do
        suite synctest "$cpus"
        expect_text "synctest-summary-$cpus" "$log" "^synctest: [0-9]* passed, 0 failed"
        expect_exit "synctest-exit-code-$cpus" "$EXIT_PASSED"
    done
}

# The C runtime: init runs ctest, a C program that checks every function
# of user.h against the kernel, exec of gcc's own ELF layout (and of
# variants of it) included; afterwards the disk must still be consistent.
queue_ctest() {
    for cpus in 1 2; do queue "ctest-$cpus" boot "ctest-$cpus" test-ctest.iso "$cpus"; done
}
report_ctest() {
    for cpus in 1 2; do
        suite ctest "$cpus"
        expect_text "ctest-summary-$cpus" "$log" "^ctest: [0-9]* passed, 0 failed"
        expect_exit "ctest-exit-code-$cpus" "$EXIT_PASSED"
        check "fs-consistent-after-ctest-$cpus" "mkfs --check ${log%.log}.img found problems" \
            "$MKFS" --check "${log%.log}.img"
    done
}

# Robustness: init runs syscallfuzz, which makes seeded random system calls
# and runs random instruction bytes in watched child processes, then checks
# that the kernel still works, that every shared-memory slot is free and
# that no memory was lost.
# Its random instruction sequences each end with a trap line, an exit or
# the watchdog's kill: the console must show at least as many trap lines
# (in any format, virtual-8086 ones too) as the program counted traps.
# Its coverage check prints a line per system call; every number in
# kernel/abi/src/syscall.rs must have one. And the console must show
# nothing the run does not explain (see FUZZ_LINES).
queue_syscallfuzz() {
    for cpus in 2 4 1; do queue "syscallfuzz-$cpus" boot "syscallfuzz-$cpus" test-syscallfuzz.iso "$cpus"; done
}

# Every line a syscallfuzz boot may print from the kernel's banner on, as
# extended regular expressions that must match the whole line: the boot
# messages (main.rs), init's and the test runner's, the program's verdicts
# and reports, the kernel's trap line for each child it kills (the random
# instruction sequences: trap.rs), and its rate-limited note about system
# call numbers no call has (syscall.rs). Anything else, a panic or a
# warning or a mangled line, fails the suite: a run that is expected to be
# noisy still shows only the noise that is expected.
FUZZ_LINES=(
    ''
    'xv6-rs: a Rust rewrite of xv6 for x86_64'
    'physical memory map:'
    '  0x[0-9a-f]+-0x[0-9a-f]+ +[0-9]+ KiB  [a-zA-Z0-9 ]+'
    'xv6-rs: NX on, SMEP [a-zA-Z ()]+, SMAP [a-zA-Z ()]+, UMIP [a-zA-Z ()]+; x87\+SSE(\+AVX)? saved with (FXSAVE|XSAVE)'
    'cpu [0-9]+: started \(APIC id [0-9]+\)'
    'xv6-rs: [0-9]+ CPUs? running, [0-9]+ pages \([0-9]+ MiB\) free'
    'init: starting syscallfuzz'
    '(PASS|FAIL) [a-z0-9_]+(: .*)?'
    'syscallfuzz: coverage [a-z_]+(\([0-9]+\))? ok=[0-9]+ err=[0-9]+'
    'syscallfuzz: [0-9]+ fuzz rounds: [0-9]+ made all their calls, the watchdog stopped [0-9]+'
    'syscallfuzz: [0-9]+ random instruction sequences: [0-9]+ killed by a trap, [0-9]+ by the watchdog, [0-9]+ ran through, [0-9]+ exited otherwise'
    'syscallfuzz: [0-9]+ passed, [0-9]+ failed'
    'pid [0-9]+ syscallfuzz: trap [0-9]+ err [0-9]+ on cpu [0-9]+ rip 0x[0-9a-f]+( addr 0x[0-9a-f]+)?--kill proc'
    'pid [0-9]+ syscallfuzz: trap [0-9]+ in virtual-8086 mode on cpu [0-9]+ rip 0x[0-9a-f]+--kill proc'
    '[0-9]+ syscallfuzz: unknown sys call [0-9]+( \([0-9]+ more since the last line\))?'
    'init: syscallfuzz exited with status -?[0-9]+'
    'ktest: user test program exited with status -?[0-9]+'
)

# unexpected_lines LOG PATTERN...: the lines of LOG, from the kernel's
# banner on, that match none of the PATTERNs (whole-line EREs).
unexpected_lines() {
    local log=$1
    shift
    tr -d '\r' <"$log" | sed -n '/^xv6-rs: a Rust rewrite of xv6/,$p' |
        grep -Evx -f <(printf '%s\n' "$@")
}

report_syscallfuzz() {
    local want got number missing unexpected
    for cpus in 1 2 4; do
        suite syscallfuzz "$cpus"
        expect_text "syscallfuzz-summary-$cpus" "$log" "^syscallfuzz: [0-9]* passed, 0 failed"
        want=$(sed -n 's/^syscallfuzz: [0-9]* random instruction sequences: \([0-9]*\) killed by a trap.*/\1/p' "$log")
        got=$(grep -c "^pid [0-9]* syscallfuzz: trap [0-9]* " "$log")
        if [ -n "$want" ] && [ "$want" -gt 0 ] && [ "$got" -ge "$want" ]; then
            pass "syscallfuzz-trap-lines-$cpus"
        else
            fail "syscallfuzz-trap-lines-$cpus" "${want:-no} sequences killed by a trap, $got trap lines ($log)"
        fi
        missing=
        for number in $(sed -n 's/^pub const SYS_[A-Z_]*: usize = \([0-9]*\);/\1/p' kernel/abi/src/syscall.rs); do
            grep -q "^syscallfuzz: coverage [a-z_]*($number) ok=[0-9]* err=[0-9]*" "$log" ||
                missing="$missing $number"
        done
        if [ -z "$missing" ]; then
            pass "syscallfuzz-coverage-lines-$cpus"
        else
            fail "syscallfuzz-coverage-lines-$cpus" "no coverage line for system call$missing ($log)"
        fi
        unexpected=$(unexpected_lines "$log" "${FUZZ_LINES[@]}")
        if [ -z "$unexpected" ]; then
            pass "syscallfuzz-console-expected-$cpus"
        else
            fail "syscallfuzz-console-expected-$cpus" \
                "$(echo "$unexpected" | wc -l) unexpected lines, the first: '$(echo "$unexpected" | head -1)' ($log)"
        fi
        expect_exit "syscallfuzz-exit-code-$cpus" "$EXIT_PASSED"
    done
}

# A scripted session with the shell, through the serial console. The
# session talks to QEMU through two FIFOs (QEMU's "pipe" character device)
# and waits for each prompt before typing the next line. It runs in the
# queue like a boot; its report reads the log it leaves.
session=$logs/session
queue_session() {
    queue session session_boot
}
session_boot() {
    rm -f "$session.in" "$session.out" "$session.raw" "$session.log"
    mkfifo "$session.in" "$session.out"
    cp "$FS_IMG" "$session.img"
    # shellcheck disable=SC2086 # QEMUOPTS is a list of flags
    timeout --foreground -k 5 "$TIMEOUT" $QEMU $QEMUOPTS -smp "$CPUS" -cdrom "$BUILD/xv6.iso" \
        -drive "file=$session.img,index=1,media=disk,format=raw" \
        -display none -monitor none -serial "pipe:$session" </dev/null >/dev/null 2>&1 &
    local qemu_pid=$!
    # cat passes output on as it comes (tr would buffer it); the \r of the
    # serial line endings is removed when the log is read.
    cat <"$session.out" >"$session.raw" &
    exec 3>"$session.in"

    # If QEMU dies, typing into its pipe must fail, not kill the session.
    trap '' PIPE
    prompts=0
    wait_for '^\$ ' 1
    type_line "ls"
    type_line "echo hello | wc"
    type_line "cat README | grep xv6 > out; cat out"
    type_line "mkdir d; cd d; ls"
    type_line "cd /"
    type_line "forktest &"
    type_line "echo after"
    wait_for "^fork test OK" 1
    type_line "shmtest foo 8192 4"
    type_line "args one two"
    type_line "share"
    type_line "shmdemo foo 8192 4"
    exec 3>&-
    kill "$qemu_pid" 2>/dev/null
    wait "$qemu_pid" 2>/dev/null
    tr -d '\r' <"$session.raw" >"$session.log"
    return 0
}
# wait_for PATTERN COUNT: waits until the session's log has COUNT lines
# matching PATTERN, or QEMU has ended. There is no deadline of its own: a
# starved host may take any time to print a prompt, and typing the next
# line before it would mix two commands' output. A hang ends at QEMU's
# timeout (TIMEOUT), and the report then finds the output missing.
wait_for() {
    local count
    while :; do
        [ -e "$session.raw" ] && tr -d '\r' <"$session.raw" >"$session.log"
        count=$(grep -c -- "$1" "$session.log" 2>/dev/null)
        [ "${count:-0}" -ge "$2" ] && return
        kill -0 "$qemu_pid" 2>/dev/null || return
        sleep 0.1
    done
}
# type_line LINE: types a command and waits for the prompt after it.
type_line() {
    printf '%s\n' "$1" >&3
    prompts=$((prompts + 1))
    wait_for '^\$ ' $((prompts + 1))
}
# output_of LINE: what the shell printed between LINE and the next prompt.
output_of() {
    awk -v cmd="\$ $1" '$0 == cmd { on = 1; next } /^\$ / { on = 0 } on' "$session.log"
}
report_session() {
    echo "== shell session"
    await session
    touch "$session.log"
    if output_of "ls" | grep -q '^README  *2 [0-9]* [0-9]*$' && output_of "ls" | grep -q '^sh  *2 '; then
        pass session-ls
    else
        fail session-ls "ls did not list README and sh as files (see $session.log)"
    fi
    if [ "$(output_of "echo hello | wc" | tr -s ' ' | sed 's/ $//')" = "1 1 6" ]; then
        pass session-pipe-wc
    else
        fail session-pipe-wc "echo hello | wc did not print 1 1 6 (see $session.log)"
    fi
    if [ "$(output_of "cat README | grep xv6 > out; cat out")" = "$(grep xv6 README.md)" ]; then
        pass session-redirect-grep
    else
        fail session-redirect-grep "cat out differs from grep xv6 README.md (see $session.log)"
    fi
    if [ "$(output_of "mkdir d; cd d; ls" | awk '{ print $1, $2 }' | tr '\n' ' ')" = ". 1 .. 1 " ]; then
        pass session-mkdir-cd-ls
    else
        fail session-mkdir-cd-ls "ls in a new directory did not show just . and .. (see $session.log)"
    fi
    # The background job's output may land anywhere among the next
    # command's, so look for both anywhere after it was started.
    if grep -q '^fork test OK' "$session.log" && grep -q '^after$' "$session.log"; then
        pass session-background-job
    else
        fail session-background-job "forktest & or the command after it did not finish (see $session.log)"
    fi

    local demo share
    demo=$(output_of "shmtest foo 8192 4")
    if printf '%s\n' "$demo" | grep -q "verified 8192 bytes" &&
        printf '%s\n' "$demo" | grep -q "(4 stripes ok)" &&
        [ "$(printf '%s\n' "$demo" | grep -c '^worker [0-3]')" = 4 ]; then
        pass session-shm-demo
    else
        fail session-shm-demo "shmtest foo 8192 4 did not show 4 workers and 8192 verified bytes (see $session.log)"
    fi

    # C programs, started by the (Rust) shell.
    if [ "$(output_of "args one two" | tr '\n' '|')" = "argc 3|argv[0] args|argv[1] one|argv[2] two|" ]; then
        pass session-c-args
    else
        fail session-c-args "args one two did not print its three arguments (see $session.log)"
    fi
    share=$(output_of "share")
    if printf '%s\n' "$share" | grep -q '^share: pid [0-9]* wrote "Hello from PID [0-9]*!" to shared_buf' &&
        printf '%s\n' "$share" | grep -q '^share read: pid [0-9]* read "Hello from PID [0-9]*!" from shared_buf'; then
        pass session-c-share
    else
        fail session-c-share "share did not write its greeting and read it back (see $session.log)"
    fi
    demo=$(output_of "shmdemo foo 8192 4")
    if printf '%s\n' "$demo" | grep -q "verified 8192 bytes: AAAA...BBBB...CCCC...DDDD (4 stripes ok)" &&
        [ "$(printf '%s\n' "$demo" | grep -c '^worker [0-3]: filled')" = 4 ]; then
        pass session-c-shm-demo
    else
        fail session-c-shm-demo "shmdemo foo 8192 4 did not show 4 workers and 8192 verified bytes (see $session.log)"
    fi
}

# The benchmark programs run, and print only well-formed CSV: the header,
# then rows of benchmark,processes,operations,seconds,rate,unit (seconds
# empty in a ratio row, numbers with three decimals).
CSV_ROW='^[a-z_0-9]*,[0-9]*,[0-9]*,\([0-9]*\.[0-9][0-9][0-9]\)\?,[0-9]*\.[0-9][0-9][0-9],[a-z_]*$'
queue_bench() {
    for program in shmbench sysbench; do
        queue "$program-2" boot "$program-2" "test-$program.iso" 2
    done
}
report_bench() {
    local program rows bad
    for program in shmbench sysbench; do
        echo "== $program (CPUS=2)"
        await "$program-2"
        expect_text "$program-csv-header" "$log" "^benchmark,processes,operations,seconds,rate,unit"
        # Every line that looks like a row (starts with a name and a comma).
        rows=$(tr -d '\r' <"$log" | grep -c '^[a-z_0-9]*,[0-9]')
        bad=$(tr -d '\r' <"$log" | grep '^[a-z_0-9]*,[0-9]' | grep -vc "$CSV_ROW")
        if [ "$rows" -ge 5 ] && [ "$bad" = 0 ]; then
            pass "$program-csv-rows"
        else
            fail "$program-csv-rows" "$rows rows, $bad of them malformed (see $log)"
        fi
        expect_exit "$program-exit-code" "$EXIT_PASSED"
    done
}

# The teacher's lab kit: tools/labcheck.sh writes the lab, builds its
# kernel and boots shmtest on it. The solution is gone, so shmtest must
# fail checks, and the kernel must stay up to report them.
queue_lab() {
    queue lab-shmtest env BUILD="$BUILD" CARGO_BARE="$CARGO_BARE" FS_IMG="$FS_IMG" \
        QEMU="$QEMU" QEMUOPTS="$QEMUOPTS" TIMEOUT="$TIMEOUT" tools/labcheck.sh "$logs/lab-shmtest.log"
}
report_lab() {
    echo "== lab-shm"
    await lab-shmtest
    if [ -e "$log.build" ] && grep -q "^error" "$log.build"; then
        fail lab-builds "the lab did not build (see $log.build)"
        return
    fi
    pass lab-builds
    if [ -e "$log.build" ] && grep -q "^warning" "$log.build"; then
        fail lab-no-warnings "the lab builds with warnings (see $log.build)"
    else
        pass lab-no-warnings
    fi
    local summary
    summary=$(tr -d '\r' <"$log" | sed -n 's/^shmtest: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
    if [ -n "$summary" ] && [ "$summary" -gt 0 ]; then
        pass lab-shmtest-fails
    else
        fail lab-shmtest-fails "shmtest on the lab's kernel did not report failures (see $log)"
    fi
    if grep -q "^panic" "$log"; then
        fail lab-no-panic "the lab's kernel panicked (see $log)"
    else
        pass lab-no-panic
    fi
    # In this tree the markers are comments: every solution has its stub.
    local begins stubs
    begins=$(grep -r --include='*.rs' -c 'LAB shm: solution begins' kernel | awk -F: '{ s += $2 } END { print s }')
    stubs=$(grep -r --include='*.rs' -c 'LAB shm: stub' kernel | awk -F: '{ s += $2 } END { print s }')
    if [ "$begins" -gt 0 ] && [ "$begins" = "$stubs" ]; then
        pass lab-markers-paired
    else
        fail lab-markers-paired "$begins solutions marked, $stubs stubs"
    fi
}

# A damaged disk: `mkfs --damage` adds one damaged object per kind to a
# copy of fs.img (mkfs/src/damage.rs), and init runs fsdamage, which
# touches each one and expects -1 where the damage is met. The console
# must name each piece of damage in one line, nothing may panic, and the
# superblock, which one damaged file points at, must be unchanged.
queue_damage() {
    cp "$FS_IMG" "$logs/fsdamage.img"
    "$MKFS" --damage "$logs/fsdamage.img" >"$logs/fsdamage.damage" 2>&1
    "$MKFS" --check "$logs/fsdamage.img" >"$logs/fsdamage.check-before" 2>&1
    dd if="$logs/fsdamage.img" of="$logs/fsdamage.superblock" bs=$BSIZE skip=$SUPERBLOCK_BLOCK \
        count=1 status=none
    queue fsdamage boot fsdamage test-fsdamage.iso "$CPUS" "$logs/fsdamage.img"
    # The cycle again, at 4 CPUs, raced by two processes.
    cp "$FS_IMG" "$logs/fsdamagecycle.img"
    "$MKFS" --damage "$logs/fsdamagecycle.img" >/dev/null 2>&1
    queue fsdamagecycle boot fsdamagecycle test-fsdamagecycle.iso 4 "$logs/fsdamagecycle.img"

    # A failing disk: every read of the README's first block fails, as
    # QEMU's blkdebug driver makes it (errno 5, EIO, which the IDE drive
    # reports as an aborted command). The README is inode 2 (mkfs makes it
    # first); its first block address is 12 bytes into its inode.
    cp "$FS_IMG" "$logs/fsdiskerror.img"
    local inodestart readme_block
    inodestart=$(u32_at "$logs/fsdiskerror.img" $((SUPERBLOCK_BLOCK * BSIZE + INODESTART_OFFSET)))
    readme_block=$(u32_at "$logs/fsdiskerror.img" $((inodestart * BSIZE + 2 * DINODE_SIZE + ADDRS_OFFSET)))
    echo "$readme_block" >"$logs/fsdiskerror.block"
    printf '[inject-error]\nevent = "read_aio"\nerrno = "5"\nsector = "%s"\n' \
        $((readme_block * BSIZE / 512)) >"$logs/fsdiskerror.blkdebug"
    queue fsdiskerror boot fsdiskerror test-fsdiskerror.iso "$CPUS" \
        "blkdebug:$logs/fsdiskerror.blkdebug:$logs/fsdiskerror.img"
}
# u32_at FILE OFFSET: the little-endian u32 at byte OFFSET of FILE.
u32_at() {
    od -An -t u4 -j "$2" -N 4 "$1" | tr -d ' '
}
# The line the kernel prints for each kind of damage (kernel/src/fs.rs and
# log.rs), one entry per name of damage.rs's table: NAME|WHEN|PATTERN,
# where WHEN says whether the line must come from the mount (before init
# starts fsdamage) or from fsdamage's own calls, which must each report the
# damage they meet even when the mount's scan of the inodes reported it
# already. In PATTERN, {inum} stands for the inode `mkfs --damage` says
# it damaged for NAME (the name up to a '-').
DAMAGE_LINES=(
    "badaddr|calls|^fs: inode [0-9]*: block 1 of the file is block [0-9]*, outside the data blocks"
    "badmeta|calls|^fs: inode [0-9]*: block 0 of the file is block 1, outside the data blocks"
    "badind|calls|^fs: inode [0-9]*: block 13 of the file is block [0-9]*, outside the data blocks"
    "badsize|calls|^fs: inode [0-9]*: size 3072 but no block for byte 1024"
    "hugesize|calls|^fs: inode [0-9]*: size [0-9]* is more than a file can hold"
    "badtype|calls|^fs: inode [0-9]* has type 9, which is no kind of inode"
    "ghost|calls|^fs: inode [0-9]* is in use, but it is free on disk"
    "faraway|calls|^fs: directory inode 1: entry 'faraway' names inode [0-9]*, but the disk has"
    "nodot|calls|^fs: directory inode [0-9]*: its first entry is not '.'"
    "badbitmap|calls|^fs: inode [0-9]* uses block [0-9]*, but the bitmap marks it free"
    "badbitmap-at-mount|mount|^fs: inode [0-9]* uses block [0-9]*, but the bitmap marks it free; it will not be handed out"
    "log|mount|^log: the header on disk is damaged"
    "loop|calls|^fs: directory inode 1: entry 'loop' names the directory itself"
    "cycle|calls|^fs: directory inode [0-9]*: its '..' is inode {inum}, but directory inode [0-9]* names it 'up'"
    "nlink0-at-mount|mount|^fs: inode {inum} has no links, but a directory names it; it is kept"
    "nlink0-mkdir|calls|^fs: directory inode {inum} has a link count of 0 but a name"
    "nlink0-unlink|calls|^fs: directory inode {inum}: link count 0 is too low for a subdirectory"
    "nlink1|calls|^fs: directory inode {inum}: link count 1 is too low for a subdirectory"
    "toolow|calls|^fs: directory inode {inum}: link count 1 is too low for a subdirectory"
    "maxlink|calls|^fs: directory inode {inum}: link count 65535 cannot grow"
    "sharedb-at-mount|mount|^fs: inode {inum} uses block [0-9]*, which another inode uses too; neither will free it"
    "sharedb|calls|^fs: inode {inum} uses block [0-9]*, which another inode uses too"
)
report_damage() {
    echo "== a damaged disk (CPUS=$CPUS)"
    if grep -q "damaged badbitmap" "$logs/fsdamage.damage" && ! grep -q ": ok (" "$logs/fsdamage.check-before"; then
        pass damage-made
    else
        fail damage-made "mkfs --damage did not damage the image (see $logs/fsdamage.damage)"
    fi
    await fsdamage
    in_os_results "$log"
    expect_text fsdamage-summary "$log" "^fsdamage: [0-9]* passed, 0 failed"
    # The log split where init starts fsdamage: the mount's lines, then
    # the calls'.
    sed '/^init: starting fsdamage/,$d' "$log" >"$logs/fsdamage.mount"
    sed -n '/^init: starting fsdamage/,$p' "$log" >"$logs/fsdamage.calls"
    local entry name when pattern inum
    for entry in "${DAMAGE_LINES[@]}"; do
        IFS='|' read -r name when pattern <<<"$entry"
        inum=$(sed -n "s/.*damaged ${name%%-*}: inode \([0-9]*\),.*/\1/p" "$logs/fsdamage.damage")
        expect_text "damage-reported-$name" "$logs/fsdamage.$when" "${pattern//\{inum\}/$inum}"
    done
    if grep -q "^panic" "$log"; then
        fail damage-no-panic "the kernel panicked (see $log)"
    else
        pass damage-no-panic
    fi
    if tr -d '\r' <"$log" | tr -s ' ' | grep -q ' 1 3 19 *$' && grep -q "^fsdamage: echo ran" "$log"; then
        pass damage-shell-and-exec
    else
        fail damage-shell-and-exec "the shell's pipeline or echo printed nothing after the damage (see $log)"
    fi
    if dd if="$logs/fsdamage.img" bs=$BSIZE skip=$SUPERBLOCK_BLOCK count=1 status=none |
        cmp -s - "$logs/fsdamage.superblock"; then
        pass damage-superblock-unchanged
    else
        fail damage-superblock-unchanged "block $SUPERBLOCK_BLOCK changed: a write through badmeta reached it"
    fi
    expect_exit fsdamage-exit-code "$EXIT_PASSED"
    # The orphan (a file a crash left with no links) is freed at mount.
    local orphan
    orphan=$(sed -n 's/.*damaged orphan: inode \([0-9]*\),.*/\1/p' "$logs/fsdamage.damage")
    "$MKFS" --check "$logs/fsdamage.img" >"$logs/fsdamage.check-after" 2>&1
    if [ -n "$orphan" ] && grep -q "inode $orphan: allocated but not reachable" "$logs/fsdamage.check-before" &&
        ! grep -q "inode $orphan:" "$logs/fsdamage.check-after" &&
        grep -q "^fs: inode $orphan has no links (removed while open, before a crash): freed" "$log"; then
        pass damage-orphan-freed
    else
        fail damage-orphan-freed "the orphan inode ${orphan:-?} was not freed at mount (see $log, $logs/fsdamage.check-after)"
    fi

    echo "== a directory cycle raced by two processes (CPUS=4)"
    await fsdamagecycle
    in_os_results "$log"
    expect_text fsdamagecycle-summary "$log" "^fsdamage: [0-9]* passed, 0 failed"
    expect_text fsdamagecycle-reported "$log" "^fs: directory inode [0-9]*: its '..' is inode [0-9]*, but directory inode [0-9]* names it 'up'"
    if grep -q "^panic" "$log"; then
        fail fsdamagecycle-no-panic "the kernel panicked (see $log)"
    else
        pass fsdamagecycle-no-panic
    fi
    expect_exit fsdamagecycle-exit-code "$EXIT_PASSED"

    echo "== a disk that fails to read a block (CPUS=$CPUS)"
    await fsdiskerror
    in_os_results "$log"
    expect_text fsdiskerror-summary "$log" "^fsdamage: [0-9]* passed, 0 failed"
    expect_text fsdiskerror-reported "$log" \
        "^ide: disk 1 failed to read block $(cat "$logs/fsdiskerror.block") (status 0x[0-9a-f]*, error 0x04)"
    if grep -q "^panic" "$log"; then
        fail fsdiskerror-no-panic "the kernel panicked (see $log)"
    else
        pass fsdiskerror-no-panic
    fi
    expect_exit fsdiskerror-exit-code "$EXIT_PASSED"
}

# Disks damaged at random: for each seed of DISK_SEEDS, `mkfs
# --damage-random` adds a tree to a copy of fs.img and flips bits of its
# metadata, and fsdamage walks, reads and removes everything it can. The
# calls may fail (the console says why); the kernel must not panic, hang
# or kill the program, and the walk must end.
queue_fuzzdisk() {
    local seed
    for seed in $DISK_SEEDS; do
        cp "$FS_IMG" "$logs/fuzzdisk-$seed.img"
        "$MKFS" --damage-random "$seed" "$logs/fuzzdisk-$seed.img" >"$logs/fuzzdisk-$seed.damage" 2>&1
        queue "fuzzdisk-$seed" boot "fuzzdisk-$seed" test-fsdamagewalk.iso "$CPUS" "$logs/fuzzdisk-$seed.img"
    done
}
report_fuzzdisk() {
    local seed replay
    for seed in $DISK_SEEDS; do
        echo "== a disk damaged at random, seed $seed (CPUS=$CPUS)"
        replay="replay: make fuzz-disk SEEDS=$seed CPUS=$CPUS; the damage: $logs/fuzzdisk-$seed.damage"
        if grep -q "damaged at random, seed $seed" "$logs/fuzzdisk-$seed.damage"; then
            pass "fuzzdisk-$seed-damaged"
        else
            fail "fuzzdisk-$seed-damaged" "mkfs --damage-random failed (see $logs/fuzzdisk-$seed.damage)"
        fi
        await "fuzzdisk-$seed"
        if grep -q "^fsdamage: walk done" "$log"; then
            pass "fuzzdisk-$seed-walk-ended"
        else
            fail "fuzzdisk-$seed-walk-ended" "the walk did not end (QEMU exit $status; see $log; $replay)"
        fi
        if grep -q "^panic" "$log"; then
            fail "fuzzdisk-$seed-no-panic" "the kernel panicked (see $log; $replay)"
        else
            pass "fuzzdisk-$seed-no-panic"
        fi
        if grep -q "^pid [0-9]* fsdamage: trap" "$log"; then
            fail "fuzzdisk-$seed-no-trap" "the walk was killed by a trap (see $log; $replay)"
        else
            pass "fuzzdisk-$seed-no-trap"
        fi
        expect_exit "fuzzdisk-$seed-exit-code" "$EXIT_PASSED"
    done
}

# Boots that must fail, and say why.
queue_failures() {
    queue panic boot panic test-panic.iso
    queue pagefault boot pagefault test-pagefault.iso
    queue relock boot relock test-relock.iso
    queue sleeprelock boot sleeprelock test-sleeprelock.iso
    queue stackoverflow boot stackoverflow test-stackoverflow.iso
    queue cpustackoverflow boot cpustackoverflow test-cpustackoverflow.iso
    queue smap boot smap test-smap.iso "$CPUS" "" "-cpu max"
    queue smep boot smep test-smep.iso "$CPUS" "" "-cpu max"
    queue nodisk boot nodisk test.iso "$CPUS" none
    # A superblock whose bitmap starts inside the inode blocks (block 40):
    # the kernel must refuse to mount it, and `mkfs --check` must find the
    # same fault.
    cp "$FS_IMG" "$logs/badsuper.img"
    printf '\050\000\000\000' | dd of="$logs/badsuper.img" bs=1 \
        seek=$((SUPERBLOCK_BLOCK * BSIZE + BMAPSTART_OFFSET)) conv=notrunc status=none
    queue badsuper boot badsuper test-usertests.iso "$CPUS" "$logs/badsuper.img"
}
# stack_overflow_report NAME: the kernel of test-NAME.iso overflows a stack
# on purpose; the guard page below it must turn that into a double-fault
# report.
stack_overflow_report() {
    await "$1"
    expect_text "$1-double-fault" "$log" "kernel trap 8 (double fault)"
    expect_text "$1-panic" "$log" "^panic: double fault in the kernel"
    expect_exit "$1-exit-code" "$EXIT_FAILED"
}
report_failures() {
    echo "== panic report"
    await panic
    expect_text panic-message "$log" "^panic: deliberate panic"
    expect_text panic-location "$log" "at kernel/src/ktest.rs:[0-9]*:[0-9]*"
    expect_exit panic-exit-code "$EXIT_FAILED"

    echo "== kernel page fault report"
    await pagefault
    expect_text pagefault-vector "$log" "kernel trap 14 (page fault), error code 0x0"
    expect_text pagefault-cr2 "$log" "faulting address (cr2) 0x00000000dead0000: read on a missing page"
    expect_text pagefault-registers "$log" "^  rax 0x00000000dead0000"
    expect_text pagefault-backtrace "$log" "^  backtrace:"
    expect_text pagefault-panic "$log" "^panic: page fault in the kernel"
    expect_exit pagefault-exit-code "$EXIT_FAILED"

    echo "== lock taken twice"
    await relock
    expect_text relock-names-lock "$log" "^panic: acquire: lock 'deliberately relocked' already held by this CPU"
    expect_exit relock-exit-code "$EXIT_FAILED"

    echo "== a sleep lock taken twice by its holder"
    await sleeprelock
    expect_text sleeprelock-names-lock "$log" "^panic: sleep lock 'deliberately relocked' taken again by its holder"
    expect_exit sleeprelock-exit-code "$EXIT_FAILED"

    echo "== kernel stack overflow"
    stack_overflow_report stackoverflow
    echo "== CPU stack overflow"
    stack_overflow_report cpustackoverflow

    # With SMEP and SMAP (-cpu max), the kernel reading or running a user
    # page outside the copy helpers must fault and say which guard stopped
    # it.
    for guard in smap smep; do
        echo "== kernel touching a user page ($guard)"
        await "$guard"
        expect_text "$guard-fault" "$log" "kernel trap 14 (page fault)"
        expect_text "$guard-named" "$log" "^  $(echo $guard | tr a-z A-Z): the kernel"
        expect_text "$guard-panic" "$log" "^panic: page fault in the kernel"
        expect_exit "$guard-exit-code" "$EXIT_FAILED"
    done

    echo "== no file system disk"
    await nodisk
    expect_text nodisk-message "$log" "^panic: ide: no disk 1 (the file system image is missing"
    expect_exit nodisk-exit-code "$EXIT_FAILED"

    echo "== corrupt superblock"
    await badsuper
    expect_text badsuper-message "$log" "^panic: fs: disk 1 has a corrupt superblock: the bitmap starts at block 40"
    expect_exit badsuper-exit-code "$EXIT_FAILED"
    "$MKFS" --check "$logs/badsuper.img" >"$logs/badsuper.check" 2>&1
    expect_text badsuper-mkfs-check "$logs/badsuper.check" "superblock: the bitmap starts at block 40"
}

# ---------------------------------------------------------------------------
# The host suite, which boots nothing.

# test_hooks_only_in TEST_KERNEL KERNEL: the test runner and the deliberate
# faults are symbols of TEST_KERNEL and not of KERNEL.
TEST_HOOKS='ktest::run|test_every_page_once|touch_user_page|overflow_kernel_stack|debug_exit::exit'
test_hooks_only_in() {
    nm -C "$1" | grep -Eq "$TEST_HOOKS" && ! nm -C "$2" | grep -Eq "$TEST_HOOKS"
}

report_host() {
    echo "== host checks"
    check multiboot2-header "grub-file rejects $KERNEL" grub-file --is-x86-multiboot2 "$KERNEL"
    check cargo-fmt "run 'cargo fmt --all' and commit the result" cargo fmt --all --check
    # shellcheck disable=SC2086 # CARGO_BARE is a list of flags
    check clippy-kernel "clippy reports warnings: run make and fix them" \
        cargo clippy -p kernel $CARGO_BARE -- -D warnings
    # shellcheck disable=SC2086 # CARGO_BARE is a list of flags
    check clippy-kernel-ktest "clippy reports warnings in the test kernel (--features ktest)" \
        cargo clippy -p kernel $CARGO_BARE --features ktest --target-dir "$KTEST_TARGET_DIR" -- -D warnings
    # The test hooks are in the test kernel and nowhere else.
    check test-hooks-only-in-test-kernel "xv6.iso's kernel has test hooks, or the test kernel lacks them" \
        test_hooks_only_in "$KTEST_KERNEL" "$KERNEL"
    local iso_before fs_before
    iso_before=$(stat -c %Y "$BUILD/xv6.iso")
    fs_before=$(stat -c %Y "$FS_IMG")
    make --no-print-directory all >/dev/null 2>&1
    check incremental-build "make rebuilt the ISO or fs.img of an unchanged tree" \
        test "$(stat -c %Y "$BUILD/xv6.iso") $(stat -c %Y "$FS_IMG")" = "$iso_before $fs_before"

    # shellcheck disable=SC2086 # the flags are lists
    check clippy-user "clippy reports warnings in the user programs" \
        env RUSTFLAGS="$USER_RUSTFLAGS" cargo clippy -q -p user $CARGO_USER \
        --target-dir "$USER_TARGET_DIR" -- -D warnings

    echo "== host unit tests (abi, mkfs, shmtable)"
    check host-unit-tests "cargo test -p abi -p mkfs -p shmtable failed: run it to see why" \
        cargo test -q -p abi -p mkfs -p shmtable
    # (Also part of the unit tests above; named here so that its failure
    # says what it means.)
    check c-headers-match-abi "user/c/include disagrees with kernel/abi: run cargo test -p abi --test c_headers" \
        cargo test -q -p abi --test c_headers
    check c-no-warnings "gcc -Wall -Wextra warns about a C program: run make c-warnings" \
        make --no-print-directory c-warnings
    check clippy-host "clippy reports warnings in abi, mkfs or shmtable" \
        cargo clippy -q -p abi -p mkfs -p shmtable --all-targets -- -D warnings
}

# ---------------------------------------------------------------------------
# The run: the host checks first (the incremental-build check runs make,
# which must not race the boots' copies of fs.img; and the boots finish
# sooner without cargo competing for the CPUs), then every
# boot, in the background, while the suites report in order.

if selected host; then
    report_host
fi

for name in $QUEUE_ORDER; do
    if selected "$name"; then "queue_$name"; fi
done
# The queue runs in a process group of its own (job control, set -m, puts
# a background job in one): stopping that group when this script ends, on
# an interrupt or an error, stops every QEMU the queue started.
set -m
run_queue &
queue_pid=$!
set +m
trap 'kill -TERM -- -"$queue_pid" 2>/dev/null' EXIT
trap 'exit 130' INT TERM

for name in $ALL_SUITES; do
    if [ "$name" != host ] && selected "$name"; then "report_$name"; fi
done
wait "$queue_pid"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
