/* The matrix-product kernels outside Swift (issue 15): `check` compares every path
   bit for bit with the scalar fused multiply-add chain on many shapes; `time`
   measures the 784-128-10 MLP's products (batch 64) on the AVX2 kernels, the one
   before issue 15 and the current one, interleaved. See run.sh. */
#include "CBackpropKernels.h"
#include "kernels_x86.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void before_gemm_avx2_packed(const double *a, long a_row, long a_col, const double *b, long ldb, double *c,
                             long ldc, long m, long k, long n, int accumulate);

typedef void (*gemm_fn)(const double *, long, long, const double *, long, double *, long, long, long, long, int);

/* The definition: one fma chain over p in order per element. */
static void reference(const double *a, long a_row, long a_col, const double *b, long ldb, double *c, long ldc,
                      long m, long k, long n, int accumulate) {
    for (long i = 0; i < m; i++)
        for (long j = 0; j < n; j++) {
            double sum = accumulate ? c[i * ldc + j] : 0.0;
            for (long p = 0; p < k; p++) sum = fma(a[i * a_row + p * a_col], b[p * ldb + j], sum);
            c[i * ldc + j] = sum;
        }
}
static void dispatch_avx2(const double *a, long a_row, long a_col, const double *b, long ldb, double *c, long ldc,
                          long m, long k, long n, int accumulate) {
    bp_gemm_strided_on(BP_PATH_AVX2, a, a_row, a_col, b, ldb, c, ldc, m, k, n, accumulate);
}
static void dispatch_best(const double *a, long a_row, long a_col, const double *b, long ldb, double *c, long ldc,
                          long m, long k, long n, int accumulate) {
    bp_gemm_strided_on(BP_PATH_AVX512, a, a_row, a_col, b, ldb, c, ldc, m, k, n, accumulate);
}

/* `avx512` calls the AVX-512 kernel itself, so it runs only on a CPU that has AVX-512
   (elsewhere it would be an illegal instruction); the dispatcher falls back by itself. */
static const struct { const char *name; gemm_fn fn; int avx512; } paths[] = {
    {"avx2-unpacked", gemm_avx2, 0},  {"avx2-before", before_gemm_avx2_packed, 0}, {"avx2-new", gemm_avx2_packed, 0},
    {"avx512", gemm_avx512, 1},       {"dispatch-avx2", dispatch_avx2, 0},         {"dispatch", dispatch_best, 0},
};
enum { PATHS = sizeof paths / sizeof paths[0] };

static uint64_t state = 0x9E3779B97F4A7C15u;
static double random_double(int wide) {
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    double u = (double)(state >> 11) / 9007199254740992.0 * 2 - 1;
    return wide ? ldexp(u, (int)(state % 81) - 40) : u;
}

static long shapes_checked, mismatches;
static int has_avx512;

/* One shape: A as m×k row-major (transposed = 0) or the transpose of a k×m one;
   b with rows ldb = n + pad apart, c with ldc = n + pad; c's padding must stay. */
static void check(long m, long k, long n, int transposed, int accumulate, long pad, int wide) {
    const long ldb = n + pad, ldc = n + pad;
    const long a_row = transposed ? 1 : k, a_col = transposed ? m : 1;
    double *a = malloc(sizeof(double) * (size_t)(m * k + 1)), *b = malloc(sizeof(double) * (size_t)(k * ldb + 1));
    double *c0 = malloc(sizeof(double) * (size_t)(m * ldc)), *c = malloc(sizeof(double) * (size_t)(m * ldc));
    double *want = malloc(sizeof(double) * (size_t)(m * ldc));
    for (long i = 0; i < m * k; i++) a[i] = random_double(wide);
    for (long i = 0; i < k * ldb; i++) b[i] = random_double(wide);
    for (long i = 0; i < m * ldc; i++) c0[i] = random_double(wide);
    memcpy(want, c0, sizeof(double) * (size_t)(m * ldc));
    reference(a, a_row, a_col, b, ldb, want, ldc, m, k, n, accumulate);
    for (int q = 0; q < PATHS; q++) {
        if (paths[q].avx512 && !has_avx512) continue;
        memcpy(c, c0, sizeof(double) * (size_t)(m * ldc));
        paths[q].fn(a, a_row, a_col, b, ldb, c, ldc, m, k, n, accumulate);
        if (memcmp(c, want, sizeof(double) * (size_t)(m * ldc)) != 0) {
            if (mismatches++ < 20)
                printf("MISMATCH %s m=%ld k=%ld n=%ld transposed=%d accumulate=%d pad=%ld wide=%d\n", paths[q].name,
                       m, k, n, transposed, accumulate, pad, wide);
        }
    }
    shapes_checked++;
    free(a), free(b), free(c0), free(c), free(want);
}

