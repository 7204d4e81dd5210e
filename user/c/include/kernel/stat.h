// kernel/stat.h: xv6-riscv's path to stat.h, which the course's programs include.
#include "../stat.h"
