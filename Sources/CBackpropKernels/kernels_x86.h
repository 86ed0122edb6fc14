#ifndef BP_KERNELS_X86_H
#define BP_KERNELS_X86_H

/* The vector paths of kernels_x86.c (private to this target). Each computes
   c = A·b (or c += A·b) as bp_gemm_strided describes; call them only on a CPU
   with the named extensions. */

/* The widest path this CPU has (BP_PATH_PORTABLE, _AVX2 or _AVX512), as narrowed by
   BACKPROP_KERNELS=avx2 or portable; asked once per process. The matrix products and
   tanh (activations.c) choose by it, with or without the OpenBLAS trait. */
__attribute__((visibility("hidden"))) int bp_cpu_path(void);

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

/* The calling thread's scratch of BP_THREAD_BLOCK doubles (192 KiB, for L2), kept for its
   next product and freed with the thread; NULL if it cannot have one. The AVX2 path
   packs its A block there (kernels_avx2.c), the AVX-512 path a transposed A (kernels_x86.c). */
#define BP_THREAD_BLOCK (96 * 256)
__attribute__((visibility("hidden"))) double *thread_block(void);

__attribute__((visibility("hidden"))) void gemm_avx512(const double *a, long a_row, long a_col, const double *b,
                                                       long ldb, double *c, long ldc, long m, long k, long n,
                                                       int accumulate);
#endif

#endif
