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
 * generate_dtoa_tables.py (dtoa_tables.c). Departures from the paper: table entries
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
 * Two paths:
 *   - bp_dtoa_format_general (dtoa_general.c), the straightforward one, right for
 *     every value; used for zero, subnormals and powers of two.
 *   - the fast one for the rest: integers below 2^53 print their own digits; every
 *     other value (is_plain) goes through Schubfach with two multiplications instead
 *     of six and without branches (schubfach_normal), its digits left-aligned to 17
 *     (decimal17), the 16 after the first converted with SSE2 (scalar SWAR
 *     elsewhere), and the text laid out without data-dependent branches within a
 *     form (random data would mispredict "0.0ddd" against "d.ddd") in four or five
 *     stores (write_plain). The same text as format_general, byte for byte.
 *
 * Needs unsigned __int128 and __builtin_clz/__builtin_ctzll/__builtin_bswap64
 * (clang, gcc). No state, no allocation: thread-safe.
 */

#include "CBackpropJSON.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "dtoa_internal.h"

/* ---- The fast path ---- */

/* Whether bits is a normal double, not a power of two and not an integer: the
   values the fast path's Schubfach (schubfach_normal) handles. */
static inline int is_plain(uint64_t bits) {
    const uint64_t fraction = bits & ((1ULL << 52) - 1);
    const uint32_t biased_exponent = (uint32_t)(bits >> 52) & 0x7FF;
    /* an integer: q = biased_exponent - 1075 <= 0 with the low -q bits of c clear */
    const int integer = 1075 - biased_exponent <= (uint32_t)__builtin_ctzll(fraction | (1ULL << 52));
    return (biased_exponent != 0) & (fraction != 0) & !integer;
}

/* The shortest digits of c × 2^q, c in (2^52, 2^53) (a normal value whose rounding
   interval is symmetric): D in [10^15, 10^17), possibly with trailing zeros, such
   that the shortest decimal is D × 10^*k_out. Schubfach, as format_general, with
   two changes:
   - The paper computes vb, vbl and vbr with three round-to-odd products g × cp;
     here they come from one exact 192-bit product P = g × (4c << h): the ends'
     products are P ± g × (2 << h), i.e. P ± g shifted left by h + 1 bits, so two
     64 × 64-bit multiplications instead of six (Dragonbox, Jeon 2020, likewise
     gets the interval from one product and the table entry shifted). rop (the top
     64 bits, ORed with whether bits 64..127 are nonzero) is applied to each exact
     product, so vb, lower and upper are bit for bit those of three round_to_odd
     calls.
   - No data-dependent branches: for random input the choice between the candidates
     is a coin toss, so both are computed and one is selected. */
