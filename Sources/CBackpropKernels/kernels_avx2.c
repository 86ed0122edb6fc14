/* The AVX2+FMA path over packed panels of both operands, BLIS style (issue 15).

   A block of MC rows × KC values of p of A is copied into micro-panels of 6 rows
   with p contiguous ([p][6]), zero-padded below the last row; an 8-column strip of
   b's same KC rows is copied into a [p][8] panel, zero-padded right of the last
   column. The micro-kernel keeps a 6 × 8 tile of c in twelve registers (two more
   for b, one for a's broadcast) while p streams both panels: the b panel stays in
   L1 while every micro-panel of the A block (in L2) passes over it.

   Every element of c is still one chain of fused multiply-adds over p in order,
   starting from 0 (or from c when accumulating) and continued across KC blocks
   by storing the tile to c and loading it back; so the bits are those of the
   unpacked AVX2 path, of AVX-512 and of any split of c across threads.

   Where a copy would not repay itself, A is read in place: Aᵀ (a_row = 1) always,
   a row-major A when n ≤ 16; the first tile of each strip copies b as it multiplies,
   and a row-major A is copied by the first strip's tiles. Tiles cut by c's right
   edge mask their loads and stores; tiles of 1–3 or 5 rows run on a local copy. */

#include "kernels_avx2.h"

#ifdef BP_X86

#include <immintrin.h>
#include <string.h>

#define TILE_LOAD(r)                                                                   \
    c##r##0 = masked ? _mm256_maskload_pd(c + (r) * ldc, m0) : _mm256_loadu_pd(c + (r) * ldc); \
    c##r##1 = masked ? _mm256_maskload_pd(c + (r) * ldc + 4, m1) : _mm256_loadu_pd(c + (r) * ldc + 4);
