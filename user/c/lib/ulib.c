// ulib.c: the string, memory and small I/O functions of xv6's user.h.
//
// Each follows xv6's behaviour where it differs from standard C (strchr
// never finds the NUL; atoi reads only digits), so xv6 programs behave as
// they do on xv6. They are written for clarity, a byte at a time; no
// program here moves enough data for speed to matter.
//
// gcc may call memset, memcpy, memmove and memcmp on its own, even in a
// freestanding program (to zero or copy a struct, say), so they must
// exist. For the same reason this file is compiled with
// -fno-tree-loop-distribute-patterns (see c.mk): otherwise gcc would
// recognise the loop in memset as "a memset" and compile it into a call
// to memset, itself.

#include "types.h"
#include "stat.h"
#include "fcntl.h"
#include "user.h"

char *strcpy(char *dst, const char *src) {
  char *start = dst;
  while ((*dst++ = *src++) != 0)
    ;
  return start;
}

// Compares as unsigned bytes, so that "\xff" sorts after "a".
int strcmp(const char *a, const char *b) {
  while (*a && *a == *b) {
    a++;
    b++;
  }
  return (uchar)*a - (uchar)*b;
}

uint strlen(const char *s) {
  uint n = 0;
  while (s[n])
    n++;
  return n;
}

void *memset(void *dst, int c, uint n) {
  uchar *d = dst;
  for (uint i = 0; i < n; i++)
    d[i] = c;
  return dst;
}

// Returns a pointer to the first c in s, or 0. As in xv6, the terminating
// NUL is not searched, so strchr(s, 0) is 0.
char *strchr(const char *s, char c) {
  for (; *s; s++)
    if (*s == c)
      return (char *)s;
  return 0;
}

// Reads a line from standard input into buf: up to and including a
// newline (or carriage return), or max-1 bytes, or until end of input,
// whichever comes first; always NUL-terminated. At end of input buf is "".
char *gets(char *buf, int max) {
  int i = 0;
  while (i + 1 < max) {
    char c;
    if (read(0, &c, 1) < 1)
      break;
    buf[i++] = c;
    if (c == '\n' || c == '\r')
      break;
  }
  buf[i] = 0;
  return buf;
}

int stat(const char *path, struct stat *st) {
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    return -1;
  int result = fstat(fd, st);
  close(fd);
  return result;
}

// The decimal number at the start of s; stops at the first non-digit. No
// sign, no leading spaces: atoi("-1") is 0, as in xv6.
int atoi(const char *s) {
  int n = 0;
  while (*s >= '0' && *s <= '9')
    n = n * 10 + (*s++ - '0');
  return n;
}

// Copies n bytes even when the two ranges overlap: forwards when the
// destination lies below the source, backwards otherwise, so that no byte
// is overwritten before it has been copied.
void *memmove(void *dst, const void *src, int n) {
  uchar *d = dst;
  const uchar *s = src;
  if (d < s) {
    for (int i = 0; i < n; i++)
      d[i] = s[i];
  } else {
    for (int i = n - 1; i >= 0; i--)
      d[i] = s[i];
  }
  return dst;
}

int memcmp(const void *a, const void *b, uint n) {
  const uchar *x = a, *y = b;
  for (uint i = 0; i < n; i++)
    if (x[i] != y[i])
      return x[i] - y[i];
  return 0;
}

// The ranges must not overlap (memmove handles overlap).
void *memcpy(void *dst, const void *src, uint n) {
  uchar *d = dst;
  const uchar *s = src;
  for (uint i = 0; i < n; i++)
    d[i] = s[i];
  return dst;
}
