#include "gateway/http/origin_policy.h"

#include <algorithm>

#include <absl/strings/ascii.h>
#include <boost/url/parse.hpp>

namespace obgw::gateway {

std::optional<std::string> NormalizeOrigin(std::string_view origin) {
  auto url = boost::urls::parse_absolute_uri(origin);
  if (!url || !url->has_authority() || url->has_userinfo() || url->host().empty() ||
      !url->path().empty() || url->has_query() || url->has_fragment()) {
    return std::nullopt;
  }
  std::string scheme = absl::AsciiStrToLower(std::string(url->scheme()));
  if (scheme != "http" && scheme != "https") return std::nullopt;
  std::string normalized = scheme + "://" + absl::AsciiStrToLower(std::string(url->encoded_host()));
  if (url->has_port()) normalized += ":" + std::string(url->port());
  return normalized;
}

bool OriginAllowed(const std::vector<std::string>& allowed, bool allow_missing,
                   const HttpRequest& request) {
  namespace http = boost::beast::http;
  std::size_t count = request.count(http::field::origin);
  if (count == 0) return allow_missing;
  if (allowed.empty()) return true;
  if (count > 1) return false;
  std::optional<std::string> origin = NormalizeOrigin(request[http::field::origin]);
  return origin && std::find(allowed.begin(), allowed.end(), *origin) != allowed.end();
}

}  // namespace obgw::gateway
