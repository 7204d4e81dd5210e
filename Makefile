# xv6-rs: the front door. Every command a user types is a target here, and
# CI runs the same `make test`.
#
#   make            build the kernel and the bootable ISO
#   make qemu-nox   boot it with the serial console in this terminal (Ctrl-A X quits)
#   make qemu       boot it in a QEMU window (CGA screen), serial on this terminal
#   make qemu-gdb / make qemu-nox-gdb   the same, waiting for gdb (see .gdbinit)
#   make test       run every test; the last line says "N passed, M failed"
#   make test SUITES="shmtest usertests"   run only those suites (the list
#                   is at the top of tools/test.sh)
#   make clean      remove everything built

CPUS ?= 2
MEM ?= 512M
# Seconds a single headless QEMU run may take before it counts as a hang.
TEST_TIMEOUT ?= 120
# The test suites to run (empty: all), and how many QEMU boots run at once
# (empty: 2 on a machine with at least 2 cores, else 1).
SUITES ?=
TEST_JOBS ?=

BUILD := build

# Flags that build `core` and `alloc` from source for a bare-metal target.
BUILD_STD := -Zbuild-std=core,compiler_builtins,alloc \
	-Zbuild-std-features=compiler-builtins-mem -Zjson-target-spec --release

# The kernel's target: soft-float (the kernel never touches the FPU/SSE
# registers, so it never has to save them for itself), the kernel code
# model (it lives in the top 2 GiB).
TARGET_SPEC := x86_64-xv6.json
CARGO_BARE := $(BUILD_STD) --target $(TARGET_SPEC)

KERNEL := target/x86_64-xv6/release/kernel

# User programs: the standard x86_64 ABI with SSE (the kernel saves every
# process's FPU/SSE registers) and the small code model (they live at low
# addresses). Their own target, so they get their own `core`.
# Debug info is stripped: the programs must fit in the small file system.
USER_TARGET_SPEC := x86_64-xv6-user.json
CARGO_USER := $(BUILD_STD) --target $(USER_TARGET_SPEC)
USER_RUSTFLAGS := -C strip=debuginfo
USER_TARGET_DIR := target/user
ISO := $(BUILD)/xv6.iso
FS_IMG := $(BUILD)/fs.img
MKFS := target/release/mkfs

# The user programs that go into the file system image: every program in
# user/src/bin, by name.
USER_DIR := $(USER_TARGET_DIR)/x86_64-xv6-user/release
USER_PROGRAMS := $(patsubst user/src/bin/%.rs,$(USER_DIR)/%,$(wildcard user/src/bin/*.rs))

# Every QEMU flag lives here. TCG (software emulation) is QEMU's default and
# the only accelerator that works on our CI machines.
QEMU := qemu-system-x86_64
QEMUOPTS = -smp $(CPUS) -m $(MEM) -no-reboot \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04
# The file system is the IDE primary slave (disk 1); the ISO is a CD on the
# secondary channel.
QEMUDISK = -drive file=$(FS_IMG),index=1,media=disk,format=raw
GDBPORT := 26000

# A recipe that fails leaves no half-written target behind for the next make.
.DELETE_ON_ERROR:

.PHONY: all setup kernel FORCE qemu qemu-nox qemu-gdb qemu-nox-gdb test clean

all: $(ISO) $(FS_IMG)

# Installs the pinned toolchain and the system packages, once.
$(BUILD)/.setup-done: tools/setup.sh rust-toolchain.toml
	@tools/setup.sh
	@mkdir -p $(BUILD) && touch $@

setup: $(BUILD)/.setup-done

# Cargo decides what is stale, so we always ask it; when nothing is, it
# leaves the binary alone, make sees the same timestamp, and the ISO is not
# rebuilt either.
kernel: $(KERNEL)

$(KERNEL): $(BUILD)/.setup-done FORCE
	cargo build -p kernel $(CARGO_BARE)

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

# The file system: every user program, and the README to read in the shell.
$(FS_IMG): $(MKFS) $(USER_PROGRAMS) $(C_PROGRAMS) README.md
	cp README.md $(BUILD)/README
	$(MKFS) $@ $(BUILD)/README $(USER_PROGRAMS) $(C_PROGRAMS)

# One ISO per kernel command line: $(BUILD)/<name>.iso boots with the
# command line in tools/cmdline/<name> (the normal image has none).
$(BUILD)/%.iso: $(KERNEL) tools/mkiso.sh
	@tools/mkiso.sh $@ $(KERNEL) "$(if $(filter xv6,$*),,$(shell cat tools/cmdline/$*))"

qemu: $(ISO) $(FS_IMG)
	$(QEMU) $(QEMUOPTS) $(QEMUDISK) -cdrom $(ISO) -serial mon:stdio

qemu-nox: $(ISO) $(FS_IMG)
	@echo "*** Serial console. Quit with Ctrl-A then X."
	$(QEMU) $(QEMUOPTS) $(QEMUDISK) -cdrom $(ISO) -serial mon:stdio -display none

qemu-gdb: $(ISO) $(FS_IMG)
	@echo "*** Waiting for gdb on port $(GDBPORT): run 'gdb' in this directory."
	$(QEMU) $(QEMUOPTS) $(QEMUDISK) -cdrom $(ISO) -serial mon:stdio -S -gdb tcp::$(GDBPORT)

qemu-nox-gdb: $(ISO) $(FS_IMG)
	@echo "*** Waiting for gdb on port $(GDBPORT): run 'gdb' in this directory."
	$(QEMU) $(QEMUOPTS) $(QEMUDISK) -cdrom $(ISO) -serial mon:stdio -display none -S -gdb tcp::$(GDBPORT)

# The harness needs the normal ISO and the test ISOs; it runs QEMU itself
# with these flags.
TEST_ISOS := $(ISO) $(patsubst tools/cmdline/%,$(BUILD)/%.iso,$(wildcard tools/cmdline/*))

test: $(TEST_ISOS) $(FS_IMG)
	@QEMU="$(QEMU)" QEMUOPTS="$(QEMUOPTS)" CPUS="$(CPUS)" TIMEOUT="$(TEST_TIMEOUT)" \
		BUILD="$(BUILD)" KERNEL="$(KERNEL)" CARGO_BARE="$(CARGO_BARE)" CARGO_USER="$(CARGO_USER)" \
		FS_IMG="$(FS_IMG)" MKFS="$(MKFS)" \
		USER_RUSTFLAGS="$(USER_RUSTFLAGS)" USER_TARGET_DIR="$(USER_TARGET_DIR)" \
		SUITES="$(SUITES)" JOBS="$(TEST_JOBS)" tools/test.sh

clean:
	cargo clean
	rm -rf $(BUILD)
