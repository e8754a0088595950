#ifndef OBGW_GATEWAY_WEB_WEB_FILES_H_
#define OBGW_GATEWAY_WEB_WEB_FILES_H_

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace obgw::gateway::web {

// One file of gateway/web/static/, embedded at build time (embed.cmake).
struct EmbeddedFile {
  std::string_view path;  // the URL path: "/index.html", "/client/orderbook-client.js"
  std::string_view data;
  std::string_view etag;  // strong, quoted: "\"<32 hex digits>\""
};

// Every embedded file, sorted by path.
std::span<const EmbeddedFile> EmbeddedFiles();

// The embedded file at URL path `path` ("/" is "/index.html"), or null.
const EmbeddedFile* FindEmbedded(std::string_view path);

// A strong ETag of `content`: the first 128 bits of its SHA-256 in hex,
// quoted; the same value embed.cmake gives the embedded copy.
std::string EtagOf(std::string_view content);

// The directory --web_root names, resolved (symlinks, ".."): nullopt when it
// is not a directory.
std::optional<std::filesystem::path> ResolveWebRoot(const std::string& dir);

// The content of `relative` (RelativeWebPath's answer) under `root` (a
// ResolveWebRoot answer), read now, or nullopt: missing, not a regular file,
// or resolving outside `root` (a symlink out of it).
std::optional<std::string> ReadFromRoot(const std::filesystem::path& root,
                                        std::string_view relative);

}  // namespace obgw::gateway::web

#endif  // OBGW_GATEWAY_WEB_WEB_FILES_H_
