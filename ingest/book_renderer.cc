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

// Worst-case widths, so one up-front size check covers the whole output and
// the writers below never check capacity: a double is at most
// kMaxDoubleChars, a uint32 10 characters, an int64 20.
constexpr std::size_t kMaxUint32Chars = 10;
constexpr std::size_t kMaxInt64Chars = 20;
// "[" price "," volume "," orders "]" ","
constexpr std::size_t kMaxLevelChars = 2 * kMaxDoubleChars + kMaxUint32Chars + 5;
// Everything except the levels and the timestamp's characters, generously:
// {"bids":[],"asks":[],"timestamp":"","source_time_ns":N,"send_time_ns":N,"source_seq":N}
constexpr std::size_t kFixedChars = 128 + 3 * kMaxInt64Chars;
// One escaped character is at most \u00XX.
constexpr std::size_t kMaxEscapedCharChars = 6;

// The fast path's decimals and bound (see WriteShortestDouble): below 10^15
// every decimal has at most 15 significant digits, so two distinct ones never
// read back as the same double (DBL_DIG), and the scaled value's rounding
// error (< 0.25) cannot pick the wrong integer.
constexpr int kMaxFastDecimals = 8;
constexpr double kFastLimit = 1e15;
constexpr double kPow10[kMaxFastDecimals + 1] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};

int DecimalDigits(std::uint64_t n) {
  int digits = 1;
  while (n >= 10) {
    n /= 10;
    ++digits;
  }
  return digits;
}

// Writes into a buffer already sized for the worst case; `pos` only moves
// forward, and the caller takes the text up to it at the end.
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
    pos_ = WriteShortestDouble(pos_, value);
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

char* WriteShortestDouble(char* out, double value) {
  const double magnitude = std::fabs(value);
  if (magnitude < kFastLimit) {
    for (int decimals = 0; decimals <= kMaxFastDecimals; ++decimals) {
      const double scaled = magnitude * kPow10[decimals];
      if (scaled >= kFastLimit) break;
      const double rounded = std::nearbyint(scaled);
      // Both operands are exact integers below 2^53, so the division is the
      // correctly rounded value of the decimal: it reads back as `value`.
      if (rounded / kPow10[decimals] != magnitude) continue;
      const auto digits = static_cast<std::uint64_t>(rounded);
      const int length = DecimalDigits(digits);
      // With the fewest decimals the last digit is not 0 (unless there are
      // none); only an integer can end in zeros.
      int significant = length;
      if (decimals == 0 && digits != 0) {
        for (std::uint64_t n = digits; n % 10 == 0; n /= 10) --significant;
      }
      const int fixed_chars =
          decimals == 0 ? length : (length > decimals ? length : decimals + 1) + 1;
      // d[.ddd]e±XX: the exponent here is within ±99.
      const int scientific_chars = significant + (significant > 1 ? 1 : 0) + 4;
      if (digits != 0 && scientific_chars < fixed_chars) break;
      if (std::signbit(value)) *out++ = '-';
      if (decimals == 0) return std::to_chars(out, out + kMaxDoubleChars, digits).ptr;
      char text[kMaxDoubleChars];
      std::to_chars(text, text + sizeof(text), digits);
      if (length > decimals) {
        const int whole = length - decimals;
        std::memcpy(out, text, static_cast<std::size_t>(whole));
        out += whole;
        *out++ = '.';
        std::memcpy(out, text + whole, static_cast<std::size_t>(decimals));
        return out + decimals;
      }
      *out++ = '0';
      *out++ = '.';
      std::memset(out, '0', static_cast<std::size_t>(decimals - length));
      out += decimals - length;
      std::memcpy(out, text, static_cast<std::size_t>(length));
      return out + length;
    }
  }
  return std::to_chars(out, out + kMaxDoubleChars, value).ptr;
}

std::string BookRenderer::Render(const orderbook::v1::OrderBookUpdate& update) {
  const std::size_t levels =
      static_cast<std::size_t>(update.bids_size()) + static_cast<std::size_t>(update.asks_size());
  const std::size_t bound =
      kFixedChars + levels * kMaxLevelChars + update.timestamp().size() * kMaxEscapedCharChars;
  // Grows to the largest book seen, never shrinks: no allocation per book.
  if (scratch_.size() < bound) scratch_.resize(bound);
  char* const begin = scratch_.data();
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
  // The one allocation: exactly the text's size.
  return std::string(begin, static_cast<std::size_t>(w.pos() - begin));
}

std::string RenderBookData(const orderbook::v1::OrderBookUpdate& update) {
  thread_local BookRenderer renderer;
  return renderer.Render(update);
}

}  // namespace obgw::ingest
