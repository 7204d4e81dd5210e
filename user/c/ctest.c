// ctest: checks every function of user.h against the kernel.
//
// Each check is a function in the table `checks` at the end of this file;
// it returns 0 if it passed, or a sentence saying what went wrong. main
// runs them in order and prints `PASS name` or `FAIL name: why` for each,
// then `ctest: N passed, M failed`, and exits with 0 only if all passed.
// (The same protocol as the Rust test programs, which `make test` reads.)
// Where a failure needs more detail than a sentence, such as what printf
// printed instead of what it should have, the check prints it first, on
// lines that start with two spaces.
//
// Every check leaves the process as it found it: descriptors closed, the
// current directory /, files it made removed, children reaped. That keeps
// the checks independent, and lets each one count on file descriptors
// 0, 1 and 2 being the console and nothing else being open.
//
// How the checks see what they check:
// - System calls: each call's result on success, and -1 for each way it
//   can fail. A call whose failure would end this process (a fault) is
//   made in a forked child; `wait_status` then says how it ended.
// - printf and gets: standard output (or input) is moved onto a pipe for
//   the duration of one call (`capture_start`, `capture_check`), and what
//   came through is compared with what should have.
// - exec: other programs run in a child whose standard output is a pipe
//   (`run`): args and ownlibc (C), shmget and shmput (Rust), and copies of argsgnu
//   with one program header or field changed, which exec must run or
//   refuse as kernel/src/exec.rs says.
// - malloc: sbrk(0), the end of the heap, must not move while blocks are
//   allocated and freed over and over in the same pattern.

#include "types.h"
#include "stat.h"
#include "fcntl.h"
#include "fs.h"
#include "memlayout.h"
#include "syscall.h"
#include "user/user.h"

// What a child that `run` started exits with when its exec failed.
#define EXEC_FAILED 127

// ---------------------------------------------------------------------------
// Helpers.

// Reads fd to its end into buf (NUL-terminated, at most size-1 bytes; the
// rest is read and dropped, so that the writer never blocks). Returns the
// number of bytes kept.
static int read_all(int fd, char *buf, int size) {
  int kept = 0;
  char scratch[64];
  for (;;) {
    char *into = kept < size - 1 ? buf + kept : scratch;
    int room = kept < size - 1 ? size - 1 - kept : (int)sizeof(scratch);
    int n = read(fd, into, room);
    if (n <= 0)
      break;
    if (into == buf + kept)
      kept += n;
  }
  buf[kept] = 0;
  return kept;
}

// Runs the program argv[0] with arguments argv in a child whose standard
// output goes into a pipe; puts what it printed in out (see read_all) and
// returns its exit status: EXEC_FAILED if the exec failed, -1 if the
// child was killed, -2 if there was no child at all.
static int run(char **argv, char *out, int size) {
  int fds[2];
  if (pipe(fds) < 0)
    return -2;
  int pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return -2;
  }
  if (pid == 0) {
    close(1);
    dup(fds[1]);
    close(fds[0]);
    close(fds[1]);
    exec(argv[0], argv);
    exit_status(EXEC_FAILED);
  }
  close(fds[1]);
  read_all(fds[0], out, size);
  close(fds[0]);
  int status;
  if (wait_status(&status) != pid)
    return -2;
  return status;
}

// Shows how two texts differ, on the detail lines.
static void show(const char *what, const char *got, const char *expected) {
  printf("  %s gave \"%s\"\n  expected \"%s\"\n", what, got, expected);
}

// Captured output. capture_start(fd) points descriptor fd (1 or 2) at a
// pipe; capture_check puts fd back and compares what came through.
static int captured_fd, saved_fd, capture_pipe[2];

static int capture_start(int fd) {
  if (pipe(capture_pipe) < 0)
    return -1;
  captured_fd = fd;
  saved_fd = dup(fd);
  close(fd);
  dup(capture_pipe[1]);  // the lowest free descriptor: fd
  close(capture_pipe[1]);
  return 0;
}

// Returns 1 if exactly `expected` was written to the captured descriptor.
// The output must fit in `got` (512 bytes), well inside the pipe (4096),
// since nobody reads the pipe while it is written.
static int capture_check(const char *what, const char *expected) {
  close(captured_fd);
  dup(saved_fd);
  close(saved_fd);
  char got[512];
  read_all(capture_pipe[0], got, sizeof(got));
  close(capture_pipe[0]);
  if (strcmp(got, expected) == 0)
    return 1;
  show(what, got, expected);
  return 0;
}

