#!/bin/bash
# crashtest.sh: power cuts, for the crash suite of `make test` (tools/test.sh).
#
#   crashtest.sh cut PREFIX SEED INDEX CUTS    one power cut, the INDEX-th
#                                              (from 1) of CUTS
#   crashtest.sh whole PREFIX                  the workload without a cut
#
# The workload is user/src/bin/crashtest.rs: `crashtest run` makes its
# system calls, one at a time, printing "crash: step K call ..." before
# each and "crash: step K ret R" after it; `crashtest check`, booted on the
# disk afterwards, prints the steps whose state the disk matches. Both run
# with the program's default seed and length (the kernel command lines
# are `test=user:crashtest,run` and `test=user:crashtest,check`); SEED here
# only chooses where the cuts fall.
#
# A cut: boot `crashtest run` on a fresh copy of fs.img; when step K's
# `call` line arrives, wait D ms and kill QEMU with SIGKILL, which stops
# the machine between two instructions, disk writes and all, as a power
# cut would. K and D come from SEED and INDEX: the cuts divide the workload
# into CUTS equal stretches and each falls at a random step of its own
# stretch, so that together they cover the whole workload; D is 0 to
# MAX_DELAY_MS, about one step's time, so that some cuts land in the middle
# of a commit. Then, on the image the cut left:
#
#   1. `mkfs --check --recover`: the image is consistent once the log's
#      committed transaction, if any, is installed. (The plain check
#      would refuse a full log, which a cut during a commit leaves; the
#      kernel's recovery installs it at mount, and this is the image it
#      will mount.)
#   2. `crashtest check` boots on it, and the disk must match the state
#      after the last step whose `ret` line the cut run printed (L), or
#      after the one after it, L+1, which may have committed before the
#      cut stopped it printing. Anything else is a step half done, or a
#      step that returned and was lost.
#   3. plain `mkfs --check`: recovery emptied the log, and the check's own
#      new files left the file system consistent.
#
# The whole run: `crashtest run` to the end, plain `mkfs --check`, then
# `crashtest check`, which must match the state after the last step.
#
# Everything goes to files beside PREFIX: PREFIX.img (the disk),
# PREFIX.run.log and PREFIX.check.log (the two boots' serial output),
# PREFIX.fsck and PREFIX.fsck-after (the two checks), and PREFIX.log, the
# verdict that tools/test.sh reports: "start SECONDS", lines of what
# happened ("cut: step K + D ms", "returned: step L", "disk: matches steps
# L L+1", ...), "end SECONDS", and last "PASS" or "FAIL why". The
# Makefile's variables come in the environment (BUILD, FS_IMG, MKFS,
# QEMU, QEMUOPTS, CPUS, TIMEOUT). Exits with 0 on PASS, 1 on FAIL.
set -u

# QEMU's exit status when the kernel reports success (tools/test.sh).
EXIT_PASSED=33
# The longest wait after a `call` line, in milliseconds.
MAX_DELAY_MS=12

mode=$1
prefix=$2
verdict=$prefix.log
image=$prefix.img
run_log=$prefix.run.log
check_log=$prefix.check.log
echo "start $(date +%s.%N)" >"$verdict"

# finish PASS, or finish FAIL WHY...: writes the verdict and exits.
finish() {
    echo "end $(date +%s.%N)" >>"$verdict"
    echo "$*" >>"$verdict"
    if [ "$1" = PASS ]; then exit 0; fi
    exit 1
}

# boot ISO FLAGS...: boots ISO on the image, with the extra QEMU flags
# FLAGS (where the serial output goes); returns QEMU's exit status.
boot() {
    local iso=$BUILD/$1
    shift
    # shellcheck disable=SC2086 # QEMUOPTS is a list of flags
    timeout --foreground -k 5 "$TIMEOUT" $QEMU $QEMUOPTS -smp "$CPUS" -cdrom "$iso" \
        -drive "file=$image,index=1,media=disk,format=raw" -display none -monitor none \
        "$@" </dev/null
}

# boot_check: boots `crashtest check` on the image, serial output to the
# check log; fails the cut unless the check passed.
boot_check() {
    boot test-crashcheck.iso -serial "file:$check_log" >/dev/null 2>&1
    local status=$? failure
    failure=$(first_failure "$check_log")
    [ -z "$failure" ] || finish FAIL "the check failed: $failure"
    [ "$status" = "$EXIT_PASSED" ] ||
        finish FAIL "the check's QEMU exited with $status (see $check_log)"
}

# matched_steps: the steps whose state the check found on disk, as
# " 17 18 " (spaces around each), or nothing.
matched_steps() {
    local steps
    steps=$(tr -d '\r' <"$check_log" | sed -n 's/^crashtest: disk matches the state after steps //p')
    [ -n "$steps" ] && echo " $steps "
}

