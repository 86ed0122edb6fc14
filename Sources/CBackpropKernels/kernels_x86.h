#ifndef BP_KERNELS_X86_H
#define BP_KERNELS_X86_H

/* The vector paths of kernels_x86.c (private to this target). Each computes
   c = A·b (or c += A·b) as bp_gemm_strided describes; call them only on a CPU
   with the named extensions. */

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define BP_X86 1

__attribute__((visibility("hidden"))) void gemm_avx2(const double *a, long a_row, long a_col, const double *b,
                                                     long ldb, double *c, long ldc, long m, long k, long n,
                                                     int accumulate);

/* The AVX2 path over packed panels of a and b (kernels_avx2.c), for products large
   enough to repay the copies. */
__attribute__((visibility("hidden"))) void gemm_avx2_packed(const double *a, long a_row, long a_col, const double *b,
                                                            long ldb, double *c, long ldc, long m, long k, long n,
                                                            int accumulate);

__attribute__((visibility("hidden"))) void gemm_avx512(const double *a, long a_row, long a_col, const double *b,
                                                       long ldb, double *c, long ldc, long m, long k, long n,
                                                       int accumulate);
#endif

#endif
