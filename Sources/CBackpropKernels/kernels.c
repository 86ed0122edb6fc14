#include "CBackpropKernels.h"

#include <stdlib.h>
#include <string.h>

#include "kernels_x86.h"

/* -1 until the first call asks the CPU; atomic, since any compute thread may be first. */
static int detected = -1;

int bp_cpu_path(void) {
    int path = __atomic_load_n(&detected, __ATOMIC_RELAXED);
    if (path < 0) {
        path = BP_PATH_PORTABLE;
#ifdef BP_X86
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) path = BP_PATH_AVX2;
        if (path == BP_PATH_AVX2 && __builtin_cpu_supports("avx512f")) path = BP_PATH_AVX512;
#endif
        /* BACKPROP_KERNELS=avx2 or portable holds the process to that path or a narrower
           one: an AVX2 machine's figures measured on an AVX-512 one. */
        const char *cap = getenv("BACKPROP_KERNELS");
        if (cap && strcmp(cap, "avx2") == 0 && path > BP_PATH_AVX2) path = BP_PATH_AVX2;
        if (cap && strcmp(cap, "portable") == 0) path = BP_PATH_PORTABLE;
        __atomic_store_n(&detected, path, __ATOMIC_RELAXED);
    }
    return path;
}

#ifdef BP_OPENBLAS

/* The OpenBLAS trait: every product is one dgemm call (A's strides name a plain or
   a transposed matrix, the only two layouts BackpropCore passes). */
#include <cblas.h>

static void gemm_blas(const double *a, long a_row, long a_col, const double *b, long ldb, double *c, long ldc,
                      long m, long k, long n, int accumulate) {
    const int transposed = a_col != 1;
    cblas_dgemm(CblasRowMajor, transposed ? CblasTrans : CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)k, 1.0,
                a, (int)(transposed ? a_col : a_row), b, (int)ldb, accumulate ? 1.0 : 0.0, c, (int)ldc);
}

int bp_gemm_strided_on(int path, const double *a, long a_row, long a_col, const double *b, long ldb, double *c,
                       long ldc, long m, long k, long n, int accumulate) {
    (void)path;
    gemm_blas(a, a_row, a_col, b, ldb, c, ldc, m, k, n, accumulate);
    return BP_PATH_OPENBLAS;
}

int bp_kernels_vectorized(void) { return BP_PATH_OPENBLAS; }

#else

/* Portable path: for each output row, the inner loop runs over contiguous memory. */
static void gemm_portable(const double *a, long a_row, long a_col, const double *b, long ldb, double *c, long ldc,
                          long m, long k, long n, int accumulate) {
    for (long i = 0; i < m; i++) {
        double *ci = c + i * ldc;
        if (!accumulate) memset(ci, 0, sizeof(double) * (size_t)n);
        for (long p = 0; p < k; p++) {
            const double s = a[i * a_row + p * a_col];
            const double *bp = b + p * ldb;
            for (long j = 0; j < n; j++) ci[j] += s * bp[j];
        }
    }
}

#ifndef BP_AVX2_PACK_MIN_K
#define BP_AVX2_PACK_MIN_K 16
#endif


int bp_gemm_strided_on(int path, const double *a, long a_row, long a_col, const double *b, long ldb, double *c,
                       long ldc, long m, long k, long n, int accumulate) {
    const int available = bp_cpu_path();
    if (path == BP_PATH_OPENBLAS || path > available) path = available;
    if (m <= 0 || n <= 0) return path;
    switch (path) {
#ifdef BP_X86
    case BP_PATH_AVX512:
        /* A tiny product (the seed's 3-2-1 network) costs less without the panel
           copy; the AVX2 path gives the same bits. */
        if (m * k * n >= 4096) {
            gemm_avx512(a, a_row, a_col, b, ldb, c, ldc, m, k, n, accumulate);
            break;
        }
        /* fallthrough */
    case BP_PATH_AVX2:
        /* Packing repays its copies once the product is not tiny and b has more than a
           few rows (with k ≤ 16, as δ·Wᵀ's 10, the tile's stores dominate and the
           unpacked kernel is faster). */
        if (m * k * n >= 4096 && k > BP_AVX2_PACK_MIN_K && path == BP_PATH_AVX2) {
            gemm_avx2_packed(a, a_row, a_col, b, ldb, c, ldc, m, k, n, accumulate);
        } else {
            gemm_avx2(a, a_row, a_col, b, ldb, c, ldc, m, k, n, accumulate);
        }
        break;
#endif
    default: path = BP_PATH_PORTABLE; gemm_portable(a, a_row, a_col, b, ldb, c, ldc, m, k, n, accumulate);
    }
    return path;
}

int bp_kernels_vectorized(void) { return bp_cpu_path(); }

#endif /* BP_OPENBLAS */

void bp_gemm_strided(const double *a, long a_row, long a_col, const double *b, long ldb, double *c, long ldc,
                     long m, long k, long n, int accumulate) {
    bp_gemm_strided_on(bp_kernels_vectorized(), a, a_row, a_col, b, ldb, c, ldc, m, k, n, accumulate);
}
