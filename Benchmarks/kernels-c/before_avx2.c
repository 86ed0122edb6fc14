/* The AVX2 packed kernel as it was before issue 15 (b packed 256 rows × 8 columns,
   a read in place), kept for the harness's before/after comparison. */
#include <immintrin.h>
#include <string.h>
#define BP_AVX2 __attribute__((target("avx2,fma")))
#define gemm_avx2_packed before_gemm_avx2_packed
void before_gemm_avx2_packed(const double *a, long a_row, long a_col, const double *b, long ldb, double *c,
                             long ldc, long m, long k, long n, int accumulate);

/* ---- AVX2 over packed panels: 6 rows × 8 columns of c in twelve registers (the
   BLIS shape for 16 ymm registers: 12 accumulators, 2 for b, 1 for a's broadcast).
   b is copied KC rows at a time into a contiguous 8-column panel, zero-padded at
   the right edge, as for AVX-512 below; columns past n are masked off, rows past
   the last whole block of 6 take the one-row kernel. Every element is still one
   fused multiply-add chain in p order, continued across panels from c, so the bits
   are those of the unpacked path and of AVX-512. */

enum { KC2 = 256, NR2 = 8 };

#define ROW2_FMA(r)                                                     \
    s = _mm256_broadcast_sd(ap + (r) * a_row);                          \
    c##r##0 = _mm256_fmadd_pd(s, b0, c##r##0);                          \
    c##r##1 = _mm256_fmadd_pd(s, b1, c##r##1);
#define ROW2_LOAD(r)                                                    \
    c##r##0 = _mm256_maskload_pd(c + (r) * ldc, m0);                    \
    c##r##1 = _mm256_maskload_pd(c + (r) * ldc + 4, m1);
#define ROW2_STORE(r)                                                   \
    _mm256_maskstore_pd(c + (r) * ldc, m0, c##r##0);                    \
    _mm256_maskstore_pd(c + (r) * ldc + 4, m1, c##r##1);

BP_AVX2 static void block_6x8(const double *a, long a_row, long a_col, const double *panel, long kc, double *c,
                              long ldc, __m256i m0, __m256i m1, int load) {
    __m256d c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
    if (load) {
        ROW2_LOAD(0) ROW2_LOAD(1) ROW2_LOAD(2) ROW2_LOAD(3) ROW2_LOAD(4) ROW2_LOAD(5)
    } else {
        c00 = c01 = c10 = c11 = c20 = c21 = _mm256_setzero_pd();
        c30 = c31 = c40 = c41 = c50 = c51 = _mm256_setzero_pd();
    }
    for (long p = 0; p < kc; p++) {
        const __m256d b0 = _mm256_load_pd(panel + p * NR2), b1 = _mm256_load_pd(panel + p * NR2 + 4);
        const double *ap = a + p * a_col;
        __m256d s;
        ROW2_FMA(0) ROW2_FMA(1) ROW2_FMA(2) ROW2_FMA(3) ROW2_FMA(4) ROW2_FMA(5)
    }
    ROW2_STORE(0) ROW2_STORE(1) ROW2_STORE(2) ROW2_STORE(3) ROW2_STORE(4) ROW2_STORE(5)
}

BP_AVX2 static void block_1x8(const double *a, long a_col, const double *panel, long kc, double *c, __m256i m0,
                              __m256i m1, int load) {
    __m256d c0 = load ? _mm256_maskload_pd(c, m0) : _mm256_setzero_pd();
    __m256d c1 = load ? _mm256_maskload_pd(c + 4, m1) : _mm256_setzero_pd();
    for (long p = 0; p < kc; p++) {
        const __m256d s = _mm256_broadcast_sd(a + p * a_col);
        c0 = _mm256_fmadd_pd(s, _mm256_load_pd(panel + p * NR2), c0);
        c1 = _mm256_fmadd_pd(s, _mm256_load_pd(panel + p * NR2 + 4), c1);
    }
    _mm256_maskstore_pd(c, m0, c0);
    _mm256_maskstore_pd(c + 4, m1, c1);
}

/* Copies rows [0, kc) of b's masked columns into the panel, zero-padded to NR2. */
BP_AVX2 static void pack_panel_avx2(const double *b, long ldb, long kc, __m256i m0, __m256i m1, double *panel) {
    for (long p = 0; p < kc; p++) {
        _mm256_store_pd(panel + p * NR2, _mm256_maskload_pd(b + p * ldb, m0));
        _mm256_store_pd(panel + p * NR2 + 4, _mm256_maskload_pd(b + p * ldb + 4, m1));
    }
}

BP_AVX2 void gemm_avx2_packed(const double *a, long a_row, long a_col, const double *b, long ldb, double *c,
                              long ldc, long m, long k, long n, int accumulate) {
    _Alignas(32) double panel[KC2 * NR2];
    const long m6 = m - m % 6;
    const __m256i lanes = _mm256_setr_epi64x(0, 1, 2, 3);
    if (k == 0 && !accumulate) {
        for (long i = 0; i < m; i++) memset(c + i * ldc, 0, sizeof(double) * (size_t)n);
        return;
    }
    for (long pc = 0; pc < k; pc += KC2) {
        const long kc = k - pc < KC2 ? k - pc : KC2;
        const int load = accumulate || pc > 0;
        const double *ak = a + pc * a_col;
        for (long j = 0; j < n; j += NR2) {
            const long width = n - j < NR2 ? n - j : NR2;
            const __m256i m0 = _mm256_cmpgt_epi64(_mm256_set1_epi64x(width), lanes);
            const __m256i m1 = _mm256_cmpgt_epi64(_mm256_set1_epi64x(width - 4), lanes);
            pack_panel_avx2(b + pc * ldb + j, ldb, kc, m0, m1, panel);
            for (long i = 0; i < m6; i += 6)
                block_6x8(ak + i * a_row, a_row, a_col, panel, kc, c + i * ldc + j, ldc, m0, m1, load);
            for (long i = m6; i < m; i++) block_1x8(ak + i * a_row, a_col, panel, kc, c + i * ldc + j, m0, m1, load);
        }
    }
}

