#ifndef OBGW_TESTS_FUZZ_UTF8_H_
#define OBGW_TESTS_FUZZ_UTF8_H_

#include <cstddef>
#include <string_view>

namespace obgw::fuzz {

// Strict UTF-8 check (RFC 3629): no overlong forms, no surrogates
// (U+D800..U+DFFF), nothing above U+10FFFF, no truncated sequences. This is
// what browsers enforce on WebSocket text frames (they drop the connection
// otherwise), so every text the gateway sends must pass it.
inline bool IsValidUtf8(std::string_view text) {
  std::size_t i = 0;
  const std::size_t n = text.size();
  while (i < n) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // Allowed range of the second byte.
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;  // Overlong.
      if (c == 0xED) hi = 0x9F;  // Surrogates.
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;  // Overlong.
      if (c == 0xF4) hi = 0x8F;  // Above U+10FFFF.
    } else {
      return false;  // 0x80..0xC1 (continuation or overlong lead), 0xF5..0xFF.
    }
    if (n - i < len) return false;
    const unsigned char c1 = static_cast<unsigned char>(text[i + 1]);
    if (c1 < lo || c1 > hi) return false;
    for (std::size_t k = 2; k < len; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

}  // namespace obgw::fuzz

#endif  // OBGW_TESTS_FUZZ_UTF8_H_
