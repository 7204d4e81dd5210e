// kernel/fcntl.h: xv6-riscv's path to fcntl.h, which the course's programs include.
#include "../fcntl.h"
