// shmdemo: the shared-memory demo, in C (shmtest NAME SIZE NPROC in Rust).
//
//   $ shmdemo foo 8192 4
//   shmdemo: object "foo" at 0x0000000040000000, 8192 bytes, 4 workers
//   worker 0: filled bytes 0..2048 with 'A'
//   ...
//   shmdemo: saw 'A' x2048, 'B' x2048, 'C' x2048, 'D' x2048
//   shmdemo: verified 8192 bytes: AAAA...BBBB...CCCC...DDDD (4 stripes ok)
//
// The parent creates the object NAME, sizes it to SIZE bytes and maps it
// before forking NPROC workers, so that every worker inherits the same
// mapping: the same pages at the same address. Worker i fills stripe i
// (SIZE/NPROC bytes; the last one also takes the remainder) with a letter
// of its own and exits. The parent waits for all of them, so their writes
// are done before it reads, then checks every byte and prints what it
// saw, as runs of equal bytes. It exits with 0 only if every byte is the
// letter its stripe's worker wrote.

#include "types.h"
#include "fcntl.h"
#include "user/user.h"

#define MAX_WORKERS 32  // the process table has 64 slots

static int size, workers;

static int stripe_start(int worker) { return worker * (size / workers); }

static int stripe_end(int worker) {
  return worker == workers - 1 ? size : stripe_start(worker + 1);
}

// 'A'..'Z', then 'a'..'z'.
static char letter(int worker) {
  return worker < 26 ? 'A' + worker : 'a' + (worker - 26);
}

// A decimal number made only of digits (atoi would take "12x" as 12).
static int number(const char *s) {
  if (*s == 0)
    return -1;
  for (const char *p = s; *p; p++)
    if (*p < '0' || *p > '9' || p - s > 6)
      return -1;
  return atoi(s);
}

// Prints the object's bytes as runs: 'A' x2048, 0x00 x10, ...
static void print_runs(const uchar *bytes) {
  printf("shmdemo: saw ");
  for (int i = 0; i < size;) {
    int run = 1;
    while (i + run < size && bytes[i + run] == bytes[i])
      run++;
    if (i > 0)
      printf(", ");
    if (bytes[i] > ' ' && bytes[i] < 0x7f)
      printf("'%c' x%d", bytes[i], run);
    else
      printf("0x%c%c x%d", "0123456789abcdef"[bytes[i] >> 4],
             "0123456789abcdef"[bytes[i] & 15], run);
    i += run;
  }
  printf("\n");
}

int main(int argc, char *argv[]) {
  if (argc != 4) {
    fprintf(2, "usage: shmdemo NAME SIZE NPROC\n");
    return 1;
  }
  char *name = argv[1];
  size = number(argv[2]);
  workers = number(argv[3]);
  if (size < 1 || size > SHM_MAXSIZE || workers < 1 || workers > MAX_WORKERS) {
    fprintf(2, "shmdemo: SIZE must be 1..%d, NPROC 1..%d\n", SHM_MAXSIZE,
            MAX_WORKERS);
    return 1;
  }
  int od = shm_open(name);
  if (od < 0) {
    fprintf(2, "shmdemo: cannot open \"%s\"\n", name);
    return 1;
  }
  size = shm_trunc(od, size);
  if (size < 0) {
    fprintf(2, "shmdemo: cannot size \"%s\" (is it sized already?)\n", name);
    return 1;
  }
  uchar *bytes;
  if (shm_map(od, (void **)&bytes, O_RDWR) < 0) {
    fprintf(2, "shmdemo: cannot map \"%s\"\n", name);
    return 1;
  }
  printf("shmdemo: object \"%s\" at %p, %d bytes, %d workers\n", name, bytes,
         size, workers);

  int pids[MAX_WORKERS];
  for (int w = 0; w < workers; w++) {
    pids[w] = fork();
    if (pids[w] == 0) {
      memset(bytes + stripe_start(w), letter(w), stripe_end(w) - stripe_start(w));
      exit();
    }
    if (pids[w] < 0) {
      fprintf(2, "shmdemo: fork failed\n");
      while (wait() >= 0)
        ;
      return 1;
    }
  }
  // Collect every status first, then report in worker order, so that the
  // lines come out in order whichever worker finished first.
  int statuses[MAX_WORKERS];
  int ok = 1;
  for (int w = 0; w < workers; w++)
    statuses[w] = -2;  // no status yet
  for (int i = 0; i < workers; i++) {
    int status;
    int pid = wait_status(&status);
    for (int w = 0; w < workers; w++)
      if (pids[w] == pid)
        statuses[w] = status;
  }
  for (int w = 0; w < workers; w++) {
    if (statuses[w] == 0) {
      printf("worker %d: filled bytes %d..%d with '%c'\n", w, stripe_start(w),
             stripe_end(w), letter(w));
    } else {
      printf("worker %d: exited with status %d\n", w, statuses[w]);
      ok = 0;
    }
  }

  print_runs(bytes);
  for (int w = 0; w < workers; w++) {
    for (int i = stripe_start(w); i < stripe_end(w); i++) {
      if (bytes[i] != letter(w)) {
        printf("shmdemo: byte %d is %d, expected '%c' from worker %d\n", i,
               bytes[i], letter(w), w);
        return 1;
      }
    }
  }
  if (!ok)
    return 1;
  printf("shmdemo: verified %d bytes: ", size);
  for (int w = 0; w < workers; w++)
    printf(w == 0 ? "%c%c%c%c" : "...%c%c%c%c", letter(w), letter(w), letter(w),
           letter(w));
  printf(" (%d stripes ok)\n", workers);
  shm_close(od);
  return 0;
}
