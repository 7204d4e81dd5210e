// ownlibc: a program that defines its own printf and strlen, as a C
// program may: its definitions, not the library's, are the ones called.
//
// It is written the way xv6-public's forktest is: it includes "user.h",
// so its printf is xv6-public's printf(fd, fmt, ...) (see user.h), and it
// defines one that writes the format as it is, unformatted. It also calls
// fprintf and strcpy, which live in the library's printf.o and ulib.o
// next to the library's printf and strlen: the linker brings those files
// in, and links only because the library's definitions are weak (c.mk).
//
// ctest runs it and checks what it prints:
//
//   ownlibc's printf: %d is not formatted
//   the library's fprintf: 42 copied, strlen called 1 time(s)

#include "types.h"
#include "user.h"

static int strlen_calls;

uint strlen(const char *s) {
  strlen_calls++;
  uint n = 0;
  while (s[n])
    n++;
  return n;
}

void printf(int fd, const char *fmt, ...) {
  static const char who[] = "ownlibc's printf: ";
  write(fd, who, sizeof(who) - 1);
  write(fd, fmt, strlen(fmt));
}

int main(void) {
  printf(1, "%d is not formatted\n", 5);
  char copy[8];
  strcpy(copy, "copied");
  fprintf(1, "the library's fprintf: %d %s, strlen called %d time(s)\n", 42, copy, strlen_calls);
  return 0;
}
