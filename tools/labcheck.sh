#!/bin/bash
# labcheck.sh LOG: the check of `make lab-shm` that `make test` runs.
# Writes the lab to $BUILD/lab-check (afresh), builds its test kernel
# (--features ktest, in target/lab, so the normal build's files are never
# touched), and boots it with init running shmtest on the normal file
# system image, serial output to LOG. Exits with QEMU's status; the harness then reads LOG,
# where shmtest must report failures, and the kernel must not panic.
# The Makefile's variables come in the environment (BUILD, CARGO_BARE,
# FS_IMG, QEMU, QEMUOPTS, TIMEOUT).
set -u
log=$1
lab=$BUILD/lab-check
rm -rf "$lab"
tools/mklab.sh "$lab" >"$log.build" 2>&1 || exit 1
root=$(pwd)
# shellcheck disable=SC2086 # CARGO_BARE is a list of flags
(cd "$lab" && cargo build -q -p kernel $CARGO_BARE --features ktest --target-dir "$root/target/lab") \
    >>"$log.build" 2>&1 || exit 1
tools/mkiso.sh "$lab/shmtest.iso" target/lab/x86_64-xv6/release/kernel "test=user:shmtest" \
    >>"$log.build" 2>&1 || exit 1
cp "$FS_IMG" "$lab/fs.img"
# shellcheck disable=SC2086 # QEMUOPTS is a list of flags
timeout --foreground -k 5 "$TIMEOUT" $QEMU $QEMUOPTS -smp 2 -cdrom "$lab/shmtest.iso" \
    -drive "file=$lab/fs.img,index=1,media=disk,format=raw" \
    -display none -serial "file:$log" -monitor none </dev/null >/dev/null 2>&1
