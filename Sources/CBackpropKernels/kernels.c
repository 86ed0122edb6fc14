#include "CBackpropKernels.h"

#include <string.h>

#ifdef BP_OPENBLAS

/* The OpenBLAS trait: every product is one dgemm call. */
#include <cblas.h>

void bp_gemm(const double *a, const double *b, double *c, long m, long k, long n, int accumulate) {
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)k, 1.0, a, (int)k, b, (int)n,
                accumulate ? 1.0 : 0.0, c, (int)n);
}

void bp_gemm_tn(const double *a, long lda, const double *b, double *c, long m, long k, long n) {
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)m, (int)n, (int)k, 1.0, a, (int)lda, b, (int)n, 0.0, c,
                (int)n);
}

int bp_kernels_vectorized(void) { return 2; }

#else

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define BP_X86 1
#include <immintrin.h>
#endif

/* Portable paths: for each output row, the inner loop runs over contiguous memory. */

static void gemm_portable(const double *a, const double *b, double *c, long m, long k, long n, int accumulate) {
    if (!accumulate) memset(c, 0, sizeof(double) * (size_t)(m * n));
    for (long i = 0; i < m; i++) {
        double *ci = c + i * n;
        const double *ai = a + i * k;
        for (long p = 0; p < k; p++) {
            const double s = ai[p];
            const double *bp = b + p * n;
            for (long j = 0; j < n; j++) ci[j] += s * bp[j];
        }
    }
}

static void gemm_tn_portable(const double *a, long lda, const double *b, double *c, long m, long k, long n) {
    memset(c, 0, sizeof(double) * (size_t)(m * n));
    for (long p = 0; p < k; p++) {
        const double *ap = a + p * lda;
        const double *bp = b + p * n;
        for (long i = 0; i < m; i++) {
            const double s = ap[i];
            double *ci = c + i * n;
            for (long j = 0; j < n; j++) ci[j] += s * bp[j];
        }
    }
}

#ifdef BP_X86

/* AVX2+FMA paths: 4 rows × 8 columns of c live in eight registers while the
   k-loop streams a column strip of b; a's values are broadcast. Edges fall back
   to the same sum order, one element at a time. */

#define BP_AVX2 __attribute__((target("avx2,fma")))

BP_AVX2 static void block_4x8(const double *a, long a_row, long a_col, const double *b, long n,
                              double *c, long k, int accumulate) {
    __m256d c00, c01, c10, c11, c20, c21, c30, c31;
    if (accumulate) {
        c00 = _mm256_loadu_pd(c); c01 = _mm256_loadu_pd(c + 4);
        c10 = _mm256_loadu_pd(c + n); c11 = _mm256_loadu_pd(c + n + 4);
        c20 = _mm256_loadu_pd(c + 2 * n); c21 = _mm256_loadu_pd(c + 2 * n + 4);
        c30 = _mm256_loadu_pd(c + 3 * n); c31 = _mm256_loadu_pd(c + 3 * n + 4);
    } else {
        c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = _mm256_setzero_pd();
    }
    for (long p = 0; p < k; p++) {
        const double *bp = b + p * n;
        const __m256d b0 = _mm256_loadu_pd(bp), b1 = _mm256_loadu_pd(bp + 4);
        const double *ap = a + p * a_col;
        __m256d s = _mm256_broadcast_sd(ap);
        c00 = _mm256_fmadd_pd(s, b0, c00); c01 = _mm256_fmadd_pd(s, b1, c01);
        s = _mm256_broadcast_sd(ap + a_row);
        c10 = _mm256_fmadd_pd(s, b0, c10); c11 = _mm256_fmadd_pd(s, b1, c11);
        s = _mm256_broadcast_sd(ap + 2 * a_row);
        c20 = _mm256_fmadd_pd(s, b0, c20); c21 = _mm256_fmadd_pd(s, b1, c21);
        s = _mm256_broadcast_sd(ap + 3 * a_row);
        c30 = _mm256_fmadd_pd(s, b0, c30); c31 = _mm256_fmadd_pd(s, b1, c31);
    }
    _mm256_storeu_pd(c, c00); _mm256_storeu_pd(c + 4, c01);
    _mm256_storeu_pd(c + n, c10); _mm256_storeu_pd(c + n + 4, c11);
    _mm256_storeu_pd(c + 2 * n, c20); _mm256_storeu_pd(c + 2 * n + 4, c21);
    _mm256_storeu_pd(c + 3 * n, c30); _mm256_storeu_pd(c + 3 * n + 4, c31);
}

/* One element: the same k-order sum, fused like the vector lanes. */
BP_AVX2 static double dot_strided(const double *a, long a_col, const double *b, long n, long k, double start) {
    double sum = start;
    for (long p = 0; p < k; p++) sum = __builtin_fma(a[p * a_col], b[p * n], sum);
    return sum;
}

/* c (m×n) = or += A·b where A[i][p] = a[i*a_row + p*a_col]. */
BP_AVX2 static void gemm_avx2_general(const double *a, long a_row, long a_col, const double *b, double *c,
                                      long m, long k, long n, int accumulate) {
    const long n8 = n - n % 8, m4 = m - m % 4;
    for (long j = 0; j < n8; j += 8) {
        for (long i = 0; i < m4; i += 4) block_4x8(a + i * a_row, a_row, a_col, b + j, n, c + i * n + j, k, accumulate);
    }
    for (long i = 0; i < m; i++) {
        const long j0 = i < m4 ? n8 : 0;
        for (long j = j0; j < n; j++) {
            c[i * n + j] = dot_strided(a + i * a_row, a_col, b + j, n, k, accumulate ? c[i * n + j] : 0.0);
        }
    }
}

/* -1 until the first call asks the CPU; atomic, since any compute thread may be first. */
static int vectorized = -1;

static int has_avx2(void) {
    int known = __atomic_load_n(&vectorized, __ATOMIC_RELAXED);
    if (known < 0) {
        __builtin_cpu_init();
        known = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        __atomic_store_n(&vectorized, known, __ATOMIC_RELAXED);
    }
    return known;
}

void bp_gemm(const double *a, const double *b, double *c, long m, long k, long n, int accumulate) {
    if (has_avx2()) gemm_avx2_general(a, k, 1, b, c, m, k, n, accumulate);
    else gemm_portable(a, b, c, m, k, n, accumulate);
}

void bp_gemm_tn(const double *a, long lda, const double *b, double *c, long m, long k, long n) {
    if (has_avx2()) gemm_avx2_general(a, 1, lda, b, c, m, k, n, 0);
    else gemm_tn_portable(a, lda, b, c, m, k, n);
}

int bp_kernels_vectorized(void) { return has_avx2(); }

#else

void bp_gemm(const double *a, const double *b, double *c, long m, long k, long n, int accumulate) {
    gemm_portable(a, b, c, m, k, n, accumulate);
}

void bp_gemm_tn(const double *a, long lda, const double *b, double *c, long m, long k, long n) {
    gemm_tn_portable(a, lda, b, c, m, k, n);
}

int bp_kernels_vectorized(void) { return 0; }

#endif

#endif /* BP_OPENBLAS */
