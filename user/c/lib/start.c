// start.c: how a C program begins and ends.
//
// exec jumps to the ELF entry point, _start, with the stack laid out as if
// _start(argc, argv) had just been called with the C calling convention:
// argc in rdi, argv in rsi (argc pointers to the argument strings, then a
// null pointer, all on the new stack), and a fake return address 0 on
// top, so that the stack has the alignment a called function expects. So
// _start can be an ordinary C function. It runs main and passes main's
// result to exit_status; it must never return, since there is nothing to
// return to (the address 0 would fault). xv6 programs end by calling
// exit() themselves and never return from main.
//
// main is declared here and not in user.h, because programs define it
// either as int main(int argc, char *argv[]) or as int main(void); both
// work, since the caller's extra arguments go unread.

#include "types.h"
#include "user.h"

int main(int argc, char *argv[]);

void _start(int argc, char *argv[]) __attribute__((noreturn));

void _start(int argc, char *argv[]) { exit_status(main(argc, argv)); }
