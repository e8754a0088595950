#include "gateway/auth/compact_jws.h"

#include <cstdint>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace obgw::gateway {
namespace {

// The value of a base64url character, or -1.
int Sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

std::optional<boost::json::object> ParseObject(std::string_view part) {
  std::optional<std::string> text = DecodeBase64Url(part);
  if (!text) return std::nullopt;
  boost::system::error_code ec;
  boost::json::value json = boost::json::parse(*text, ec);
  if (ec || !json.is_object()) return std::nullopt;
  return std::move(json.as_object());
}

}  // namespace

std::optional<std::string> DecodeBase64Url(std::string_view text) {
  // Four characters carry three bytes; a lone trailing character carries
  // none, so no encoder produces it.
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    int value = Sextet(c);
    if (value < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<std::uint32_t>(value);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> count) & 0xFF));
    }
  }
  return out;
}

std::optional<CompactJws> ParseCompactJws(std::string_view token) {
  std::size_t first = token.find('.');
  if (first == std::string_view::npos) return std::nullopt;
  std::size_t second = token.find('.', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  if (token.find('.', second + 1) != std::string_view::npos) return std::nullopt;
  std::string_view header = token.substr(0, first);
  std::string_view payload = token.substr(first + 1, second - first - 1);
  std::string_view signature = token.substr(second + 1);
  if (header.empty() || payload.empty() || !DecodeBase64Url(signature)) return std::nullopt;
  std::optional<boost::json::object> header_json = ParseObject(header);
  if (!header_json) return std::nullopt;
  std::optional<boost::json::object> payload_json = ParseObject(payload);
  if (!payload_json) return std::nullopt;
  return CompactJws{*std::move(header_json), *std::move(payload_json)};
}

}  // namespace obgw::gateway
