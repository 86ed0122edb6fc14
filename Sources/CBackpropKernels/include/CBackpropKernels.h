#ifndef CBACKPROP_KERNELS_H
#define CBACKPROP_KERNELS_H

/// Matrix products for BackpropCore's hot loops, row-major doubles.
/// Each picks, once per process, the widest path the CPU has (AVX-512, else
/// AVX2+FMA, else portable C), so one binary runs on any x86-64 (and elsewhere).

/// The kernel paths, in the order `bp_kernels_vectorized` reports them.
enum {
    BP_PATH_PORTABLE = 0,
    BP_PATH_AVX2 = 1,
    BP_PATH_OPENBLAS = 2,
    BP_PATH_AVX512 = 3,
};

/// c = A·b, or c += A·b when accumulate, where A[i][p] = a[i*a_row + p*a_col]
/// (so a_row = k, a_col = 1 is a row-major m×k matrix and a_row = 1, a_col = lda
/// its transpose), b is k×n with rows ldb apart and c is m×n with rows ldc apart.
///
/// On the AVX2 and AVX-512 paths every element is one chain of fused multiply-adds
/// in k order, so both give the same bits, whatever part of c a call computes.
void bp_gemm_strided(const double *a, long a_row, long a_col, const double *b, long ldb, double *c, long ldc,
                     long m, long k, long n, int accumulate);

/// `bp_gemm_strided` on a given path (for tests); a path the CPU lacks falls back
/// to the next narrower one. Returns the path used.
int bp_gemm_strided_on(int path, const double *a, long a_row, long a_col, const double *b, long ldb, double *c,
                       long ldc, long m, long k, long n, int accumulate);

/// The path this process uses: BP_PATH_PORTABLE, _AVX2, _AVX512 or _OPENBLAS (the trait).
int bp_kernels_vectorized(void);

/// tanh of each of `count` doubles, in place: the same bits on every path and CPU
/// with FMA (activations.c gives the method and its error, a few units in the last place).
void bp_tanh(double *values, long count);

/// tanh of one double, the same bits as `bp_tanh` gives for it.
double bp_tanh_one(double x);

/// `bp_tanh` on a given path (for tests): BP_PATH_PORTABLE, _AVX2 or _AVX512; a path
/// the CPU lacks falls back to the next narrower one. Returns the path used.
int bp_tanh_on(int path, double *values, long count);

/// The calling thread's one slot for a reusable object (an opaque, retained pointer
/// the Swift side owns): swaps `value` in and returns what was there.
void *bp_thread_slot_exchange(void *value);

/// Sets the calling thread's nice value (Linux; elsewhere nothing). 0 on success.
int bp_set_thread_nice(int nice);

/// Makes glibc map every allocation of at least `threshold` bytes on its own and give
/// it back to the system when freed (a fixed M_MMAP_THRESHOLD). 0 on success.
int bp_return_large_blocks_to_the_system(long threshold);

/// Gives the allocator's free pages back to the system (glibc malloc_trim); 1 if any were.
int bp_release_free_memory(void);

#endif
