#!/bin/bash
# The harness behind `make bench`: boots the benchmark images headless at
# 1, 2 and 4 CPUs, REPS times each, and gathers what they print.
#
# - build/test-shmbench.iso and build/test-sysbench.iso run shmbench and
#   sysbench under init; every CSV row they print goes to the table with
#   the CPU count and the repetition in front.
# - The boot itself is timed from here: from starting QEMU on the normal
#   image until the shell's first "$ " on the serial line (row `boot`).
#
# The result is docs/performance.csv (a comment line names the machine and
# QEMU), and tools/plot.py draws docs/performance.png from it.
# The Makefile passes QEMU, QEMUOPTS, BUILD, FS_IMG and TIMEOUT.
set -u

reps=${REPS:-3}
out=docs/performance.csv
logs=$BUILD/bench-logs
mkdir -p "$logs" docs

# now_ms: milliseconds since the epoch.
now_ms() {
    echo $(($(date +%s%N) / 1000000))
}

# boot_timed ISO LOG CPUS PATTERN: boots ISO with CPUS CPUs, serial output
# to LOG. With a PATTERN, waits until LOG has a matching line, sets
# $elapsed_ms to the milliseconds it took and stops QEMU; without one,
# waits for QEMU to end and returns its exit status. Gives up after
# TIMEOUT seconds either way.
boot_timed() {
    local iso=$1 log=$2 cpus=$3 pattern=$4 disk=${2%.log}.img
    cp "$FS_IMG" "$disk"
    rm -f "$log"
    local start
    start=$(now_ms)
    # shellcheck disable=SC2086 # QEMUOPTS is a list of flags
    $QEMU $QEMUOPTS -smp "$cpus" -cdrom "$iso" \
        -drive "file=$disk,index=1,media=disk,format=raw" \
        -display none -monitor none -serial "file:$log" </dev/null >/dev/null 2>&1 &
    qemu_pid=$!
    while kill -0 "$qemu_pid" 2>/dev/null; do
        if [ -n "$pattern" ] && grep -q -- "$pattern" "$log" 2>/dev/null; then
            elapsed_ms=$(($(now_ms) - start))
            kill "$qemu_pid"
            wait "$qemu_pid" 2>/dev/null
            return 0
        fi
        if [ $(($(now_ms) - start)) -gt $((TIMEOUT * 1000)) ]; then
            kill "$qemu_pid"
            echo "bench: $iso timed out at CPUS=$cpus (log: $log)" >&2
            return 124
        fi
        sleep 0.02
    done
    wait "$qemu_pid"
}

cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
qemu_version=$($QEMU --version | head -1)
{
    echo "# $(nproc) x $cpu_model; $qemu_version (TCG); $(date -u +%Y-%m-%d)"
    echo "cpus,repetition,benchmark,processes,operations,seconds,rate,unit"
} >"$out"

failed=0
for cpus in 1 2 4; do
    for rep in $(seq 1 "$reps"); do
        echo "== CPUS=$cpus, repetition $rep"
        # Boot time: until the shell's prompt, then stop QEMU.
        log=$logs/boot-$cpus-$rep.log
        if boot_timed "$BUILD/xv6.iso" "$log" "$cpus" '^\$ '; then
            ms=$elapsed_ms
            seconds=$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))
            echo "$cpus,$rep,boot,1,1,$seconds,$seconds,seconds_to_shell" >>"$out"
        else
            failed=1
        fi
        for program in shmbench sysbench; do
            log=$logs/$program-$cpus-$rep.log
            boot_timed "$BUILD/test-$program.iso" "$log" "$cpus" ""
            status=$?
            rows=$(tr -d '\r' <"$log" | grep -E '^[a-z_0-9]+,[0-9]+,[0-9]*,[0-9.]*,[0-9]+\.[0-9]{3},[a-z_]+$')
            if [ "$status" != 33 ] || [ -z "$rows" ]; then
                echo "bench: $program printed no results at CPUS=$cpus (log: $log)" >&2
                failed=1
                continue
            fi
            printf '%s\n' "$rows" | sed "s/^/$cpus,$rep,/" >>"$out"
        done
    done
done

echo "bench: wrote $out"
exit $failed
