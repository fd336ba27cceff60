/*
 * This machine's fp32 multiply-add peak, measured in the benchmark's own run (bench/run.ts),
 * so "fraction of ceiling" comes from the CPU and load at hand, never from a constant.
 *
 * Each thread keeps 12 independent vector accumulators busy with a = a * b + c, which
 * compiles to fused multiply-adds with -march=native (-ffp-contract=fast is GCC's
 * default): 12 chains hide the FMA latency on current x86 cores. The vectors are as wide
 * as the CPU's registers (64 bytes with AVX-512, else 32), and the chains are separate
 * variables, not an array, so that they all stay in registers.
 *
 * Prints one JSON line: {"threads": n, "vectorBits": w, "gflopsOneThread": x, "gflopsAllThreads": y}.
 */
#include <omp.h>
#include <stdio.h>

#ifdef __AVX512F__
enum { LANES = 16 };
#else
enum { LANES = 8 };
#endif
typedef float vec __attribute__((vector_size(LANES * 4)));
enum { CHAINS = 12 };

/* Runs `iterations` rounds on one thread; returns a value that depends on every chain, so none is optimised away. */
static float spin(long iterations, float seed)
{
  vec b, c, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11;
  for (int l = 0; l < LANES; l++)
  {
    b[l] = 0.999999f;
    c[l] = seed * 1e-7f;
    a0[l] = a1[l] = a2[l] = a3[l] = a4[l] = a5[l] = seed + l;
    a6[l] = a7[l] = a8[l] = a9[l] = a10[l] = a11[l] = seed - l;
  }
  for (long i = 0; i < iterations; i++)
  {
    a0 = a0 * b + c, a1 = a1 * b + c, a2 = a2 * b + c, a3 = a3 * b + c;
    a4 = a4 * b + c, a5 = a5 * b + c, a6 = a6 * b + c, a7 = a7 * b + c;
    a8 = a8 * b + c, a9 = a9 * b + c, a10 = a10 * b + c, a11 = a11 * b + c;
  }
  vec all = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
  float sum = 0;
  for (int l = 0; l < LANES; l++)
    sum += all[l];
  return sum;
}

/* GFLOP/s of `threads` threads spinning together, best of three rounds. */
static double gflops(int threads, long iterations)
{
  double best = 0;
  for (int round = 0; round < 3; round++)
  {
    volatile float sink = 0;
    double start = omp_get_wtime();
#pragma omp parallel num_threads(threads)
    {
      float s = spin(iterations, (float)omp_get_thread_num());
#pragma omp atomic
      sink += s;
    }
    double seconds = omp_get_wtime() - start;
    double rate = 2.0 * CHAINS * LANES * iterations * threads / seconds / 1e9;
    if (rate > best)
      best = rate;
  }
  return best;
}

int main(void)
{
  const long iterations = 50 * 1000 * 1000; /* about 0.2 s a round on a 3 GHz core */
  int threads = omp_get_num_procs();
  double one = gflops(1, iterations);
  double all = gflops(threads, iterations);
  printf("{\"threads\": %d, \"vectorBits\": %d, \"gflopsOneThread\": %.1f, \"gflopsAllThreads\": %.1f}\n", threads,
         LANES * 32, one, all);
  return 0;
}