static inline uint64_t schubfach_normal(uint64_t c, int32_t q, int32_t *k_out) {
    const uint64_t odd = c & 1;
    const int32_t k = floor_shift(q * 1262611, 22);      /* floor(log10(2^q)) */
    const int h = q + floor_shift(-k * 1741647, 19) + 1; /* q + floor(log2(10^-k)) + 1, in 1..4 */
    const uint64_t g1 = bp_dtoa_pow10[-k - BP_DTOA_POW10_MIN][0]; /* g = g1 × 2^64 + g0 */
    const uint64_t g0 = bp_dtoa_pow10[-k - BP_DTOA_POW10_MIN][1];

    /* P = g × (4c << h) = p_high × 2^64 + p_low exactly (P < 2^192) */
    const uint64_t cp = c << (h + 2);
    const bp_u128 low = (bp_u128)g0 * cp;
    const uint64_t p_low = (uint64_t)low;
    const bp_u128 p_high = (bp_u128)g1 * cp + (uint64_t)(low >> 64);

    /* g × (2 << h) = g << s = d_high × 2^64 + d_low, s = h + 1 in 2..5 */
    const int s = h + 1;
    const uint64_t d_low = g0 << s;
    /* (x >> 32) >> (32 - s) is x >> (64 - s); written so compilers do not emit shld,
       which is several micro-ops on AMD processors */
    const bp_u128 d_high = ((bp_u128)((g1 >> 32) >> (32 - s)) << 64) | ((g1 << s) | ((g0 >> 32) >> (32 - s)));
    const bp_u128 u_high = p_high + d_high + (uint64_t)(p_low + d_low < p_low); /* P + g × (2 << h) */
    const bp_u128 l_high = p_high - d_high - (uint64_t)(p_low < d_low);         /* P - g × (2 << h) */

    /* rop of each; the ends moved inwards when excluded (c odd) */
    const uint64_t vb = (uint64_t)(p_high >> 64) | ((uint64_t)p_high != 0);
    const uint64_t lower = ((uint64_t)(l_high >> 64) | ((uint64_t)l_high != 0)) + odd;
    const uint64_t upper = ((uint64_t)(u_high >> 64) | ((uint64_t)u_high != 0)) - odd;

    const uint64_t sv = vb >> 2; /* s = floor(v × 10^-k) */
    const uint64_t sp = sv / 10;
    /* One digit fewer when u' = 10 sp or w' = 10 sp + 10 is inside (at most one
       ever is) ... */
    const int up_inside = lower <= 40 * sp;
    const int wp_inside = 40 * sp + 40 <= upper;
    const uint64_t shorter = 10 * (sp + (uint64_t)wp_inside);
    /* ... else s or s + 1, the closer one to v (ties to even). The paper takes the
       only one inside when just one is; with the interval symmetric about v that is
       always the closer one: the interval is wider than 1 (its width, 2^q × 10^-k,
       is at least 1 and not 1 for a non-integer), so the closer is strictly inside. */
    const uint64_t mid = 4 * sv + 2;
    const uint64_t longer = sv + (uint64_t)((vb > mid) | ((vb == mid) & (int)(sv & 1)));
    const uint64_t use_shorter = 0 - (uint64_t)(up_inside | wp_inside);
    *k_out = k;
    return longer ^ ((longer ^ shorter) & use_shorter);
}

/* The shortest decimal of |value| for is_plain(bits), left-aligned to 17 digits:
   d1.d2...d17 × 10^*e10 as d17 = d1d2...d17 (trailing zeros not significant).
   Harmless (meaningless) for any other bits. */
static inline uint64_t decimal17(uint64_t bits, int32_t *e10) {
    const uint64_t c = (bits & ((1ULL << 52) - 1)) | (1ULL << 52);
    const int32_t q = (int32_t)((bits >> 52) & 0x7FF) - 1075;
    int32_t k;
    const uint64_t d = schubfach_normal(c, q, &k); /* 16 or 17 digits */
    const int seventeen = d >= 10000000000000000ULL;
    *e10 = k + 15 + seventeen;
    return seventeen ? d : 10 * d;
}

/* write_plain(out, bits, d17, e10): the text of (sign of bits) d1.d2...dn × 10^E,
   E = e10, for is_plain(bits) and d17, e10 from decimal17; returns its length and
   writes at most 24 bytes. Without data-dependent branches within a form (random
   data would mispredict "0.0ddd" against "d.ddd"): "0.000000" after the sign, then
   at the prefix's end the 17 digits with a "." inserted before byte j, then "e",
   the exponent's sign and digits:
     E < -4 or |value| > 2^53   "d1.d2...dne+EE"           j = 1, no prefix
     -4 <= E < 0                "0.000d1...dn"             prefix "0.000" to 1 - E bytes, no "."
     0 <= E < n - 1             "d1..d(E+1).d(E+2)...dn"   j = E + 1, no prefix
   (for a non-integer below 2^53, n - 1 > E), keeping only the text's bytes. */
#if defined(__SSE2__)
/* With SSE2 (every x86-64 processor): the digits 16 at a time in a vector register,
   and the "." put in with masks from a table (SSE2 has no variable byte shift). */
typedef struct {
    uint8_t below[16], above[16], dot[16];
} dot_masks16;

/* entry j (0..16): the "." before byte j of d2...d17 (none for j = 16, which
   leaves the 16 digits as they are) */
#define L(n) {(n) > 0 ? 0xFF : 0, (n) > 1 ? 0xFF : 0, (n) > 2 ? 0xFF : 0, (n) > 3 ? 0xFF : 0,         \
              (n) > 4 ? 0xFF : 0, (n) > 5 ? 0xFF : 0, (n) > 6 ? 0xFF : 0, (n) > 7 ? 0xFF : 0,         \
              (n) > 8 ? 0xFF : 0, (n) > 9 ? 0xFF : 0, (n) > 10 ? 0xFF : 0, (n) > 11 ? 0xFF : 0,       \
              (n) > 12 ? 0xFF : 0, (n) > 13 ? 0xFF : 0, (n) > 14 ? 0xFF : 0, (n) > 15 ? 0xFF : 0}
