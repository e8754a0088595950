#ifndef OBGW_GATEWAY_WEB_WEB_PATH_H_
#define OBGW_GATEWAY_WEB_WEB_PATH_H_

#include <optional>
#include <string>
#include <string_view>

namespace obgw::gateway::web {

// The file a request path names, relative to the web root ("/" is
// "index.html"), or nullopt when the path may not name a file: not absolute,
// an empty, "." or ".." segment, a hidden (dot) file, a backslash, NUL or any
// control character. `decoded_path` is percent-decoded (boost::urls
// url_view::path()), so "%2e%2e" arrives here as ".." and "%2f" as "/".
// Pure; the symlink check is ReadFromRoot's (web_files.h).
std::optional<std::string> RelativeWebPath(std::string_view decoded_path);

// The Content-Type of a file by its extension: html, js, mjs, css, svg, png,
// json, map, d.ts (application/typescript), txt; anything else is
// application/octet-stream (with nosniff, a browser will not run it).
std::string_view ContentTypeFor(std::string_view path);

}  // namespace obgw::gateway::web

#endif  // OBGW_GATEWAY_WEB_WEB_PATH_H_
