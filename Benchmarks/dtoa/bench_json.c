/*
 * ns per number for bp_format_json_numbers (Sources/CBackpropJSON/dtoa.c), the JSON
 * writer's number loop, on 1 M doubles of each mix: standard normal (the realistic
 * case: matrix outputs and gradients; mixed signs, mostly 0.01 <= |x| < 3, 16-17
 * digits), uniform [0, 1), random bit patterns, integers in [-10^6, 10^6] and k / 100.
 * Prints, over the rounds (argument 1, default 15), the median and the fastest in ns
 * per number, and MB/s of output at the median. Times are the thread's CPU time, so
 * that other work on a shared machine disturbs them less. Fixed seeds: the same
 * values every run. Built and run by Benchmarks/dtoa/run.sh.
 */
#define _POSIX_C_SOURCE 199309L
#include "CBackpropJSON.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { COUNT = 1000000 };

static uint64_t state = 0xBE4C4D70;
static uint64_t next(void) { /* SplitMix64: fixed seed, same values every run */
    uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
static double uniform(void) { return (double)(next() >> 11) * 0x1p-53; }

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static int by_value(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    const int rounds = argc > 1 ? atoi(argv[1]) : 15;
    double *values = malloc(COUNT * sizeof *values);
    char *out = malloc((size_t)COUNT * 26 + 32);
    double *times = malloc(rounds * sizeof *times);
    const char *names[] = {"normal(0,1)", "uniform [0,1)", "random bits", "integers", "k/100"};
    for (int mix = 0; mix < 5; mix++) {
        for (long i = 0; i < COUNT; i++) {
            double v;
            switch (mix) {
            case 0: /* Box-Muller */
                v = sqrt(-2 * log(1 - uniform())) * cos(6.283185307179586 * uniform());
                break;
            case 1: v = uniform(); break;
            case 2: {
                uint64_t bits;
                do bits = next(); while ((bits >> 52 & 0x7FF) == 0x7FF); /* finite only */
                memcpy(&v, &bits, sizeof v);
                break;
            }
            case 3: v = (double)(int64_t)(next() % 2000001) - 1000000; break;
            default: v = (double)(int64_t)(next() % 1000001) / 100; break;
            }
            values[i] = v;
        }
        long bytes = bp_format_json_numbers(values, COUNT, 0, out); /* warm up */
        for (int r = 0; r < rounds; r++) {
            const double start = now();
            bytes = bp_format_json_numbers(values, COUNT, 0, out);
            times[r] = now() - start;
        }
        qsort(times, rounds, sizeof *times, by_value);
        const double ns = times[rounds / 2];
        printf("bp_format_json_numbers, %-13s %d doubles, median of %d: %5.1f ns/number (fastest %5.1f), "
               "%6.1f MB/s\n", names[mix], COUNT, rounds, ns / COUNT, times[0] / COUNT, bytes / ns * 1e3);
    }
    return 0;
}
