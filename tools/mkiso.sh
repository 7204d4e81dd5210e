#!/bin/sh
# mkiso.sh ISO KERNEL [COMMAND-LINE]
# Builds a bootable CD image: GRUB, which boots KERNEL through multiboot2
# at once with the kernel command line given.
#
# GRUB here is one El Torito boot image made by grub-mkimage, with the few
# modules it needs built in and its configuration embedded: it never loads
# GRUB's `normal` mode, its menu or any module from the CD, which is most
# of the time grub-mkrescue's image spends before the kernel. The embedded
# configuration runs in GRUB's simple (rescue) parser, one command a line:
# serial output, a line to say what boots, the kernel, and boot. There is
# no menu, so nothing ever waits.
set -eu

iso=$1
kernel=$2
cmdline=${3:-}

# The CD's contents go in $tmp/iso; the tools' logs go beside it, never
# inside it (xorriso would pack a log while it is still growing).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dir=$tmp/iso
log=$tmp/log
mkdir -p "$dir/boot/grub"
# The CD gets the kernel without its debug sections (8 of its 9 MB, which
# GRUB would spend over a second loading); gdb reads the full ELF from
# target/ (.gdbinit).
strip --strip-debug -o "$dir/boot/kernel" "$kernel"
# GRUB talks on both the screen and COM1, so a headless run sees it too.
cat >"$tmp/grub.cfg" <<CFG
serial --unit=0 --speed=115200
terminal_output serial console
echo "Booting xv6-rs"
multiboot2 /boot/kernel $cmdline
boot
CFG
# biosdisk and iso9660 read the CD through the BIOS; the rest are the
# commands above.
if ! grub-mkimage -O i386-pc-eltorito -o "$dir/boot/grub/eltorito.img" -p /boot/grub \
    -c "$tmp/grub.cfg" biosdisk iso9660 serial terminal echo multiboot2 boot >"$log" 2>&1; then
    cat "$log" >&2
    exit 1
fi
mkdir -p "$(dirname "$iso")"
if ! xorriso -as mkisofs -quiet -R -b boot/grub/eltorito.img -no-emul-boot \
    -boot-load-size 4 -boot-info-table -o "$iso" "$dir" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$iso"
    exit 1
fi
