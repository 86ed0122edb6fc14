/* Private to CBackpropJSON: what dtoa.c (the fast path and the API) and
   dtoa_general.c (the reference path) share. See dtoa.c for the algorithm. */

#ifndef BP_DTOA_INTERNAL_H
#define BP_DTOA_INTERNAL_H

#include <stdint.h>
#include <string.h>

/* The 128-bit powers of ten, generated into dtoa_tables.c by generate_dtoa_tables.py:
   bp_dtoa_pow10[e - BP_DTOA_POW10_MIN] = {hi, lo} of g_e = floor(10^e * 2^-r) + 1,
   r = floor(log2(10^e)) - 127, for e in [-292, 324]. */
#define BP_DTOA_POW10_MIN (-292)
__attribute__((visibility("hidden"))) extern const uint64_t bp_dtoa_pow10[617][2];

/* The text of any finite value, as bp_format_double; the straightforward path. */
__attribute__((visibility("hidden"))) int bp_dtoa_format_general(double value, char *out);

__extension__ typedef unsigned __int128 bp_u128;

/* floor(x / 2^n), without relying on >> of a negative int. */
static inline int32_t floor_shift(int32_t x, int n) { return x >= 0 ? x >> n : ~(~x >> n); }

/* The 8 decimal digits of x < 10^8 as byte values 0..9, the LAST digit in the
   lowest byte. SWAR: split into 2 × 4, 4 × 2, then 8 × 1 digits, each quotient
   landing in the upper half of its lane (lane + q × (2^w - divisor)). */
static inline uint64_t eight_digits_reversed(uint32_t x) {
    const uint64_t q4 = x / 10000;
    const uint64_t fours = x + q4 * ((1ULL << 32) - 10000);
    const uint64_t q2 = ((fours * 10486) >> 20) & 0x0000007F0000007FULL; /* each lane / 100 */
    const uint64_t pairs = fours + q2 * ((1ULL << 16) - 100);
    const uint64_t q1 = ((pairs * 103) >> 10) & 0x000F000F000F000FULL; /* each lane / 10 */
    return pairs + q1 * ((1ULL << 8) - 10);
}

#define ASCII_ZEROS 0x3030303030303030ULL /* '0' in every byte */

/* The 8 decimal digits of x < 10^8 in ASCII, the first digit in the lowest byte. */
static inline uint64_t eight_digits(uint32_t x) { return __builtin_bswap64(eight_digits_reversed(x)) + ASCII_ZEROS; }

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

static const char two_digits[201] = "0001020304050607080910111213141516171819"
                                    "2021222324252627282930313233343536373839"
                                    "4041424344454647484950515253545556575859"
                                    "6061626364656667686970717273747576777879"
                                    "8081828384858687888990919293949596979899";

#endif
