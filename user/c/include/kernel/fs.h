// kernel/fs.h: xv6-riscv's path to fs.h, which the course's programs include.
#include "../fs.h"
