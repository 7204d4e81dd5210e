"""Draws docs/performance.png from docs/performance.csv (see xtask/src/bench.rs).

Two panels:
  1. shared-memory cycles per second (open, trunc, map, write, close)
     against the number of processes, one line per CPU count;
  2. bandwidth through shared memory and through a pipe (128 KiB messages),
     and the kernel's pipe with 4 KiB writes, per CPU count.
Each point is the median of the repetitions; the error bars span the
smallest to the largest. It also prints a Markdown table of the medians,
for docs/performance.md.

Run with the system's Python (Debian's python3-matplotlib):
    /usr/bin/python3 tools/plot.py docs/performance.csv docs/performance.png
"""

import csv
import statistics
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt  # noqa: E402


def read(path):
    """The caption line and the rows of the CSV."""
    with open(path) as f:
        lines = f.read().splitlines()
    caption = next((l[1:].strip() for l in lines if l.startswith("#")), "")
    rows = list(csv.DictReader(l for l in lines if not l.startswith("#")))
    return caption, rows


def spread(values):
    """Median, and its distance to the minimum and the maximum."""
    median = statistics.median(values)
    return median, median - min(values), max(values) - median


def main(csv_path, png_path):
    caption, rows = read(csv_path)
    rates = defaultdict(list)  # (benchmark, cpus, processes) -> rates
    for row in rows:
        key = (row["benchmark"], int(row["cpus"]), int(row["processes"]))
        rates[key].append(float(row["rate"]))
    cpu_counts = sorted({cpus for (_, cpus, _) in rates})

    figure, (cycles, bandwidth) = plt.subplots(1, 2, figsize=(12, 5))

    for cpus in cpu_counts:
        points = sorted(
            (processes, spread(values))
            for (benchmark, c, processes), values in rates.items()
            if benchmark == "shm_cycle" and c == cpus
        )
        if not points:
            continue
        xs = [p for p, _ in points]
        medians = [s[0] for _, s in points]
        errors = [[s[1] for _, s in points], [s[2] for _, s in points]]
        cycles.errorbar(xs, medians, yerr=errors, marker="o", capsize=3, label=f"{cpus} CPU(s)")
    cycles.set_xscale("log", base=2)
    cycles.set_xticks([1, 2, 4, 8, 16], ["1", "2", "4", "8", "16"])
    cycles.set_xlabel("processes working at once")
    cycles.set_ylabel("cycles per second (open, trunc, map, write, close)")
    cycles.set_title("Shared-memory cycles")
    cycles.legend()
    cycles.grid(True, alpha=0.3)

    series = [
        ("shm_bandwidth", "shared memory, 128 KiB messages"),
        ("pipe_bandwidth", "pipe, 128 KiB messages"),
        ("pipe_8mib_4k_writes", "pipe, 4 KiB writes"),
    ]
    width = 0.8 / len(series)
    for i, (benchmark, label) in enumerate(series):
        medians, low, high = [], [], []
        for cpus in cpu_counts:
            values = [v for (b, c, _), vs in rates.items() if b == benchmark and c == cpus for v in vs]
            m, lo, hi = spread(values) if values else (0, 0, 0)
            medians.append(m)
            low.append(lo)
            high.append(hi)
        xs = [j + (i - (len(series) - 1) / 2) * width for j in range(len(cpu_counts))]
        bandwidth.bar(xs, medians, width, yerr=[low, high], capsize=3, label=label)
    bandwidth.set_xticks(range(len(cpu_counts)), [f"{c} CPU(s)" for c in cpu_counts])
    bandwidth.set_yscale("log")
    bandwidth.set_ylabel("MiB per second (log scale)")
    bandwidth.set_title("Moving bytes between two processes")
    bandwidth.legend()
    bandwidth.grid(True, axis="y", alpha=0.3)

    figure.suptitle(f"xv6-rs under QEMU: medians of the repetitions, bars from min to max\n{caption}")
    figure.tight_layout()
    figure.savefig(png_path, dpi=110)

    # The medians, for docs/performance.md.
    print("| benchmark | unit | " + " | ".join(f"{c} CPU(s)" for c in cpu_counts) + " |")
    print("| --- | --- |" + " --- |" * len(cpu_counts))
    shown = [
        ("boot", 1, "seconds_to_shell"),
        ("getpid", 1, "calls_per_second"),
        ("fork_exit_wait", 1, "forks_per_second"),
        ("exec", 1, "execs_per_second"),
        ("sbrk_grow_shrink", 1, "pairs_per_second"),
        ("pipe_8mib_4k_writes", 2, "mib_per_second"),
        ("shm_cycle", 1, "cycles_per_second"),
        ("shm_cycle", 16, "cycles_per_second"),
        ("shm_bandwidth", 2, "mib_per_second"),
        ("pipe_bandwidth", 2, "mib_per_second"),
        ("channel_messages", 2, "messages_per_second"),
        ("pipe_messages", 2, "messages_per_second"),
        ("mutex_lock_unlock", 2, "locks_per_second"),
    ]
    for benchmark, processes, unit in shown:
        cells = []
        for cpus in cpu_counts:
            values = rates.get((benchmark, cpus, processes))
            cells.append(f"{statistics.median(values):,.1f}" if values else "")
        name = benchmark if processes in (1, 2) else f"{benchmark} ({processes} processes)"
        print(f"| {name} | {unit} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
