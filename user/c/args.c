// args: prints its arguments, one a line, and exits with status argc.
//
//   $ args one two
//   argc 3
//   argv[0] args
//   argv[1] one
//   argv[2] two
//
// ctest runs it (and argsgnu, the same program as ld's default script
// links it; see c.mk) to check that exec passes the arguments through
// and that main's return value becomes the exit status.

#include "types.h"
#include "user/user.h"

int main(int argc, char *argv[]) {
  printf("argc %d\n", argc);
  for (int i = 0; i < argc; i++)
    printf("argv[%d] %s\n", i, argv[i]);
  if (argv[argc] != 0) {
    printf("argv[%d] is not a null pointer\n", argc);
    return -1;
  }
  return argc;
}
