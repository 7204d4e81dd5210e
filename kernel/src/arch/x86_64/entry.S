/*
 * entry.S: from GRUB to Rust.
 *
 * GRUB (multiboot2) jumps to _start in 32-bit protected mode with paging off,
 * eax = the multiboot2 magic and ebx = the physical address of the boot
 * information. This code runs at its physical address (see kernel.ld) and:
 *
 *   1. checks that the CPU can run 64-bit code with no-execute pages;
 *   2. builds temporary page tables that map the first GiB of physical memory
 *      three times: at 0 (so this code keeps running when paging comes on),
 *      at KERNBASE (where the Rust kernel is linked) and at DIRECT_MAP
 *      (where the kernel reaches physical memory, see memlayout.rs);
 *   3. turns on PAE, long mode, no-execute and paging, loads a 64-bit GDT;
 *   4. jumps to the higher half and calls the Rust entry point with the
 *      boot-information address as its first argument.
 *
 * vm.rs replaces these page tables with the kernel's real ones.
 */

.set MB2_MAGIC,          0xe85250d6
.set MB2_ARCH_I386,      0
.set MB2_BOOTLOADER_MAGIC, 0x36d76289

.set PTE_PRESENT,  1 << 0
.set PTE_WRITE,    1 << 1
.set PTE_HUGE,     1 << 7

.set CR0_PE, 1 << 0
.set CR0_WP, 1 << 16
.set CR0_PG, 1 << 31
.set CR4_PAE, 1 << 5
.set MSR_EFER, 0xC0000080
.set EFER_LME, 1 << 8
.set EFER_NXE, 1 << 11

.set BOOT_STACK_SIZE, 16384

/* ---------------------------------------------------------------------- */
.section .multiboot2, "a"
.balign 8
mb2_header:
    .long MB2_MAGIC
    .long MB2_ARCH_I386
    .long mb2_header_end - mb2_header
    .long 0x100000000 - (MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
    /* No optional tags: GRUB loads the ELF segments itself. The end tag: */
    .balign 8
    .short 0
    .short 0
    .long 8
mb2_header_end:

/* ---------------------------------------------------------------------- */
.section .boot.text, "ax"
.code32
.global _start
_start:
    cli
    cld
    movl $boot_stack_low_top, %esp

    cmpl $MB2_BOOTLOADER_MAGIC, %eax
    jne not_multiboot2
    /* The upper halves of the registers are undefined after the switch to
       64-bit mode, so keep the boot-information address in memory. */
    movl %ebx, boot_info_phys

    /* Long mode is CPUID 0x80000001 EDX bit 29, no-execute is bit 20. */
    movl $0x80000000, %eax
    cpuid
    cmpl $0x80000001, %eax
    jb no_long_mode
    movl $0x80000001, %eax
    cpuid
    testl $(1 << 29), %edx
    jz no_long_mode
    testl $(1 << 20), %edx
    jz no_long_mode

    /* boot_pd maps the first GiB with 512 huge (2 MiB) pages. */
    movl $boot_pd, %edi
    movl $(PTE_PRESENT | PTE_WRITE | PTE_HUGE), %eax
    movl $512, %ecx
1:  movl %eax, (%edi)
    movl $0, 4(%edi)
    addl $0x200000, %eax
    addl $8, %edi
    loop 1b

    movl $boot_pml4, %eax
    movl %eax, %cr3
    movl %cr4, %eax
    orl $CR4_PAE, %eax
    movl %eax, %cr4
    movl $MSR_EFER, %ecx
    rdmsr
    orl $(EFER_LME | EFER_NXE), %eax
    wrmsr
    movl %cr0, %eax
    orl $(CR0_PG | CR0_WP | CR0_PE), %eax
    movl %eax, %cr0

    lgdt boot_gdt_desc
    ljmp $8, $start64

/* Print a message on COM1 and stop. The UART works unprogrammed under QEMU. */
not_multiboot2:
    movl $msg_not_multiboot2, %esi
    jmp boot_fail
no_long_mode:
    movl $msg_no_long_mode, %esi
boot_fail:
    movw $0x3f8, %dx
2:  lodsb
    testb %al, %al
    jz 3f
    outb %al, %dx
    jmp 2b
3:  hlt
    jmp 3b

.code64
start64:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorw %ax, %ax
    movw %ax, %fs
    movw %ax, %gs

    movabs $boot_stack_top, %rsp
    /* A zero frame pointer ends the chain that backtraces walk. */
    xorl %ebp, %ebp
    movl boot_info_phys(%rip), %edi
    movabs $kernel_entry, %rax
    call *%rax
4:  hlt
    jmp 4b

/* ---------------------------------------------------------------------- */
.section .boot.data, "aw"
.balign 4096
/* PML4 slots: 0 = identity, 256 = DIRECT_MAP, 511 = KERNBASE. */
.global boot_pml4
boot_pml4:
    .quad boot_pdpt_low + (PTE_PRESENT | PTE_WRITE)
    .fill 255, 8, 0
    .quad boot_pdpt_low + (PTE_PRESENT | PTE_WRITE)
    .fill 254, 8, 0
    .quad boot_pdpt_high + (PTE_PRESENT | PTE_WRITE)
boot_pdpt_low:
    .quad boot_pd + (PTE_PRESENT | PTE_WRITE)
    .fill 511, 8, 0
/* KERNBASE = 0xFFFFFFFF80000000 is PDPT slot 510 of PML4 slot 511. */
boot_pdpt_high:
    .fill 510, 8, 0
    .quad boot_pd + (PTE_PRESENT | PTE_WRITE)
    .quad 0
boot_pd:
    .fill 512, 8, 0

/* A small stack for the 32-bit code (cpuid and the loop need none, but an
   NMI or a debugger might). */
    .fill 256, 1, 0
boot_stack_low_top:

boot_gdt:
    .quad 0                     /* null */
    .quad 0x00AF9A000000FFFF    /* 0x08: 64-bit code, ring 0 */
    .quad 0x00CF92000000FFFF    /* 0x10: data, ring 0 */
boot_gdt_desc:
    .short boot_gdt_desc - boot_gdt - 1
    .long boot_gdt

boot_info_phys:
    .long 0

msg_not_multiboot2:
    .asciz "xv6: not started by a multiboot2 boot loader\r\n"
msg_no_long_mode:
    .asciz "xv6: this CPU cannot run 64-bit code with no-execute pages\r\n"

/* ---------------------------------------------------------------------- */
.section .bss
/* The boot CPU's stack, which becomes its scheduler stack. The page below
   it is a guard: vm::init leaves it unmapped (mp::stack_guard_pages), so an
   overflow faults instead of overwriting other data. */
.balign 4096
.global boot_stack_guard
boot_stack_guard:
    .skip 4096
.global boot_stack_bottom
boot_stack_bottom:
    .skip BOOT_STACK_SIZE
.global boot_stack_top
boot_stack_top:
