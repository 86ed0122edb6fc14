/* The x86-64 vector paths of the matrix product, compiled for AVX2+FMA and for
   AVX-512 with target attributes (no build flags), and chosen at run time by
   kernels.c, so the binary stays portable to any x86-64. The AVX2 path over packed
   panels of both operands (larger products) is kernels_avx2.c.

   Both keep every element of c as one chain of fused multiply-adds over p in
   order (starting from 0, or from c when accumulating), so they agree to the bit
   with each other and with any split of c across threads. */

#include "kernels_x86.h"

#ifdef BP_X86

#include <immintrin.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define BP_AVX2 __attribute__((target("avx2,fma")))
#define BP_AVX512 __attribute__((target("avx512f,avx2,fma")))

/* Each thread's block (kernels_x86.h), kept for its next product (freed with the thread). */
static pthread_key_t block_key;
static pthread_once_t block_once = PTHREAD_ONCE_INIT;
static int block_key_ok;
static void make_block_key(void) { block_key_ok = pthread_key_create(&block_key, free) == 0; }

double *thread_block(void) {
    pthread_once(&block_once, make_block_key);
    if (!block_key_ok) return NULL;
    double *block = pthread_getspecific(block_key);
    if (!block) {
        block = aligned_alloc(64, sizeof(double) * BP_THREAD_BLOCK);
        if (block && pthread_setspecific(block_key, block) != 0) {
            free(block);
            block = NULL;
        }
    }
    return block;
}

/* One element: the same p-order chain, for edges. */
BP_AVX2 static double dot_strided(const double *a, long a_col, const double *b, long ldb, long k, double start) {
    double sum = start;
    for (long p = 0; p < k; p++) sum = __builtin_fma(a[p * a_col], b[p * ldb], sum);
    return sum;
}

/* ---- AVX2: 4 rows × 8 columns of c in eight registers while p streams a column
   strip of b; a's values are broadcast. */

