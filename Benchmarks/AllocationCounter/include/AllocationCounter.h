#ifndef BACKPROP_ALLOCATION_COUNTER_H
#define BACKPROP_ALLOCATION_COUNTER_H

/// Heap allocations made by this process so far (malloc, calloc, realloc,
/// posix_memalign, aligned_alloc, memalign), counted by the wrappers in
/// counter.c, which this target defines for the benchmark executable only: an
/// executable's own malloc takes the place of the C library's for every caller,
/// the Swift runtime included. Count before and after the code of interest.
unsigned long bp_allocations(void);

#endif
