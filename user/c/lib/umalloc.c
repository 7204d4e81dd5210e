// umalloc.c: malloc and free, on memory from sbrk.
//
// The heap is carved into blocks. Every block, in use or free, starts
// with a 16-byte header giving its size in units of 16 bytes (the header
// included); malloc hands out the bytes after the header, so every
// pointer it returns is 16-byte aligned, enough for any C type.
//
// The free blocks form a circular list sorted by address, threaded
// through their headers and entered at `free_list` (the block after the
// one last allocated from, so that searches spread over the heap).
// `base`, a header of size 0, sits in the list so that it is never empty.
//
//   malloc(n): walk the list for the first block of at least the units
//   needed. An exact fit is unlinked; a bigger block gives up its head,
//   and what is left moves up, with its header, to just after it. (K&R
//   give up the tail, which keeps the header in place; but then what is
//   left of each growth of the heap stays below that growth's blocks and
//   never merges with the next growth, and allocating many blocks of an
//   awkward size leaves one such sliver per growth for every search to
//   walk past. Given from the head, the rest ends at the break and merges
//   with the next growth.) If no block is big enough, grow the
//   heap with sbrk (at least MIN_GROW units, so that small requests do not
//   each cost a system call), put the new memory on the list, and search
//   again.
//
//   free(p): insert p's block at its place in the address order, then
//   merge it with the block just after and the block just before when
//   they touch it, so that freed neighbours become one block again and
//   the heap does not crumble into pieces too small to reuse.
//
// The heap never shrinks: freed memory stays on the list for reuse.

#include "types.h"
#include "user.h"

struct header {
  struct header *next;  // next free block, while this one is free
  uint64 units;         // size of this block, header included
};

#define UNIT sizeof(struct header)
#define MIN_GROW 4096  // units: the heap grows by 64 KiB at least
// sbrk takes an int: the most bytes one call can add.
#define MAX_GROW (0x7fffffff / UNIT)

_Static_assert(sizeof(struct header) == 16, "a header is one 16-byte unit");

static struct header base;
static struct header *free_list;

void free(void *p) {
  if (p == 0)
    return;
  struct header *block = (struct header *)p - 1;
  // Find the free block `before` after which `block` belongs. Only at the
  // block of highest address does the list wrap around to the lowest;
  // there `block` belongs if it lies beyond either end.
  struct header *before = free_list;
  while (!(before < block && block < before->next)) {
    if (before >= before->next && (block > before || block < before->next))
      break;
    before = before->next;
  }
  struct header *after = before->next;
  if (block + block->units == after) {  // touches the next free block
    block->units += after->units;
    block->next = after->next;
  } else {
    block->next = after;
  }
  if (before + before->units == block) {  // touches the previous one
    before->units += block->units;
    before->next = block->next;
  } else {
    before->next = block;
  }
  free_list = before;
}

// Adds at least `units` units to the heap and puts them on the free list.
// Returns 0 if the kernel refuses.
static struct header *grow(uint64 units) {
  if (units < MIN_GROW)
    units = MIN_GROW;
  if (units > MAX_GROW)
    return 0;
  // Someone may have moved the break by an odd amount with sbrk; step
  // over to the next 16-byte boundary so that headers stay aligned.
  uint64 misaligned = (uint64)sbrk(0) % UNIT;
  if (misaligned != 0 && sbrk(UNIT - misaligned) == (char *)-1)
    return 0;
  char *memory = sbrk(units * UNIT);
  if (memory == (char *)-1)
    return 0;
  struct header *block = (struct header *)memory;
  block->units = units;
  free(block + 1);
  return free_list;
}

void *malloc(uint n) {
  // Round up to whole units, plus one for the header.
  uint64 units = ((uint64)n + UNIT - 1) / UNIT + 1;
  if (free_list == 0) {  // the first call: an empty list holding only base
    base.next = &base;
    base.units = 0;
    free_list = &base;
  }
  struct header *before = free_list;
  for (struct header *block = before->next;; before = block, block = block->next) {
    if (block->units >= units) {
      if (block->units == units) {
        before->next = block->next;
      } else {
        struct header *rest = block + units;
        rest->units = block->units - units;
        rest->next = block->next;
        before->next = rest;
        block->units = units;
      }
      free_list = before;
      return block + 1;
    }
    if (block == free_list) {  // all the way round: nothing fits
      block = grow(units);
      if (block == 0)
        return 0;
    }
  }
}
