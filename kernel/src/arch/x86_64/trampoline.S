/*
 * trampoline.S: the first instructions of the other CPUs.
 *
 * A CPU woken by a STARTUP IPI begins in 16-bit real mode at the physical
 * page the IPI names. mp.rs copies this code to TRAMPOLINE (0x8000, below
 * 1 MiB as real mode requires), writes the parameters into the last bytes
 * of that page, and sends the IPI. The code climbs the same ladder as
 * entry.S: real mode -> 32-bit protected mode -> long mode with the boot
 * page tables (which map low memory 1:1, so this code keeps running) ->
 * a jump to `ap_entry` in the higher half, on the stack mp.rs chose.
 *
 * The code is linked into the kernel image but runs only from its copy, so
 * every address it uses is TRAMPOLINE + (label - trampoline_start).
 */

.set TRAMPOLINE, 0x8000
.set PARAMS, TRAMPOLINE + 0xFE0       /* see mp.rs */
.set PARAM_STACK, PARAMS + 0
.set PARAM_ENTRY, PARAMS + 8
.set PARAM_CPU, PARAMS + 16

.section .rodata.trampoline, "a"
.global trampoline_start
.global trampoline_end

.code16
trampoline_start:
    cli
    cld
    xorw %ax, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    lgdtl TRAMPOLINE + (trampoline_gdt_desc - trampoline_start)
    movl %cr0, %eax
    orl $1, %eax                        /* CR0.PE */
    movl %eax, %cr0
    ljmpl $0x08, $(TRAMPOLINE + (trampoline32 - trampoline_start))

.code32
trampoline32:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl $boot_pml4, %eax
    movl %eax, %cr3
    movl %cr4, %eax
    orl $(1 << 5), %eax                 /* CR4.PAE */
    movl %eax, %cr4
    movl $0xC0000080, %ecx              /* EFER: long mode, no-execute */
    rdmsr
    orl $((1 << 8) | (1 << 11)), %eax
    wrmsr
    movl %cr0, %eax
    orl $((1 << 31) | (1 << 16)), %eax  /* CR0.PG, CR0.WP */
    movl %eax, %cr0
    ljmpl $0x18, $(TRAMPOLINE + (trampoline64 - trampoline_start))

.code64
trampoline64:
    xorw %ax, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    movq PARAM_STACK, %rsp
    xorl %ebp, %ebp
    movq PARAM_CPU, %rdi
    movq PARAM_ENTRY, %rax
    call *%rax
1:  hlt
    jmp 1b

.balign 8
trampoline_gdt:
    .quad 0
    .quad 0x00CF9A000000FFFF            /* 0x08: 32-bit code */
    .quad 0x00CF92000000FFFF            /* 0x10: data */
    .quad 0x00AF9A000000FFFF            /* 0x18: 64-bit code */
trampoline_gdt_desc:
    .short trampoline_gdt_desc - trampoline_gdt - 1
    .long TRAMPOLINE + (trampoline_gdt - trampoline_start)
trampoline_end:
