/*
 * trapasm.S: the first and last instructions of every interrupt and
 * exception.
 *
 * The IDT sends vector n to vectors + 16 * n (each stub is 16-byte aligned).
 * The CPU has already switched to the kernel stack (from the TSS if it came
 * from user mode) and pushed ss, rsp, rflags, cs and rip; some exceptions
 * also push an error code. Each stub makes the frame uniform by pushing a 0
 * error code where the CPU pushed none, then the vector number, and jumps
 * to alltraps, which saves every general-purpose register. The result is a
 * `TrapFrame` (trap.rs) on the stack, whose address goes to `trap`.
 *
 * Coming from user mode, %gs holds the user's base: swapgs exchanges it with
 * the kernel's (this CPU's `Cpu`), and swaps back on the way out.
 *
 * "From user mode" is told by the saved cs (ring 3) or by the saved
 * RFLAGS.VM. A real CPU in 64-bit mode never runs virtual-8086 code, but
 * QEMU's software CPU lets a user-mode iret set VM, after which cs holds a
 * real-mode segment whose low bits may read as ring 0. Missing the swapgs
 * would run the kernel on the user's %gs base; trap.rs kills such a
 * process at its first trap.
 */

.set RFLAGS_VM, 1 << 17

/* The general-purpose registers, in the order of `TrapFrame` (from the
   top of the stack down: rax first, r15 last). */
.macro PUSH_REGISTERS
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rbp
    pushq %rsi
    pushq %rdi
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
.endm

.macro POP_REGISTERS
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rdi
    popq %rsi
    popq %rbp
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
.endm

.section .text
.balign 16
.global trap_vectors
trap_vectors:
.set vector, 0
.rept 256
    .balign 16
    /* Vectors where the CPU pushes an error code itself. */
    .if (vector == 8) || ((vector >= 10) && (vector <= 14)) || (vector == 17) || (vector == 21) || (vector == 29) || (vector == 30)
    .else
    pushq $0
    .endif
    pushq $vector
    jmp alltraps
    .set vector, vector + 1
.endr

alltraps:
    /* The ABI wants the direction flag clear in every function, and an
       interrupt keeps the interrupted code's: a user program may have set
       it (std), and kernel copies would then run backwards. (syscall
       clears it through FMASK.) */
    cld
    /* The saved cs is at 24(%rsp): above the vector, error code and rip;
       the saved rflags follows at 32(%rsp). */
    testb $3, 24(%rsp)
    jnz 1f
    testl $RFLAGS_VM, 32(%rsp)
    jz alltraps_save
1:  swapgs
alltraps_save:
    PUSH_REGISTERS
    /* The frame is 22 quadwords and the CPU aligned rsp to 16 before it, so
       rsp is 16-byte aligned here, as the call needs. */
    movq %rsp, %rdi
    call trap

/* Returns to whatever the trap frame at %rsp describes. New processes start
   here too, with a frame built by fork or exec, and so does a system call
   whose frame sysret cannot restore. */
.global trapret
trapret:
    /* Interrupts stay off from here to iretq, which loads the frame's IF:
       an interrupt after the swapgs below would enter the kernel from
       ring 0 (no swapgs of its own) with the user's %gs. */
    cli
    POP_REGISTERS
    testb $3, 24(%rsp)
    jnz 1f
    testl $RFLAGS_VM, 32(%rsp)
    jz 2f
1:  swapgs
2:  addq $16, %rsp      /* the vector and error code */
    iretq

