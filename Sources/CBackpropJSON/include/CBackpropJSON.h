#ifndef CBACKPROP_JSON_H
#define CBACKPROP_JSON_H

/// The JSON layer's number conversions, in both directions: doubles to their shortest
/// round-trip text (Schubfach, dtoa.c) and decimal significands with exponents to the
/// nearest double (Eisel–Lemire, parse_number.c). BackpropServer's reader and writer
/// are their only users; the matrix kernels are in CBackpropKernels.

#include <stdint.h>

/// Writes the shortest round-trip decimal text of a finite `value` to `out`, byte for
/// byte as Swift's `value.description` ("0.1", "100.0", "1e-05", "-1.5e+300", "-0.0"),
/// and returns its length (at most 24). `out` needs room for 32 bytes: there is no
/// NUL terminator, and bytes past the returned length may be overwritten.
/// Schubfach (Giulietti, 2020); see dtoa.c. NaN and infinities are not handled.
int bp_format_double(double value, char *out);

/// As `bp_format_double`, but integral values below 10^15 without ".0" ("2", "-0"):
/// how JSONWriter writes a number.
int bp_format_json_number(double value, char *out);

/// The `count` values as `bp_format_json_number` writes them, separated by ","
/// (", " when `spaced`); returns the byte count. `out` needs 26 bytes per value
/// plus 32 (the formatter's scratch).
long bp_format_json_numbers(const double *values, long count, int spaced, char *out);


/// The double nearest to `significand` × 10^`exponent` (ties to even), negated when
/// `negative`, written to `*out`; returns 1. Returns 0, writing nothing, when this
/// path cannot decide: a zero significand, a result that would be subnormal, zero or
/// infinite, or a product too close to a halfway point (rare). Then ask strtod.
/// Eisel–Lemire; see parse_number.c.
int bp_parse_decimal(uint64_t significand, int exponent, int negative, double *out);

#endif