#define TILE_STORE(r)                                                                  \
    if (masked) {                                                                      \
        _mm256_maskstore_pd(c + (r) * ldc, m0, c##r##0);                               \
        _mm256_maskstore_pd(c + (r) * ldc + 4, m1, c##r##1);                           \
    } else {                                                                           \
        _mm256_storeu_pd(c + (r) * ldc, c##r##0);                                      \
        _mm256_storeu_pd(c + (r) * ldc + 4, c##r##1);                                  \
    }
#define TILE_FMA(r, q)                                                  \
    s = _mm256_broadcast_sd(ap + (q) * as + (r) * rs);                  \
    if (packa) _mm_store_sd(ao + (q) * MR + (r), _mm256_castpd256_pd128(s)); \
    c##r##0 = _mm256_fmadd_pd(s, b0, c##r##0);                          \
    if (!half) c##r##1 = _mm256_fmadd_pd(s, b1, c##r##1);
#define ZERO _mm256_setzero_si256()
#define TILE_LOAD_R(r, q) TILE_LOAD(r)
#define TILE_STORE_R(r, q) TILE_STORE(r)
#define STEP(ROW_LIST, q)                                                                                      \
    if (pack) {                                                                                                \
        b0 = _mm256_loadu_pd(bs + (q) * ldb);                                                                  \
        b1 = _mm256_loadu_pd(bs + (q) * ldb + 4);                                                              \
        _mm256_store_pd(bp + (q) * NR, b0);                                                                    \
        _mm256_store_pd(bp + (q) * NR + 4, b1);                                                                \
    } else {                                                                                                   \
        b0 = _mm256_load_pd(bp + (q) * NR);                                                                    \
        if (!half) b1 = _mm256_load_pd(bp + (q) * NR + 4);                                                     \
    }                                                                                                          \
    ROW_LIST##_Q(TILE_FMA, q)
#define ROWS6(X) X(0, 0) X(1, 0) X(2, 0) X(3, 0) X(4, 0) X(5, 0)
#define ROWS4(X) X(0, 0) X(1, 0) X(2, 0) X(3, 0)
#define ROWS6_Q(X, q) X(0, q) X(1, q) X(2, q) X(3, q) X(4, q) X(5, q)
#define ROWS4_Q(X, q) X(0, q) X(1, q) X(2, q) X(3, q)

/* A ROWS × 8 tile of c (rows ldc apart) = its old value (load) or 0, then the kc
   steps, A[r][p] at ap[r·rs + p·as]; ROWS is 6 (twelve accumulators) or 4, for the
   last rows of the 64 or 784 that a multiple of 6 leaves. Each is inlined into two
   kernels: rs = 1 (a packed micro-panel, as = 6, or Aᵀ in place, as = a_col) and
   as = 1 (A's rows in place, rs = a_row). */
#define MICRO(ROWS, ROW_LIST)                                                                                   \
    BP_AVX2 static inline __attribute__((always_inline)) void micro_##ROWS(                                    \
        long kc, const double *restrict ap, long rs, long as, double *restrict bp, const double *restrict bs,   \
        long ldb, int pack, double *restrict ao, int packa, int half, double *c, long ldc, int load,            \
        int masked, __m256i m0, __m256i m1) {                                                                  \
        __m256d c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, b0, b1 = _mm256_setzero_pd(), s;   \
        (void)c40, (void)c41, (void)c50, (void)c51;                                                            \
        if (load) {                                                                                            \
            ROW_LIST(TILE_LOAD_R)                                                                              \
        } else {                                                                                               \
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = _mm256_setzero_pd();       \
        }                                                                                                      \
        long p = 0;                                                                                            \
        for (; p + 4 <= kc; p += 4) {                                                                          \
            STEP(ROW_LIST, 0) STEP(ROW_LIST, 1) STEP(ROW_LIST, 2) STEP(ROW_LIST, 3)                            \
            ap += 4 * as;                                                                                      \
            bp += 4 * NR;                                                                                      \
            bs += 4 * ldb;                                                                                     \
            ao += 4 * MR;                                                                                      \
        }                                                                                                      \
        for (; p < kc; p++) {                                                                                  \
            STEP(ROW_LIST, 0)                                                                                  \
            ap += as;                                                                                          \
            bp += NR;                                                                                          \
            bs += ldb;                                                                                         \
            ao += MR;                                                                                          \
        }                                                                                                      \
        ROW_LIST(TILE_STORE_R)                                                                                 \
    }                                                                                                          \
    BP_AVX2 static void micro_##ROWS##x8(long kc, const double *ap, long as, const double *bp, double *c,      \
                                         long ldc, int load) {                                                 \
        micro_##ROWS(kc, ap, 1, as, (double *)bp, NULL, 0, 0, NULL, 0, 0, c, ldc, load, 0, ZERO, ZERO); \
    }                                                                                                          \
    BP_AVX2 static void micro_##ROWS##x8_rows(long kc, const double *ap, long rs, const double *bp, double *c, \
                                              long ldc, int load) {                                            \
        micro_##ROWS(kc, ap, rs, 1, (double *)bp, NULL, 0, 0, NULL, 0, 0, c, ldc, load, 0, ZERO, ZERO); \
    }

MICRO(6, ROWS6)
MICRO(4, ROWS4)

/* The first 6-row tile of each 8-column strip also copies b's rows into the panel
   as it goes (the copy's loads overlap the tile's multiply-adds). */
BP_AVX2 static void micro_6x8_packing(long kc, const double *ap, long rs, long as, const double *b, long ldb,
                                      double *panel, double *c, long ldc, int load) {
    if (rs == 1)
        micro_6(kc, ap, 1, as, panel, b, ldb, 1, NULL, 0, 0, c, ldc, load, 0, ZERO, ZERO);
    else
        micro_6(kc, ap, rs, 1, panel, b, ldb, 1, NULL, 0, 0, c, ldc, load, 0, ZERO, ZERO);
}

/* A row-major A's whole 6-row tiles in the first strip: read in place, rows rs
   apart, and copied into the packed micro-panel `out` for the other strips (the
   first tile also packs b, as above). */
BP_AVX2 static void micro_6x8_packing_a(long kc, const double *ap, long rs, double *out, const double *b, long ldb,
                                        double *panel, int pack_b, double *c, long ldc, int load) {
    if (pack_b)
        micro_6(kc, ap, rs, 1, panel, b, ldb, 1, out, 1, 0, c, ldc, load, 0, ZERO, ZERO);
    else
        micro_6(kc, ap, rs, 1, panel, NULL, 0, 0, out, 1, 0, c, ldc, load, 0, ZERO, ZERO);
}

/* A 6-row tile cut by c's right edge: the columns past it masked off (and for at most
   4 columns, only the left half of the multiply-adds). */
BP_AVX2 static void micro_6_cut(long kc, const double *ap, long rs, long as, const double *bp, double *c, long ldc,
                                long cols, int load) {
    const __m256i lanes = _mm256_setr_epi64x(0, 1, 2, 3);
    const __m256i m0 = _mm256_cmpgt_epi64(_mm256_set1_epi64x(cols), lanes);
    const __m256i m1 = _mm256_cmpgt_epi64(_mm256_set1_epi64x(cols - 4), lanes);
    double *b = (double *)bp;
    if (rs == 1 && cols <= 4)
        micro_6(kc, ap, 1, as, b, NULL, 0, 0, NULL, 0, 1, c, ldc, load, 1, m0, m1);
    else if (rs == 1)
        micro_6(kc, ap, 1, as, b, NULL, 0, 0, NULL, 0, 0, c, ldc, load, 1, m0, m1);
    else if (cols <= 4)
        micro_6(kc, ap, rs, 1, b, NULL, 0, 0, NULL, 0, 1, c, ldc, load, 1, m0, m1);
    else
        micro_6(kc, ap, rs, 1, b, NULL, 0, 0, NULL, 0, 0, c, ldc, load, 1, m0, m1);
}

/* A tile of 1–3 or 5 rows (from a zero-padded micro-panel, as = 6): through a local
   6 × 8 copy. */
BP_AVX2 static void micro_edge(long kc, const double *ap, long as, const double *bp, double *c, long ldc,
                               long rows, long cols, int load) {
    if (rows == MR) {
        micro_6_cut(kc, ap, 1, as, bp, c, ldc, cols, load);
        return;
    }
    _Alignas(32) double t[MR * NR] = {0};
    if (load)
        for (long r = 0; r < rows; r++) memcpy(t + r * NR, c + r * ldc, sizeof(double) * (size_t)cols);
    micro_6_cut(kc, ap, 1, as, bp, t, NR, cols, load);
    for (long r = 0; r < rows; r++) memcpy(c + r * ldc, t + r * NR, sizeof(double) * (size_t)cols);
}

BP_AVX2 void gemm_avx2_packed(const double *a, long a_row, long a_col, const double *b, long ldb, double *c,
                              long ldc, long m, long k, long n, int accumulate) {
    if (k == 0) {
        if (!accumulate)
            for (long i = 0; i < m; i++) memset(c + i * ldc, 0, sizeof(double) * (size_t)n);
        return;
    }
    /* Aᵀ stored (a_row = 1) already has each p's 6 rows side by side: the kernels read
       it in place, p a_col apart. A row-major A (a_col = 1) is packed when at least
       three 8-column panels of b reuse it, else read in place, 6 rows a_row apart.
       In place, a last block of fewer than 4 or 6 rows is copied (so no row past m
       is read). Any other A is packed. */
    enum { PACKED, TRANSPOSED, ROWS } mode = a_row == 1 ? TRANSPOSED : a_col == 1 && n <= BP_PACK_MIN_N ? ROWS : PACKED;
    double *block = mode == PACKED ? thread_block() : NULL;
    if (mode == PACKED && !block) mode = a_col == 1 ? ROWS : PACKED;
    if (mode == PACKED && !block) {
        gemm_avx2(a, a_row, a_col, b, ldb, c, ldc, m, k, n, accumulate);
        return;
    }
    _Alignas(64) double panel[KC * NR], edge[KC * MR];
    /* k in equal blocks of at most KC (784 = 4 × 196, not 3 × 256 + 16). */
    const long kblocks = (k + KC - 1) / KC, kstep = (k + kblocks - 1) / kblocks;
    for (long pc = 0; pc < k; pc += kstep) {
        const long kc = k - pc < kstep ? k - pc : kstep;
        const int load = accumulate || pc > 0;
        /* The A block holds MC × KC values: more rows when kc is short (784 × 64's
           b is then packed 3 times, not 9). */
        const long rows_max = MC * KC / kc / MR * MR;
        for (long ic = 0; ic < m; ic += rows_max) {
            const long mc = m - ic < rows_max ? m - ic : rows_max, whole = mc - mc % MR;
            const double *ak = a + ic * a_row + pc * a_col;
            /* A row-major A is packed by the first strip's kernels (but its last rows). */
            const int fuse_a = mode == PACKED && a_col == 1 && n >= NR;
            if (mode == PACKED && !fuse_a)
                pack_a(ak, a_row, a_col, mc, kc, block);
            else if (mode == PACKED && mc > whole)
                pack_a(ak + whole * a_row, a_row, a_col, mc - whole, kc, block + whole * kc);
            else if (mode != PACKED && mc > whole)
                pack_a(ak + whole * a_row, a_row, a_col, mc - whole, kc, edge);
            for (long j = 0; j < n; j += NR) {
                const long cols = n - j < NR ? n - j : NR;
                const int fuse = cols == NR && mc >= MR;
                if (!fuse) pack_b(b + pc * ldb + j, ldb, kc, cols, panel);
                for (long i = 0; i < mc; i += MR) {
                    const long rows = mc - i < MR ? mc - i : MR;
                    double *ct = c + (ic + i) * ldc + j;
                    const int direct = mode != PACKED && (rows == MR || (rows == 4 && cols == NR));
                    const double *ap = mode == PACKED ? block + i * kc : direct ? ak + i * a_row : edge;
                    if (fuse_a && j == 0 && rows == MR) {
                        micro_6x8_packing_a(kc, ak + i * a_row, a_row, block + i * kc, b + pc * ldb, ldb, panel,
                                            fuse && i == 0, ct, ldc, load);
                        continue;
                    }
                    if (fuse && i == 0) {
                        const long rs = mode == ROWS ? a_row : 1, as = mode == PACKED ? MR : mode == ROWS ? 1 : a_col;
                        micro_6x8_packing(kc, ap, rs, as, b + pc * ldb + j, ldb, panel, ct, ldc, load);
                        continue;
                    }
                    if (direct && mode == ROWS) {
                        if (rows == MR && cols == NR)
                            micro_6x8_rows(kc, ap, a_row, panel, ct, ldc, load);
                        else if (rows == 4)
                            micro_4x8_rows(kc, ap, a_row, panel, ct, ldc, load);
                        else
                            micro_6_cut(kc, ap, a_row, 1, panel, ct, ldc, cols, load);
                        continue;
                    }
                    const long as = direct ? a_col : MR;
                    if (rows == MR && cols == NR)
                        micro_6x8(kc, ap, as, panel, ct, ldc, load);
                    else if (rows == 4 && cols == NR)
                        micro_4x8(kc, ap, as, panel, ct, ldc, load);
                    else
                        micro_edge(kc, ap, as, panel, ct, ldc, rows, cols, load);
                }
            }
        }
    }
}

#endif