static int run_check(void) {
    __builtin_cpu_init();
    has_avx512 = __builtin_cpu_supports("avx512f");
    for (long m = 1; m <= 20; m++)
        for (long k = 0; k <= 20; k++)
            for (long n = 1; n <= 20; n++)
                for (int v = 0; v < 4; v++) check(m, k, n, v & 1, v >> 1, (m + k + n) % 3, (m * k * n + v) % 2);
    const long ms[] = {5, 6, 7, 11, 12, 13, 64, 95, 96, 97, 101, 128, 129, 135, 193, 263};
    const long ks[] = {1, 3, 4, 5, 10, 64, 255, 256, 257, 511, 513, 784};
    const long ns[] = {1, 7, 8, 9, 10, 15, 16, 17, 33, 64, 128, 256, 263};
    for (size_t x = 0; x < sizeof ms / sizeof *ms; x++)
        for (size_t y = 0; y < sizeof ks / sizeof *ks; y++)
            for (size_t z = 0; z < sizeof ns / sizeof *ns; z++) {
                const long m = ms[x], k = ks[y], n = ns[z];
                if (m * k * n > 4000000) continue;
                check(m, k, n, (int)(x + y + z) % 2, (int)(x + z) % 2, (long)(y % 3) * 5, (int)(x + y) % 2);
            }
    /* The MLP's products, whole, their 16-column and 8-row thread blocks (ldc > n). */
    const long mlp[][4] = {{64, 784, 128, 0}, {64, 128, 10, 0}, {128, 64, 10, 1}, {64, 10, 128, 0}, {784, 64, 128, 1}};
    /* The 784-1024-10 network's weight gradient: a transposed a packed in blocks. */
    for (int acc = 0; acc < 2; acc++) check(784, 128, 1024, 1, acc, acc * 16, 0);
    for (int s = 0; s < 5; s++)
        for (int acc = 0; acc < 2; acc++)
            for (long pad = 0; pad <= 64; pad += 16) check(mlp[s][0], mlp[s][1], mlp[s][2], (int)mlp[s][3], acc, pad, acc);
    printf("check: %ld shapes x %d paths, %ld mismatches (this process's path: %d)%s\n", shapes_checked,
           has_avx512 ? PATHS : PATHS - 1, mismatches, bp_kernels_vectorized(),
           has_avx512 ? "" : "; this CPU has no AVX-512, so the avx512 path is not run");
    return mismatches != 0;
}

/* The core's AVX2 ceiling: twelve independent fma chains in registers (16 flops a
   cycle on two FMA ports), timed in the same rounds as the products. */
