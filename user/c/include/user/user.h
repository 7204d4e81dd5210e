// user/user.h: xv6-riscv's path to user.h, which the course's programs
// include. It is user.h with xv6-riscv's printf, which has no file
// descriptor: printf(fmt, ...) writes to standard output (see user.h).
#define XV6_RISCV_USER_H
#include "../user.h"
