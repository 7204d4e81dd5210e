// memlayout.h: the address space a program sees, under xv6's names where
// xv6 has one.
//
//   USER_TOP     end of the user half; above it, past a non-canonical gap,
//                the kernel: DIRECT_MAP (all of physical memory) and
//                KERNBASE (the kernel image), which a program cannot touch
//   SHMBASE      the shared-memory window; below it the heap, grown by sbrk
//   USER_BASE    the program: text, data, bss (page 0 is never mapped)
//
// The numbers are abi::memlayout's in kernel/abi, which the kernel itself
// uses; `make test` checks this header against them. SHMBASE is in user.h
// too, with the same value (C rejects a macro defined twice differently).
//
// xv6's EXTMEM, PHYSTOP, DEVSPACE and KERNLINK, and its V2P and P2V, are
// the kernel's view of physical memory, of no use to a program: this
// kernel finds physical memory in the boot loader's memory map and maps
// all of it at DIRECT_MAP.

#ifndef XV6_MEMLAYOUT_H
#define XV6_MEMLAYOUT_H

#define PGSIZE 4096                     // bytes in a page
#define USER_BASE 4096                  // where a program's image starts
#define USER_STACK_PAGES 16             // pages of the user stack
#define SHMBASE 0x40000000L             // start of the shared-memory window
#define USER_TOP 0x800000000000UL       // every user address is below this
#define DIRECT_MAP 0xFFFF800000000000UL // physical memory, in the kernel's view
#define KERNBASE 0xFFFFFFFF80000000UL   // the kernel image

#endif
