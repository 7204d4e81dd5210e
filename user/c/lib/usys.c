// usys.c: the system-call stubs, xv6's usys.S.
//
// A stub puts the call's number (syscall.h) in rax and its arguments in
// rdi, rsi and rdx, executes the syscall instruction, and returns what the
// kernel left in rax: the result, or -1. (The kernel takes up to six
// arguments, in rdi, rsi, rdx, r10, r8, r9; no call needs more than three
// yet.) The instruction overwrites rcx with the return address and r11
// with the flags; the kernel preserves every other register.
//
// The stubs are C rather than assembly for one reason: the kernel reads
// every argument as a full 64-bit register, while an int argument fills
// only the low 32 bits, and the C calling convention leaves the upper
// half undefined. Converting each argument to long, as syscall() below
// does, makes the compiler sign-extend it, so that sbrk(-4096) reaches
// the kernel as -4096 and not as 4294963200.

#include "types.h"
#include "stat.h"
#include "user.h"
#include "syscall.h"

static long syscall(long number, long a0, long a1, long a2) {
  long result;
  // "memory": the kernel may read or write any memory the arguments point
  // to, so the compiler must not keep such memory in registers across the
  // call.
  asm volatile("syscall"
               : "=a"(result)
               : "a"(number), "D"(a0), "S"(a1), "d"(a2)
               : "rcx", "r11", "memory");
  return result;
}

int fork(void) { return syscall(SYS_fork, 0, 0, 0); }

void exit_status(int status) {
  asm volatile("syscall" : : "a"(SYS_exit), "D"((long)status) : "memory");
  __builtin_unreachable();  // the kernel never returns from exit
}

int exit(void) { exit_status(0); }

int wait_status(int *status) { return syscall(SYS_wait, (long)status, 0, 0); }

int wait(void) { return wait_status(0); }

int pipe(int *fds) { return syscall(SYS_pipe, (long)fds, 0, 0); }

int write(int fd, const void *buf, int n) {
  return syscall(SYS_write, fd, (long)buf, n);
}

int read(int fd, void *buf, int n) {
  return syscall(SYS_read, fd, (long)buf, n);
}

int close(int fd) { return syscall(SYS_close, fd, 0, 0); }

int kill(int pid) { return syscall(SYS_kill, pid, 0, 0); }

int exec(char *path, char **argv) {
  return syscall(SYS_exec, (long)path, (long)argv, 0);
}

int open(const char *path, int flags) {
  return syscall(SYS_open, (long)path, flags, 0);
}

int mknod(const char *path, short major, short minor) {
  return syscall(SYS_mknod, (long)path, major, minor);
}

int unlink(const char *path) { return syscall(SYS_unlink, (long)path, 0, 0); }

int fstat(int fd, struct stat *st) {
  return syscall(SYS_fstat, fd, (long)st, 0);
}

int link(const char *old, const char *new) {
  return syscall(SYS_link, (long)old, (long)new, 0);
}

int mkdir(const char *path) { return syscall(SYS_mkdir, (long)path, 0, 0); }

int chdir(const char *path) { return syscall(SYS_chdir, (long)path, 0, 0); }

int dup(int fd) { return syscall(SYS_dup, fd, 0, 0); }

int getpid(void) { return syscall(SYS_getpid, 0, 0, 0); }

// The kernel returns the old end of the heap, or -1, which becomes
// (char*)-1 as in xv6.
char *sbrk(int n) { return (char *)syscall(SYS_sbrk, n, 0, 0); }

int sleep(int ticks) { return syscall(SYS_sleep, ticks, 0, 0); }

int uptime(void) { return syscall(SYS_uptime, 0, 0, 0); }

int shm_open(char *name) { return syscall(SYS_shm_open, (long)name, 0, 0); }

int shm_trunc(int od, int size) { return syscall(SYS_shm_trunc, od, size, 0); }

int shm_map(int od, void **va, int flags) {
  return syscall(SYS_shm_map, od, (long)va, flags);
}

int shm_close(int od) { return syscall(SYS_shm_close, od, 0, 0); }

int shm_wait(int *addr, int expected) {
  return syscall(SYS_shm_wait, (long)addr, expected, 0);
}

int shm_wake(int *addr, int n) { return syscall(SYS_shm_wake, (long)addr, n, 0); }

// The rate does not fit an int (3 GHz is more than 2^31), hence uint64.
uint64 tsc_hz(void) { return syscall(SYS_tsc_hz, 0, 0, 0); }
