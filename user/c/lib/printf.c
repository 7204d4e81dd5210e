// printf.c: formatted output, xv6's formats.
//
// fprintf(fd, fmt, ...) walks the format once, left to right. Ordinary
// characters are copied; a % starts a conversion:
//
//   %d  int, in decimal         %ld %lld  long, in decimal
//   %u  unsigned, in decimal    %lu %llu  unsigned long, in decimal
//   %x  unsigned, in hex        %lx %llx  unsigned long, in hex
//   %p  pointer: 0x and 16 hex digits
//   %s  string ("(null)" for a null pointer)
//   %c  character               %%  a percent sign
//
// (On x86_64 long and long long are both 64 bits, so l and ll mean the
// same.) Hex digits are lower case. A conversion this printf does not
// know is printed as it was written, % included, so a typo shows in the
// output instead of silently eating an argument.
//
// The output is gathered in a small buffer and written with one write()
// when the buffer fills and at the end, rather than xv6's one write() per
// character: far fewer system calls, and a short line from one process
// is not broken up by another's output.

#include <stdarg.h>

#include "types.h"
#include "user.h"

// This file defines both printfs (see user.h): xv6-public's, which
// user.h declares, and xv6-riscv's, under its linker name.
void printf_stdout(const char *fmt, ...);

struct output {
  int fd;
  int length;     // bytes waiting in buf
  char buf[128];
};

static void flush(struct output *out) {
  if (out->length > 0)
    write(out->fd, out->buf, out->length);
  out->length = 0;
}

static void put(struct output *out, char c) {
  if (out->length == sizeof(out->buf))
    flush(out);
  out->buf[out->length++] = c;
}

static void put_string(struct output *out, const char *s) {
  while (*s)
    put(out, *s++);
}

// Prints value in base 10 or 16, with at least min_digits digits (padded
// with zeros).
static void put_unsigned(struct output *out, uint64 value, int base,
                         int min_digits) {
  char digits[20];  // 2^64 has 20 decimal digits, 16 hex ones
  int n = 0;
  do {
    digits[n++] = "0123456789abcdef"[value % base];
    value /= base;
  } while (value != 0);
  while (n < min_digits)
    digits[n++] = '0';
  while (n > 0)
    put(out, digits[--n]);
}

static void put_signed(struct output *out, long value) {
  // Negating in unsigned arithmetic works for the most negative value
  // too, whose negation does not fit in a long.
  uint64 magnitude = value;
  if (value < 0) {
    put(out, '-');
    magnitude = -magnitude;
  }
  put_unsigned(out, magnitude, 10, 1);
}

static void format(int fd, const char *fmt, va_list args) {
  struct output out = {.fd = fd, .length = 0};
  for (const char *f = fmt; *f; f++) {
    if (*f != '%') {
      put(&out, *f);
      continue;
    }
    const char *start = f;  // the %, for printing an unknown conversion
    f++;
    int longs = 0;
    while (*f == 'l' && longs < 2) {
      longs++;
      f++;
    }
    switch (*f) {
    case 'd':
      put_signed(&out, longs ? va_arg(args, long) : va_arg(args, int));
      break;
    case 'u':
      put_unsigned(&out, longs ? va_arg(args, uint64) : va_arg(args, uint),
                   10, 1);
      break;
    case 'x':
      put_unsigned(&out, longs ? va_arg(args, uint64) : va_arg(args, uint),
                   16, 1);
      break;
    case 'p':
      put_string(&out, "0x");
      put_unsigned(&out, (uint64)va_arg(args, void *), 16, 16);
      break;
    case 's': {
      const char *s = va_arg(args, const char *);
      put_string(&out, s ? s : "(null)");
      break;
    }
    case 'c':
      put(&out, va_arg(args, int));
      break;
    case '%':
      put(&out, '%');
      break;
    default:
      // Unknown, or the format ended: print what was written. Stop at
      // the end of the format, whose NUL must not be printed or passed.
      for (; start < f; start++)
        put(&out, *start);
      if (*f == 0)
        f--;
      else
        put(&out, *f);
      break;
    }
  }
  flush(&out);
}

void fprintf(int fd, const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  format(fd, fmt, args);
  va_end(args);
}

// xv6-public's printf: fprintf under xv6-public's name.
void printf(int fd, const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  format(fd, fmt, args);
  va_end(args);
}

// xv6-riscv's printf, which programs that include user/user.h call as
// printf.
void printf_stdout(const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  format(1, fmt, args);
  va_end(args);
}
