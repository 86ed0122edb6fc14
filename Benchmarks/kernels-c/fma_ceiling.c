/* The machine's fused multiply-add ceiling, with no memory traffic: twelve independent
   AVX2 accumulators (as the 6×8 micro-kernel keeps) each take 200 M / 12 multiply-adds
   in registers. Prints, per round, GFLOP/s on CPU 0 alone, on CPU 1 alone, and the sum
   of both running at once. On real cores the sum is twice one; on two hardware threads
   of one core (or vCPUs that share one) it is about one. `./run.sh ceiling [rounds]`. */
#define _GNU_SOURCE
#include <immintrin.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double rates[2];
static volatile double sink; /* keeps the accumulators live */

__attribute__((target("avx2,fma"))) static void *spin(void *argument) {
    const long cpu = (long)argument;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET((int)cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    __m256d acc[12];
    const __m256d x = _mm256_set1_pd(1.0000001), y = _mm256_set1_pd(0.999999);
    for (int i = 0; i < 12; i++) acc[i] = _mm256_set1_pd(i);
    const long steps = 200000000 / 12;
    const double start = now();
    for (long s = 0; s < steps; s++)
        for (int i = 0; i < 12; i++) acc[i] = _mm256_fmadd_pd(acc[i], x, y);
    const double seconds = now() - start;
    double sum = 0;
    for (int i = 0; i < 12; i++) sum += acc[i][0];
    sink = sum;
    rates[cpu] = (double)steps * 12 * 8 / seconds / 1e9;
    return NULL;
}

static double run(int first, int count) {
    pthread_t threads[2];
    for (long i = 0; i < count; i++) pthread_create(&threads[i], NULL, spin, (void *)(first + i));
    double total = 0;
    for (long i = 0; i < count; i++) {
        pthread_join(threads[i], NULL);
        total += rates[first + i];
    }
    return total;
}

int main(int argc, char **argv) {
    const int rounds = argc > 1 ? atoi(argv[1]) : 6;
    for (int round = 1; round <= rounds; round++) {
        const double zero = run(0, 1), one = run(1, 1), both = run(0, 2);
        printf("round %d: CPU 0 alone %.1f GFLOP/s, CPU 1 alone %.1f, both at once %.1f (%.2f× the faster alone)\n", round,
               zero, one, both, both / (zero > one ? zero : one));
    }
    return 0;
}
