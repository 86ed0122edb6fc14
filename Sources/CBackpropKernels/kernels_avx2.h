#ifndef BP_KERNELS_AVX2_H
#define BP_KERNELS_AVX2_H

/* Shared by kernels_avx2.c (the micro-kernels and the loops around them) and
   kernels_avx2_pack.c (the copies); private to this target. */

#include "kernels_x86.h"

#ifdef BP_X86

#define BP_AVX2 __attribute__((target("avx2,fma")))

#ifndef BP_AVX2_KC
#define BP_AVX2_KC 256
#endif
#ifndef BP_AVX2_MC
#define BP_AVX2_MC 96
#endif
/* KC × 8 of b (16 KiB) stays in L1 and MC × KC of A (192 KiB) in L2. */
enum { MR = 6, NR = 8, KC = BP_AVX2_KC, MC = BP_AVX2_MC };
#ifndef BP_PACK_MIN_N
#define BP_PACK_MIN_N 16
#endif

#define BP_HIDDEN __attribute__((visibility("hidden")))

/* Rows [0, mc) and p in [0, kc) of A (A[i][p] = a[i·a_row + p·a_col]) into
   micro-panels of [kc][6], zero-padded to a multiple of 6 rows. */
BP_HIDDEN BP_AVX2 void pack_a(const double *a, long a_row, long a_col, long mc, long kc, double *restrict out);

/* Rows [0, kc) and columns [0, width) of b into a [kc][8] panel, zero-padded to 8. */
BP_HIDDEN BP_AVX2 void pack_b(const double *b, long ldb, long kc, long width, double *restrict panel);

_Static_assert(MC * KC <= BP_THREAD_BLOCK, "the A block fits the thread's block");

#endif

#endif