#include <immintrin.h>
__attribute__((target("avx2,fma"), noinline)) static double fma_peak(long steps) {
    __m256d c[12];
    for (int i = 0; i < 12; i++) c[i] = _mm256_set1_pd(1e-3 * i);
    const __m256d x = _mm256_set1_pd(0.999999), y = _mm256_set1_pd(1e-9);
    for (long s = 0; s < steps; s++) {
        for (int i = 0; i < 12; i++) c[i] = _mm256_fmadd_pd(x, c[i], y);
        __asm__ volatile("" : "+x"(c[0]), "+x"(c[1]), "+x"(c[2]), "+x"(c[3]), "+x"(c[4]), "+x"(c[5]));
        __asm__ volatile("" : "+x"(c[6]), "+x"(c[7]), "+x"(c[8]), "+x"(c[9]), "+x"(c[10]), "+x"(c[11]));
    }
    __m256d s = c[0];
    for (int i = 1; i < 12; i++) s = _mm256_add_pd(s, c[i]);
    return _mm256_cvtsd_f64(s);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Best GFLOP/s of `rounds` runs of `reps` products, each path in turn per round. */
static void run_time(int rounds) {
    static const struct { const char *name; long m, k, n, transposed, ld; } mlp[] = {
        {"fwd1   64x784 . 784x128", 64, 784, 128, 0, 128},   {"fwd2   64x128 . 128x10", 64, 128, 10, 0, 10},
        {"gradW2 (64x128)^T . 64x10", 128, 64, 10, 1, 10},   {"dWT    64x10 . 10x128", 64, 10, 128, 0, 128},
        {"gradW1 (64x784)^T . 64x128", 784, 64, 128, 1, 128}, {"fwd1 half (n=64 of 128)", 64, 784, 64, 0, 128},
        {"gradW1 half (n=64 of 128)", 784, 64, 64, 1, 128},
    };
    const int timed[] = {1, 4, 0};  /* avx2-before, dispatch-avx2 (the new path), avx2-unpacked */
    double peak = 0, sink = 0;
    for (int r = 0; r < rounds; r++) {
        const long steps = 200000;
        const double t0 = now();
        sink += fma_peak(steps);
        const double gf = 96.0 * (double)steps / (now() - t0) * 1e-9;
        if (gf > peak) peak = gf;
    }
    printf("AVX2 fma ceiling (register-only loop, best of %d): %.2f GF/s%s\n", rounds, peak, sink == 0.5 ? " " : "");
    printf("%-28s %12s %12s %8s %12s %14s\n", "product", "before GF/s", "new GF/s", "speedup", "unpacked",
           "new/ceiling");
    double epoch[2] = {0, 0};
    for (size_t s = 0; s < sizeof mlp / sizeof *mlp; s++) {
        const long m = mlp[s].m, k = mlp[s].k, n = mlp[s].n, ld = mlp[s].ld;
        double *a = malloc(sizeof(double) * (size_t)(m * k)), *b = malloc(sizeof(double) * (size_t)(k * ld));
        double *c = malloc(sizeof(double) * (size_t)(m * ld));
        for (long i = 0; i < m * k; i++) a[i] = random_double(0);
        for (long i = 0; i < k * ld; i++) b[i] = random_double(0);
        const long a_row = mlp[s].transposed ? 1 : k, a_col = mlp[s].transposed ? m : 1;
        const double flops = 2.0 * (double)(m * k * n);
        /* Short runs, many rounds: the best is a run no other process interrupted. */
        const long reps = (long)(4e6 / flops) + 1;
        double best[3] = {1e30, 1e30, 1e30};
        for (int r = 0; r < rounds; r++)
            for (int q = 0; q < 3; q++) {
                const double t0 = now();
                for (long x = 0; x < reps; x++)
                    paths[timed[q]].fn(a, a_row, a_col, b, ld, c, ld, m, k, n, 0);
                const double t = (now() - t0) / (double)reps;
                if (t < best[q]) best[q] = t;
            }
        if (s < 5) epoch[0] += best[0], epoch[1] += best[1];
        printf("%-28s %12.2f %12.2f %7.2fx %12.2f %13.0f%%\n", mlp[s].name, flops / best[0] * 1e-9,
               flops / best[1] * 1e-9, best[0] / best[1], flops / best[2] * 1e-9, 100 * flops / best[1] * 1e-9 / peak);
        free(a), free(b), free(c);
    }
    printf("%-28s %9.1f us %9.1f us %7.2fx  (the five products of one batch)\n", "batch total", epoch[0] * 1e6,
           epoch[1] * 1e6, epoch[0] / epoch[1]);
}

int main(int argc, char **argv) {
    const char *what = argc > 1 ? argv[1] : "all";
    int status = 0;
    if (strcmp(what, "check") == 0 || strcmp(what, "all") == 0) status |= run_check();
    if (strcmp(what, "time") == 0 || strcmp(what, "all") == 0) run_time(argc > 2 ? atoi(argv[2]) : 301);
    return status;
}