/*
 * syscall_entry: where the `syscall` instruction lands (the LSTAR MSR).
 *
 * The CPU has put the user's rip in rcx and rflags in r11, masked
 * interrupts (FMASK) and switched to ring 0, but it has NOT switched
 * stacks. So: swapgs to reach this CPU's `Cpu`, park the user's rsp there,
 * load the kernel stack of the current process, and build the same
 * TrapFrame an interrupt would (with vector T_SYSCALL), for fork and exec
 * to copy or replace like any other. Then `syscall_trap` (trap.rs) carries
 * out the call and says how to go back.
 *
 * The fast way back is sysretq: it loads rip from rcx and rflags from
 * r11, and cs and ss from the STAR MSR (syscall.rs), and reads nothing
 * from memory, unlike iretq, which pops five words and loads two segment
 * descriptors from the GDT. But it can only restore a frame that looks
 * exactly like the one `syscall` made, and it has a trap of its own, so
 * `syscall_trap` (TrapFrame::sysret_can_restore) lets it be used only
 * when:
 *
 * - the frame's rcx equals its rip and its r11 its rflags. Popping the
 *   frame then hands sysretq exactly the rip and rflags an iretq would
 *   restore. A frame that exec rewrote (rcx is 0 there), or anything
 *   else that changed rip, rflags, rcx or r11, fails this and returns
 *   through iretq, which restores every register as the frame says;
 * - cs and ss are the user selectors sysretq loads anyway;
 * - rip is canonical (below USER_TOP). On Intel CPUs, sysretq with a
 *   non-canonical rcx raises #GP while still in ring 0, but after the
 *   lines below have loaded the user's rsp and swapped %gs back: the
 *   kernel's fault handler would run on a stack the user chose, with the
 *   user's %gs. (AMD CPUs fault in ring 3 instead.) In this kernel's
 *   layout no user code can reach such a rip: executable pages lie
 *   below SHMBASE, far under the end of the user half. The check keeps
 *   the hazard out whatever the layout becomes;
 * - rflags has no TF, RF or VM, and has IF. sysretq clears RF and VM
 *   instead of loading them, and with TF it traps before the first user
 *   instruction rather than after it, as iretq does; iretq keeps the
 *   frame's word for all three. IF is set in every frame of a running
 *   program; one without it takes the slow way, which restores it as is.
 *
 * A process that is to exit or has been killed never comes back here:
 * syscall_trap ends it.
 *
 * On the sysretq path, `syscall_trap` returns with interrupts off, and
 * they stay off until sysretq loads the user's IF: no interrupt can arrive
 * on the user's stack or with the user's %gs. NMIs are not maskable, so
 * one may come between the swapgs and sysretq below (or between
 * `syscall` and the stack switch above): it runs on a stack of its own
 * (IST, gdt.rs), not the user's, and this kernel sends NMIs only to stop
 * the other CPUs after a panic, which the trap handler does before it
 * uses %gs.
 *
 * CPU_USER_RSP and CPU_KERNEL_STACK are the offsets of those fields in
 * `Cpu` (cpu.rs checks them at compile time).
 */
.set CPU_USER_RSP, 8
.set CPU_KERNEL_STACK, 16
.set USER_CODE_SELECTOR, 0x23
.set USER_DATA_SELECTOR, 0x1B
.set T_SYSCALL, 0x80
/* Where the user's rsp lies in the frame once the general-purpose
   registers are popped: above the vector, error code, rip, cs and rflags. */
.set FRAME_RSP, 40

/* On the page that holds syscall_trap (kernel.ld, trap.rs). */
.section .text.syscall, "ax"
.balign 16
.global syscall_entry
syscall_entry:
    swapgs
    movq %rsp, %gs:CPU_USER_RSP
    movq %gs:CPU_KERNEL_STACK, %rsp
    pushq $USER_DATA_SELECTOR       /* ss */
    pushq %gs:CPU_USER_RSP          /* rsp */
    pushq %r11                      /* rflags */
    pushq $USER_CODE_SELECTOR       /* cs */
    pushq %rcx                      /* rip */
    pushq $0                        /* error code */
    pushq $T_SYSCALL                /* vector */
    PUSH_REGISTERS
    movq %rsp, %rdi
    call syscall_trap
    testb %al, %al
    jz trapret
    POP_REGISTERS                   /* rcx = rip and r11 = rflags */
    movq FRAME_RSP(%rsp), %rsp
    swapgs
    sysretq