#define A(n) {(n) < 0 ? 0xFF : 0, (n) < 1 ? 0xFF : 0, (n) < 2 ? 0xFF : 0, (n) < 3 ? 0xFF : 0,         \
              (n) < 4 ? 0xFF : 0, (n) < 5 ? 0xFF : 0, (n) < 6 ? 0xFF : 0, (n) < 7 ? 0xFF : 0,         \
              (n) < 8 ? 0xFF : 0, (n) < 9 ? 0xFF : 0, (n) < 10 ? 0xFF : 0, (n) < 11 ? 0xFF : 0,       \
              (n) < 12 ? 0xFF : 0, (n) < 13 ? 0xFF : 0, (n) < 14 ? 0xFF : 0, (n) < 15 ? 0xFF : 0}
#define D(n) {(n) == 0 ? '.' : 0, (n) == 1 ? '.' : 0, (n) == 2 ? '.' : 0, (n) == 3 ? '.' : 0,         \
              (n) == 4 ? '.' : 0, (n) == 5 ? '.' : 0, (n) == 6 ? '.' : 0, (n) == 7 ? '.' : 0,         \
              (n) == 8 ? '.' : 0, (n) == 9 ? '.' : 0, (n) == 10 ? '.' : 0, (n) == 11 ? '.' : 0,       \
              (n) == 12 ? '.' : 0, (n) == 13 ? '.' : 0, (n) == 14 ? '.' : 0, (n) == 15 ? '.' : 0}
#define E(n) {L(n), A(n), D(n)}
static const dot_masks16 dot_masks_16[17] __attribute__((aligned(16))) = {
    E(0), E(1), E(2), E(3), E(4), E(5), E(6), E(7), E(8), E(9), E(10), E(11), E(12), E(13), E(14), E(15), E(16),
};
#undef L
#undef A
#undef D
#undef E

