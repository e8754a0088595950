#ifndef OBGW_TESTS_BENCH_LOADGEN_LATENCY_RECORDER_H_
#define OBGW_TESTS_BENCH_LOADGEN_LATENCY_RECORDER_H_

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <vector>

namespace obgw::loadgen {

// Nanoseconds since the Unix epoch (system clock): the clock the publishers
// stamp into each book's "send_time_ns", read by the subscribers on the same
// machine.
std::int64_t NowNs();

// Finds `"send_time_ns":N` (any whitespace after the colon, as Python's
// json.dumps writes it) in a received message; -1 when absent.
std::int64_t ExtractSendTimeNs(std::string_view message);

// End-to-end latencies of one run. Single-threaded: the subscriber thread
// records, the main thread reads after that thread has stopped.
class LatencyRecorder {
 public:
  void Reserve(std::size_t n) { samples_.reserve(n); }
  void Record(std::int64_t nanos) { samples_.push_back(nanos); }
  std::size_t count() const { return samples_.size(); }
  void Merge(const LatencyRecorder& other) {
    samples_.insert(samples_.end(), other.samples_.begin(), other.samples_.end());
    sorted_ = false;
  }

  // Percentile in microseconds (q in [0, 1]); 0 with no samples. Sorts once.
  double PercentileUs(double q);

 private:
  std::vector<std::int64_t> samples_;
  bool sorted_ = false;
};

}  // namespace obgw::loadgen

#endif  // OBGW_TESTS_BENCH_LOADGEN_LATENCY_RECORDER_H_
