#include "ingest/book_renderer.h"

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace obgw::ingest {
namespace {

using google::protobuf::RepeatedPtrField;
using orderbook::v1::PriceLevel;

// Worst-case widths, so one up-front resize covers the whole output and the
// writers below never check capacity: the shortest round-trip double is at
// most 24 characters ("-2.2250738585072014e-308"), a uint32 10, an int64 20.
constexpr std::size_t kMaxDoubleChars = 24;
constexpr std::size_t kMaxUint32Chars = 10;
constexpr std::size_t kMaxInt64Chars = 20;
// "[" price "," volume "," orders "]" ","
constexpr std::size_t kMaxLevelChars = 2 * kMaxDoubleChars + kMaxUint32Chars + 5;
// Everything except the levels and the timestamp's characters, generously:
// {"bids":[],"asks":[],"timestamp":"","source_time_ns":N,"send_time_ns":N,"source_seq":N}
constexpr std::size_t kFixedChars = 128 + 3 * kMaxInt64Chars;
// One escaped character is at most \u00XX.
constexpr std::size_t kMaxEscapedCharChars = 6;

// Writes into a buffer already sized for the worst case; `pos` only moves
// forward, and the caller trims the string to it at the end.
class Writer {
 public:
  explicit Writer(char* pos) : pos_(pos) {}

  char* pos() const { return pos_; }

  void Literal(std::string_view text) {
    std::memcpy(pos_, text.data(), text.size());
    pos_ += text.size();
  }
  void Char(char c) { *pos_++ = c; }

  void Double(double value) {
    if (!std::isfinite(value)) {
      Literal("null");
      return;
    }
    pos_ = std::to_chars(pos_, pos_ + kMaxDoubleChars, value).ptr;
  }

  template <typename Int>
  void Integer(Int value) {
    pos_ = std::to_chars(pos_, pos_ + kMaxInt64Chars, value).ptr;
  }

  // JSON string escaping (RFC 8259): quote, backslash and control characters;
  // everything else, including UTF-8 (protobuf guarantees valid UTF-8 for
  // proto3 strings), is copied as is.
  void EscapedString(std::string_view text) {
    static constexpr char kHex[] = "0123456789abcdef";
    Char('"');
    for (char c : text) {
      const auto byte = static_cast<unsigned char>(c);
      switch (c) {
        case '"':
          Literal("\\\"");
          break;
        case '\\':
          Literal("\\\\");
          break;
        case '\n':
          Literal("\\n");
          break;
        case '\r':
          Literal("\\r");
          break;
        case '\t':
          Literal("\\t");
          break;
        default:
          if (byte < 0x20) {
            Literal("\\u00");
            Char(kHex[byte >> 4]);
            Char(kHex[byte & 0xF]);
          } else {
            Char(c);
          }
      }
    }
    Char('"');
  }

  void Levels(const RepeatedPtrField<PriceLevel>& levels) {
    Char('[');
    bool first = true;
    for (const PriceLevel& level : levels) {
      if (!first) Char(',');
      first = false;
      Char('[');
      Double(level.price());
      Char(',');
      Double(level.volume());
      Char(',');
      Integer(level.orders());
      Char(']');
    }
    Char(']');
  }

 private:
  char* pos_;
};

}  // namespace

std::string RenderBookData(const orderbook::v1::OrderBookUpdate& update) {
  const std::size_t levels =
      static_cast<std::size_t>(update.bids_size()) + static_cast<std::size_t>(update.asks_size());
  const std::size_t bound =
      kFixedChars + levels * kMaxLevelChars + update.timestamp().size() * kMaxEscapedCharChars;
  std::string out;
  // resize (not reserve) so the writer can fill raw bytes; the zero-fill of
  // a few hundred bytes is far cheaper than per-append capacity checks.
  out.resize(bound);
  char* const begin = out.data();
  Writer w(begin);

  w.Literal("{\"bids\":");
  w.Levels(update.bids());
  w.Literal(",\"asks\":");
  w.Levels(update.asks());
  if (!update.timestamp().empty()) {
    w.Literal(",\"timestamp\":");
    w.EscapedString(update.timestamp());
  }
  if (update.source_time_ns() != 0) {
    w.Literal(",\"source_time_ns\":");
    w.Integer(update.source_time_ns());
  }
  if (update.send_time_ns() != 0) {
    w.Literal(",\"send_time_ns\":");
    w.Integer(update.send_time_ns());
  }
  if (update.source_seq() != 0) {
    w.Literal(",\"source_seq\":");
    w.Integer(update.source_seq());
  }
  w.Char('}');

  out.resize(static_cast<std::size_t>(w.pos() - begin));
  return out;
}

}  // namespace obgw::ingest
