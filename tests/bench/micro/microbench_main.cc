// Entry point of orderbook-microbench. The benchmarks themselves live in the
// *_bench.cc files of this folder; see each file's header for what it measures.
#include <benchmark/benchmark.h>

BENCHMARK_MAIN();
