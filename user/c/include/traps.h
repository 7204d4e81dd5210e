// traps.h: interrupt and exception vectors, under xv6's names.
//
// The kernel names a process it kills by the vector of the trap that
// killed it ("pid 7 prog: trap 14 err 6 ..."; 14 is a page fault). The
// numbers are abi::traps's in kernel/abi, which the kernel itself uses;
// `make test` checks this header against them.
//
// The CPU's exceptions are numbered by the x86 architecture, the same on
// x86_64 as on xv6's i386. Vectors 9 and 15 are reserved.

#ifndef XV6_TRAPS_H
#define XV6_TRAPS_H

#define T_DIVIDE 0     // divide error
#define T_DEBUG 1      // debug exception
#define T_NMI 2        // non-maskable interrupt
#define T_BRKPT 3      // breakpoint (int3)
#define T_OFLOW 4      // overflow (into; not in 64-bit mode)
#define T_BOUND 5      // bounds check (bound; not in 64-bit mode)
#define T_ILLOP 6      // illegal opcode
#define T_DEVICE 7     // device (FPU) not available
#define T_DBLFLT 8     // double fault
#define T_TSS 10       // invalid task switch segment
#define T_SEGNP 11     // segment not present
#define T_STACK 12     // stack exception
#define T_GPFLT 13     // general protection fault
#define T_PGFLT 14     // page fault
#define T_FPERR 16     // x87 floating-point error
#define T_ALIGN 17     // alignment check
#define T_MCHK 18      // machine check
#define T_SIMDERR 19   // SIMD (SSE) floating-point error

// Not a gate here: a system call is the syscall instruction, which uses no
// vector, and the kernel only marks a system call's trap frame with this
// number. Every gate of the IDT is for ring 0, so `int $T_SYSCALL` in a
// user program, as xv6's system calls and usertests' validatetest do it,
// is a general protection fault (trap 13) that kills the process.
#define T_SYSCALL 128

#define T_IRQ0 32       // IRQ n arrives as vector T_IRQ0 + n
#define IRQ_TIMER 0     // the local APIC timer
#define IRQ_COM1 4      // the serial port
#define IRQ_IDE 14      // the disk
#define T_WAKEUP 240    // one CPU waking another from hlt
#define T_SPURIOUS 255  // the local APIC's spurious interrupt

// xv6's T_DEFAULT, IRQ_KBD, IRQ_ERROR and IRQ_SPURIOUS have no meaning
// here: there is no catch-all vector, no keyboard driver, and the APIC's
// error interrupt is not enabled.

#endif
