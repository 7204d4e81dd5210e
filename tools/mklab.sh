#!/bin/sh
# mklab.sh DEST: writes the shared-memory lab, a copy of this tree in which
# the solution is replaced by stubs that compile and fail, to DEST (which
# must not exist, and must not be inside this tree, except under build/).
#
# The solution is marked in the sources (kernel/src/shm.rs and
# kernel/shmtable/src/lib.rs) like this, inside each function to write:
#
#     // LAB shm: solution begins
#     ...the code, which the copy leaves out...
#     // LAB shm: stub
#     // ...the stub, commented out here, which the copy keeps...
#     // LAB shm: end
#
# In this tree the markers are comments, so the normal build is untouched.
# A stub may also be an attribute: at the top of shm.rs and before
# vm.rs's map_shared, the lab's copy allows the imports and helpers that
# only the solution uses, so that the lab builds without warnings.
set -eu

dest=${1:?usage: mklab.sh DEST}
cd "$(dirname "$0")/.."
src=$(pwd)
target=$(realpath -m "$dest")
case "$target/" in
"$src"/build/*) ;;
"$src"/*)
    echo "mklab: $dest is inside the source tree; write the lab elsewhere" >&2
    exit 1
    ;;
esac
if [ -e "$target" ]; then
    echo "mklab: $dest exists; remove it or choose another place" >&2
    exit 1
fi
mkdir -p "$target"

# Every file git knows, as it is in the working tree.
git ls-files -z | xargs -0 cp --parents -t "$target"

for file in $(grep -rl --include='*.rs' 'LAB shm: solution begins' kernel); do
    awk '
        /\/\/ LAB shm: solution begins/ { skip = 1; next }
        /\/\/ LAB shm: stub/            { skip = 0; stub = 1; next }
        /\/\/ LAB shm: end/             { stub = 0; next }
        skip                            { next }
        stub                            { sub(/\/\/ /, ""); print; next }
                                        { print }
    ' "$file" >"$target/$file"
done

cat >"$target/LAB-SHM.md" <<'HANDOUT'
# Lab: shared memory

This copy of xv6-rs is missing its shared-memory subsystem: the system calls
`shm_open`, `shm_trunc`, `shm_map` and `shm_close` are there, but return -1,
and the table that keeps track of objects and descriptors does nothing. Your
job is to write them.

## What to read first

- `docs/shm.md`: the contract, every call's success and error returns, and
  the rules about `fork`, `exec` and `exit`. It is what you are graded on.
- `kernel/shmtable/src/lib.rs`: the opening doc (how objects and
  descriptors are kept) and the types.
- `kernel/src/shm.rs`: the opening doc (the design, the locking, where an
  object appears in memory) and the helpers that are there for you
  (`free_page`, `close_descriptor`, `word_at`);
  `kernel/src/sysshm.rs` fetches each call's arguments and calls your
  functions.
- `kernel/src/vm.rs`: `AddressSpace::map_shared`, `unmap`, `check`.

## What to write

Each function below has a stub that you replace:

- in `kernel/shmtable/src/lib.rs`: `Table::open`, `Table::trunc`,
  `Table::close`, `Descriptors::alloc`, `Descriptors::get`,
  `Descriptors::remove`;
- in `kernel/src/shm.rs`: `open`, `trunc`, `map`, `close`,
  `close_all` (exit and exec) and `fork`.

## How you are graded

- `cargo test -p shmtable` runs the table's unit tests on your machine (no
  QEMU needed): start there.
- `make qemu-nox`, then `shmtest` in the shell: one check per rule of the
  contract, `PASS` or `FAIL` with the reason, and a summary line
  `shmtest: N passed, M failed`.
- `make test` runs everything, `shmtest` at 1, 2 and 4 CPUs; the lab is done
  when it says `0 failed`.
HANDOUT

echo "mklab: the shared-memory lab is in $dest (handout: $dest/LAB-SHM.md)"
