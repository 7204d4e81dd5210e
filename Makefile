# xv6-rs: the front door. Every command a user types is a target here, and
# CI runs the same `make test`.
#
#   make            build the kernel and the bootable ISO
#   make qemu-nox   boot it with the serial console in this terminal (Ctrl-A X quits)
#   make qemu       boot it in a QEMU window (CGA screen), serial on this terminal
#   make qemu-gdb / make qemu-nox-gdb   the same, waiting for gdb; then `make gdb`
#   make asm        disassembly listings: build/kernel.asm, build/asm/NAME.asm
#   make test       run every test; the last line says "N passed, M failed"
#   make test SUITES="shmtest usertests"   run only those suites
#                   (`make suites` lists them)
#   make test SUITES=crash CRASH_SEED=N   replay the power cuts of seed N
#   make fuzz-disk  disks damaged at random, SEEDS="N ..." (default 20 new
#                   seeds); the kernel must neither panic nor hang
#   make bench      benchmarks at 1, 2 and 4 CPUs -> docs/performance.csv and .png
#   make bench-linux  the same rows on Linux in the same QEMU, interleaved with
#                   xv6-rs's, REPS rounds at CPUS_LIST (default "1 2") ->
#                   docs/performance-linux.csv, .md and .png
#   make soak       syscallfuzz, usertests and shmtest in rounds for SOAK_TIME
#                   seconds (default 600) at SOAK_CPUS CPUs (default 4), with
#                   free pages and inodes checked after every round
#   make lab-shm    a lab (lab-shm, lab-sync, lab-cow): this tree without its solution, in LAB_DIR
#   make grade      in a lab's copy: the graded tests and the score
#   make handin     in a lab's copy: your work as one patch (NAME="Your Name")
#   make clean      remove everything built
#
# The test runner, the benchmarks, the soak run, the labs and the boot
# images are one Rust program of the workspace, xtask/ (cargo builds it
# like everything else); this file passes it its paths and QEMU's flags.

CPUS ?= 2
MEM ?= 512M
# Seconds a single headless QEMU run may take before it counts as a hang.
# Only a hang-breaker: the longest boot (syscallfuzz) takes about a minute
# on an idle host and several on a loaded one, whose starved virtual CPUs
# run far slower; a run that passes given time must not fail here.
TEST_TIMEOUT ?= 300
# The test suites to run (empty: all), and how many QEMU boots run at once
# (empty: 2 on a machine with at least 2 cores, else 1).
SUITES ?=
TEST_JOBS ?=
# The fuzzdisk suite's seeds (empty: 1 2 3 4; see fuzz-disk below).
DISK_SEEDS ?=
# The crash suite's power cuts: how many, and the seed that places them
# (empty: a new seed each run, which the suite prints).
CRASH_CUTS ?= 30
CRASH_SEED ?=

BUILD := build

# Flags that build `core` and `alloc` from source for a bare-metal target.
BUILD_STD := -Zbuild-std=core,compiler_builtins,alloc \
	-Zbuild-std-features=compiler-builtins-mem -Zjson-target-spec --release

# The kernel's target: soft-float (the kernel never touches the FPU/SSE
# registers, so it never has to save them for itself), the kernel code
# model (it lives in the top 2 GiB).
TARGET_SPEC := x86_64-xv6.json

# OPT=debug builds a kernel for stepping through with gdb: less inlining,
# so breakpoints land where the source says (Cargo.toml's profile
# `kernel-debug`); it boots into its own ISO, build/xv6-debug.iso.
OPT ?= release
ifeq ($(OPT),debug)
KERNEL_PROFILE := kernel-debug
ISO_NAME := xv6-debug
else
KERNEL_PROFILE := release
ISO_NAME := xv6
endif
CARGO_BARE := $(BUILD_STD) --target $(TARGET_SPEC)
CARGO_KERNEL := $(filter-out --release,$(CARGO_BARE)) --profile $(KERNEL_PROFILE)

KERNEL := target/x86_64-xv6/$(KERNEL_PROFILE)/kernel

# The test kernel: the same sources with the `ktest` feature, which adds
# the in-kernel tests, the deliberate faults and the exit device that
# ends a test run (kernel/src/ktest.rs). It has its own target directory,
# so that neither build overwrites the other's binary; only the test
# images boot it, and build/xv6.iso's kernel has none of it.
KTEST_TARGET_DIR := target/ktest
KTEST_KERNEL := $(KTEST_TARGET_DIR)/x86_64-xv6/$(KERNEL_PROFILE)/kernel

