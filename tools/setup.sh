#!/bin/sh
# Installs what the build needs and is missing, then returns quietly.
#
# 1. The pinned Rust nightly named in rust-toolchain.toml. Cargo on these
#    machines does not install it by itself (RUSTUP_AUTO_INSTALL=0), so we ask
#    rustup to; it returns at once when the toolchain is already there.
# 2. QEMU, GRUB's tools, xorriso, and gcc (with binutils) for the
#    C user programs. As root on Debian/Ubuntu we
#    install them with apt-get; otherwise we stop with the one command to run.
#
# `setup.sh packages` does step 2 only (CI runs it under sudo);
# `setup.sh bench` checks for what `make bench` needs besides: Debian's
# python3-matplotlib, for the system Python that draws the plot.
set -eu

cd "$(dirname "$0")/.."

if [ "${1:-}" = bench ]; then
    if /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
        exit 0
    fi
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing python3-matplotlib"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends python3-matplotlib >/dev/null
        exit 0
    fi
    echo "error: make bench draws its plot with matplotlib for /usr/bin/python3." >&2
    echo "Install it with:  sudo apt-get install python3-matplotlib" >&2
    exit 1
elif [ "${1:-}" = packages ]; then
    :
elif ! command -v rustup >/dev/null 2>&1; then
    echo "error: rustup is not installed. Install it from https://rustup.rs and run make again." >&2
    exit 1
else
    rustup toolchain install >/dev/null
fi

# command -> Debian package that provides it
missing=""
need() {
    command -v "$1" >/dev/null 2>&1 || missing="$missing $2"
}
need qemu-system-x86_64 qemu-system-x86
need grub-mkimage grub-common
need grub-file grub-common
need xorriso xorriso
need strip binutils
need gcc gcc
# grub-mkimage builds a BIOS boot image only with the i386-pc modules.
[ -d /usr/lib/grub/i386-pc ] || missing="$missing grub-pc-bin"

[ -z "$missing" ] && exit 0

# One package may be named twice (grub-common); list it once.
packages=$(echo "$missing" | tr ' ' '\n' | sort -u | tr '\n' ' ' | sed 's/^ *//; s/ *$//')

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing $packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086 # the list is meant to split into words
    apt-get install -y -qq --no-install-recommends $packages >/dev/null
else
    echo "error: missing packages: $packages" >&2
    echo "Install them with:  sudo apt-get install $packages" >&2
    exit 1
fi
