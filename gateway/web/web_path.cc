#include "gateway/web/web_path.h"

#include <array>
#include <utility>

namespace obgw::gateway::web {

std::optional<std::string> RelativeWebPath(std::string_view decoded_path) {
  if (decoded_path.empty() || decoded_path.front() != '/') return std::nullopt;
  if (decoded_path == "/") return "index.html";
  std::string_view rest = decoded_path.substr(1);
  for (unsigned char c : rest) {
    // A backslash is a separator on Windows and in some proxies' eyes; NUL
    // truncates a C path; neither belongs in a URL of ours.
    if (c < 0x20 || c == 0x7F || c == '\\') return std::nullopt;
  }
  std::size_t start = 0;
  while (true) {
    std::size_t slash = rest.find('/', start);
    std::string_view segment = rest.substr(start, slash - start);
    // Empty ("a//b", a trailing "/"), "." and "..": an alias or a way out.
    // Dot files (".git", ".env") are never part of the page.
    if (segment.empty() || segment.front() == '.') return std::nullopt;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return std::string(rest);
}

std::string_view ContentTypeFor(std::string_view path) {
  // Longest suffix first: ".d.ts" before ".ts".
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 12> kTypes = {{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".d.ts", "application/typescript; charset=utf-8"},
      {".ts", "application/typescript; charset=utf-8"},
      {".txt", "text/plain; charset=utf-8"},
      {".ico", "image/x-icon"},
  }};
  for (const auto& [suffix, type] : kTypes) {
    if (path.size() > suffix.size() && path.ends_with(suffix)) return type;
  }
  return "application/octet-stream";
}

}  // namespace obgw::gateway::web
