// types.h: the integer types xv6's programs use, with their x86_64 sizes.
//
// xv6-public names the unsigned types uint, ushort and uchar; xv6-riscv
// adds the sized names uint8 .. uint64, which the course's programs use.
// Both sets are here so that programs written for either compile as they
// are. On x86_64, int is 32 bits and long and pointers are 64.

#ifndef XV6_TYPES_H
#define XV6_TYPES_H

typedef unsigned int uint;
typedef unsigned short ushort;
typedef unsigned char uchar;

typedef unsigned char uint8;
typedef unsigned short uint16;
typedef unsigned int uint32;
typedef unsigned long uint64;

#endif
