/*
 * swtch(old: *mut usize, new: usize): switch kernel stacks.
 *
 * Saves the callee-saved registers on the current stack, stores the stack
 * pointer in *old, loads `new` as the stack pointer and pops the registers
 * that were saved there. `ret` then continues wherever that stack's owner
 * called swtch (or, for a new process, at forkret: see proc.rs). The
 * caller-saved registers need no saving: the Rust code calling swtch has
 * already assumed the call clobbers them.
 */
.section .text
.global swtch
swtch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
