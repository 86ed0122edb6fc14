/* Counts heap allocations for BackpropBenchmarks (`BackpropBenchmarks allocations`):
 * malloc and its relatives are defined here, count, and forward to glibc's own
 * entry points (__libc_malloc and friends). Linked into the benchmark executable
 * only, never into the service. */
#define _GNU_SOURCE
#include "AllocationCounter.h"

#include <errno.h>
#include <stddef.h>

#if defined(__linux__) && defined(__GLIBC__)
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);

static unsigned long counted;

unsigned long bp_allocations(void) { return __atomic_load_n(&counted, __ATOMIC_RELAXED); }

static inline void count(void) { __atomic_fetch_add(&counted, 1, __ATOMIC_RELAXED); }

void *malloc(size_t size) { count(); return __libc_malloc(size); }
void *calloc(size_t count_, size_t size) { count(); return __libc_calloc(count_, size); }
void *realloc(void *pointer, size_t size) { count(); return __libc_realloc(pointer, size); }
void *memalign(size_t alignment, size_t size) { count(); return __libc_memalign(alignment, size); }
void *aligned_alloc(size_t alignment, size_t size) { count(); return __libc_memalign(alignment, size); }
int posix_memalign(void **out, size_t alignment, size_t size) {
    count();
    void *pointer = __libc_memalign(alignment, size);
    if (!pointer) return ENOMEM;
    *out = pointer;
    return 0;
}
#else
unsigned long bp_allocations(void) { return 0; }
#endif
