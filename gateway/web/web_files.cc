#include "gateway/web/web_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <system_error>

#include <openssl/sha.h>

namespace obgw::gateway::web {
namespace {

// Whether `path` is `root` or inside it, component by component (a string
// prefix would let "/srv/web-old" pass for the root "/srv/web").
bool IsUnder(const std::filesystem::path& path, const std::filesystem::path& root) {
  auto [root_end, path_end] = std::mismatch(root.begin(), root.end(), path.begin(), path.end());
  return root_end == root.end();
}

}  // namespace

const EmbeddedFile* FindEmbedded(std::string_view path) {
  if (path == "/") path = "/index.html";
  std::span<const EmbeddedFile> files = EmbeddedFiles();
  auto it =
      std::lower_bound(files.begin(), files.end(), path,
                       [](const EmbeddedFile& file, std::string_view p) { return file.path < p; });
  return it != files.end() && it->path == path ? &*it : nullptr;
}

std::string EtagOf(std::string_view content) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest;
  SHA256(reinterpret_cast<const unsigned char*>(content.data()), content.size(), digest.data());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string etag = "\"";
  for (int i = 0; i < 16; ++i) {
    etag += kHex[digest[i] >> 4];
    etag += kHex[digest[i] & 0xF];
  }
  etag += '"';
  return etag;
}

std::optional<std::filesystem::path> ResolveWebRoot(const std::string& dir) {
  std::error_code ec;
  std::filesystem::path root = std::filesystem::canonical(dir, ec);
  if (ec || !std::filesystem::is_directory(root, ec)) return std::nullopt;
  return root;
}

std::optional<std::string> ReadFromRoot(const std::filesystem::path& root,
                                        std::string_view relative) {
  std::error_code ec;
  // canonical() resolves every symlink: a link pointing out of the root
  // resolves out of it and is refused below, whatever its name says.
  std::filesystem::path real = std::filesystem::canonical(root / relative, ec);
  if (ec || !IsUnder(real, root)) return std::nullopt;
  // O_NOFOLLOW: the resolved path has no link left; one swapped in since is
  // refused rather than followed.
  int fd = ::open(real.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return std::nullopt;
  struct stat info;
  std::optional<std::string> content;
  if (::fstat(fd, &info) == 0 && S_ISREG(info.st_mode)) {
    content.emplace();
    char buffer[64 << 10];
    while (true) {
      ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        content.reset();
        break;
      }
      if (n == 0) break;
      content->append(buffer, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return content;
}

}  // namespace obgw::gateway::web
