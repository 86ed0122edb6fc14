#include "CBackpropKernels.h"
#include "kernels_x86.h"

#include <math.h>
#include <stdint.h>

/* tanh over arrays of doubles, the same bits on every path.

   tanh(x) = sign(x) · e/(e + 2), with e = expm1(2|x|) = 2^k·(1 + p) − 1, where
   2|x| = k·ln 2 + r, |r| ≤ ln 2 / 2, and p = expm1(r) by its Taylor series to r^13
   (the first term left out, r^14/14!, is under 5e-18). Past |x| = 20 tanh rounds to ±1.
   Every step is one IEEE operation (k rounded to nearest, even on ties; r and p with
   fused multiply-adds; 2^k built from its exponent bits), done in the same order by
   the scalar code and by each lane of the AVX2 and AVX-512 code: the same bits on
   every path. Its
   error against the exact tanh is a few units in the last place (TanhKernelTests
   bound it against libm's). */

#define BP_TANH_LIMIT 40.0 /* 2|x| past which tanh(x) rounds to ±1 */
static const double inv_ln2 = 1.4426950408889634;
static const double ln2_hi = 6.93147180369123816490e-01; /* ln 2 in 32 bits, so k·ln2_hi is exact */
static const double ln2_lo = 1.90821492927058770002e-10; /* ln 2 − ln2_hi */
/* 1/n! for n = 13 down to 2 */
static const double inverse_factorials[12] = {
    1.0 / 6227020800.0, 1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0, 1.0 / 40320.0,
    1.0 / 5040.0,       1.0 / 720.0,       1.0 / 120.0,      1.0 / 24.0,      1.0 / 6.0,      0.5,
};

double bp_tanh_one(double x) {
    if (isnan(x)) return x;
    const double y = fabs(x) + fabs(x);
    if (y > BP_TANH_LIMIT) return copysign(1.0, x);
    const double k = nearbyint(y * inv_ln2);
    double r = fma(-k, ln2_hi, y);
    r = fma(-k, ln2_lo, r);
    double q = inverse_factorials[0];
    for (int i = 1; i < 12; i++) q = fma(q, r, inverse_factorials[i]);
    const double p = fma(r * r, q, r);
    const double s = ldexp(1.0, (int)k);
    const double e = fma(s, p, s - 1.0);
    return copysign(e / (e + 2.0), x);
}

static void tanh_portable(double *values, long count) {
    for (long i = 0; i < count; i++) values[i] = bp_tanh_one(values[i]);
}

#ifdef BP_X86
#include <immintrin.h>

/* One vector of four: each lane the scalar code's operations, in its order. */
__attribute__((target("avx2,fma"), always_inline)) static inline __m256d tanh4(__m256d x) {
    const __m256d sign = _mm256_set1_pd(-0.0);
    const __m256d limit = _mm256_set1_pd(BP_TANH_LIMIT);
    const __m256d a = _mm256_andnot_pd(sign, x);
    const __m256d y = _mm256_add_pd(a, a);
    const __m256d yc = _mm256_min_pd(y, limit); /* NaN lanes become the limit; blended below */
    const __m256d k =
        _mm256_round_pd(_mm256_mul_pd(yc, _mm256_set1_pd(inv_ln2)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256d r = _mm256_fnmadd_pd(k, _mm256_set1_pd(ln2_hi), yc);
    r = _mm256_fnmadd_pd(k, _mm256_set1_pd(ln2_lo), r);
    __m256d q = _mm256_set1_pd(inverse_factorials[0]);
    for (int j = 1; j < 12; j++) q = _mm256_fmadd_pd(q, r, _mm256_set1_pd(inverse_factorials[j]));
    const __m256d p = _mm256_fmadd_pd(_mm256_mul_pd(r, r), q, r);
    /* 0 ≤ k ≤ 58: k + 2^52 + 1023 holds k + 1023 in its low bits; shifted, the exponent of 2^k. */
    const __m256d biased = _mm256_add_pd(k, _mm256_set1_pd(4503599627370496.0 + 1023.0));
    const __m256d s = _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_castpd_si256(biased), 52));
    const __m256d e = _mm256_fmadd_pd(s, p, _mm256_sub_pd(s, _mm256_set1_pd(1.0)));
    __m256d t = _mm256_div_pd(e, _mm256_add_pd(e, _mm256_set1_pd(2.0)));
    t = _mm256_blendv_pd(t, _mm256_set1_pd(1.0), _mm256_cmp_pd(y, limit, _CMP_GT_OQ));
    t = _mm256_or_pd(t, _mm256_and_pd(x, sign));
    return _mm256_blendv_pd(t, x, _mm256_cmp_pd(x, x, _CMP_UNORD_Q));
}

