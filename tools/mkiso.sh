#!/bin/sh
# mkiso.sh ISO KERNEL [COMMAND-LINE]
# Builds a bootable ISO: GRUB, a grub.cfg that boots KERNEL through
# multiboot2 at once, and the kernel command line given.
set -eu

iso=$1
kernel=$2
cmdline=${3:-}

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/boot/grub"
cp "$kernel" "$dir/boot/kernel"
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
if ! grub-mkrescue -o "$iso" "$dir" >"$dir/log" 2>&1; then
    cat "$dir/log" >&2
    exit 1
fi
