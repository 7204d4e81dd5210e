// fs.h: the parts of the on-disk file system that user programs see.
//
// A directory is a file holding an array of struct dirent, which ls reads
// with read(). The block size and the file size limits are here too, for
// programs that test big files. The full on-disk layout (superblock,
// inodes, log) lives in kernel/abi/src/fs.rs; `make test` checks these
// numbers and struct dirent's layout against it.

#ifndef XV6_FS_H
#define XV6_FS_H

#include "types.h"

#define ROOTINO 1    // inode number of the root directory
#define BSIZE 1024   // block size in bytes

#define NDIRECT 12                         // block addresses in an inode
#define NINDIRECT (BSIZE / sizeof(uint))   // block addresses in the indirect block
#define MAXFILE (NDIRECT + NINDIRECT)      // largest file, in blocks

// Longest name a directory entry holds. A name of exactly DIRSIZ bytes has
// no terminating NUL, so copy it out before treating it as a C string.
#define DIRSIZ 14

struct dirent {
  ushort inum;        // the inode the name refers to; 0 marks a free slot
  char name[DIRSIZ];  // padded with NULs
};

#endif
