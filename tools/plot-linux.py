"""Draws docs/performance-linux.png from docs/performance-linux.csv
(see xtask/src/compare.rs): xv6-rs against Linux in the same QEMU.

One panel per CPU count; one bar per row of the table: xv6-rs's median
divided by Linux's, on a logarithmic scale. Right of the line at 1
xv6-rs is faster (for `boot`, whose figure is seconds, the ratio is
turned over so that right is faster there too). A Linux-only row
NAME__TAG is set against xv6-rs's NAME, as in the table.

Run with the system's Python (Debian's python3-matplotlib):
    /usr/bin/python3 tools/plot-linux.py docs/performance-linux.csv docs/performance-linux.png
"""

import csv
import statistics
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt  # noqa: E402

# Rows that are no speed: the clock's rate, and ratios within one system.
NOT_SPEEDS = {"tsc_cycles_per_second", "ratio"}


def main(csv_path, png_path):
    with open(csv_path) as f:
        lines = f.read().splitlines()
    caption = next((l[1:].strip() for l in lines if l.startswith("#")), "")
    rates = defaultdict(list)  # (system, cpus, benchmark, processes) -> rates
    order, units = [], {}
    for row in csv.DictReader(l for l in lines if not l.startswith("#")):
        key = (row["benchmark"], row["processes"])
        if key not in order:
            order.append(key)
        units[key] = row["unit"]
        rates[(row["system"], int(row["cpus"])) + key].append(float(row["rate"]))
    cpu_counts = sorted({cpus for (_, cpus, _, _) in rates})

    figure, panels = plt.subplots(
        1, len(cpu_counts), figsize=(6 * len(cpu_counts), 0.35 * len(order) + 2)
    )
    if len(cpu_counts) == 1:
        panels = [panels]
    for panel, cpus in zip(panels, cpu_counts):
        labels, ratios = [], []
        for benchmark, processes in order:
            if units[(benchmark, processes)] in NOT_SPEEDS:
                continue
            base = benchmark.split("__")[0]
            linux = rates.get(("linux", cpus, benchmark, processes))
            xv6 = rates.get(("xv6rs", cpus, base, processes))
            if not linux or not xv6:
                continue
            ratio = statistics.median(xv6) / statistics.median(linux)
            if units[(benchmark, processes)] == "seconds_to_shell":
                ratio = 1 / ratio
            labels.append(f"{benchmark} ({processes})")
            ratios.append(ratio)
        ys = range(len(labels))
        # Each bar starts at 1 (the two equal) and ends at the ratio.
        panel.barh(
            ys,
            [r - 1 for r in ratios],
            left=1,
            color=["tab:green" if r >= 1 else "tab:red" for r in ratios],
        )
        panel.set_yticks(list(ys), labels)
        panel.invert_yaxis()
        panel.set_xscale("log")
        panel.axvline(1, color="black", linewidth=0.8)
        panel.set_title(f"-smp {cpus}")
        panel.set_xlabel("xv6-rs ÷ Linux, medians (> 1: xv6-rs faster)")
    figure.suptitle("xv6-rs against Linux, same QEMU (TCG)\n" + caption, fontsize=8)
    figure.tight_layout()
    figure.savefig(png_path, dpi=100)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
