/* The AVX2 packed path's copies (kernels_avx2.c): A into 6-row micro-panels and b
   into 8-column panels. The A block goes in the thread's block (kernels_x86.c). */

#include "kernels_avx2.h"

#ifdef BP_X86

#include <immintrin.h>

/* Rows [0, mc) and p in [0, kc) of A into micro-panels of [kc][6], zero-padded to a
   multiple of 6 rows. The two layouts BackpropCore passes (a row-major A, a_col = 1,
   and a transposed one, a_row = 1) copy with vectors; others element by element. */
BP_AVX2 void pack_a(const double *a, long a_row, long a_col, long mc, long kc, double *restrict out) {
    const long whole = mc - mc % MR;
    if (a_row == 1) {
        /* Aᵀ stored: row p of the source is contiguous, so read it once, left to right. */
        for (long p = 0; p < kc; p++) {
            const double *ap = a + p * a_col;
            double *o = out + p * MR;
            for (long i = 0; i < whole; i += MR, o += MR * kc) {
                _mm256_storeu_pd(o, _mm256_loadu_pd(ap + i));
                _mm_storeu_pd(o + 4, _mm_loadu_pd(ap + i + 4));
            }
        }
        a += whole, out += whole * kc, mc -= whole;
    } else if (a_col == 1) {
        for (long i = 0; i < whole; i += MR) {
            const double *ai = a + i * a_row;
            double *panel = out + i * kc;
            long p = 0;
            for (; p + 4 <= kc; p += 4) {
                const __m256d r0 = _mm256_loadu_pd(ai + p), r1 = _mm256_loadu_pd(ai + a_row + p);
                const __m256d r2 = _mm256_loadu_pd(ai + 2 * a_row + p), r3 = _mm256_loadu_pd(ai + 3 * a_row + p);
                const __m256d r4 = _mm256_loadu_pd(ai + 4 * a_row + p), r5 = _mm256_loadu_pd(ai + 5 * a_row + p);
                /* 4 × 4 transpose of rows 0–3; rows 4 and 5 interleave in pairs. */
                const __m256d t0 = _mm256_unpacklo_pd(r0, r1), t1 = _mm256_unpackhi_pd(r0, r1);
                const __m256d t2 = _mm256_unpacklo_pd(r2, r3), t3 = _mm256_unpackhi_pd(r2, r3);
                const __m256d u0 = _mm256_unpacklo_pd(r4, r5), u1 = _mm256_unpackhi_pd(r4, r5);
                double *o = panel + p * MR;
                _mm256_storeu_pd(o, _mm256_permute2f128_pd(t0, t2, 0x20));
                _mm_storeu_pd(o + 4, _mm256_castpd256_pd128(u0));
                _mm256_storeu_pd(o + MR, _mm256_permute2f128_pd(t1, t3, 0x20));
                _mm_storeu_pd(o + MR + 4, _mm256_castpd256_pd128(u1));
                _mm256_storeu_pd(o + 2 * MR, _mm256_permute2f128_pd(t0, t2, 0x31));
                _mm_storeu_pd(o + 2 * MR + 4, _mm256_extractf128_pd(u0, 1));
                _mm256_storeu_pd(o + 3 * MR, _mm256_permute2f128_pd(t1, t3, 0x31));
                _mm_storeu_pd(o + 3 * MR + 4, _mm256_extractf128_pd(u1, 1));
            }
            for (; p < kc; p++)
                for (long r = 0; r < MR; r++) panel[p * MR + r] = ai[r * a_row + p];
        }
        a += whole * a_row, out += whole * kc, mc -= whole;
    }
    /* Any other layout, and the last rows (zero-padded to 6), element by element. */
    for (long i = 0; i < mc; i += MR, out += MR * kc) {
        const long rows = mc - i < MR ? mc - i : MR;
        for (long p = 0; p < kc; p++)
            for (long r = 0; r < MR; r++) out[p * MR + r] = r < rows ? a[(i + r) * a_row + p * a_col] : 0.0;
    }
}

/* Rows [0, kc) and columns [0, width) of b into a [kc][8] panel, zero-padded to 8. */
BP_AVX2 void pack_b(const double *b, long ldb, long kc, long width, double *restrict panel) {
    if (width == NR) {
        for (long p = 0; p < kc; p++) {
            _mm256_store_pd(panel + p * NR, _mm256_loadu_pd(b + p * ldb));
            _mm256_store_pd(panel + p * NR + 4, _mm256_loadu_pd(b + p * ldb + 4));
        }
        return;
    }
    const __m256i lanes = _mm256_setr_epi64x(0, 1, 2, 3);
    const __m256i m0 = _mm256_cmpgt_epi64(_mm256_set1_epi64x(width), lanes);
    const __m256i m1 = _mm256_cmpgt_epi64(_mm256_set1_epi64x(width - 4), lanes);
    for (long p = 0; p < kc; p++) {
        _mm256_store_pd(panel + p * NR, _mm256_maskload_pd(b + p * ldb, m0));
        _mm256_store_pd(panel + p * NR + 4, _mm256_maskload_pd(b + p * ldb + 4, m1));
    }
}

#endif