__attribute__((target("avx2,fma"))) static void tanh_avx2(double *values, long count) {
    long i = 0;
    for (; i + 8 <= count; i += 8) { /* two independent chains, to overlap their latencies */
        const __m256d t0 = tanh4(_mm256_loadu_pd(values + i));
        const __m256d t1 = tanh4(_mm256_loadu_pd(values + i + 4));
        _mm256_storeu_pd(values + i, t0);
        _mm256_storeu_pd(values + i + 4, t1);
    }
    for (; i + 4 <= count; i += 4) _mm256_storeu_pd(values + i, tanh4(_mm256_loadu_pd(values + i)));
    tanh_portable(values + i, count - i);
}

/* The same with eight lanes (AVX-512F). */
__attribute__((target("avx512f"), always_inline)) static inline __m512d tanh8(__m512d x) {
    const __m512d limit = _mm512_set1_pd(BP_TANH_LIMIT);
    const __m512d a = _mm512_abs_pd(x);
    const __m512d y = _mm512_add_pd(a, a);
    const __m512d yc = _mm512_min_pd(y, limit);
    const __m512d k = _mm512_roundscale_pd(_mm512_mul_pd(yc, _mm512_set1_pd(inv_ln2)),
                                           _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512d r = _mm512_fnmadd_pd(k, _mm512_set1_pd(ln2_hi), yc);
    r = _mm512_fnmadd_pd(k, _mm512_set1_pd(ln2_lo), r);
    __m512d q = _mm512_set1_pd(inverse_factorials[0]);
    for (int j = 1; j < 12; j++) q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(inverse_factorials[j]));
    const __m512d p = _mm512_fmadd_pd(_mm512_mul_pd(r, r), q, r);
    const __m512d biased = _mm512_add_pd(k, _mm512_set1_pd(4503599627370496.0 + 1023.0));
    const __m512d s = _mm512_castsi512_pd(_mm512_slli_epi64(_mm512_castpd_si512(biased), 52));
    const __m512d e = _mm512_fmadd_pd(s, p, _mm512_sub_pd(s, _mm512_set1_pd(1.0)));
    __m512d t = _mm512_div_pd(e, _mm512_add_pd(e, _mm512_set1_pd(2.0)));
    t = _mm512_mask_blend_pd(_mm512_cmp_pd_mask(y, limit, _CMP_GT_OQ), t, _mm512_set1_pd(1.0));
    const __m512i sign = _mm512_set1_epi64((long long)0x8000000000000000ULL);
    t = _mm512_castsi512_pd(_mm512_or_si512(_mm512_castpd_si512(t), _mm512_and_si512(_mm512_castpd_si512(x), sign)));
    return _mm512_mask_blend_pd(_mm512_cmp_pd_mask(x, x, _CMP_UNORD_Q), t, x);
}

__attribute__((target("avx512f"))) static void tanh_avx512(double *values, long count) {
    long i = 0;
    for (; i + 16 <= count; i += 16) {
        const __m512d t0 = tanh8(_mm512_loadu_pd(values + i));
        const __m512d t1 = tanh8(_mm512_loadu_pd(values + i + 8));
        _mm512_storeu_pd(values + i, t0);
        _mm512_storeu_pd(values + i + 8, t1);
    }
    for (; i + 8 <= count; i += 8) _mm512_storeu_pd(values + i, tanh8(_mm512_loadu_pd(values + i)));
    tanh_portable(values + i, count - i);
}

#endif

int bp_tanh_on(int path, double *values, long count) {
#ifdef BP_X86
    const int available = bp_cpu_path();
    if (path == BP_PATH_AVX512 && available == BP_PATH_AVX512) {
        tanh_avx512(values, count);
        return BP_PATH_AVX512;
    }
    if (path != BP_PATH_PORTABLE && available >= BP_PATH_AVX2) {
        tanh_avx2(values, count);
        return BP_PATH_AVX2;
    }
#else
    (void)path;
#endif
    tanh_portable(values, count);
    return BP_PATH_PORTABLE;
}

void bp_tanh(double *values, long count) { bp_tanh_on(BP_PATH_AVX512, values, count); }
