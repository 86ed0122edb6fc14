// Process-level settings the server makes at start: thread priority and the allocator.
#define _GNU_SOURCE
#include "CBackpropKernels.h"

#if defined(__linux__)
#include <malloc.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

static _Thread_local void *thread_slot;

void *bp_thread_slot_exchange(void *value) {
    void *previous = thread_slot;
    thread_slot = value;
    return previous;
}

int bp_set_thread_nice(int nice) {
#if defined(__linux__)
    return setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice);
#else
    (void)nice;
    return 0;
#endif
}

int bp_return_large_blocks_to_the_system(long threshold) {
#if defined(__linux__) && defined(__GLIBC__)
    // A fixed threshold stops glibc from raising it after each large free (up to
    // 32 MiB), which would serve later large arrays from arenas that never shrink.
    return mallopt(M_MMAP_THRESHOLD, (int)threshold) == 1 ? 0 : -1;
#else
    (void)threshold;
    return 0;
#endif
}

int bp_release_free_memory(void) {
#if defined(__linux__) && defined(__GLIBC__)
    return malloc_trim(0);
#else
    return 0;
#endif
}
