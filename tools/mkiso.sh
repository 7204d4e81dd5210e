#!/bin/sh
# mkiso.sh ISO KERNEL [COMMAND-LINE]
# Builds a bootable ISO: GRUB, a grub.cfg that boots KERNEL through
# multiboot2 at once, and the kernel command line given.
set -eu

iso=$1
kernel=$2
cmdline=${3:-}

# The ISO's contents go in $tmp/iso; grub-mkrescue's log goes beside it,
# never inside it (xorriso would pack the log while it is still growing).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dir=$tmp/iso
log=$tmp/log
mkdir -p "$dir/boot/grub"
# The ISO gets the kernel without its debug sections (8 of its 9 MB, which
# GRUB would spend over a second loading); gdb reads the full ELF from
# target/ (.gdbinit).
strip --strip-debug -o "$dir/boot/kernel" "$kernel"
# GRUB talks on both the screen and COM1, so a headless run sees it too.
cat > "$dir/boot/grub/grub.cfg" <<CFG
set timeout=0
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
menuentry "xv6-rs" {
    multiboot2 /boot/kernel $cmdline
    boot
}
CFG
mkdir -p "$(dirname "$iso")"
if ! grub-mkrescue -o "$iso" "$dir" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$iso"
    exit 1
fi
