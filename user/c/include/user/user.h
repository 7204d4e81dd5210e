// user/user.h: xv6-riscv's path to user.h, which the course's programs include.
#include "../user.h"
