// stat.h: what fstat (and stat) report about a file.
//
// The kernel copies its own struct (abi::stat::Stat in kernel/abi) into
// the caller's memory byte for byte, so the layout below must be the
// kernel's, field for field; the fields keep xv6's names. The Rust
// struct calls `type` `kind` (type is a Rust keyword). `make test`
// checks that the two agree (kernel/abi/tests/c_headers.rs).
//
// Unlike xv6-public, size is 64 bits wide, and explicit padding keeps it
// 8-byte aligned, so there are no hidden holes the kernel could leak
// bytes through:
//
//   offset 0     4     8      10      12    16          24
//          | dev | ino | type | nlink | pad | size      |

#ifndef XV6_STAT_H
#define XV6_STAT_H

#include "types.h"

#define T_DIR 1   // directory
#define T_FILE 2  // regular file
#define T_DEV 3   // device (see mknod)

struct stat {
  int dev;      // file system's disk device
  uint ino;     // inode number
  short type;   // T_DIR, T_FILE or T_DEV
  short nlink;  // number of directory entries naming the file
  uint pad;     // always zero
  uint64 size;  // size of the file in bytes
};

#endif