// Fails the check unless `call` writes exactly `expected` to fd.
#define PRINTS(fd, expected, call)                                  \
  do {                                                              \
    if (capture_start(fd) < 0)                                      \
      return "cannot make a pipe to capture the output";            \
    call;                                                           \
    if (!capture_check(#call, expected))                            \
      return "the output differs from what it should be (see above)"; \
  } while (0)

// A child process that must end with `expected` status; `body` runs in
// it and exits.
#define IN_CHILD(expected, body)                            \
  do {                                                      \
    int pid_ = fork();                                      \
    if (pid_ < 0)                                           \
      return "fork failed";                                 \
    if (pid_ == 0) {                                        \
      body;                                                 \
      exit_status(0);                                       \
    }                                                       \
    int status_;                                            \
    if (wait_status(&status_) != pid_)                      \
      return "wait did not return the child";               \
    if (status_ != (expected)) {                            \
      printf("  the child exited with status %d\n", status_); \
      return "a child did not end as expected (see above)"; \
    }                                                       \
  } while (0)

#define CHECK(condition, why) \
  do {                        \
    if (!(condition))         \
      return why;             \
  } while (0)

// A pointer into page 0, which is never mapped. (A variable, not a
// constant: gcc warns about dereferencing a constant address.)
static void *volatile bad_pointer = (void *)8;

// ---------------------------------------------------------------------------
// Processes: fork, exit, wait, kill, getpid.

static const char *fork_exit_wait(void) {
  int fds[2];
  CHECK(pipe(fds) == 0, "pipe failed");
  int pid = fork();
  CHECK(pid >= 0, "fork failed");
  if (pid == 0) {
    int me = getpid();
    write(fds[1], &me, sizeof(me));
    exit_status(7);
  }
  close(fds[1]);
  int child_pid = 0;
  int n = read(fds[0], &child_pid, sizeof(child_pid));
  close(fds[0]);
  int status = 0;
  CHECK(wait_status(&status) == pid, "wait_status did not return the child's pid");
  CHECK(n == sizeof(child_pid) && child_pid == pid,
        "the child's getpid is not the pid fork gave the parent");
  CHECK(status == 7, "wait_status did not report exit_status(7)");
  CHECK(getpid() > 0 && getpid() != pid, "getpid is not this process's own");
  return 0;
}

static const char *xv6_exit_and_wait(void) {
  int pid = fork();
  CHECK(pid >= 0, "fork failed");
  if (pid == 0)
    exit();
  CHECK(wait() == pid, "wait() did not return the child's pid");
  pid = fork();
  CHECK(pid >= 0, "fork failed");
  if (pid == 0)
    exit();
  int status = -5;
  CHECK(wait_status(&status) == pid && status == 0, "exit() is not exit status 0");
  return 0;
}

static const char *wait_errors(void) {
  int status;
  CHECK(wait() == -1, "wait() without children did not return -1");
  CHECK(wait_status(&status) == -1, "wait_status without children did not return -1");
  int pid = fork();
  CHECK(pid >= 0, "fork failed");
  if (pid == 0)
    exit_status(3);
  // A status that cannot be delivered fails the call and leaves the child
  // to be reaped by the next one.
  CHECK(wait_status(bad_pointer) == -1, "wait_status(bad pointer) did not return -1");
  CHECK(wait_status(&status) == pid && status == 3,
        "the child was lost after wait_status(bad pointer)");
  return 0;
}

static const char *kill_child(void) {
  int pid = fork();
  CHECK(pid >= 0, "fork failed");
  if (pid == 0) {
    for (;;)
      sleep(100);
  }
  CHECK(kill(pid) == 0, "kill of a sleeping child did not return 0");
  int status = 0;
  CHECK(wait_status(&status) == pid, "wait did not return the killed child");
  CHECK(status == -1, "a killed child did not report status -1");
  CHECK(kill(pid) == -1, "kill of a reaped child did not return -1");
  CHECK(kill(-1) == -1, "kill(-1) did not return -1");
  return 0;
}

// A fault ends only the process that made it, with status -1.
static const char *fault_kills(void) {
  IN_CHILD(-1, *(volatile int *)bad_pointer = 1);
  return 0;
}

// ---------------------------------------------------------------------------
// Pipes and descriptors: pipe, read, write, close, dup.

static const char *pipe_read_write(void) {
  int fds[2] = {-1, -1};
  CHECK(pipe(fds) == 0, "pipe failed");
  CHECK(fds[0] > 2 && fds[1] > 2 && fds[0] != fds[1],
        "pipe did not give two new descriptors");
  CHECK(write(fds[1], "hello", 5) == 5, "write to a pipe did not return 5");
  char buf[8];
  CHECK(read(fds[0], buf, sizeof(buf)) == 5 && memcmp(buf, "hello", 5) == 0,
        "read from a pipe did not return what was written");
  CHECK(read(fds[1], buf, 1) == -1, "read from a pipe's write end did not return -1");
  CHECK(write(fds[0], "x", 1) == -1, "write to a pipe's read end did not return -1");
  close(fds[1]);
  CHECK(read(fds[0], buf, 1) == 0, "read after the write end closed did not return 0");
  close(fds[0]);
  CHECK(pipe(bad_pointer) == -1, "pipe(bad pointer) did not return -1");
  // A failed pipe must not have used up descriptors.
  int fd = dup(0);
  CHECK(fd == 3, "a failed pipe left descriptors open");
  close(fd);
  return 0;
}

// Writing to a pipe nobody reads fails instead of blocking forever.
static const char *pipe_broken(void) {
  int fds[2];
  CHECK(pipe(fds) == 0, "pipe failed");
  close(fds[0]);
  CHECK(write(fds[1], "x", 1) == -1, "write to a pipe without readers did not return -1");
  close(fds[1]);
  return 0;
}

static const char *descriptor_errors(void) {
  char c = 0;
  CHECK(read(-1, &c, 1) == -1, "read(-1) did not return -1");
  CHECK(read(NOFILE, &c, 1) == -1, "read(NOFILE) did not return -1");
  CHECK(write(9, &c, 1) == -1, "write to a closed descriptor did not return -1");
  CHECK(close(-1) == -1, "close(-1) did not return -1");
  CHECK(close(9) == -1, "close of a closed descriptor did not return -1");
  CHECK(dup(-1) == -1, "dup(-1) did not return -1");
  CHECK(dup(9) == -1, "dup of a closed descriptor did not return -1");
  int fd = dup(1);
  CHECK(fd == 3, "dup did not return the lowest free descriptor");
  CHECK(write(fd, "", 0) == 0, "a write of 0 bytes did not return 0");
  CHECK(close(fd) == 0, "close did not return 0");
  CHECK(close(fd) == -1, "closing a descriptor twice did not return -1");
  CHECK(write(1, bad_pointer, 1) == -1, "write from a bad pointer did not return -1");
  return 0;
}

// Every process has NOFILE descriptors, and then open and dup fail.
static const char *descriptor_limit(void) {
  int fds[NOFILE];
  int n = 0;
  while (n < NOFILE && (fds[n] = dup(0)) >= 0)
    n++;
  for (int i = 0; i < n; i++)
    close(fds[i]);
  CHECK(n == NOFILE - 3, "dup did not stop at NOFILE descriptors");
  return 0;
}

// ---------------------------------------------------------------------------
// Files and directories: open, fstat, stat, link, unlink, mkdir, chdir,
// mknod.

static const char *open_create_truncate(void) {
  CHECK(open("ctest.no", O_RDONLY) == -1, "open of a missing file did not return -1");
  int fd = open("ctest.tmp", O_CREATE | O_RDWR);
  CHECK(fd >= 0, "open(O_CREATE) failed");
  CHECK(write(fd, "0123456789", 10) == 10, "write to a file did not return 10");
  close(fd);
  fd = open("ctest.tmp", O_RDONLY);
  CHECK(fd >= 0, "open(O_RDONLY) of the new file failed");
  char buf[16] = {0};
  CHECK(read(fd, buf, sizeof(buf)) == 10 && strcmp(buf, "0123456789") == 0,
        "reading the file back did not give what was written");
  CHECK(write(fd, "x", 1) == -1, "write to an O_RDONLY file did not return -1");
  close(fd);
  fd = open("ctest.tmp", O_WRONLY);
  CHECK(fd >= 0 && read(fd, buf, 1) == -1, "read from an O_WRONLY file did not return -1");
  close(fd);
  fd = open("ctest.tmp", O_RDWR | O_TRUNC);
  struct stat st;
  CHECK(fd >= 0 && fstat(fd, &st) == 0 && st.size == 0, "O_TRUNC did not empty the file");
  close(fd);
  CHECK(unlink("ctest.tmp") == 0, "unlink failed");
  CHECK(open("/", O_RDWR) == -1, "open of a directory for writing did not return -1");
  CHECK(open(bad_pointer, O_RDONLY) == -1, "open(bad pointer) did not return -1");
  return 0;
}

static const char *fstat_and_stat(void) {
  int fd = open("ctest.tmp", O_CREATE | O_RDWR);
  CHECK(fd >= 0, "open(O_CREATE) failed");
  write(fd, "abc", 3);
  struct stat st;
  memset(&st, 0xff, sizeof(st));
  CHECK(fstat(fd, &st) == 0, "fstat of a file failed");
  close(fd);
  CHECK(st.type == T_FILE && st.size == 3 && st.nlink == 1 && st.ino > ROOTINO &&
            st.pad == 0,
        "fstat of a 3-byte file did not report T_FILE, size 3, one link");
  struct stat by_name;
  CHECK(stat("ctest.tmp", &by_name) == 0 && by_name.ino == st.ino && by_name.size == 3,
        "stat did not report what fstat did");
  unlink("ctest.tmp");
  CHECK(stat("/", &st) == 0 && st.type == T_DIR && st.ino == ROOTINO,
        "stat(\"/\") did not report the root directory");
  CHECK(fstat(1, &st) == 0 && st.type == T_DEV, "fstat of the console is not T_DEV");
  CHECK(stat("ctest.tmp", &st) == -1, "stat of a missing file did not return -1");
  CHECK(fstat(-1, &st) == -1, "fstat(-1) did not return -1");
  CHECK(fstat(0, bad_pointer) == -1, "fstat(bad pointer) did not return -1");
  return 0;
}

static const char *link_unlink(void) {
  int fd = open("ctest.tmp", O_CREATE | O_RDWR);
  CHECK(fd >= 0, "open(O_CREATE) failed");
  close(fd);
  CHECK(link("ctest.tmp", "ctest.lnk") == 0, "link failed");
  struct stat st;
  CHECK(stat("ctest.lnk", &st) == 0 && st.nlink == 2, "a linked file does not have 2 links");
  CHECK(link("ctest.tmp", "ctest.lnk") == -1, "link to an existing name did not return -1");
  CHECK(link("ctest.no", "ctest.no2") == -1, "link of a missing file did not return -1");
  CHECK(link("/", "ctest.root") == -1, "link of a directory did not return -1");
  CHECK(unlink("ctest.lnk") == 0, "unlink of the link failed");
  CHECK(unlink("ctest.lnk") == -1, "unlink of a removed name did not return -1");
  CHECK(stat("ctest.tmp", &st) == 0 && st.nlink == 1, "unlink did not drop the link count");
  CHECK(unlink("ctest.tmp") == 0, "unlink failed");
  CHECK(unlink(bad_pointer) == -1, "unlink(bad pointer) did not return -1");
  return 0;
}

static const char *mkdir_chdir(void) {
  CHECK(mkdir("ctest.dir") == 0, "mkdir failed");
  CHECK(mkdir("ctest.dir") == -1, "mkdir of an existing name did not return -1");
  CHECK(chdir("ctest.dir") == 0, "chdir into the new directory failed");
  int fd = open("inner", O_CREATE | O_RDWR);
  close(fd);
  CHECK(chdir("..") == 0, "chdir(\"..\") failed");
  struct stat st;
  CHECK(stat("ctest.dir/inner", &st) == 0 && st.type == T_FILE,
        "a file made after chdir is not in the directory");
  CHECK(unlink("ctest.dir") == -1, "unlink of a non-empty directory did not return -1");
  CHECK(chdir("ctest.dir/inner") == -1, "chdir to a file did not return -1");
  CHECK(chdir("ctest.no") == -1, "chdir to a missing directory did not return -1");
  CHECK(unlink("ctest.dir/inner") == 0, "unlink inside the directory failed");
  CHECK(unlink("ctest.dir") == 0, "unlink of the empty directory failed");
  CHECK(chdir("/") == 0, "chdir(\"/\") failed");
  return 0;
}

static const char *mknod_device(void) {
  CHECK(mknod("ctest.dev", 1, 0) == 0, "mknod failed");
  struct stat st;
  CHECK(stat("ctest.dev", &st) == 0 && st.type == T_DEV, "mknod did not make a T_DEV file");
  CHECK(mknod("ctest.dev", 1, 0) == -1, "mknod of an existing name did not return -1");
  CHECK(unlink("ctest.dev") == 0, "unlink of the device file failed");
  return 0;
}

// Reading a directory gives its entries, as struct dirent.
static const char *read_directory(void) {
  int fd = open("/", O_RDONLY);
  CHECK(fd >= 0, "open(\"/\") failed");
  struct dirent entry;
  int found = 0;
  struct stat st;
  CHECK(stat("/ctest", &st) == 0, "stat(\"/ctest\") failed");
  while (read(fd, &entry, sizeof(entry)) == sizeof(entry)) {
    char name[DIRSIZ + 1];
    memmove(name, entry.name, DIRSIZ);
    name[DIRSIZ] = 0;
    if (entry.inum != 0 && strcmp(name, "ctest") == 0)
      found = entry.inum == st.ino;
  }
  close(fd);
  CHECK(found, "no entry \"ctest\" with ctest's inode in /");
  return 0;
}

// ---------------------------------------------------------------------------
// Memory and time: sbrk, sleep, uptime, tsc_hz.

static const char *sbrk_grow_shrink(void) {
  char *start = sbrk(0);
  CHECK(start != (char *)-1, "sbrk(0) failed");
  CHECK(sbrk(8192) == start, "sbrk(8192) did not return the old end");
  CHECK(sbrk(0) == start + 8192, "sbrk(8192) did not move the end by 8192");
  for (int i = 0; i < 8192; i++)
    CHECK(start[i] == 0, "new heap memory is not zeroed");
  memset(start, 'x', 8192);
  CHECK(sbrk(-8192) == start + 8192, "sbrk(-8192) did not return the old end");
  CHECK(sbrk(0) == start, "sbrk(-8192) did not give the memory back");
  CHECK(sbrk(0x7fffffff) == (char *)-1, "sbrk into the shared-memory window did not fail");
  CHECK(sbrk(0) == start, "a failed sbrk moved the end");
  // Shrinking below where the heap starts fails.
  CHECK(sbrk(-0x7fffffff) == (char *)-1, "sbrk below the heap's start did not fail");
  // Memory given back is gone: touching it kills the process. (The first
  // whole page above start lay inside the 8192 bytes.)
  char *page = (char *)(((uint64)start + 4095) & ~4095UL);
  IN_CHILD(-1, *(volatile char *)page = 1);
  return 0;
}

static const char *sleep_and_uptime(void) {
  int before = uptime();
  CHECK(before > 0, "uptime is not positive");
  CHECK(sleep(3) == 0, "sleep(3) did not return 0");
  int after = uptime();
  CHECK(after >= before + 3, "uptime advanced less than sleep(3) slept");
  CHECK(sleep(0) == 0, "sleep(0) did not return 0");
  CHECK(sleep(-1) == -1, "sleep(-1) did not return -1");
  return 0;
}

// tsc_hz's 64 bits reach C whole: the rate is above 1 MHz, the same on
// every call, and its high half matches what the raw system call returns
// (a wrapper that went through int would lose it above 2^31 Hz).
static const char *tsc_hz_stable(void) {
  uint64 hz = tsc_hz();
  CHECK(hz > 1000000, "tsc_hz is not above 1 MHz");
  for (int i = 0; i < 100; i++)
    CHECK(tsc_hz() == hz, "tsc_hz changed between calls");
  uint64 raw;
  asm volatile("syscall" : "=a"(raw) : "a"((long)SYS_tsc_hz) : "rcx", "r11", "memory");
  CHECK(raw == hz, "tsc_hz differs from the raw system call's result");
  return 0;
}

// ---------------------------------------------------------------------------
// exec and argument passing.

static const char *exec_c_program(void) {
  char out[256];
  char *argv[] = {"/args", "one", "two words", "", 0};
  int status = run(argv, out, sizeof(out));
  const char *expected = "argc 4\nargv[0] /args\nargv[1] one\nargv[2] two words\nargv[3] \n";
  if (strcmp(out, expected) != 0) {
    show("args one \"two words\" \"\"", out, expected);
    return "args did not print its arguments (see above)";
  }
  CHECK(status == 4, "main's return value (argc) is not the exit status");
  char *alone[] = {"args", 0};
  CHECK(run(alone, out, sizeof(out)) == 1 && strcmp(out, "argc 1\nargv[0] args\n") == 0,
        "args without arguments did not print argc 1");
  return 0;
}

// Twenty arguments, each in its place.
static const char *exec_twenty_arguments(void) {
  char *argv[21];
  char names[20][3];
  char expected[512] = "argc 20\nargv[0] args\n";
  int length = strlen(expected);
  argv[0] = "args";
  for (int i = 1; i < 20; i++) {
    names[i][0] = 'a' + i;
    names[i][1] = 'A' + i;
    names[i][2] = 0;
    argv[i] = names[i];
    // "argv[i] aA\n", by hand: printf cannot format into memory.
    strcpy(expected + length, "argv[");
    length += 5;
    if (i >= 10)
      expected[length++] = '1';
    expected[length++] = '0' + i % 10;
    expected[length++] = ']';
    expected[length++] = ' ';
    expected[length++] = names[i][0];
    expected[length++] = names[i][1];
    expected[length++] = '\n';
  }
  expected[length] = 0;
  argv[20] = 0;
  char out[512];
  int status = run(argv, out, sizeof(out));
  if (strcmp(out, expected) != 0) {
    show("args with 19 arguments", out, expected);
    return "args did not print its twenty arguments (see above)";
  }
  CHECK(status == 20, "args with twenty arguments did not exit with 20");
  return 0;
}

// MAXARG arguments, argv[0] included, pass; one more makes exec fail.
static const char *exec_maxarg_arguments(void) {
  char *argv[MAXARG + 2];
  argv[0] = "/args";
  for (int i = 1; i <= MAXARG; i++)
    argv[i] = "x";
  argv[MAXARG] = 0;
  char out[512];
  CHECK(run(argv, out, sizeof(out)) == MAXARG, "exec of MAXARG arguments failed");
  argv[MAXARG] = "x";
  argv[MAXARG + 1] = 0;
  CHECK(run(argv, out, sizeof(out)) == EXEC_FAILED,
        "exec of MAXARG + 1 arguments did not fail");
  return 0;
}

static const char *exec_errors(void) {
  char *argv[] = {"ctest.no", 0};
  CHECK(exec("ctest.no", argv) == -1, "exec of a missing file did not return -1");
  CHECK(exec("/", argv) == -1, "exec of a directory did not return -1");
  CHECK(exec("README", argv) == -1, "exec of a text file did not return -1");
  CHECK(exec(bad_pointer, argv) == -1, "exec(bad path) did not return -1");
  CHECK(exec("/args", bad_pointer) == -1, "exec(bad argv) did not return -1");
  char *bad_argument[] = {"args", bad_pointer, 0};
  CHECK(exec("/args", bad_argument) == -1, "exec(bad argv[1]) did not return -1");
  return 0;
}

// A Rust program started from C: echo from user/src/bin.
static const char *exec_rust_program(void) {
  char out[64];
  char *argv[] = {"echo", "from", "C", 0};
  CHECK(run(argv, out, sizeof(out)) == 0 && strcmp(out, "from C\n") == 0,
        "echo from C did not print \"from C\"");
  return 0;
}

// Floating point in a C program: pi computes with doubles (SSE) and
// prints the results with its own code.
static const char *exec_double_program(void) {
  char out[128];
  char *argv[] = {"pi", 0};
  int status = run(argv, out, sizeof(out));
  const char *expected =
      "pi      = 3.141592653590\ne       = 2.718281828459\nsqrt(2) = 1.414213562373\n";
  if (strcmp(out, expected) != 0) {
    show("pi", out, expected);
    return "pi did not print its three doubles (see above)";
  }
  CHECK(status == 0, "pi found a value off");
  return 0;
}

// ---------------------------------------------------------------------------
// exec of gcc's own layout, and of variants of it.
//
// argsgnu is args linked by ld's default linker script (see c.mk). Each
// variant changes one program header or field of a copy of it, writes it
// to ctest.elf, and runs it: exec must either run it (it then prints
// "argc 1") or refuse it with -1, as the table in kernel/src/exec.rs says.

struct elf_header {
  uchar ident[16];
  ushort type, machine;
  uint version;
  uint64 entry, phoff, shoff;
  uint flags;
  ushort ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct program_header {
  uint type, flags;
  uint64 offset, vaddr, paddr, filesz, memsz, align;
};

_Static_assert(sizeof(struct elf_header) == 64, "ELF64 header");
_Static_assert(sizeof(struct program_header) == 56, "ELF64 program header");

#define PT_NULL 0
#define PT_LOAD 1
#define PT_DYNAMIC 2
#define PT_INTERP 3
#define PT_NOTE 4
#define PT_PHDR 6
#define PT_TLS 7
#define PT_GNU_EH_FRAME 0x6474e550
#define PT_GNU_STACK 0x6474e551
#define PT_GNU_RELRO 0x6474e552
#define PT_GNU_PROPERTY 0x6474e553
#define PF_X 1

static uchar elf[16384];
static int elf_size;

static struct elf_header *header(void) { return (struct elf_header *)elf; }

// The n-th program header (from 0) of the given type, or 0.
static struct program_header *find(uint type, int n) {
  struct program_header *ph = (struct program_header *)(elf + header()->phoff);
  for (int i = 0; i < header()->phnum; i++)
    if (ph[i].type == type && n-- == 0)
      return &ph[i];
  return 0;
}

// The note header, turned into an empty header of `type`; 0 if there is
// no note.
static struct program_header *note_becomes(uint type) {
  struct program_header *note = find(PT_NOTE, 0);
  if (note != 0) {
    note->type = type;
    note->vaddr = note->offset = note->filesz = note->memsz = 0;
  }
  return note;
}

// Each variant changes the copy in elf[] and returns 1, or returns 0 if
// argsgnu lacks what it would change.
static int unchanged(void) { return 1; }
static int empty_load_at_0(void) { return note_becomes(PT_LOAD) != 0; }
static int empty_load_in_page_0(void) {
  struct program_header *load = note_becomes(PT_LOAD);
  if (load)
    load->vaddr = 0x800;
  return load != 0;
}
static int null_header(void) { return note_becomes(PT_NULL) != 0; }
static int phdr_header(void) { return note_becomes(PT_PHDR) != 0; }
static int empty_tls(void) { return note_becomes(PT_TLS) != 0; }
static int gnu_property(void) { return note_becomes(PT_GNU_PROPERTY) != 0; }
static int gnu_eh_frame(void) { return note_becomes(PT_GNU_EH_FRAME) != 0; }
static int gnu_relro(void) { return note_becomes(PT_GNU_RELRO) != 0; }

static int tls_with_data(void) {
  struct program_header *tls = note_becomes(PT_TLS);
  if (tls)
    tls->memsz = 16;
  return tls != 0;
}
static int interpreter(void) { return note_becomes(PT_INTERP) != 0; }
static int dynamic(void) { return note_becomes(PT_DYNAMIC) != 0; }
static int unknown_header(void) { return note_becomes(0x12345678) != 0; }
static int executable_stack(void) {
  struct program_header *stack = find(PT_GNU_STACK, 0);
  if (stack)
    stack->flags |= PF_X;
  return stack != 0;
}
static int load_in_page_0(void) {
  find(PT_LOAD, 0)->vaddr = 0;
  return 1;
}
static int empty_load_with_bytes(void) {
  struct program_header *load = note_becomes(PT_LOAD);
  if (load)
    load->filesz = 16;
  return load != 0;
}
static int file_bigger_than_memory(void) {
  struct program_header *text = find(PT_LOAD, 1);
  text->filesz = text->memsz + 1;
  return 1;
}
static int bytes_past_end_of_file(void) {
  find(PT_LOAD, 1)->offset = elf_size;
  return 1;
}
static int address_wraps_around(void) {
  struct program_header *text = find(PT_LOAD, 1);
  text->vaddr = (uint64)-4096;
  text->memsz = 8192;
  return 1;
}
static int into_shared_memory(void) {
  struct program_header *text = find(PT_LOAD, 1);
  text->vaddr = SHMBASE - 4096;
  text->memsz = 8192;
  return 1;
}
// The text moved to end at the top of the user half, the entry point with
// it: a syscall in its last two bytes would return to USER_TOP, the first
// non-canonical address (the sysret hazard of the kernel's trapasm.S).
static int text_at_top_of_user_half(void) {
  struct program_header *text = find(PT_LOAD, 1);
  uint64 in_page = text->vaddr % PGSIZE;
  uint64 pages = (in_page + text->memsz + PGSIZE - 1) / PGSIZE;
  uint64 moved = USER_TOP - pages * PGSIZE + in_page;
  header()->entry += moved - text->vaddr;
  text->vaddr = moved;
  return 1;
}
static int overlapping_segments(void) {
  find(PT_LOAD, 2)->vaddr = find(PT_LOAD, 1)->vaddr;
  return 1;
}
static int entry_not_executable(void) {
  header()->entry = find(PT_LOAD, 0)->vaddr;
  return 1;
}
static int bad_magic(void) {
  elf[1] = 'X';
  return 1;
}
static int shared_object(void) {
  header()->type = 3;  // ET_DYN
  return 1;
}
static int other_machine(void) {
  header()->machine = 3;  // EM_386
  return 1;
}
static int no_program_headers(void) {
  header()->phnum = 0;
  return 1;
}
static int too_many_program_headers(void) {
  header()->phnum = 17;
  return 1;
}
static int headers_past_end_of_file(void) {
  header()->phoff = elf_size;
  return 1;
}
static int truncated(void) {
  elf_size = find(PT_LOAD, 1)->offset + 16;
  return 1;
}

static const struct variant {
  const char *name;
  int (*apply)(void);
  int runs;  // exec must run it (1) or refuse it (0)
} variants[] = {
    {"gcc's layout as it is", unchanged, 1},
    {"an empty PT_LOAD at address 0", empty_load_at_0, 1},
    {"an empty PT_LOAD inside page 0", empty_load_in_page_0, 1},
    {"a PT_NULL header", null_header, 1},
    {"a PT_PHDR header", phdr_header, 1},
    {"an empty PT_TLS", empty_tls, 1},
    {"a PT_GNU_PROPERTY header", gnu_property, 1},
    {"a PT_GNU_EH_FRAME header", gnu_eh_frame, 1},
    {"a PT_GNU_RELRO header", gnu_relro, 1},
    {"a PT_TLS with data", tls_with_data, 0},
    {"a PT_INTERP header", interpreter, 0},
    {"a PT_DYNAMIC header", dynamic, 0},
    {"an unknown header type", unknown_header, 0},
    {"an executable PT_GNU_STACK", executable_stack, 0},
    {"a PT_LOAD in page 0", load_in_page_0, 0},
    {"an empty PT_LOAD with file bytes", empty_load_with_bytes, 0},
    {"p_filesz > p_memsz", file_bigger_than_memory, 0},
    {"segment bytes past the end of the file", bytes_past_end_of_file, 0},
    {"p_vaddr + p_memsz wrapping around", address_wraps_around, 0},
    {"a segment reaching into SHMBASE", into_shared_memory, 0},
    {"the text at the top of the user half", text_at_top_of_user_half, 0},
    {"two segments on one page", overlapping_segments, 0},
    {"an entry point outside executable segments", entry_not_executable, 0},
    {"a bad magic number", bad_magic, 0},
    {"ET_DYN instead of ET_EXEC", shared_object, 0},
    {"a 32-bit machine", other_machine, 0},
    {"no program headers", no_program_headers, 0},
    {"17 program headers", too_many_program_headers, 0},
    {"program headers past the end of the file", headers_past_end_of_file, 0},
    {"a file cut short", truncated, 0},
};

static int load_argsgnu(void) {
  int fd = open("/argsgnu", O_RDONLY);
  if (fd < 0)
    return -1;
  elf_size = read(fd, elf, sizeof(elf));
  int more = read(fd, elf, 1);
  close(fd);
  return elf_size > 0 && more == 0 ? 0 : -1;
}

static const char *exec_elf_variants(void) {
  int failures = 0;
  for (uint i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
    const struct variant *v = &variants[i];
    CHECK(load_argsgnu() == 0, "cannot read /argsgnu (missing, or over 16 KiB)");
    if (!v->apply()) {
      printf("  %s: argsgnu has no header to change\n", v->name);
      failures++;
      continue;
    }
    int fd = open("ctest.elf", O_CREATE | O_TRUNC | O_RDWR);
    CHECK(fd >= 0, "cannot create ctest.elf");
    int written = write(fd, elf, elf_size);
    close(fd);
    CHECK(written == elf_size, "cannot write ctest.elf");
    char out[64];
    char *argv[] = {"ctest.elf", 0};
    int status = run(argv, out, sizeof(out));
    int ran = status == 1 && strcmp(out, "argc 1\nargv[0] ctest.elf\n") == 0;
    int refused = status == EXEC_FAILED && out[0] == 0;
    if (v->runs ? !ran : !refused) {
      printf("  %s: %s, but the program exited with status %d after printing \"%s\"\n",
             v->name, v->runs ? "should run" : "exec should return -1", status, out);
      failures++;
    }
  }
  unlink("ctest.elf");
  CHECK(failures == 0, "exec ran or refused an ELF file against the rules (see above)");
  return 0;
}

// ---------------------------------------------------------------------------
// printf and fprintf.

static const char *printf_decimal(void) {
  PRINTS(1, "0 42 -42", printf("%d %d %d", 0, 42, -42));
  PRINTS(1, "2147483647 -2147483648", printf("%d %d", 2147483647, -2147483647 - 1));
  PRINTS(1, "0 4294967295", printf("%u %u", 0, -1));
  return 0;
}

static const char *printf_hex_and_pointer(void) {
  PRINTS(1, "0 deadbeef ffffffff", printf("%x %x %x", 0, 0xdeadbeef, -1));
  PRINTS(1, "0x0000000000001000 0x0000000000000000", printf("%p %p", (void *)0x1000, (void *)0));
  return 0;
}

static const char *printf_long(void) {
  PRINTS(1, "-9223372036854775808 9223372036854775807",
         printf("%ld %ld", (long)(-9223372036854775807L - 1), 9223372036854775807L));
  PRINTS(1, "18446744073709551615 ffffffffffffffff 123456789abc",
         printf("%lu %lx %lx", (uint64)-1, (uint64)-1, 0x123456789abcUL));
  PRINTS(1, "-1 18446744073709551615 ffffffffffffffff",
         printf("%lld %llu %llx", -1LL, -1ULL, -1ULL));
  return 0;
}

static const char *printf_string_char_percent(void) {
  PRINTS(1, "hello, world", printf("%s, %s", "hello", "world"));
  PRINTS(1, "[] [(null)]", printf("[%s] [%s]", "", (char *)0));
  PRINTS(1, "x%y", printf("%c%%%c", 'x', 'y'));
  PRINTS(1, "no conversions\n", printf("no conversions\n"));
  return 0;
}

// Conversions printf does not know come out as written.
static const char *printf_unknown(void) {
  PRINTS(1, "%q %lq 5 %", printf("%q %lq %d %", 5));
  PRINTS(1, "end %l", printf("end %l"));
  return 0;
}

// More than printf's 128-byte buffer, in one call.
static const char *printf_long_output(void) {
  char text[301];
  for (int i = 0; i < 300; i++)
    text[i] = 'a' + i % 26;
  text[300] = 0;
  char expected[320];
  strcpy(expected, "<");
  strcpy(expected + 1, text);
  strcpy(expected + 301, "> 7");
  PRINTS(1, expected, printf("<%s> %d", text, 7));
  return 0;
}

// xv6-public's printf(fd, fmt, ...), which a program that includes
// "user.h" calls as printf. This file includes "user/user.h", where
// printf is xv6-riscv's, so it reaches the other one by its linker name.
void xv6_public_printf(int fd, const char *fmt, ...) __asm__("printf");

static const char *fprintf_and_xv6_printf(void) {
  PRINTS(2, "to stderr 2", fprintf(2, "to stderr %d", 2));
  PRINTS(1, "to stdout 1", fprintf(1, "to stdout %d", 1));
  PRINTS(1, "xv6 style 1", xv6_public_printf(1, "xv6 style %d", 1));
  PRINTS(2, "xv6 style 2", xv6_public_printf(2, "xv6 style %s", "2"));
  return 0;
}

// A program's own printf and strlen replace the library's, even where
// the program also uses functions that share an object file with them
// (see ownlibc.c): it links, and its own are the ones called.
static const char *own_definitions_win(void) {
  char out[256];
  char *argv[] = {"ownlibc", 0};
  int status = run(argv, out, sizeof(out));
  const char *expected = "ownlibc's printf: %d is not formatted\n"
                         "the library's fprintf: 42 copied, strlen called 1 time(s)\n";
  if (strcmp(out, expected) != 0) {
    show("ownlibc", out, expected);
    return "ownlibc's own definitions were not the ones called (see above)";
  }
  CHECK(status == 0, "ownlibc did not exit with status 0");
  return 0;
}

// ---------------------------------------------------------------------------
// Strings and memory.

static const char *string_functions(void) {
  char buf[32];
  CHECK(strcpy(buf, "hello") == buf && strcmp(buf, "hello") == 0, "strcpy");
  CHECK(strlen("") == 0 && strlen("hello") == 5, "strlen");
  CHECK(strcmp("a", "a") == 0 && strcmp("a", "b") < 0 && strcmp("b", "a") > 0 &&
            strcmp("ab", "a") > 0 && strcmp("a", "ab") < 0 && strcmp("\xff", "a") > 0,
        "strcmp does not order strings as unsigned bytes");
  const char *s = "hello";
  CHECK(strchr(s, 'l') == s + 2 && strchr(s, 'z') == 0 && strchr(s, 0) == 0,
        "strchr: found the wrong place, or the NUL (xv6's never does)");
  CHECK(atoi("0") == 0 && atoi("1234") == 1234 && atoi("12ab") == 12 && atoi("") == 0 &&
            atoi("-5") == 0 && atoi("2147483647") == 2147483647,
        "atoi did not read the leading digits");
  return 0;
}

static const char *memory_functions(void) {
  char buf[16];
  CHECK(memset(buf, 'z', sizeof(buf)) == buf, "memset did not return its destination");
  for (uint i = 0; i < sizeof(buf); i++)
    CHECK(buf[i] == 'z', "memset did not fill every byte");
  CHECK(memcmp("abc", "abc", 3) == 0 && memcmp("abc", "abd", 3) < 0 &&
            memcmp("abd", "abc", 3) > 0 && memcmp("a\xff", "a\x01", 2) > 0 &&
            memcmp("x", "y", 0) == 0,
        "memcmp");
  CHECK(memcpy(buf, "0123456789", 11) == buf && strcmp(buf, "0123456789") == 0, "memcpy");
  // Overlapping both ways.
  memmove(buf + 2, buf, 8);
  CHECK(memcmp(buf, "0101234567", 10) == 0, "memmove to a higher, overlapping address");
  strcpy(buf, "0123456789");
  CHECK(memmove(buf, buf + 2, 8) == buf && memcmp(buf, "2345678989", 10) == 0,
        "memmove to a lower, overlapping address");
  return 0;
}

// gets reads standard input line by line; here the input is a pipe.
static const char *gets_lines(void) {
  int fds[2];
  CHECK(pipe(fds) == 0, "pipe failed");
  write(fds[1], "first line\nxyz", 14);
  close(fds[1]);
  int saved = dup(0);
  close(0);
  dup(fds[0]);
  close(fds[0]);
  char a[32], b[32], c[32], d[32];
  gets(a, sizeof(a));
  gets(b, 3);  // room for two bytes and the NUL
  gets(c, sizeof(c));
  char *end = gets(d, sizeof(d));
  close(0);
  dup(saved);
  close(saved);
  CHECK(strcmp(a, "first line\n") == 0, "gets did not return the first line with its newline");
  CHECK(strcmp(b, "xy") == 0, "gets(buf, 3) did not stop after two bytes");
  CHECK(strcmp(c, "z") == 0, "gets did not return the last bytes at end of input");
  CHECK(end == d && d[0] == 0, "gets at end of input did not return an empty string");
  return 0;
}

// ---------------------------------------------------------------------------
// malloc and free.

static uint random_state;

static uint random_below(uint n) {
  random_state = random_state * 1103515245 + 12345;
  return (random_state >> 16) % n;
}

// One round: 64 blocks of the same pseudo-random sizes each round, filled,
// checked, then freed in a scrambled order. Returns 0 on success.
static const char *churn_round(void) {
  enum { BLOCKS = 64 };
  uchar *blocks[BLOCKS];
  uint sizes[BLOCKS];
  random_state = 42;
  for (int i = 0; i < BLOCKS; i++) {
    sizes[i] = 1 + random_below(3000);
    blocks[i] = malloc(sizes[i]);
    if (blocks[i] == 0)
      return "malloc returned 0";
    if ((uint64)blocks[i] % 16 != 0)
      return "malloc returned a block that is not 16-byte aligned";
    memset(blocks[i], i, sizes[i]);
  }
  for (int i = 0; i < BLOCKS; i++)
    for (uint j = 0; j < sizes[i]; j++)
      if (blocks[i][j] != (uchar)i)
        return "a block's contents changed: blocks overlap";
  for (int step = 0; step < BLOCKS; step++) {
    int i = (step * 37) % BLOCKS;  // 37 and 64 share no factor: each i once
    free(blocks[i]);
  }
  return 0;
}

static const char *malloc_churn_no_leak(void) {
  char *start = sbrk(0);
  const char *why = churn_round();
  if (why)
    return why;
  char *end = sbrk(0);
  for (int round = 0; round < 50; round++) {
    why = churn_round();
    if (why)
      return why;
    CHECK(sbrk(0) == end, "the heap grew although every block was freed: a leak");
  }
  // Every freed block merged back into one: a block of the whole heap
  // (less its header) fits without growing it.
  void *whole = malloc(end - start - 16);
  CHECK(whole != 0, "malloc of the whole heap failed");
  free(whole);
  CHECK(sbrk(0) == end, "freed neighbours were not merged into one block");
  return 0;
}

static const char *malloc_edges(void) {
  free(0);
  void *a = malloc(0), *b = malloc(0);
  CHECK(a != 0 && b != 0 && a != b, "malloc(0) did not return two distinct pointers");
  free(a);
  free(b);
  char *end = sbrk(0);
  CHECK(malloc(0xffffffff) == 0, "malloc(4 GiB - 1) did not return 0");
  CHECK(malloc(0x40000000) == 0, "malloc(1 GiB) (past SHMBASE) did not return 0");
  CHECK(sbrk(0) == end, "a failed malloc moved the end of the heap");
  // The heap grows aligned even after the program moved the break by an
  // odd amount itself (see umalloc.c); the free blocks of the heap so far
  // hold less than a megabyte.
  sbrk(3);
  char *p = malloc(1 << 20);
  CHECK(p != 0 && (uint64)p % 16 == 0, "malloc after sbrk(3) gave an unaligned block");
  free(p);
  return 0;
}

// ---------------------------------------------------------------------------
// Shared memory: the four calls, from C and between C and Rust.

static const char *shm_errors(void) {
  CHECK(shm_open("") == -1, "shm_open(\"\") did not return -1");
  char name[SHM_NAME_MAX + 2];
  memset(name, 'n', SHM_NAME_MAX + 1);
  name[SHM_NAME_MAX + 1] = 0;
  CHECK(shm_open(name) == -1, "shm_open of a 64-byte name did not return -1");
  CHECK(shm_open(bad_pointer) == -1, "shm_open(bad pointer) did not return -1");
  name[SHM_NAME_MAX] = 0;
  int od = shm_open(name);
  CHECK(od == 0, "shm_open of a 63-byte name did not return descriptor 0");
  void *va = 0;
  CHECK(shm_map(od, &va, O_RDWR) == -1, "shm_map of an unsized object did not return -1");
  CHECK(shm_trunc(od, 0) == -1, "shm_trunc(0) did not return -1");
  CHECK(shm_trunc(od, SHM_MAXSIZE + 1) == -1, "shm_trunc(SHM_MAXSIZE + 1) did not return -1");
  CHECK(shm_trunc(-1, 4096) == -1, "shm_trunc(-1) did not return -1");
  CHECK(shm_trunc(od, 4097) == 8192, "shm_trunc(4097) did not round up to 8192");
  CHECK(shm_trunc(od, 4096) == -1, "a second shm_trunc did not return -1");
  CHECK(shm_map(od, &va, O_WRONLY) == -1, "shm_map(O_WRONLY) did not return -1");
  CHECK(shm_map(od, bad_pointer, O_RDWR) == -1, "shm_map(bad va) did not return -1");
  CHECK(shm_map(NSHMPROC, &va, O_RDWR) == -1, "shm_map(NSHMPROC) did not return -1");
  CHECK(shm_map(od, &va, O_RDWR) == 0, "shm_map failed");
  uint64 offset = (uint64)va - SHMBASE;
  CHECK((uint64)va >= SHMBASE && offset % SHM_MAXSIZE == 0 && offset / SHM_MAXSIZE < NSHM,
        "the object is not at SHMBASE + slot * SHM_MAXSIZE");
  CHECK(((char *)va)[8191] == 0, "a new object is not zeroed");
  CHECK(shm_map(od, &va, O_RDONLY) == -1, "mapping an object twice did not return -1");
  CHECK(shm_close(od) == 0, "shm_close failed");
  CHECK(shm_close(od) == -1, "shm_close twice did not return -1");
  CHECK(shm_close(-1) == -1 && shm_close(NSHMPROC) == -1,
        "shm_close of an out-of-range descriptor did not return -1");
  return 0;
}

// NSHMPROC descriptors, the lowest free one first, and then -1.
static const char *shm_descriptor_limit(void) {
  int ods[NSHMPROC + 1];
  for (int i = 0; i <= NSHMPROC; i++)
    ods[i] = shm_open("ctest-many");
  int ok = 1;
  for (int i = 0; i < NSHMPROC; i++)
    ok = ok && ods[i] == i;
  ok = ok && ods[NSHMPROC] == -1;
  for (int i = 0; i < NSHMPROC; i++)
    shm_close(i);
  CHECK(ok, "shm_open did not give descriptors 0..NSHMPROC-1 and then -1");
  return 0;
}

// A child after fork shares the mapping; a read-only one may not write.
static const char *shm_fork_shares(void) {
  int od = shm_open("ctest-fork");
  char *va;
  CHECK(od >= 0 && shm_trunc(od, 4096) == 4096 && shm_map(od, (void **)&va, O_RDWR) == 0,
        "cannot make an object");
  IN_CHILD(0, strcpy(va, "child was here"));
  CHECK(strcmp(va, "child was here") == 0, "the parent does not see the child's write");
  shm_close(od);
  od = shm_open("ctest-ro");
  CHECK(od >= 0 && shm_trunc(od, 4096) == 4096 && shm_map(od, (void **)&va, O_RDONLY) == 0,
        "cannot map an object read-only");
  IN_CHILD(-1, va[0] = 1);
  CHECK(va[0] == 0, "a write to a read-only mapping changed the object");
  shm_close(od);
  return 0;
}

// shm_wait and shm_wake from C: a wrong value returns at once, waking
// nobody wakes nobody, a forked child asleep on a word is woken.
static const char *shm_wait_wake(void) {
  int od = shm_open("ctest-wait");
  int *word;
  CHECK(od >= 0 && shm_trunc(od, 4096) == 4096 && shm_map(od, (void **)&word, O_RDWR) == 0,
        "cannot make an object");
  word[0] = 5;
  CHECK(shm_wait(&word[0], 4) == -1, "shm_wait on a word holding 5, expecting 4, did not return -1");
  CHECK(shm_wake(&word[0], 1) == 0, "shm_wake with nobody waiting did not return 0");
  CHECK(shm_wake(&word[0], 0) == -1, "shm_wake(n = 0) did not return -1");
  CHECK(shm_wait((int *)((char *)word + 1), 5) == -1, "shm_wait on a misaligned word did not return -1");
  word[0] = 0;
  int pid = fork();
  CHECK(pid >= 0, "fork failed");
  if (pid == 0)
    exit_status(shm_wait(&word[0], 0) == 0 ? 0 : 1);
  int woken = 0;
  for (int tries = 0; tries < 200 && woken == 0; tries++) {
    woken = shm_wake(&word[0], 1);
    if (woken == 0)
      sleep(1);
  }
  int status;
  CHECK(wait_status(&status) == pid, "wait did not return the waiter");
  CHECK(woken == 1 && status == 0, "the waiter was not woken by shm_wake");
  shm_close(od);
  return 0;
}

// The text format of the Rust tools shmput and shmget (user/src/shm.rs).
struct text {
  uint length;
  char bytes[];
};

// C writes, Rust (shmget) reads the same object.
static const char *shm_c_to_rust(void) {
  int od = shm_open("ctest-c2r");
  struct text *text;
  CHECK(od >= 0 && shm_trunc(od, 4096) == 4096 && shm_map(od, (void **)&text, O_RDWR) == 0,
        "cannot make an object");
  memmove(text->bytes, "written by C", 12);
  __atomic_store_n(&text->length, 12, __ATOMIC_RELEASE);
  char out[64];
  char *argv[] = {"shmget", "ctest-c2r", 0};
  int status = run(argv, out, sizeof(out));
  shm_close(od);
  CHECK(status == 0 && strcmp(out, "written by C\n") == 0,
        "shmget did not print what C wrote into the object");
  return 0;
}

// Rust (shmput) writes, C reads the same object.
static const char *shm_rust_to_c(void) {
  int od = shm_open("ctest-r2c");
  struct text *text;
  CHECK(od >= 0 && shm_trunc(od, 4096) == 4096 && shm_map(od, (void **)&text, O_RDONLY) == 0,
        "cannot make an object");
  char out[64];
  char *argv[] = {"shmput", "ctest-r2c", "written", "by", "Rust", 0};
  int status = run(argv, out, sizeof(out));
  uint length = __atomic_load_n(&text->length, __ATOMIC_ACQUIRE);
  int same = length == 15 && memcmp(text->bytes, "written by Rust", 15) == 0;
  shm_close(od);
  CHECK(status == 0, "shmput failed");
  CHECK(same, "C does not see what shmput wrote into the object");
  return 0;
}

// ---------------------------------------------------------------------------
// The table, and main.

static const struct check {
  const char *name;
  const char *(*run)(void);
} checks[] = {
    {"fork_exit_wait", fork_exit_wait},
    {"xv6_exit_and_wait", xv6_exit_and_wait},
    {"wait_errors", wait_errors},
    {"kill_child", kill_child},
    {"fault_kills", fault_kills},
    {"pipe_read_write", pipe_read_write},
    {"pipe_broken", pipe_broken},
    {"descriptor_errors", descriptor_errors},
    {"descriptor_limit", descriptor_limit},
    {"open_create_truncate", open_create_truncate},
    {"fstat_and_stat", fstat_and_stat},
    {"link_unlink", link_unlink},
    {"mkdir_chdir", mkdir_chdir},
    {"mknod_device", mknod_device},
    {"read_directory", read_directory},
    {"sbrk_grow_shrink", sbrk_grow_shrink},
    {"sleep_and_uptime", sleep_and_uptime},
    {"tsc_hz_stable", tsc_hz_stable},
    {"exec_c_program", exec_c_program},
    {"exec_twenty_arguments", exec_twenty_arguments},
    {"exec_maxarg_arguments", exec_maxarg_arguments},
    {"exec_errors", exec_errors},
    {"exec_rust_program", exec_rust_program},
    {"exec_double_program", exec_double_program},
    {"exec_elf_variants", exec_elf_variants},
    {"printf_decimal", printf_decimal},
    {"printf_hex_and_pointer", printf_hex_and_pointer},
    {"printf_long", printf_long},
    {"printf_string_char_percent", printf_string_char_percent},
    {"printf_unknown", printf_unknown},
    {"printf_long_output", printf_long_output},
    {"fprintf_and_xv6_printf", fprintf_and_xv6_printf},
    {"own_definitions_win", own_definitions_win},
    {"string_functions", string_functions},
    {"memory_functions", memory_functions},
    {"gets_lines", gets_lines},
    {"malloc_churn_no_leak", malloc_churn_no_leak},
    {"malloc_edges", malloc_edges},
    {"shm_errors", shm_errors},
    {"shm_descriptor_limit", shm_descriptor_limit},
    {"shm_fork_shares", shm_fork_shares},
    {"shm_wait_wake", shm_wait_wake},
    {"shm_c_to_rust", shm_c_to_rust},
    {"shm_rust_to_c", shm_rust_to_c},
};

int main(void) {
  int passed = 0, failed = 0;
  for (uint i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
    const char *why = checks[i].run();
    if (why == 0) {
      printf("PASS %s\n", checks[i].name);
      passed++;
    } else {
      printf("FAIL %s: %s\n", checks[i].name, why);
      failed++;
    }
  }
  printf("ctest: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
