#ifndef OBGW_TESTS_BENCH_LOADGEN_PROCESS_SAMPLER_H_
#define OBGW_TESTS_BENCH_LOADGEN_PROCESS_SAMPLER_H_

#include <sys/types.h>
#include <chrono>
#include <cstdint>

namespace obgw::loadgen {

// CPU time and resident memory of a process (the server under test), from
// /proc. Reads only; any thread.
class ProcessSampler {
 public:
  explicit ProcessSampler(pid_t pid) : pid_(pid) {}

  bool valid() const { return pid_ > 0; }
  // user + system CPU seconds consumed so far, including exited threads.
  double CpuSeconds() const;
  // Resident set size in KiB (VmRSS).
  std::int64_t RssKb() const;

 private:
  pid_t pid_;
};

}  // namespace obgw::loadgen

#endif  // OBGW_TESTS_BENCH_LOADGEN_PROCESS_SAMPLER_H_