static inline int write_plain(char *out, uint64_t bits, uint64_t d17, int32_t e10) {
    /* d1 and d2...d17: the splits of eight_digits_reversed (2 × 4, 4 × 2, 8 × 1
       digits by multiplying with reciprocals) on both halves at once, the first
       digit in the lowest byte */
    const uint64_t high9 = d17 / 100000000;                     /* d1...d9 */
    const uint32_t low8 = (uint32_t)(d17 - high9 * 100000000);  /* d10...d17 */
    const uint32_t first = (uint32_t)high9 / 100000000;         /* d1 */
    const uint32_t high8 = (uint32_t)high9 - first * 100000000; /* d2...d9 */
    const __m128i x = _mm_set_epi64x(low8, high8);
    const __m128i q4 = _mm_srli_epi64(_mm_mul_epu32(x, _mm_set1_epi32((int)3518437209u)), 45);
    const __m128i r4 = _mm_sub_epi32(x, _mm_mul_epu32(q4, _mm_set1_epi32(10000)));
    const __m128i fours = _mm_or_si128(q4, _mm_slli_epi64(r4, 32));
    const __m128i q2 = _mm_srli_epi16(_mm_mulhi_epu16(fours, _mm_set1_epi16(5243)), 3);
    const __m128i r2 = _mm_sub_epi16(fours, _mm_mullo_epi16(q2, _mm_set1_epi16(100)));
    const __m128i pairs = _mm_or_si128(q2, _mm_slli_epi32(r2, 16));
    const __m128i q1 = _mm_mulhi_epu16(pairs, _mm_set1_epi16(6554));
    const __m128i r1 = _mm_sub_epi16(pairs, _mm_mullo_epi16(q1, _mm_set1_epi16(10)));
    const __m128i digits = _mm_or_si128(q1, _mm_slli_epi16(r1, 8)); /* d2...d17 */
    /* n: 17 less the trailing zeros, one more than the highest set bit of
       (nonzero digits among d2...d17) << 1 | 1 (bit 0 for d1, never zero) */
    const unsigned zero = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(digits, _mm_setzero_si128()));
    const int n = 32 - __builtin_clz((~zero & 0xFFFF) << 1 | 1);
    const __m128i ascii = _mm_add_epi8(digits, _mm_set1_epi8('0'));

    /* The text (the "." before byte j - 1 of the vector of d2...d17) in four
       stores. A branch between the fixed and exponential forms (the form hardly
       ever changes from one number to the next), none within them. */
    const int sign = (int)(bits >> 63);
    const int32_t negative = -(int32_t)(e10 < 0); /* all ones when e10 < 0 */
    const __m128i d17_out = _mm_srli_si128(ascii, 15); /* d17, when pushed out by the "." */
    if (e10 >= -4 && (bits & ~(1ULL << 63)) < 0x4340000000000000ULL /* 2^53 */) {
        /* "0.000d1...dn" (no ".") or "d1...d(E+1).d(E+2)...dn" */
        const int32_t zeros = -e10 & negative;
        const dot_masks16 *m = &dot_masks_16[(negative & 16) | (~negative & e10)];
        const __m128i dotted = _mm_or_si128(
            _mm_or_si128(_mm_and_si128(ascii, _mm_load_si128((const __m128i *)m->below)),
                         _mm_and_si128(_mm_slli_si128(ascii, 1), _mm_load_si128((const __m128i *)m->above))),
            _mm_load_si128((const __m128i *)m->dot));
        out[0] = '-';                         /* kept only for a set sign bit */
        store8(out + sign, 0x3030303030302E30ULL); /* "0.000000" */
        char *d = out + sign + zeros - negative;
        d[0] = (char)('0' + first);
        _mm_storeu_si128((__m128i *)(d + 1), dotted);
        d[17] = (char)_mm_cvtsi128_si32(d17_out);
        return sign + n + 1 + zeros;
    }

    /* "d1.d2...dne+EE": "e", the exponent's sign, the hundreds digit when there is
       one, two digits */
    store8(out, (uint64_t)('0' + first) << (8 * sign) | ('-' & (0 - (uint64_t)sign))); /* sign, d1 */
    char *d = out + sign;
    _mm_storeu_si128((__m128i *)(d + 1), _mm_or_si128(_mm_slli_si128(ascii, 1), _mm_cvtsi32_si128('.')));
    d[17] = (char)_mm_cvtsi128_si32(d17_out);
    const unsigned x10 = (unsigned)((e10 ^ negative) - negative); /* |e10| */
    const unsigned hundreds = x10 / 100, three = x10 >= 100;
    const unsigned tens = x10 - 100 * hundreds;
    const uint64_t pair = (uint64_t)(unsigned char)two_digits[2 * tens] |
                          (uint64_t)(unsigned char)two_digits[2 * tens + 1] << 8;
    const uint64_t exponent = 'e' | (uint64_t)('+' - 2 * negative) << 8 |
                              (uint64_t)(('0' + hundreds) & (0 - three)) << 16 | pair << (16 + 8 * three);
    const int exponent_at = sign + n + 1 - (n == 1); /* "1e+16": no "." */
    store8(out + exponent_at, exponent);
    return exponent_at + 4 + (int)three;
}
#else
/* Without SSE2: the digits with eight_digits_reversed, the text as three words
   with the "." put in with masks, then five stores. */

/* The number of trailing zero digits of the 8 digit values in x, the last digit in
   the lowest byte (8 when x == 0; bit 63 is never set otherwise). */
static inline int trailing_zero_digits(uint64_t x) { return (__builtin_ctzll(x | (1ULL << 63)) + (x == 0)) >> 3; }

static inline int digits17(uint64_t d17, uint64_t text[3]) {
    const uint64_t high9 = d17 / 100000000;                     /* d1...d9 */
    const uint32_t low8 = (uint32_t)(d17 - high9 * 100000000);  /* d10...d17 */
    const uint32_t first = (uint32_t)high9 / 100000000;         /* d1 */
    const uint32_t high8 = (uint32_t)high9 - first * 100000000; /* d2...d9 */
    const uint64_t ra = eight_digits_reversed(high8), rb = eight_digits_reversed(low8);
    const uint64_t a = __builtin_bswap64(ra) + ASCII_ZEROS, b = __builtin_bswap64(rb) + ASCII_ZEROS;
    text[0] = ('0' + first) | a << 8;
    text[1] = a >> 56 | b << 8;
    text[2] = b >> 56;
    return 17 - trailing_zero_digits(rb) - (trailing_zero_digits(ra) & -(int)(rb == 0));
}
/* For a "." before byte j (1 <= j <= 17) of a 24-byte text held in three words:
   below_masks[j] has the bytes below byte j set, dot_masks[j] byte j. */
