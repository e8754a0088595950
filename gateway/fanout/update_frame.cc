#include "gateway/fanout/update_frame.h"

#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace obgw::gateway {
namespace {

constexpr std::string_view kPrefix = R"({"type":"orderbook_update","symbol":")";
constexpr std::string_view kSeq = R"(","seq":)";
constexpr std::string_view kTimestamp = R"(,"timestamp":")";
constexpr std::string_view kTimestampEnd = R"(")";
constexpr std::string_view kData = R"(,"data":)";
constexpr std::string_view kSuffix = "}";

char* Append(char* out, std::string_view text) {
  // memcpy from an empty view's null data() is undefined, even for 0 bytes.
  if (!text.empty()) std::memcpy(out, text.data(), text.size());
  return out + text.size();
}

}  // namespace

FramePtr RenderUpdateFrame(std::string_view symbol, std::uint64_t seq, std::string_view timestamp,
                           std::string_view data, std::string_view extra_fields,
                           std::int64_t received_ns) {
  char seq_text[24];
  auto [seq_end, ec] = std::to_chars(seq_text, seq_text + sizeof(seq_text), seq);
  std::string_view seq_view(seq_text, seq_end - seq_text);
  std::size_t size = kPrefix.size() + symbol.size() + kSeq.size() + seq_view.size() +
                     kTimestamp.size() + timestamp.size() + kTimestampEnd.size() +
                     extra_fields.size() + kData.size() + data.size() + kSuffix.size();
  auto fill = [&](char* out) {
    out = Append(out, kPrefix);
    out = Append(out, symbol);
    out = Append(out, kSeq);
    out = Append(out, seq_view);
    out = Append(out, kTimestamp);
    out = Append(out, timestamp);
    out = Append(out, kTimestampEnd);
    out = Append(out, extra_fields);
    out = Append(out, kData);
    out = Append(out, data);
    Append(out, kSuffix);
  };
  return Frame::TextInPlace(size, std::string(symbol), fill, received_ns);
}

std::string_view IsoClock::Format(std::chrono::system_clock::time_point time) {
  auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count();
  std::int64_t second = micros / 1'000'000;
  if (second != cached_second_) {
    std::time_t t = static_cast<std::time_t>(second);
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(text_, sizeof(text_), "%Y-%m-%dT%H:%M:%S", &tm);  // 19 characters
    cached_second_ = second;
  }
  std::snprintf(text_ + 19, sizeof(text_) - 19, ".%06d+00:00",
                static_cast<int>(micros % 1'000'000));
  return std::string_view(text_, 32);
}

}  // namespace obgw::gateway
