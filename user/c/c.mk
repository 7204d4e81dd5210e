# C user programs, included by the Makefile. Every user/c/NAME.c becomes
# the program NAME in fs.img, as every user/src/bin/NAME.rs does: drop a
# file in and it is there after `make qemu-nox`.
#
#   user/c/include/  the headers programs include: xv6's user.h, types.h,
#                    stat.h, fcntl.h, fs.h, syscall.h, param.h, traps.h,
#                    memlayout.h, and the paths xv6-riscv's programs use
#                    (kernel/types.h, kernel/stat.h, kernel/fcntl.h,
#                    kernel/fs.h, user/user.h), which lead to the same
#                    files; user/user.h gives xv6-riscv's printf (user.h
#                    says why)
#   user/c/lib/      the C runtime, written here: start-up (start.c), the
#                    system-call stubs (usys.c), strings and small I/O
#                    (ulib.c), printf.c, malloc (umalloc.c); linked into
#                    every program as build/c/ulib.a
#   user/c/*.c       the programs, one file each
#
# The programs sit directly in user/c, so that listing the directory
# lists the programs, as user/src/bin does for Rust; what is not a
# program lives in the two subdirectories.
#
# Each program is compiled by the host's gcc as freestanding, static,
# non-PIE code, and linked with user/user.ld (the linker script of the
# Rust programs: one layout, one contract with exec) against the runtime
# and libgcc (the compiler's own helpers), without libc. -nostdinc with
# gcc's own include directory leaves only the compiler's headers
# (stdarg.h, stddef.h, stdint.h, ...), so including <stdio.h> fails at
# once instead of at link time.
#
# build/c/debug/NAME is the program with its debug info, for gdb;
# build/c/NAME, which goes into fs.img, is the same file without it (its
# symbols stay), because debug info makes a C program three times larger
# and the file system has 2000 blocks of 1 KiB for everything. Both load
# at the same addresses, so gdb takes the symbols and line numbers from
# the debug one (see README).

C_DIR := user/c
C_BUILD := $(BUILD)/c
CC := gcc

C_NAMES := $(basename $(notdir $(wildcard $(C_DIR)/*.c)))
C_PROGRAMS := $(addprefix $(C_BUILD)/,$(C_NAMES))

# A C program and a Rust program of the same name would both be /NAME in
# the file system.
$(foreach name,$(filter $(C_NAMES),$(basename $(notdir $(wildcard user/src/bin/*.rs)))),\
	$(error $(C_DIR)/$(name).c and user/src/bin/$(name).rs would both be the program $(name): rename one))

# (Expanded when a recipe runs, not now: on a fresh machine gcc may only
# be installed by the set-up step that the first recipe waits for.)
C_CFLAGS = -std=gnu17 -ffreestanding -fno-pie -O2 -g -Wall -Wextra \
	-nostdinc -isystem $(shell $(CC) -print-file-name=include) -I$(C_DIR)/include \
	-fno-stack-protector -fcf-protection=none -fno-asynchronous-unwind-tables \
	-MMD -MP
# No stack protector or CET notes: they need run-time support we do not
# have. Without unwind tables (.eh_frame, which user.ld discards) gcc puts
# the call-frame information gdb needs in .debug_frame instead.
C_LDFLAGS := -static -nostdlib -no-pie

C_RUNTIME := $(patsubst $(C_DIR)/lib/%.c,$(C_BUILD)/lib/%.o,$(wildcard $(C_DIR)/lib/*.c))

# The runtime must be warning-free; see ulib.c for the loop flag.
#
# Then every function the runtime defines becomes a weak symbol, as a C
# library's are: a program that defines printf, strlen or malloc itself
# links, and its (strong) definition is the one used, even when the
# linker takes the runtime's object file that holds the weak one for
# another function in it (fprintf, strcpy, free). Without this, ld reports
# the name as defined twice; ctest checks it with ownlibc.c. Only the
# definitions (nm --defined-only) are weakened: a weak reference would
# not make ld take the object file that defines it (objcopy --weaken
# would turn start.o's call of exit_status into a call of address 0).
$(C_BUILD)/lib/%.o: $(C_DIR)/lib/%.c $(BUILD)/.setup-done
	@mkdir -p $(@D)
	$(CC) $(C_CFLAGS) -Werror -fno-tree-loop-distribute-patterns -c -o $@ $<
	objcopy $$(nm --defined-only --extern-only --just-symbols $@ | sed 's/^/--weaken-symbol=/') $@

# start.o comes first and outside the archive: it holds the entry point,
# which nothing else refers to, so ld would not take it from an archive.
$(C_BUILD)/ulib.a: $(filter-out %/start.o,$(C_RUNTIME))
	rm -f $@
	ar rcs $@ $^

$(C_BUILD)/%.o: $(C_DIR)/%.c $(BUILD)/.setup-done
	@mkdir -p $(@D)
	$(CC) $(C_CFLAGS) -c -o $@ $<

C_LINK = $(CC) $(C_LDFLAGS) -o $@ $(C_BUILD)/lib/start.o $< $(C_BUILD)/ulib.a -lgcc

# user.ld discards notes, so no build-id note is asked for (ld would warn).
$(C_BUILD)/debug/%: $(C_BUILD)/%.o $(C_BUILD)/lib/start.o $(C_BUILD)/ulib.a user/user.ld
	@mkdir -p $(@D)
	$(C_LINK) -T user/user.ld -Wl,--build-id=none

$(C_BUILD)/%: $(C_BUILD)/debug/%
	strip --strip-debug -o $@ $<

# argsgnu: the program args again, linked by ld's own default linker
# script instead of user.ld. It is what gcc makes of a program by default
# (loaded at 0x400000, the ELF headers in a read-only segment of their
# own, a build-id note, PT_NOTE and PT_GNU_STACK headers), and ctest
# checks that exec runs it, and variants of it, as exec.rs promises.
C_PROGRAMS += $(C_BUILD)/argsgnu
$(C_BUILD)/debug/argsgnu: $(C_BUILD)/args.o $(C_BUILD)/lib/start.o $(C_BUILD)/ulib.a
	@mkdir -p $(@D)
	$(C_LINK)

# An ordinary build shows warnings but goes on, so that programs written
# for older compilers (xv6's own) still build; `make test` runs this to
# hold the programs here to -Wall -Wextra without a warning.
.PHONY: c-warnings
c-warnings:
	@for program in $(C_DIR)/*.c; do \
		$(CC) $(filter-out -MMD -MP,$(C_CFLAGS)) -Werror -c -o /dev/null $$program || exit 1; \
	done

# Keep the objects: make would otherwise delete them as intermediates
# and recompile everything on the next run.
.SECONDARY: $(C_PROGRAMS:%=%.o) $(C_RUNTIME) $(patsubst $(C_BUILD)/%,$(C_BUILD)/debug/%,$(C_PROGRAMS))

-include $(wildcard $(C_BUILD)/*.d $(C_BUILD)/lib/*.d)
