// fcntl.h: the flags of open(), xv6's values, how many files a process
// may have open, and what a pipe holds.
//
// shm_map takes O_RDONLY or O_RDWR too. The numbers are abi::fcntl's in
// kernel/abi; `make test` checks that they agree.

#ifndef XV6_FCNTL_H
#define XV6_FCNTL_H

#define O_RDONLY 0x000
#define O_WRONLY 0x001
#define O_RDWR 0x002
#define O_CREATE 0x200  // create the file if it does not exist
#define O_TRUNC 0x400   // empty the file on open

#define NOFILE 16  // open files per process: descriptors are 0..NOFILE-1
#define PIPESIZE 65536  // bytes a pipe's buffer holds
#define PIPE_BUF 4096   // writes up to this size are never interleaved

#endif