# User programs: the standard x86_64 ABI with SSE (the kernel saves every
# process's FPU/SSE registers) and the small code model (they live at low
# addresses). Their own target, so they get their own `core`.
# They are built with debug info, for gdb (add-symbol-file
# target/user/x86_64-xv6-user/release/NAME); the file system, which is
# small, gets copies without it (build/user/NAME).
USER_TARGET_SPEC := x86_64-xv6-user.json
CARGO_USER := $(BUILD_STD) --target $(USER_TARGET_SPEC)
USER_RUSTFLAGS :=
USER_TARGET_DIR := target/user
ISO := $(BUILD)/$(ISO_NAME).iso
FS_IMG := $(BUILD)/fs.img
MKFS := target/release/mkfs

# The user programs that go into the file system image: every program in
# user/src/bin, by name.
USER_DIR := $(USER_TARGET_DIR)/x86_64-xv6-user/release
USER_PROGRAMS := $(patsubst user/src/bin/%.rs,$(USER_DIR)/%,$(wildcard user/src/bin/*.rs))
USER_IMAGES := $(patsubst $(USER_DIR)/%,$(BUILD)/user/%,$(USER_PROGRAMS))

# Every QEMU flag lives here. TCG (software emulation) is QEMU's default and
# the only accelerator that works on our CI machines.
QEMU := qemu-system-x86_64
# The machine boots from the CD at once (-boot d: the BIOS tries no floppy
# or hard disk first) and has no network card, which the kernel has no
# driver for (-nic none: the BIOS spends no time on the card's boot ROM).
QEMUOPTS = -smp $(CPUS) -m $(MEM) -no-reboot -boot d -nic none \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04
# The file system is the IDE primary slave (disk 1); the ISO is a CD on the
# secondary channel.
QEMUDISK = -drive file=$(FS_IMG),index=1,media=disk,format=raw
# One port per user, as xv6 does, so that two users of a machine can debug
# at once.
GDBPORT := $(shell expr `id -u` % 5000 + 25000)

# A recipe that fails leaves no half-written target behind for the next make.
.DELETE_ON_ERROR:

.PHONY: all setup kernel FORCE qemu qemu-nox qemu-gdb qemu-nox-gdb gdb asm test images suites fuzz-disk bench bench-linux soak grade handin clean

all: $(ISO) $(FS_IMG)

# The project's own tools (xtask/src/main.rs lists its commands).
XTASK := cargo run -q -p xtask --

# Installs what the build needs, once: the pinned Rust toolchain named in
# rust-toolchain.toml (cargo on these machines does not install it by
# itself), then, through xtask, the system packages (QEMU, GRUB's tools,
# xorriso, binutils, gcc) that are missing.
$(BUILD)/.setup-done: rust-toolchain.toml xtask/src/setup.rs
	@command -v rustup >/dev/null || { echo "error: rustup is not installed. Install it from https://rustup.rs and run make again." >&2; exit 1; }
	@rustup toolchain install >/dev/null
	@$(XTASK) setup
	@mkdir -p $(BUILD) && touch $@

setup: $(BUILD)/.setup-done

# Cargo decides what is stale, so we always ask it; when nothing is, it
# leaves the binary alone, make sees the same timestamp, and the ISO is not
# rebuilt either.
kernel: $(KERNEL)

$(KERNEL): $(BUILD)/.setup-done FORCE
	cargo build -p kernel $(CARGO_KERNEL)

$(KTEST_KERNEL): $(BUILD)/.setup-done FORCE
	cargo build -p kernel $(CARGO_KERNEL) --features ktest --target-dir $(KTEST_TARGET_DIR)

# One cargo call builds every user program (a grouped target: make runs
# the recipe once for all of them).
$(USER_PROGRAMS) &: $(BUILD)/.setup-done FORCE
	RUSTFLAGS="$(USER_RUSTFLAGS)" cargo build -p user $(CARGO_USER) --target-dir $(USER_TARGET_DIR)

FORCE:

$(MKFS): $(BUILD)/.setup-done FORCE
	cargo build -q --release -p mkfs

# C user programs: every user/c/*.c, built with the host's gcc into
# $(C_PROGRAMS). Their rules live in user/c/c.mk.
include user/c/c.mk

# What goes into the file system: each program without its debug info and
# symbols (gdb reads both from the unstripped copy in target/).
$(BUILD)/user/%: $(USER_DIR)/%
	@mkdir -p $(@D)
	strip --strip-all -o $@ $<

# The file system: every user program, and the README to read in the shell.
$(FS_IMG): $(MKFS) $(USER_IMAGES) $(C_PROGRAMS) README.md
	cp README.md $(BUILD)/README
	$(MKFS) $@ $(BUILD)/README $(USER_IMAGES) $(C_PROGRAMS)

# The normal image: the kernel without test hooks.
$(ISO): $(KERNEL) xtask/src/iso.rs
	@$(XTASK) iso $@ $(KERNEL)

# The test image: the test kernel, for every test. Which test a boot runs
# reaches the kernel through QEMU's fw_cfg, not the image
# (kernel/abi/src/testrun.rs).
TEST_ISO := $(BUILD)/test.iso

$(TEST_ISO): $(KTEST_KERNEL) xtask/src/iso.rs
	@$(XTASK) iso $@ $(KTEST_KERNEL)

# Images that each run one test as they are, for tools that boot an image
# with no fw_cfg request of their own: ../shared's comparison with Linux
# builds test-shmbench and test-sysbench by name, and its many-core runner
# boots every build/test-*.iso (run `make images` before its bundle.sh).
# Each is the test kernel with the request on its command line
# (`test=REQUEST`, kernel/src/ktest.rs): test-ktest runs the in-kernel
# tests, test-NAME the program NAME. `make test` leaves them out, so that
# build/ keeps one test image; its `images` suite builds two elsewhere and
# boots them so.
PROGRAM_IMAGES := $(patsubst %,$(BUILD)/test-%.iso,ktest proctest isolationtest \
	usertests cowtest shmtest synctest ctest syscallfuzz shmbench sysbench)

$(BUILD)/test-%.iso: $(KTEST_KERNEL) xtask/src/iso.rs
	@$(XTASK) program-image $@ $(KTEST_KERNEL)

images: $(PROGRAM_IMAGES) $(ISO) $(FS_IMG)

qemu: $(ISO) $(FS_IMG)
	@$(QEMU) -display help 2>/dev/null | grep -qx 'gtk\|sdl' || { \
		echo "make qemu needs QEMU's display modules: sudo apt-get install qemu-system-gui"; \
		echo "(or use make qemu-nox, which needs no display)"; exit 1; }
	$(QEMU) $(QEMUOPTS) $(QEMUDISK) -cdrom $(ISO) -serial mon:stdio

qemu-nox: $(ISO) $(FS_IMG)
	@echo "*** Serial console. Quit with Ctrl-A then X."
	$(QEMU) $(QEMUOPTS) $(QEMUDISK) -cdrom $(ISO) -serial mon:stdio -display none

# .gdbinit: the template with this user's port and the kernel's ELF (with
# all its symbols; the ISO's copy is stripped).
.gdbinit: .gdbinit.tmpl FORCE
	@sed "s|GDB_PORT|$(GDBPORT)|g; s|KERNEL_ELF|$(KERNEL)|" $< > $@.new
	@cmp -s $@.new $@ && rm $@.new || mv $@.new $@

qemu-gdb: $(ISO) $(FS_IMG) .gdbinit
	@echo "*** Waiting for gdb on port $(GDBPORT): run 'make gdb$(if $(filter debug,$(OPT)), OPT=debug)' in another terminal."
	$(QEMU) $(QEMUOPTS) $(QEMUDISK) -cdrom $(ISO) -serial mon:stdio -S -gdb tcp::$(GDBPORT)

qemu-nox-gdb: $(ISO) $(FS_IMG) .gdbinit
	@echo "*** Waiting for gdb on port $(GDBPORT): run 'make gdb$(if $(filter debug,$(OPT)), OPT=debug)' in another terminal."
	$(QEMU) $(QEMUOPTS) $(QEMUDISK) -cdrom $(ISO) -serial mon:stdio -display none -S -gdb tcp::$(GDBPORT)

# gdb, allowed to load this directory's .gdbinit (which it refuses by
# default), connected to `make qemu-gdb`.
gdb: .gdbinit $(KERNEL)
	gdb -q -iex "add-auto-load-safe-path $(CURDIR)/.gdbinit"

# Disassembly listings, with source lines where the debug info has them.
asm: $(KERNEL) $(USER_PROGRAMS) $(C_PROGRAMS)
	@mkdir -p $(BUILD)/asm
	objdump -d -S -C --no-show-raw-insn $(KERNEL) > $(BUILD)/kernel.asm
	@for program in $(USER_PROGRAMS) $(patsubst $(C_BUILD)/%,$(C_BUILD)/debug/%,$(C_PROGRAMS)); do \
		objdump -d -S -C --no-show-raw-insn $$program > $(BUILD)/asm/$$(basename $$program).asm; \
	done
	@echo "listings: $(BUILD)/kernel.asm and $(BUILD)/asm/NAME.asm"

# What the runner needs to know, in its environment (xtask/src/config.rs).
RUNNER_ENV = QEMU="$(QEMU)" QEMUOPTS="$(QEMUOPTS)" CPUS="$(CPUS)" TEST_TIMEOUT="$(TEST_TIMEOUT)" \
	BUILD="$(BUILD)" ISO="$(ISO)" TEST_ISO="$(TEST_ISO)" FS_IMG="$(FS_IMG)" \
	KERNEL="$(KERNEL)" KTEST_KERNEL="$(KTEST_KERNEL)" KTEST_TARGET_DIR="$(KTEST_TARGET_DIR)" \
	CARGO_BARE="$(CARGO_BARE)" CARGO_USER="$(CARGO_USER)" \
	USER_RUSTFLAGS="$(USER_RUSTFLAGS)" USER_TARGET_DIR="$(USER_TARGET_DIR)"

# The runner boots the two images itself, with these flags.
test: $(ISO) $(TEST_ISO) $(FS_IMG)
	@$(RUNNER_ENV) SUITES="$(SUITES)" TEST_JOBS="$(TEST_JOBS)" CRASH_CUTS="$(CRASH_CUTS)" \
		CRASH_SEED="$(CRASH_SEED)" DISK_SEEDS="$(DISK_SEEDS)" $(XTASK) test

suites: $(BUILD)/.setup-done
	@$(XTASK) suites

# Disks damaged at random, more of them than `make test` tries: the
# fuzzdisk suite with the seeds SEEDS (default: 20 new ones, printed, so
# that a failure can be replayed with SEEDS=N).
SEEDS ?= $(shell od -An -N80 -tu4 /dev/urandom)

fuzz-disk:
	@$(MAKE) --no-print-directory test SUITES=fuzzdisk DISK_SEEDS="$(SEEDS)"

# Benchmarks, not part of `make test` (they take their own time): boots
# the normal image (timed to the shell's prompt) and the benchmark
# programs at 1, 2 and 4 CPUs, REPS times each (default 3), writes
# docs/performance.csv and draws docs/performance.png.
$(BUILD)/.bench-setup-done: xtask/src/setup.rs
	@$(XTASK) setup bench
	@mkdir -p $(BUILD) && touch $@

bench: $(BUILD)/.bench-setup-done $(ISO) $(TEST_ISO) $(PROGRAM_IMAGES) $(FS_IMG)
	@$(RUNNER_ENV) REPS="$(REPS)" $(XTASK) bench docs/performance.csv
	/usr/bin/python3 tools/plot.py docs/performance.csv docs/performance.png

# xv6-rs against Linux (Debian's kernel and bench/linux/'s C programs) in
# the same QEMU, not part of `make test` (xtask/src/compare.rs); the first
# run fetches the kernel package into build/linux/.
bench-linux: $(BUILD)/.bench-setup-done $(ISO) $(TEST_ISO) $(PROGRAM_IMAGES) $(FS_IMG)
	@$(RUNNER_ENV) REPS="$(REPS)" CPUS_LIST="$(CPUS_LIST)" LINUX_PKG="$(LINUX_PKG)" \
		$(XTASK) bench-linux docs/performance-linux.csv docs/performance-linux.md
	/usr/bin/python3 tools/plot-linux.py docs/performance-linux.csv docs/performance-linux.png

# A soak run, not part of `make test` (it takes its own time): one boot in
# which the test programs run in rounds, each round checked for leaks
# (xtask/src/soak.rs).
SOAK_TIME ?= 600
SOAK_CPUS ?= 4

soak: $(TEST_ISO) $(FS_IMG)
	@$(RUNNER_ENV) SOAK_TIME="$(SOAK_TIME)" SOAK_CPUS="$(SOAK_CPUS)" $(XTASK) soak

# Labs (xtask/src/labs.rs lists them: shm, sync, cow). For a teacher, `make
# lab-NAME` writes the lab's copy of this tree, without the solution, to
# LAB_DIR (default: beside this tree); in that copy, a student runs `make
# grade` (the graded tests and the score) and `make handin` (their work as
# one patch). `make grade LAB=NAME` grades this tree, the solution.
LAB ?=
NAME ?=

lab-%: $(BUILD)/.setup-done
	@$(XTASK) lab $* $(or $(LAB_DIR),../$(notdir $(CURDIR))-lab-$*)

grade: $(TEST_ISO) $(FS_IMG)
	@$(RUNNER_ENV) LAB="$(LAB)" $(XTASK) grade

handin: $(BUILD)/.setup-done
	@LAB="$(LAB)" NAME="$(NAME)" $(XTASK) handin

clean:
	cargo clean
	rm -rf $(BUILD)
