/*
 * bp_format_double: the shortest round-trip decimal text of a double, byte for byte
 * as Swift's Double.description writes it.
 *
 * Digits: Schubfach, from Raffaello Giulietti, "The Schubfach way to render doubles"
 * (2020, revised 2022; https://drive.google.com/open?id=1luHhyQF9zKlM8yJ1nebU0OgVYhfC6CBN),
 * the algorithm behind java.lang.Double.toString since JDK 19. It yields the shortest
 * digit string that parses back to the same double and, among equally short ones,
 * the one closest to the exact value (ties to an even last digit): the digits of
 * Ryu, Dragonbox and Swift's own formatter. The 128-bit powers of ten come from
 * generate_dtoa_tables.py (dtoa_tables.h). Departures from the paper: table entries
 * of 128 bits rather than 126; no two-digit minimum for the smallest subnormals
 * (Swift prints 5e-324 where Java prints 4.9E-324); integers below 2^53 print their
 * own digits directly (they are the shortest).
 *
 * Text (Swift's finishFormatting in stdlib FloatingPointToString.swift), for the
 * digits d1 d2 ... dn (d1 != 0, dn != 0) of value = d1.d2...dn × 10^E:
 *   ±0                              "0.0", "-0.0"
 *   E < -4 or |value| > 2^53        "d1.d2...dne+EE": "e", the exponent's sign, at least
 *                                   two exponent digits; no "." when n == 1 ("1e+16")
 *   -4 <= E < 0                     "0.000d1...dn"
 *   0 <= E < n - 1                  "d1...d(E+1).d(E+2)...dn"
 *   n - 1 <= E (so E <= 15)         "d1...dn000.0"
 * with a leading "-" when the sign bit is set.
 *
 * Needs unsigned __int128 and __builtin_clzll/__builtin_bswap64 (clang, gcc). No
 * state, no allocation: thread-safe.
 */

#include "CBackpropKernels.h"

#include <stdint.h>
#include <string.h>

#include "dtoa_tables.h"

__extension__ typedef unsigned __int128 bp_u128;

/* floor(x / 2^n), without relying on >> of a negative int. */
static inline int32_t floor_shift(int32_t x, int n) { return x >= 0 ? x >> n : ~(~x >> n); }

/* The top 64 bits of g * cp / 2^64, with the lowest bit set when any of the 64
   bits below them are: the paper's rop(g, cp), "round to odd". */
static inline uint64_t round_to_odd(const uint64_t g[2], uint64_t cp) {
    const bp_u128 low = (bp_u128)g[1] * cp;
    const bp_u128 y = (bp_u128)g[0] * cp + (uint64_t)(low >> 64);
    return (uint64_t)(y >> 64) | ((uint64_t)y != 0);
}

/* The 8 decimal digits of x < 10^8 in ASCII, the first digit in the lowest byte.
   SWAR: split into 2 × 4, 4 × 2, then 8 × 1 digits, each quotient landing in the
   upper half of its lane (lane + q × (2^w - divisor)), then reverse the bytes. */
static inline uint64_t eight_digits(uint32_t x) {
    const uint64_t q4 = x / 10000;
    const uint64_t fours = x + q4 * ((1ULL << 32) - 10000);
    const uint64_t q2 = ((fours * 10486) >> 20) & 0x0000007F0000007FULL; /* each lane / 100 */
    const uint64_t pairs = fours + q2 * ((1ULL << 16) - 100);
    const uint64_t q1 = ((pairs * 103) >> 10) & 0x000F000F000F000FULL; /* each lane / 10 */
    const uint64_t singles = pairs + q1 * ((1ULL << 8) - 10);           /* last digit lowest */
    return __builtin_bswap64(singles) + 0x3030303030303030ULL;
}

/* Stores 8 bytes, the lowest-valued byte first, on either byte order. */
static inline void store8(char *p, uint64_t bytes) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    bytes = __builtin_bswap64(bytes);
#endif
    memcpy(p, &bytes, 8);
}

/* Writes the n digits of d (10^(n-1) <= d < 10^n, n <= 17) at p; when n < 8 it
   also writes 8 - n scratch bytes after them. */
static inline void write_digits(char *p, uint64_t d, int n) {
    if (n <= 8) {
        store8(p, eight_digits((uint32_t)d) >> (8 * (8 - n)));
        return;
    }
    const uint64_t high = d / 100000000; /* n - 8 digits */
    const uint32_t low = (uint32_t)(d - high * 100000000);
    const uint32_t first = (uint32_t)(high / 100000000); /* nonzero only when n == 17 */
    const uint32_t middle = (uint32_t)(high - (uint64_t)first * 100000000);
    const int seventeen = n == 17;
    p[0] = (char)('0' + first); /* overwritten next unless n == 17 */
    store8(p + seventeen, eight_digits(middle) >> (8 * (16 - n + seventeen)));
    store8(p + n - 8, eight_digits(low));
}

/* The number of decimal digits of d, 1 <= d < 10^17. */
static inline int decimal_length(uint64_t d) {
    static const uint64_t powers_of_10[18] = {
        1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL, 100000000ULL,
        1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL, 10000000000000ULL,
        100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL, 100000000000000000ULL,
    };
    const int t = ((64 - __builtin_clzll(d)) * 1233) >> 12; /* floor(log10(2^bits)) */
    return t + (d >= powers_of_10[t]);
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

static const char two_digits[201] = "0001020304050607080910111213141516171819"
                                    "2021222324252627282930313233343536373839"
                                    "4041424344454647484950515253545556575859"
                                    "6061626364656667686970717273747576777879"
                                    "8081828384858687888990919293949596979899";

int bp_format_double(double value, char *out) {
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

/* JSON's form of a number: as bp_format_double, but an integral value below 10^15
   without its ".0" ("2", "-0"), as JSONWriter writes them. Only integers below
   2^53 end in ".0" (shortest digits never end in a zero otherwise). */
static inline int format_json_number(double value, char *out) {
    const int n = bp_format_double(value, out);
    const double magnitude = value < 0 ? -value : value;
    return n - 2 * (magnitude < 1e15 && out[n - 1] == '0' && out[n - 2] == '.');
}

int bp_format_json_number(double value, char *out) { return format_json_number(value, out); }

long bp_format_json_numbers(const double *values, long count, int spaced, char *out) {
    char *p = out;
    for (long i = 0; i < count; i++) {
        if (i > 0) {
            p[0] = ',';
            p[1] = ' ';
            p += 1 + spaced;
        }
        p += format_json_number(values[i], p);
    }
    return p - out;
}