# first_failure LOG: the first FAIL line the OS printed in LOG, if any.
first_failure() {
    tr -d '\r' <"$1" | grep -m1 '^FAIL '
}

# workload_steps: how many steps the run said it would make.
workload_steps() {
    tr -d '\r' <"$run_log" | sed -n 's/^crashtest: seed [0-9]*, \([0-9]*\) steps .*/\1/p'
}

# last_returned: the last step whose `ret` line the run printed (0: none).
last_returned() {
    local last
    last=$(tr -d '\r' <"$run_log" | sed -n 's/^crash: step \([0-9]*\) ret .*/\1/p' | tail -n 1)
    echo "${last:-0}"
}

cp "$FS_IMG" "$image"

if [ "$mode" = whole ]; then
    boot test-crashrun.iso -serial "file:$run_log" >/dev/null 2>&1
    status=$?
    steps=$(workload_steps)
    echo "run: ${steps:-?} steps, uncut" >>"$verdict"
    failure=$(first_failure "$run_log")
    [ -z "$failure" ] || finish FAIL "the run failed: $failure"
    [ "$status" = "$EXIT_PASSED" ] || finish FAIL "the run's QEMU exited with $status (see $run_log)"
    "$MKFS" --check "$image" >"$prefix.fsck" 2>&1 ||
        finish FAIL "mkfs --check after the run: $(head -n 1 "$prefix.fsck")"
    boot_check
    matched=$(matched_steps)
    echo "disk: matches steps${matched:- none }" | sed "s/ $//" >>"$verdict"
    case $matched in
        *" $steps "*) finish PASS ;;
        *) finish FAIL "the disk does not match the state after the last step, $steps (see $check_log)" ;;
    esac
fi

seed=$3
index=$4
cuts=$5

# The cut's pseudo-random numbers: an LCG (the constants of C's rand)
# started from the seed and the cut's index.
random_state=$(((seed * 7919 + index * 104729) % 2147483648))
next_random() { # next_random N: sets $number to a number in 0..N-1
    random_state=$(((random_state * 1103515245 + 12345) % 2147483648))
    random_state=$(((random_state * 1103515245 + 12345) % 2147483648))
    number=$(((random_state >> 8) % $1))
}
# Where in the workload, in thousandths: somewhere in this cut's stretch.
next_random 1000
position=$((((index - 1) * 1000 + number) / cuts))
next_random $((MAX_DELAY_MS + 1))
delay_ms=$number
delay=$(printf '0.%03d' "$delay_ms")

# The run, its serial output read line by line as it comes (the loop is
# a subshell, so it leaves what the rest needs in files). The step to cut
# at is known once the run has said how many steps it makes. QEMU writes
# its process id to a file for the kill: `timeout` is its parent.
rm -f "$run_log" "$prefix.step" "$prefix.cut"
boot test-crashrun.iso -serial stdio -pidfile "$prefix.pid" 2>/dev/null |
    while IFS= read -r line; do
        line=${line%$'\r'}
        printf '%s\n' "$line" >>"$run_log"
        case $line in
            "crashtest: seed "*)
                step=$((1 + position * $(workload_steps) / 1000))
                echo "$step" >"$prefix.step"
                ;;
            "crash: step ${step:-?} call "*)
                if [ ! -e "$prefix.cut" ]; then
                    if [ "$delay_ms" -gt 0 ]; then sleep "$delay"; fi
                    kill -KILL "$(cat "$prefix.pid")" 2>/dev/null
                    touch "$prefix.cut"
                fi
                ;;
        esac
    done
step=$(cat "$prefix.step" 2>/dev/null)
returned=$(last_returned)
echo "cut: step ${step:-?} + $delay_ms ms" >>"$verdict"
echo "returned: step $returned" >>"$verdict"
failure=$(first_failure "$run_log")
[ -z "$failure" ] || finish FAIL "the run failed before the cut: $failure"
[ -e "$prefix.cut" ] || finish FAIL "the run ended before step ${step:-?} began (see $run_log)"

"$MKFS" --check --recover "$image" >"$prefix.fsck" 2>&1 ||
    finish FAIL "mkfs --check --recover after the cut: $(head -n 1 "$prefix.fsck")"
sed -n 's/.*: log: \([0-9]*\) committed blocks installed .*/log: \1 committed blocks to recover/p' \
    "$prefix.fsck" >>"$verdict"

boot_check
matched=$(matched_steps)
echo "disk: matches steps${matched:- none }" | sed "s/ $//" >>"$verdict"
case $matched in
    *" $returned "* | *" $((returned + 1)) "*) ;;
    *) finish FAIL "the disk matches steps$matched, not step $returned (the last returned) or $((returned + 1))" ;;
esac
"$MKFS" --check "$image" >"$prefix.fsck-after" 2>&1 ||
    finish FAIL "mkfs --check after recovery: $(head -n 1 "$prefix.fsck-after")"
finish PASS
