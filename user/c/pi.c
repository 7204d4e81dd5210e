// pi: computes pi, e and the square root of 2 in double precision and
// prints them with twelve decimals.
//
//   $ pi
//   pi      = 3.141592653590
//   e       = 2.718281828459
//   sqrt(2) = 1.414213562373
//
// It shows that C programs may use floating point: gcc compiles double
// arithmetic to SSE instructions on the xmm registers, which the kernel
// enables for user mode and saves and restores with every process switch,
// so other processes cannot disturb a computation half-way. (ctest runs pi
// and compares its output.) printf has no %f, so print_fixed below turns a
// double into digits itself. Each value is also compared with the double
// nearest the true constant; pi exits with 1 if any is off by more than a
// few units in the last place.

#include "types.h"
#include "user/user.h"

// Machin's formula, pi = 16 atan(1/5) - 4 atan(1/239), with atan(x) as
// its series x - x^3/3 + x^5/5 - ..., which for these small x gains more
// than a digit per term.
static double atan_series(double x) {
  double sum = 0, power = x;  // power = x^(2k+1)
  for (int k = 0; k < 30; k++) {
    double term = power / (2 * k + 1);
    sum += k % 2 == 0 ? term : -term;
    power *= x * x;
  }
  return sum;
}

// e = 1/0! + 1/1! + 1/2! + ...
static double euler(void) {
  double sum = 0, term = 1;
  for (int k = 1; k < 25; k++) {
    sum += term;
    term /= k;
  }
  return sum;
}

// Newton's method for x*x = 2: each step doubles the correct digits.
static double sqrt2(void) {
  double x = 1;
  for (int i = 0; i < 8; i++)
    x = (x + 2 / x) / 2;
  return x;
}

// Prints x with `decimals` digits after the point, rounded to nearest.
static void print_fixed(double x, int decimals) {
  if (x < 0) {
    printf("-");
    x = -x;
  }
  double half = 0.5;
  for (int i = 0; i < decimals; i++)
    half /= 10;
  x += half;
  uint64 whole = (uint64)x;
  printf("%lu.", whole);
  double fraction = x - whole;
  for (int i = 0; i < decimals; i++) {
    fraction *= 10;
    int digit = (int)fraction;
    printf("%c", '0' + digit);
    fraction -= digit;
  }
}

// Whether x is within a few units in the last place of `expected`.
static int close_to(double x, double expected) {
  double error = x > expected ? x - expected : expected - x;
  return error <= expected * 1e-15;
}

int main(void) {
  struct {
    const char *name;
    double value, expected;
  } results[] = {
      {"pi     ", 16 * atan_series(1.0 / 5) - 4 * atan_series(1.0 / 239),
       3.141592653589793},
      {"e      ", euler(), 2.718281828459045},
      {"sqrt(2)", sqrt2(), 1.4142135623730951},
  };
  int ok = 1;
  for (uint i = 0; i < sizeof(results) / sizeof(results[0]); i++) {
    printf("%s = ", results[i].name);
    print_fixed(results[i].value, 12);
    if (!close_to(results[i].value, results[i].expected)) {
      printf(" (wrong: too far from ");
      print_fixed(results[i].expected, 16);
      printf(")");
      ok = 0;
    }
    printf("\n");
  }
  return ok ? 0 : 1;
}
