/* bp_format_double's reference path: Schubfach as the paper has it, right for
   every finite value. dtoa.c uses it for zero, subnormals and powers of two. */

#include "dtoa_internal.h"

/* The top 64 bits of g * cp / 2^64, with the lowest bit set when any of the 64
   bits below them are: the paper's rop(g, cp), "round to odd". */
static inline uint64_t round_to_odd(const uint64_t g[2], uint64_t cp) {
    const bp_u128 low = (bp_u128)g[1] * cp;
    const bp_u128 y = (bp_u128)g[0] * cp + (uint64_t)(low >> 64);
    return (uint64_t)(y >> 64) | ((uint64_t)y != 0);
}

/* d × 10^*e with the trailing zeros of d moved into *e (0 < d < 10^17). */
static inline uint64_t strip_zeros(uint64_t d, int *e) {
    if (d % 10 != 0) return d;
    if (d % 100000000 == 0) {
        d /= 100000000;
        *e += 8;
        if (d % 100000000 == 0) { d /= 100000000; *e += 8; }
    }
    if (d % 10000 == 0) { d /= 10000; *e += 4; }
    if (d % 100 == 0) { d /= 100; *e += 2; }
    if (d % 10 == 0) { d /= 10; *e += 1; }
    return d;
}

int bp_dtoa_format_general(double value, char *out) {
    uint64_t bits;
    memcpy(&bits, &value, sizeof bits);
    out[0] = '-';
    char *p = out + (bits >> 63); /* keeps the "-" only for a set sign bit */
    const uint64_t magnitude = bits & ~(1ULL << 63);
    const uint64_t fraction = bits & ((1ULL << 52) - 1);
    const int biased_exponent = (int)(magnitude >> 52);
    if (magnitude == 0) {
        memcpy(p, "0.0", 3);
        return (int)(p - out) + 3;
    }

    /* value = ±c × 2^q */
    uint64_t c;
    int32_t q;
    if (biased_exponent != 0) {
        c = fraction | (1ULL << 52);
        q = biased_exponent - 1075;
        if (q <= 0 && q >= -52 && (c & ((1ULL << -q) - 1)) == 0) {
            /* An integer below 2^53: its own digits are the shortest; then ".0". */
            const uint64_t integer = c >> -q;
            const int n = decimal_length(integer);
            write_digits(p, integer, n);
            memcpy(p + n, ".0", 2);
            return (int)(p - out) + n + 2;
        }
    } else {
        c = fraction;
        q = -1074;
    }

    /* Schubfach. The rounding interval of c × 2^q is [c - 1/2, c + 1/2] × 2^q (its
       lower end at c - 1/4 when c is a power of two above the next smaller binade),
       ends included when c is even. vb, lower and upper are 4 × 10^-k times the
       value and the two ends, rounded to odd (lower and upper then nudged inwards
       when the ends are excluded), with k chosen so that s = floor(vb / 4) has 16
       or 17 digits (fewer for subnormals). */
    const int even = (c & 1) == 0;
    const int closer = fraction == 0 && biased_exponent > 1;
    const int32_t k = floor_shift(q * 1262611 - (closer ? 524031 : 0), 22); /* floor(log10(2^q)), or of 3/4 2^q */
    const int h = q + floor_shift(-k * 1741647, 19) + 1;                      /* q + floor(log2(10^-k)) + 1, in 1..4 */
    const uint64_t *g = bp_dtoa_pow10[-k - BP_DTOA_POW10_MIN];
    const uint64_t cb = c << 2;
    const uint64_t vb = round_to_odd(g, cb << h);
    const uint64_t lower = round_to_odd(g, (cb - 2 + (uint64_t)closer) << h) + (uint64_t)!even;
    const uint64_t upper = round_to_odd(g, (cb + 2) << h) - (uint64_t)!even;

    const uint64_t s = vb >> 2;
    const uint64_t sp = s / 10;
    const int up_inside = lower <= 40 * sp;      /* u' = 10 sp */
    const int wp_inside = 40 * sp + 40 <= upper; /* w' = 10 sp + 10 */
    uint64_t digits;
    int exponent = k;
    if (s >= 10 && up_inside != wp_inside) {
        /* One digit fewer (at most one of u', w' is ever inside). */
        digits = strip_zeros(sp + (uint64_t)wp_inside, &exponent);
        exponent += 1;
    } else {
        /* s or s + 1, whichever is inside; the closer one (ties to even) when both
           are. Branch-free: for random input this choice is a coin toss. */
        const int u_inside = lower <= 4 * s;
        const int w_inside = 4 * s + 4 <= upper;
        const uint64_t mid = 4 * s + 2;
        const int round_up = (vb > mid) | ((vb == mid) & (int)(s & 1));
        const int one_inside = u_inside ^ w_inside;
        digits = s + (uint64_t)((one_inside & w_inside) | (~one_inside & round_up));
        /* No trailing zeros here, except 10 from a tiny subnormal's single digit. */
        if (digits == 10) {
            digits = 1;
            exponent += 1;
        }
    }

    /* The text, in Swift's form (see the top of this file). */
    const int n = decimal_length(digits);
    const int e10 = exponent + n - 1; /* value = d1.d2...dn × 10^e10 */
    if (e10 < -4 || magnitude > 0x4340000000000000ULL /* 2^53 */) {
        write_digits(p + 1, digits, n);
        p[0] = p[1];
        p[1] = '.';
        char *e = p + n + 1 - (n == 1); /* "1e+16": no "." */
        e[0] = 'e';
        e[1] = e10 < 0 ? '-' : '+';
        const unsigned x = (unsigned)(e10 < 0 ? -e10 : e10);
        const unsigned hundreds = x / 100, three = x >= 100;
        e[2] = (char)('0' + hundreds); /* overwritten next when x < 100 */
        memcpy(e + 2 + three, two_digits + 2 * (x - 100 * hundreds), 2);
        return (int)(e + 4 + three - out);
    }
    if (e10 < 0) { /* 0.000ddd */
        memcpy(p, "0.000000", 8);
        write_digits(p + 1 - e10, digits, n);
        return (int)(p - out) + 1 - e10 + n;
    }
    write_digits(p, digits, n);
    if (e10 + 1 < n) { /* ddd.ddd: move the fraction one byte right (fixed-size copies) */
        char *fraction_start = p + e10 + 1;
        if (n - e10 - 1 <= 8) {
            uint64_t t;
            memcpy(&t, fraction_start, 8);
            memcpy(fraction_start + 1, &t, 8);
        } else {
            char t[16];
            memcpy(t, fraction_start, 16);
            memcpy(fraction_start + 1, t, 16);
        }
        *fraction_start = '.';
        return (int)(p - out) + n + 1;
    }
    /* ddd000.0 */
    memcpy(p + n, "00000000", 8);
    if (e10 + 1 - n > 8) memcpy(p + n + 8, "00000000", 8);
    memcpy(p + e10 + 1, ".0", 2);
    return (int)(p - out) + e10 + 3;
}
