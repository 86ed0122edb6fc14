#ifndef CBACKPROP_KERNELS_H
#define CBACKPROP_KERNELS_H

/// Matrix products for BackpropCore's hot loops, row-major doubles.
/// Each picks, once per process, an AVX2+FMA path where the CPU has one and a
/// portable path otherwise, so one binary runs on any x86-64 (and elsewhere).

/// c = a·b (or c += a·b when accumulate); a is m×k, b is k×n, c is m×n.
void bp_gemm(const double *a, const double *b, double *c, long m, long k, long n, int accumulate);

/// c = aᵀ·b; a is k×m with rows lda apart (lda ≥ m), b is k×n, c is m×n.
void bp_gemm_tn(const double *a, long lda, const double *b, double *c, long m, long k, long n);

/// 0: the portable path; 1: the AVX2+FMA path; 2: OpenBLAS (the trait).
int bp_kernels_vectorized(void);

#endif