#define M(n) ((1ULL << (8 * (n))) - 1)
static const uint64_t below_masks[18][3] = {
    {0, 0, 0}, {M(1), 0, 0}, {M(2), 0, 0}, {M(3), 0, 0}, {M(4), 0, 0}, {M(5), 0, 0},
    {M(6), 0, 0}, {M(7), 0, 0}, {~0ULL, 0, 0}, {~0ULL, M(1), 0}, {~0ULL, M(2), 0},
    {~0ULL, M(3), 0}, {~0ULL, M(4), 0}, {~0ULL, M(5), 0}, {~0ULL, M(6), 0},
    {~0ULL, M(7), 0}, {~0ULL, ~0ULL, 0}, {~0ULL, ~0ULL, M(1)},
};
#undef M
#define B(n) (0xFFULL << (8 * (n)))
static const uint64_t dot_masks[18][3] = {
    {B(0), 0, 0}, {B(1), 0, 0}, {B(2), 0, 0}, {B(3), 0, 0}, {B(4), 0, 0}, {B(5), 0, 0},
    {B(6), 0, 0}, {B(7), 0, 0}, {0, B(0), 0}, {0, B(1), 0}, {0, B(2), 0}, {0, B(3), 0},
    {0, B(4), 0}, {0, B(5), 0}, {0, B(6), 0}, {0, B(7), 0}, {0, 0, B(0)}, {0, 0, B(1)},
};
#undef B

/* The text of a number as five 8-byte stores, in this order: `start` at 0, the
   three `words` from `digits_at`, `exponent` at `exponent_at`; the first `length`
   bytes are the text, the rest (at most 31 bytes in all) scratch. */
typedef struct {
    uint64_t start, words[3], exponent;
    uint8_t digits_at, exponent_at, length;
} number_text;

/* write_plain's text (see there) from digits17's digits, as five stores. */
static inline void lay_out(number_text *out, uint64_t bits, const uint64_t text[3], int n, int32_t e10) {
    /* all-ones / zero masks, and plain arithmetic: compilers turn ?: into branches */
    const int sign = (int)(bits >> 63);
    const int32_t negative = -(int32_t)(e10 < 0); /* all ones when e10 < 0 */
    const int32_t fixed = -(int32_t)(e10 >= -4 && (bits & ~(1ULL << 63)) < 0x4340000000000000ULL /* 2^53 */);
    const int32_t fixed_negative = fixed & negative;
    const int32_t zeros = -e10 & fixed_negative;
    const int32_t j = 1 + (fixed & ((negative & 16) | (~negative & e10)));
    const uint64_t zero_text = 0x3030303030302E30ULL; /* "0.000000" */
    out->start = zero_text << (8 * sign) | ('-' & (0 - (uint64_t)sign));
    out->digits_at = (uint8_t)(sign + zeros - fixed_negative);

    /* t: the 17 digits; s: the same one byte later; then s below byte j, "." at j */
    const uint64_t t0 = text[0], t1 = text[1], t2 = text[2];
    const uint64_t s0 = t0 << 8, s1 = t1 << 8 | t0 >> 56, s2 = t2 << 8 | t1 >> 56;
    const uint64_t *below = below_masks[j], *dot = dot_masks[j];
    const uint64_t dots = 0x2E2E2E2E2E2E2E2EULL;
    out->words[0] = ((s0 ^ ((s0 ^ t0) & below[0])) & ~dot[0]) | (dots & dot[0]);
    out->words[1] = ((s1 ^ ((s1 ^ t1) & below[1])) & ~dot[1]) | (dots & dot[1]);
    out->words[2] = ((s2 ^ ((s2 ^ t2) & below[2])) & ~dot[2]) | (dots & dot[2]);

    /* "e", the exponent's sign, the hundreds digit when there is one, two digits */
    const unsigned x = (unsigned)((e10 ^ negative) - negative); /* |e10| */
    const unsigned hundreds = x / 100, three = x >= 100;
    const unsigned tens = x - 100 * hundreds;
    const uint64_t pair = (uint64_t)(unsigned char)two_digits[2 * tens] |
                          (uint64_t)(unsigned char)two_digits[2 * tens + 1] << 8;
    out->exponent = 'e' | (uint64_t)('+' - 2 * negative) << 8 |
                    (uint64_t)(('0' + hundreds) & (0 - three)) << 16 | pair << (16 + 8 * three);
    const int32_t fixed_length = sign + n + 1 + zeros;
    const int32_t exponent_at = sign + n + 1 - (n == 1); /* "1e+16": no "." */
    const int32_t exponent_length = exponent_at + 4 + (int32_t)three;
    out->exponent_at = (uint8_t)(exponent_at ^ ((exponent_at ^ fixed_length) & fixed));
    out->length = (uint8_t)(exponent_length ^ ((exponent_length ^ fixed_length) & fixed));
}

