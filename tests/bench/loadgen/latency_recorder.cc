#include "latency_recorder.h"

#include <charconv>
#include <chrono>

namespace obgw::loadgen {

std::int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t ExtractSendTimeNs(std::string_view message) {
  constexpr std::string_view kKey = "\"send_time_ns\":";
  std::size_t at = message.find(kKey);
  if (at == std::string_view::npos) return -1;
  std::size_t pos = at + kKey.size();
  while (pos < message.size() && message[pos] == ' ') ++pos;
  std::int64_t value = -1;
  auto [end, ec] = std::from_chars(message.data() + pos, message.data() + message.size(), value);
  return ec == std::errc() ? value : -1;
}

double LatencyRecorder::PercentileUs(double q) {
  if (samples_.empty()) return 0;
  if (!sorted_) {
    std::sort(samples_.begin(), samples_.end());
    sorted_ = true;
  }
  std::size_t index = static_cast<std::size_t>(q * static_cast<double>(samples_.size() - 1));
  return static_cast<double>(samples_[index]) / 1000.0;
}

}  // namespace obgw::loadgen