BP_AVX2 static void block_4x8(const double *a, long a_row, long a_col, const double *b, long ldb, double *c,
                              long ldc, long k, int accumulate) {
    __m256d c00, c01, c10, c11, c20, c21, c30, c31;
    if (accumulate) {
        c00 = _mm256_loadu_pd(c); c01 = _mm256_loadu_pd(c + 4);
        c10 = _mm256_loadu_pd(c + ldc); c11 = _mm256_loadu_pd(c + ldc + 4);
        c20 = _mm256_loadu_pd(c + 2 * ldc); c21 = _mm256_loadu_pd(c + 2 * ldc + 4);
        c30 = _mm256_loadu_pd(c + 3 * ldc); c31 = _mm256_loadu_pd(c + 3 * ldc + 4);
    } else {
        c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = _mm256_setzero_pd();
    }
    for (long p = 0; p < k; p++) {
        const double *bp = b + p * ldb;
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
    _mm256_storeu_pd(c + ldc, c10); _mm256_storeu_pd(c + ldc + 4, c11);
    _mm256_storeu_pd(c + 2 * ldc, c20); _mm256_storeu_pd(c + 2 * ldc + 4, c21);
    _mm256_storeu_pd(c + 3 * ldc, c30); _mm256_storeu_pd(c + 3 * ldc + 4, c31);
}

BP_AVX2 void gemm_avx2(const double *a, long a_row, long a_col, const double *b, long ldb, double *c, long ldc,
                       long m, long k, long n, int accumulate) {
    const long n8 = n - n % 8, m4 = m - m % 4;
    for (long j = 0; j < n8; j += 8) {
        for (long i = 0; i < m4; i += 4)
            block_4x8(a + i * a_row, a_row, a_col, b + j, ldb, c + i * ldc + j, ldc, k, accumulate);
    }
    for (long i = 0; i < m; i++) {
        const long j0 = i < m4 ? n8 : 0;
        for (long j = j0; j < n; j++)
            c[i * ldc + j] = dot_strided(a + i * a_row, a_col, b + j, ldb, k, accumulate ? c[i * ldc + j] : 0.0);
    }
}

/* ---- AVX-512: 8 rows × 16 columns of c in sixteen registers. b is first copied,
   KC rows at a time, into a contiguous 16-column panel (zero-padded at the right
   edge) that stays in L1 while every 8-row block of a passes over it; without the
   copy, b's rows (n doubles apart, often a power of two) would fall into a few
   cache sets and evict each other. A transposed a is copied too, MC rows at a time
   (pack_transposed). Columns past n are masked off, rows past the last whole block
   of 8 take the one-row kernel. */

/* MC rows of a transposed A, packed, fill the thread's block (thread_block). */
enum { KC = 256, NR = 16, MC = BP_THREAD_BLOCK / KC };

#define ROW_FMA(r)                                                      \
    s = _mm512_set1_pd(ap[(r) * a_row]);                                \
    c##r##0 = _mm512_fmadd_pd(s, b0, c##r##0);                          \
    c##r##1 = _mm512_fmadd_pd(s, b1, c##r##1);
#define ROW_LOAD(r)                                                     \
    c##r##0 = _mm512_maskz_loadu_pd(m0, c + (r) * ldc);                 \
    c##r##1 = _mm512_maskz_loadu_pd(m1, c + (r) * ldc + 8);
#define ROW_STORE(r)                                                    \
    _mm512_mask_storeu_pd(c + (r) * ldc, m0, c##r##0);                  \
    _mm512_mask_storeu_pd(c + (r) * ldc + 8, m1, c##r##1);

BP_AVX512 static void block_8x16(const double *a, long a_row, long a_col, const double *panel, long kc, double *c,
                                 long ldc, __mmask8 m0, __mmask8 m1, int load) {
    __m512d c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71;
    if (load) {
        ROW_LOAD(0) ROW_LOAD(1) ROW_LOAD(2) ROW_LOAD(3) ROW_LOAD(4) ROW_LOAD(5) ROW_LOAD(6) ROW_LOAD(7)
    } else {
        c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = _mm512_setzero_pd();
        c40 = c41 = c50 = c51 = c60 = c61 = c70 = c71 = _mm512_setzero_pd();
    }
    for (long p = 0; p < kc; p++) {
        const __m512d b0 = _mm512_load_pd(panel + p * NR), b1 = _mm512_load_pd(panel + p * NR + 8);
        const double *ap = a + p * a_col;
        __m512d s;
        ROW_FMA(0) ROW_FMA(1) ROW_FMA(2) ROW_FMA(3) ROW_FMA(4) ROW_FMA(5) ROW_FMA(6) ROW_FMA(7)
    }
    ROW_STORE(0) ROW_STORE(1) ROW_STORE(2) ROW_STORE(3) ROW_STORE(4) ROW_STORE(5) ROW_STORE(6) ROW_STORE(7)
}

BP_AVX512 static void block_1x16(const double *a, long a_col, const double *panel, long kc, double *c,
                                 __mmask8 m0, __mmask8 m1, int load) {
    __m512d c0 = load ? _mm512_maskz_loadu_pd(m0, c) : _mm512_setzero_pd();
    __m512d c1 = load ? _mm512_maskz_loadu_pd(m1, c + 8) : _mm512_setzero_pd();
    for (long p = 0; p < kc; p++) {
        const __m512d s = _mm512_set1_pd(a[p * a_col]);
        c0 = _mm512_fmadd_pd(s, _mm512_load_pd(panel + p * NR), c0);
        c1 = _mm512_fmadd_pd(s, _mm512_load_pd(panel + p * NR + 8), c1);
    }
    _mm512_mask_storeu_pd(c, m0, c0);
    _mm512_mask_storeu_pd(c + 8, m1, c1);
}

/* Copies rows [0, kc) and columns [0, width) of b into the panel, zero-padded to NR. */
BP_AVX512 static void pack_panel(const double *b, long ldb, long kc, __mmask8 m0, __mmask8 m1, double *panel) {
    for (long p = 0; p < kc; p++) {
        _mm512_store_pd(panel + p * NR, _mm512_maskz_loadu_pd(m0, b + p * ldb));
        _mm512_store_pd(panel + p * NR + 8, _mm512_maskz_loadu_pd(m1, b + p * ldb + 8));
    }
}

/* Copies rows [0, rows) (a multiple of 8) and columns [0, kc) of a transposed A (its
   rows are a's columns, so a_row = 1) into `packed`, 8 rows at a time, each block's kc
   columns in turn: packed[(r/8)·8·kc + p·8 + r%8]. Read in place, each step of the kernel
   takes its 8 values from a line a_col doubles past the last (6 KB for the 784-input
   layer's weight gradient: a new page every step or so); packed, the block is 16 KB in a
   row. The 784-1024-10 weight gradient went from 59 to 72-75 GFLOP/s on one thread. A
   plain A (its 8 rows read side by side, each in order) gained nothing, so stays in place. */
BP_AVX512 static void pack_transposed(const double *a, long a_col, long rows, long kc, double *packed) {
    for (long i = 0; i < rows; i += 8, packed += 8 * kc)
        for (long p = 0; p < kc; p++) _mm512_store_pd(packed + p * 8, _mm512_loadu_pd(a + i + p * a_col));
}

BP_AVX512 void gemm_avx512(const double *a, long a_row, long a_col, const double *b, long ldb, double *c, long ldc,
                           long m, long k, long n, int accumulate) {
    _Alignas(64) double panel[KC * NR];
    const long m8 = m - m % 8;
    if (k == 0 && !accumulate) {
        for (long i = 0; i < m; i++) memset(c + i * ldc, 0, sizeof(double) * (size_t)n);
        return;
    }
    /* The copy repays itself over many panels of b; the 784-128-10 network's gradient
       (n = 128, 8 panels) ran as fast without it. */
    double *packed = a_row == 1 && n >= 16 * NR ? thread_block() : NULL;
    for (long pc = 0; pc < k; pc += KC) {
        const long kc = k - pc < KC ? k - pc : KC;
        const int load = accumulate || pc > 0;
        const double *ak = a + pc * a_col;
        /* Blocks of MC rows when a is packed, else all (the last block also takes the
           rows past m8, one at a time). */
        const long block = packed ? MC : m8 > 0 ? m8 : 1;
        for (long ic = 0; ic < m8 || (ic == 0 && m8 == 0); ic += block) {
            const long mc = m8 - ic < block ? m8 - ic : block;
            const int last = ic + mc >= m8;
            if (packed) pack_transposed(ak + ic, a_col, mc, kc, packed);
            for (long j = 0; j < n; j += NR) {
                const long width = n - j < NR ? n - j : NR;
                const __mmask8 m0 = width >= 8 ? 0xFF : (__mmask8)((1u << width) - 1);
                const __mmask8 m1 = width >= NR ? 0xFF : width <= 8 ? 0 : (__mmask8)((1u << (width - 8)) - 1);
                pack_panel(b + pc * ldb + j, ldb, kc, m0, m1, panel);
                for (long i = 0; i < mc; i += 8) {
                    double *ci = c + (ic + i) * ldc + j;
                    if (packed) block_8x16(packed + i * kc, 1, 8, panel, kc, ci, ldc, m0, m1, load);
                    else block_8x16(ak + (ic + i) * a_row, a_row, a_col, panel, kc, ci, ldc, m0, m1, load);
                }
                if (last)
                    for (long i = m8; i < m; i++) block_1x16(ak + i * a_row, a_col, panel, kc, c + i * ldc + j, m0, m1, load);
            }
        }
    }
}

#endif