static inline int put_text(char *out, const number_text *t) {
    store8(out, t->start);
    char *digits = out + t->digits_at;
    store8(digits, t->words[0]);
    store8(digits + 8, t->words[1]);
    store8(digits + 16, t->words[2]);
    store8(out + t->exponent_at, t->exponent);
    return t->length;
}

static inline int write_plain(char *out, uint64_t bits, uint64_t d17, int32_t e10) {
    uint64_t text[3];
    const int n = digits17(d17, text);
    number_text t;
    lay_out(&t, bits, text, n, e10);
    return put_text(out, &t);
}
#endif

/* Zero, subnormals and powers of two: the general path, with JSON's "-0" and "2". */
static __attribute__((noinline)) int format_rare(double value, char *out, int json) {
    const int n = bp_dtoa_format_general(value, out);
    const double magnitude = value < 0 ? -value : value;
    return n - 2 * (json && magnitude < 1e15 && out[n - 1] == '0' && out[n - 2] == '.');
}

/* The values that are not is_plain: integers below 2^53 (their own digits, then
   ".0", which JSON leaves off below 10^15), and format_rare's. */
static inline __attribute__((always_inline)) int format_special(double value, char *out, int json) {
    uint64_t bits;
    memcpy(&bits, &value, sizeof bits);
    const uint64_t fraction = bits & ((1ULL << 52) - 1);
    const int biased_exponent = (int)(bits >> 52) & 0x7FF;
    if (biased_exponent == 0 || fraction == 0) return format_rare(value, out, json);
    const uint64_t integer = (fraction | (1ULL << 52)) >> (1075 - biased_exponent);
    const int n = decimal_length(integer);
    out[0] = '-';
    char *p = out + (bits >> 63); /* keeps the "-" only for a set sign bit */
    write_digits(p, integer, n);
    memcpy(p + n, ".0", 2);
    return (int)(p - out) + n + 2 - 2 * (json && integer < 1000000000000000ULL);
}

/* The text of value; for JSON (json != 0) integral values below 10^15 lose their ".0". */
static inline int format_number(double value, char *out, int json) {
    uint64_t bits;
    memcpy(&bits, &value, sizeof bits);
    if (!is_plain(bits)) return format_special(value, out, json);
    int32_t e10;
    const uint64_t d17 = decimal17(bits, &e10);
    return write_plain(out, bits, d17, e10);
}

int bp_format_double(double value, char *out) { return format_number(value, out, 0); }

/* JSON's form of a number: as bp_format_double, but an integral value below 10^15
   without its ".0" ("2", "-0"), as JSONWriter writes them. */
int bp_format_json_number(double value, char *out) { return format_number(value, out, 1); }

/* format_number(values[i], p, 1) each, spelled out: measurably faster so. */
long bp_format_json_numbers(const double *values, long count, int spaced, char *out) {
    char *p = out;
    for (long i = 0; i < count; i++) {
        if (i > 0) {
            p[0] = ',';
            p[1] = ' ';
            p += 1 + spaced;
        }
        uint64_t bits;
        memcpy(&bits, &values[i], sizeof bits);
        if (is_plain(bits)) {
            int32_t e10;
            const uint64_t d17 = decimal17(bits, &e10);
            p += write_plain(p, bits, d17, e10);
        } else {
            p += format_special(values[i], p, 1);
        }
    }
    return p - out;
}
