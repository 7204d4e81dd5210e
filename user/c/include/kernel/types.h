// kernel/types.h: xv6-riscv's path to types.h, which the course's programs include.
#include "../types.h"
