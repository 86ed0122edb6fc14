/* Decimal to binary: the double nearest to w × 10^q for a 64-bit significand w, by
 * Eisel–Lemire (Lemire, "Number Parsing at a Gigabyte per Second", Software: Practice
 * and Experience 51(8), 2021; the same algorithm as fast_float's and Go's strconv).
 *
 * 10^q is known to 128 bits (t, rounded down, from parse_tables.c). With w shifted so
 * its top bit is set, the top 64 bits of w × t's high half hold the double's 53
 * significand bits, a rounding bit and 9 more. When those 9 bits are all ones the
 * truncated low half of 10^q could still carry into them, so the low word of t is
 * multiplied in too; if even then a carry cannot be ruled out, the function gives up.
 * It also gives up when the product sits exactly on a halfway point (the truncation
 * could hide whether it is above or below), and for results that would be subnormal
 * or infinite. The caller sends those rare cases to strtod. Everything else is the
 * correctly rounded double, ties to even. */

#include "CBackpropJSON.h"
#include "parse_internal.h"

#include <string.h>

__extension__ typedef unsigned __int128 bp_parse_u128;

static inline void multiply(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo) {
    const bp_parse_u128 product = (bp_parse_u128)a * b;
    *hi = (uint64_t)(product >> 64);
    *lo = (uint64_t)product;
}

int bp_parse_decimal(uint64_t w, int q, int negative, double *out) {
    if (w == 0 || q < BP_PARSE_POW10_MIN || q > BP_PARSE_POW10_MAX) return 0;
    const int zeros = __builtin_clzll(w);
    w <<= zeros;
    const uint64_t *t = bp_parse_pow10[q - BP_PARSE_POW10_MIN];

    uint64_t hi, lo;
    multiply(w, t[0], &hi, &lo);
    if ((hi & 0x1FF) == 0x1FF && lo + w < lo) {
        /* The 9 bits below the rounding bit are all ones and w × (t's low word) could
           carry into them: take that product into account. */
        uint64_t next_hi, next_lo;
        multiply(w, t[1], &next_hi, &next_lo);
        const uint64_t merged_lo = lo + next_hi;
        const uint64_t merged_hi = hi + (merged_lo < lo);
        if ((merged_hi & 0x1FF) == 0x1FF && merged_lo == UINT64_MAX && next_lo + w < next_lo) return 0;
        hi = merged_hi;
        lo = merged_lo;
    }

    /* Keep 54 bits: the 53 of the double and the rounding bit. */
    const uint64_t top = hi >> 63;
    uint64_t significand = hi >> (top + 9);
    /* floor(q × log2(10)) + 64 + 1023 - zeros, less one if the product's top bit was clear. */
    const int64_t q_log2 = ((int64_t)q * 217706) >> 16;
    int64_t biased = q_log2 + 64 + 1023 - zeros - (int64_t)(1 ^ top);

    /* Exactly halfway in the bits we see, and the truncated tail unknown: give up. */
    if (lo == 0 && (hi & 0x1FF) == 0 && (significand & 3) == 1) return 0;

    significand += significand & 1;
    significand >>= 1;
    if (significand >> 53) { /* rounding carried into a new bit */
        significand >>= 1;
        biased += 1;
    }
    if (biased <= 0 || biased >= 0x7FF) return 0; /* subnormal, zero or infinite */

    uint64_t bits = ((uint64_t)biased << 52) | (significand & 0x000FFFFFFFFFFFFFULL);
    if (negative) bits |= 0x8000000000000000ULL;
    memcpy(out, &bits, sizeof bits);
    return 1;
}
