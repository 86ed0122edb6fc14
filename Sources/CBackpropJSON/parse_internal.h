/* Private to CBackpropJSON: the table parse_number.c reads. */

#ifndef BP_PARSE_INTERNAL_H
#define BP_PARSE_INTERNAL_H

#include <stdint.h>

/* The 128 leading bits of each power of ten, rounded down, generated into
   parse_tables.c by generate_parse_tables.py:
   bp_parse_pow10[e - BP_PARSE_POW10_MIN] = {hi, lo} for e in [-348, 347]. */
#define BP_PARSE_POW10_MIN (-348)
#define BP_PARSE_POW10_MAX 347
__attribute__((visibility("hidden"))) extern const uint64_t bp_parse_pow10[696][2];

#endif
