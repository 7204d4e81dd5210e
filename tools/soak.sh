#!/bin/bash
# The soak run behind `make soak`, not part of `make test`: one long boot
# at SOAK_CPUS CPUs in which init runs `soak` (user/src/bin/soak.rs), which
# runs syscallfuzz (a new seed each round), usertests and shmtest in
# rounds for SOAK_TIME seconds and checks after every round that the free
# pages and the free inodes are back where they started. It boots an ISO
# of its own, whose kernel command line passes the seconds
# (`test=user:soak,SECONDS`), with a copy of fs.img, which afterwards must
# be consistent.
#
# The Makefile passes QEMU, QEMUOPTS, BUILD, KERNEL (the test kernel, which
# reads the command line), MKFS, FS_IMG, SOAK_TIME and SOAK_CPUS. The boot may take SOAK_TIME plus
# ROUND_SECONDS (the last round runs to its end) before it counts as hung.
# The last line is "PASS soak" or "FAIL soak: why"; the exit status is
# non-zero on a failure.
set -u

ROUND_SECONDS=900
EXIT_PASSED=33

logs=$BUILD/test-logs
mkdir -p "$logs" "$BUILD/soak"
log=$logs/soak.log
disk=$logs/soak.img
iso=$BUILD/soak/soak.iso
tools/mkiso.sh "$iso" "$KERNEL" "test=user:soak,$SOAK_TIME"
cp "$FS_IMG" "$disk"

echo "soak: $SOAK_TIME s at $SOAK_CPUS CPUs; serial log in $log"
# shellcheck disable=SC2086 # QEMUOPTS is a list of flags
timeout --foreground -k 5 $((SOAK_TIME + ROUND_SECONDS)) $QEMU $QEMUOPTS -smp "$SOAK_CPUS" \
    -cdrom "$iso" -drive "file=$disk,index=1,media=disk,format=raw" \
    -display none -serial "file:$log" -monitor none </dev/null >/dev/null 2>&1
status=$?
tr -d '\r' <"$log" | grep -E '^(soak: |panic)'

why=
if [ "$status" != "$EXIT_PASSED" ]; then
    why="QEMU exited with $status, expected $EXIT_PASSED"
elif ! grep -q '^PASS soak' "$log"; then
    why="no PASS soak line in $log"
elif ! "$MKFS" --check "$disk" >"$logs/soak.check" 2>&1; then
    why="mkfs --check $disk found problems ($logs/soak.check)"
fi
if [ -z "$why" ]; then
    echo "PASS soak"
else
    echo "FAIL soak: $why"
    exit 1
fi
