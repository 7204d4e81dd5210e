// share: puts a greeting in a shared-memory object and reads it back from
// another program, the example of the shared-memory lab's README.
//
//   $ share
//   share: pid 4 wrote "Hello from PID 4!" to shared_buf at 0x0000000040000000
//   share read: pid 5 read "Hello from PID 4!" from shared_buf at 0x0000000040000000
//
// `share` opens the object shared_buf, sizes it to a page, maps it and
// writes its greeting; then it runs `share read` in a child process and
// waits for it. `share read` is a fresh program (exec closes every
// shared-memory descriptor), so it finds the object only by its name: it
// opens shared_buf, maps it read-only and prints what it holds.
//
// An object lives only while a process holds it, which is why `share`
// keeps its descriptor until the reader is done, and why `share read`
// typed on its own finds nothing unless something keeps the object:
//
//   $ shmhold shared_buf 4096 &
//   $ share            (now `share read`, shmget shared_buf, ... all see it)
//
// The text is stored in the format of the Rust tools shmput and shmget
// (a 32-bit length, then the bytes), so `shmget shared_buf` reads it too.

#include "types.h"
#include "fcntl.h"
#include "user/user.h"

#define NAME "shared_buf"

// The first page of the object, as the tools lay it out.
struct text {
  uint length;   // bytes of text; written last (see write_greeting)
  char bytes[];  // the text, not NUL-terminated
};

#define TEXT_CAPACITY (4096 - sizeof(struct text))

static int reader(void) {
  int od = shm_open(NAME);
  struct text *text;
  if (od < 0 || shm_map(od, (void **)&text, O_RDONLY) < 0) {
    fprintf(2, "share read: nothing in %s (run share, or keep the object "
               "with shmhold %s 4096 &)\n", NAME, NAME);
    return 1;
  }
  // Acquire: the bytes the writer stored before the length are visible.
  uint length = __atomic_load_n(&text->length, __ATOMIC_ACQUIRE);
  if (length > TEXT_CAPACITY) {
    fprintf(2, "share read: %s does not hold text\n", NAME);
    return 1;
  }
  char greeting[TEXT_CAPACITY + 1];
  memmove(greeting, text->bytes, length);
  greeting[length] = 0;
  printf("share read: pid %d read \"%s\" from %s at %p\n", getpid(), greeting,
         NAME, text);
  shm_close(od);
  return 0;
}

// Formats "Hello from PID n!" into buf, returning its length: printf
// writes only to files, so the number is spelled out by hand.
static int greeting(char *buf, int pid) {
  char digits[12];
  int n = 0;
  do {
    digits[n++] = '0' + pid % 10;
    pid /= 10;
  } while (pid > 0);
  strcpy(buf, "Hello from PID ");
  int length = strlen(buf);
  while (n > 0)
    buf[length++] = digits[--n];
  buf[length++] = '!';
  buf[length] = 0;
  return length;
}

static int writer(void) {
  int od = shm_open(NAME);
  if (od < 0) {
    fprintf(2, "share: cannot open %s\n", NAME);
    return 1;
  }
  // Sizing fails if the object has a size already (shmhold made it, say):
  // then it has at least a page, which is all we use.
  shm_trunc(od, 4096);
  struct text *text;
  if (shm_map(od, (void **)&text, O_RDWR) < 0) {
    fprintf(2, "share: cannot map %s\n", NAME);
    return 1;
  }
  char buf[32];
  int length = greeting(buf, getpid());
  memmove(text->bytes, buf, length);
  // Release: a reader that sees the new length sees the new text too.
  __atomic_store_n(&text->length, length, __ATOMIC_RELEASE);
  printf("share: pid %d wrote \"%s\" to %s at %p\n", getpid(), buf, NAME, text);

  int pid = fork();
  if (pid < 0) {
    fprintf(2, "share: fork failed\n");
    return 1;
  }
  if (pid == 0) {
    char *argv[] = {"share", "read", 0};
    exec("/share", argv);
    fprintf(2, "share: exec share failed\n");
    exit();
  }
  int status;
  wait_status(&status);
  shm_close(od);
  return status;
}

int main(int argc, char *argv[]) {
  if (argc == 2 && strcmp(argv[1], "read") == 0)
    return reader();
  if (argc != 1) {
    fprintf(2, "usage: share [read]\n");
    return 1;
  }
  return writer();
}
