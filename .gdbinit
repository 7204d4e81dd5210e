# Loaded by gdb started in this directory (see `make qemu-gdb`). gdb refuses
# to run a project's .gdbinit unless allowed: add this line to ~/.gdbinit:
#   add-auto-load-safe-path /path/to/this/checkout/.gdbinit
set architecture i386:x86-64
file target/x86_64-xv6/release/kernel
target remote localhost:26000
echo + target remote localhost:26000\n
