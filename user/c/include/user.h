// user.h: everything a C user program can call. The declarations follow
// xv6-public's user.h, so that xv6's programs and the course's compile
// as they are; what this kernel offers beyond xv6 comes under names of
// its own, which no xv6 program uses.
//
// The system calls are stubs in lib/usys.c that trap into the kernel; the
// rest is the small C library in lib/ (ulib.c, printf.c, umalloc.c),
// written for this project. There is no other libc: a program that
// includes <stdio.h> does not compile. Every call that fails returns -1
// (sbrk: (char*)-1), and there is no errno to say why.
//
// A program is `int main(int argc, char *argv[])` (or `int main(void)`).
// It ends by calling exit(), or by returning from main, whose value then
// becomes the exit status (see lib/start.c).

#ifndef XV6_USER_H
#define XV6_USER_H

#include "types.h"

struct stat;

// System calls, as xv6-public declares them.
int fork(void);
int exit(void) __attribute__((noreturn));  // exit_status(0)
int wait(void);                            // wait_status(0)
int pipe(int *fds);
int write(int fd, const void *buf, int n);
int read(int fd, void *buf, int n);
int close(int fd);
int kill(int pid);
int exec(char *path, char **argv);
int open(const char *path, int flags);
int mknod(const char *path, short major, short minor);
int unlink(const char *path);
int fstat(int fd, struct stat *st);
int link(const char *old, const char *new);
int mkdir(const char *path);
int chdir(const char *path);
int dup(int fd);
int getpid(void);
char *sbrk(int n);
int sleep(int ticks);
int uptime(void);

// exec passes at most MAXARG arguments, argv[0] included (abi::syscall).
#define MAXARG 32
// The longest path, or argument string of exec, counting its NUL.
#define MAXPATH 128

// This kernel's exit and wait carry a status, as in Unix: the parent's
// wait_status stores the child's exit_status (or -1 for a child that was
// killed or faulted) in *status, unless status is 0. xv6's exit() and
// wait() are these with status 0.
void exit_status(int status) __attribute__((noreturn));
int wait_status(int *status);

// Shared memory (docs/shm.md): named objects of whole pages, each always
// mapped at the same address in every process. shm_open returns a
// descriptor; shm_trunc sizes the object once and returns its size;
// shm_map maps all of it with O_RDONLY or O_RDWR (fcntl.h) and stores
// its address in *va; shm_close unmaps it and drops the reference.
int shm_open(char *name);
int shm_trunc(int od, int size);
int shm_map(int od, void **va, int flags);
int shm_close(int od);

// Waiting on shared memory (a futex): shm_wait sleeps while the aligned
// int at addr, in a mapped object, still holds expected, until a
// shm_wake on it (0), or returns -1 at once if it differs; shm_wake wakes
// up to n waiters on that int, oldest first, and returns how many.
int shm_wait(int *addr, int expected);
int shm_wake(int *addr, int n);

// Shared memory's limits (abi::shm).
#define NSHM 64                   // objects in the system
#define NSHMPROC 16               // descriptors per process
#define SHM_MAXPAGES 32           // pages per object
#define SHM_MAXSIZE (32 * 4096)   // bytes per object
#define SHM_NAME_MAX 63           // bytes in a name, not counting the NUL
#define NSHMWAIT 32               // processes in shm_wait at once
#define SHMBASE 0x40000000L       // where the window of mappings starts

// The clock: the time-stamp counter's rate in cycles per second, as the
// kernel measured it at boot, for turning the cycles between two reads of
// the counter (the rdtsc instruction) into seconds. It never fails.
uint64 tsc_hz(void);

// ulib.c: strings, memory, input, files. As in xv6, strchr never finds
// the terminating NUL, atoi reads only decimal digits, and gets reads
// standard input up to a newline or max-1 bytes.
int stat(const char *path, struct stat *st);
char *strcpy(char *dst, const char *src);
void *memmove(void *dst, const void *src, int n);
char *strchr(const char *s, char c);
int strcmp(const char *a, const char *b);
char *gets(char *buf, int max);
uint strlen(const char *s);
void *memset(void *dst, int c, uint n);
int atoi(const char *s);
int memcmp(const void *a, const void *b, uint n);
void *memcpy(void *dst, const void *src, uint n);

// printf.c: formatted output. fprintf writes to the file descriptor it
// is given. The formats are xv6's: %d (int), %u (unsigned), %x (hex), %p
// (pointer), %s (string), %c (character), %% (a percent sign); an l or ll
// before d, u or x takes a 64-bit long. There are no widths, precisions
// or floating point.
void fprintf(int fd, const char *fmt, ...);

// printf is where the two xv6s disagree: xv6-public's takes the file
// descriptor first, printf(1, "hi\n"); xv6-riscv's writes to standard
// output, printf("hi\n"). A C function has one type, and a program may
// define printf itself (xv6-public's forktest does, to stay small), so
// the choice cannot be made call by call with a macro that looks at the
// first argument: a function-like printf macro expands inside the
// program's own definition too, which then does not compile. The choice
// is made per program instead, by the path it includes, which is how
// each xv6 spells this header:
//
//   #include "user.h"       printf(int fd, const char *fmt, ...), xv6-public's
//   #include "user/user.h"  printf(const char *fmt, ...), xv6-riscv's; the
//                           programs in user/c use this one
//
// They are two functions of the library. In C both are called printf;
// the linker knows xv6-riscv's by the name printf_stdout, which the asm
// label below gives it, so a program's own definition of printf, of
// either kind, is named like the library's and replaces it.
//
// Every function of the library is a weak symbol (c.mk), so a program
// that defines printf, fprintf, strlen, malloc or any other of them
// links, and its definition wins, as with any C library.
#ifdef XV6_RISCV_USER_H
void printf(const char *fmt, ...) __asm__("printf_stdout");
#else
void printf(int fd, const char *fmt, ...);
#endif

// umalloc.c: the heap, grown with sbrk. Blocks are 16-byte aligned.
void *malloc(uint n);
void free(void *p);

#endif
