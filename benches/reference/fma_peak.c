/* The processor's peak rate of 8-wide single-precision fused multiply-adds (AVX2
 * + FMA), per core and on THREADS cores at once: ten independent accumulator
 * chains per thread (more than FMA latency x pipes), nothing but multiply-adds in
 * the loop. The ceiling the encoder's products are compared with in the README.
 *
 *   gcc -O3 -mavx2 -mfma -pthread benches/reference/fma_peak.c -o /tmp/fma_peak
 *   /tmp/fma_peak 1 && /tmp/fma_peak 2
 */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define STEPS 400000000L
#define CHAINS 10

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *run(void *out) {
  __m256 b = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
  __m256 a0 = _mm256_set1_ps(0), a1 = _mm256_set1_ps(1), a2 = _mm256_set1_ps(2),
         a3 = _mm256_set1_ps(3), a4 = _mm256_set1_ps(4), a5 = _mm256_set1_ps(5),
         a6 = _mm256_set1_ps(6), a7 = _mm256_set1_ps(7), a8 = _mm256_set1_ps(8),
         a9 = _mm256_set1_ps(9);
  for (long k = 0; k < STEPS; k++) {
    a0 = _mm256_fmadd_ps(a0, b, c); a1 = _mm256_fmadd_ps(a1, b, c);
    a2 = _mm256_fmadd_ps(a2, b, c); a3 = _mm256_fmadd_ps(a3, b, c);
    a4 = _mm256_fmadd_ps(a4, b, c); a5 = _mm256_fmadd_ps(a5, b, c);
    a6 = _mm256_fmadd_ps(a6, b, c); a7 = _mm256_fmadd_ps(a7, b, c);
    a8 = _mm256_fmadd_ps(a8, b, c); a9 = _mm256_fmadd_ps(a9, b, c);
    /* Keeps the chains in registers and the loop as written. */
    __asm__ volatile("" : "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3), "+x"(a4),
                     "+x"(a5), "+x"(a6), "+x"(a7), "+x"(a8), "+x"(a9));
  }
  __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                           _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
  s = _mm256_add_ps(s, _mm256_add_ps(a8, a9));
  float lanes[8];
  _mm256_storeu_ps(lanes, s);
  *(float *)out = lanes[0];
  return NULL;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 1;
  if (threads < 1 || threads > 64) {
    fprintf(stderr, "usage: fma_peak [THREADS in 1..64]\n");
    return 1;
  }
  pthread_t ids[64];
  float sink[64];
  double start = now();
  for (int i = 0; i < threads; i++) pthread_create(&ids[i], NULL, run, &sink[i]);
  for (int i = 0; i < threads; i++) pthread_join(ids[i], NULL);
  double seconds = now() - start;
  double flops = 2.0 * 8 * CHAINS * (double)STEPS * threads;
  printf("RESULT threads=%d gflops=%.1f per_core=%.1f (%.2f GHz x 32 flops per cycle)\n",
         threads, flops / seconds / 1e9, flops / seconds / 1e9 / threads,
         flops / seconds / threads / 32e9);
  return 0;
}
