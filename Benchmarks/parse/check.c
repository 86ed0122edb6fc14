/* Checks bp_parse_decimal (Sources/CBackpropJSON/parse_number.c) against the C
 * library's strtod, which rounds correctly: random decimal texts of 1 to 25
 * significant digits over the whole exponent range, the shortest texts of random
 * doubles (what JSON writers send), their 17-digit texts, halfway points between
 * neighbouring doubles, and powers of ten. Each text's significand and exponent are
 * read as JSONParser reads them (at most 19 digits; with more, both w and w + 1 are
 * tried and must agree). A disagreement is a failure; a case the function declines
 * (returns 0) is counted, and must stay rare.
 * Built and run by Benchmarks/parse/run.sh. */

#include "CBackpropJSON.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t state = 0x9E3779B97F4A7C15ULL;
static uint64_t next(void) { /* splitmix64 */
    uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static long checked, declined, failures;
static long declined_by[5];
static int kind;

/* Reads "[-]digits[.digits][e[+-]digits]" as JSONParser does. */
static void check(const char *text) {
    const char *p = text;
    int negative = 0, digits = 0, exponent = 0, truncated = 0;
    uint64_t w = 0;
    if (*p == '-') { negative = 1; p++; }
    for (; *p >= '0' && *p <= '9'; p++) {
        if (digits < 19) { w = w * 10 + (uint64_t)(*p - '0'); if (w) digits++; }
        else { exponent++; truncated = 1; }
    }
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++) {
            if (digits < 19) { w = w * 10 + (uint64_t)(*p - '0'); if (w) digits++; exponent--; }
            else truncated = 1;
        }
    }
    if (*p == 'e' || *p == 'E') exponent += atoi(p + 1);
    if (w == 0) return;
    const double expected = strtod(text, NULL);
    double got, upper;
    int ok = bp_parse_decimal(w, exponent, negative, &got);
    if (ok && truncated) ok = bp_parse_decimal(w + 1, exponent, negative, &upper) && memcmp(&got, &upper, 8) == 0;
    checked++;
    if (!ok) { declined++; declined_by[kind]++; return; }
    if (memcmp(&got, &expected, sizeof got) != 0) {
        if (failures++ < 20) printf("MISMATCH %s: got %.17g, strtod %.17g\n", text, got, expected);
    }
}

static void random_digits(char *out, int count) {
    out[0] = (char)('1' + next() % 9);
    for (int i = 1; i < count; i++) out[i] = (char)('0' + next() % 10);
    out[count] = 0;
}

int main(int argc, char **argv) {
    const long rounds = argc > 1 ? atol(argv[1]) : 2000000;
    char text[128], digits[64];
    for (long i = 0; i < rounds; i++) {
        /* Random texts: 1..25 digits, a point somewhere, exponents -360..330. */
        const int count = 1 + (int)(next() % 25);
        random_digits(digits, count);
        const int point = (int)(next() % (unsigned)(count + 1));
        const int e = (int)(next() % 691) - 360;
        snprintf(text, sizeof text, "%s%.*s%s%s%se%d", (next() & 1) ? "-" : "", point ? point : 1,
                 point ? digits : "0", ".", digits + point, point == count ? "0" : "", e);
        kind = 0; check(text);
        /* Random doubles' shortest and 17-digit texts. */
        uint64_t bits = next() & 0x7FFFFFFFFFFFFFFFULL;
        double value;
        memcpy(&value, &bits, 8);
        if (value == value && isfinite(value)) {
            kind = 1; snprintf(text, sizeof text, "%.17g", value); check(text);
            snprintf(text, sizeof text, "%.16g", value); check(text);
        }
        /* Normal-distributed-ish values (what networks hold), at 17 digits. */
        value = ((double)(next() >> 11) / 9007199254740992.0 - 0.5) * 4;
        kind = 2; snprintf(text, sizeof text, "%.17g", value); check(text);
        /* Halfway between a double and its successor: exact decimal text. */
        bits = (next() % 0x7FE0000000000000ULL) + 0x0010000000000000ULL;
        memcpy(&value, &bits, 8);
        const long double half = (long double)value + ((long double)nextafter(value, INFINITY) - (long double)value) / 2;
        kind = 3; snprintf(text, sizeof text, "%.40Le", half);
        check(text);
    }
    kind = 4;
    for (int e = -350; e <= 350; e++) { snprintf(text, sizeof text, "1e%d", e); check(text); }
    printf("checked %ld texts: %ld declined (%.4f%%), %ld mismatches\n", checked, declined,
           100.0 * (double)declined / (double)checked, failures);
    printf("declined by kind (random texts, random doubles, values near 1, halfway points, powers of ten): %ld %ld %ld %ld %ld\n",
           declined_by[0], declined_by[1], declined_by[2], declined_by[3], declined_by[4]);
    return failures != 0;
}
