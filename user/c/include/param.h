// param.h: the kernel's limits, under xv6's names.
//
// They are this kernel's numbers, not xv6-public's (which has room for 50
// inodes in memory and a 1000-block disk): abi::param, abi::fs,
// abi::syscall and abi::fcntl in kernel/abi, which the kernel itself
// uses; `make test` checks this header against them. MAXARG is in user.h
// and NOFILE in fcntl.h too, with the same value: C allows a macro to be
// defined twice only if both say the same, so the two copies cannot drift.
//
// xv6's NDEV, the size of its table of device drivers, has no counterpart:
// this kernel has one device, the console (major number 1).

#ifndef XV6_PARAM_H
#define XV6_PARAM_H

#define NPROC 64           // processes in the process table
#define KSTACKSIZE 16384   // bytes of each kernel stack (4 pages)
#define NCPU 16            // most CPUs the kernel starts
#define NOFILE 16          // open files per process
#define NFILE 100          // open files in the system
#define NINODE 200         // inodes in memory at once (as many as the disk has)
#define ROOTDEV 1          // device number of the disk with the file system
#define MAXARG 32          // most arguments exec passes, argv[0] included
#define MAXOPBLOCKS 10     // most blocks one file-system operation writes
#define LOGSIZE (MAXOPBLOCKS * 3)      // blocks of data the log holds
#define NBUF (LOGSIZE + 3 * NPROC)     // blocks in the buffer cache
#define FSSIZE 2000        // blocks in the file system

#endif
