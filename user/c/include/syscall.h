// syscall.h: the system-call numbers, xv6's, then shared memory's, then
// the clock's.
//
// The C stubs in lib/usys.c put one of these in rax before the syscall
// instruction. They are abi::syscall's numbers (kernel/abi), spelled the
// way xv6's kernel/syscall.h spells them; `make test` checks that the two
// lists agree.

#ifndef XV6_SYSCALL_H
#define XV6_SYSCALL_H

#define SYS_fork 1
#define SYS_exit 2
#define SYS_wait 3
#define SYS_pipe 4
#define SYS_read 5
#define SYS_kill 6
#define SYS_exec 7
#define SYS_fstat 8
#define SYS_chdir 9
#define SYS_dup 10
#define SYS_getpid 11
#define SYS_sbrk 12
#define SYS_sleep 13
#define SYS_uptime 14
#define SYS_open 15
#define SYS_write 16
#define SYS_mknod 17
#define SYS_unlink 18
#define SYS_link 19
#define SYS_mkdir 20
#define SYS_close 21
#define SYS_shm_open 22
#define SYS_shm_trunc 23
#define SYS_shm_map 24
#define SYS_shm_close 25
#define SYS_shm_wait 26
#define SYS_shm_wake 27
#define SYS_tsc_hz 28

#endif
