#include "gateway/redis/redis_url.h"

#include <absl/strings/numbers.h>
#include <absl/strings/str_cat.h>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace obgw::gateway {
namespace {

absl::Status Bad(std::string_view what) {
  return absl::InvalidArgumentError("redis URL: " + std::string(what));
}

}  // namespace

std::string RedisEndpoint::Redacted() const {
  std::string url = "redis://";
  if (!user.empty() || !password.empty()) absl::StrAppend(&url, user, ":***@");
  bool ipv6 = host.find(':') != std::string::npos;
  absl::StrAppend(&url, ipv6 ? "[" : "", host, ipv6 ? "]" : "", ":", port);
  if (db != 0) absl::StrAppend(&url, "/", db);
  return url;
}

absl::StatusOr<RedisEndpoint> ParseRedisUrl(std::string_view text) {
  auto parsed = boost::urls::parse_uri(text);
  // Boost.URL's message names the grammar rule, not the part; and the text
  // may hold a password, so it is not echoed.
  if (!parsed) return Bad("not a URL of the form redis://[[user]:password@]host[:port][/db]");
  boost::urls::url_view url = *parsed;
  if (url.scheme() == "rediss") {
    // hiredis gained TLS (redisInitiateSSL) in 1.0; Debian 12 ships 0.14.
    return Bad(
        "rediss:// (TLS) is not supported: this build's hiredis 0.14 (Debian 12) has no TLS; "
        "point redis:// at a local TLS tunnel to Redis (stunnel, spiped), or build against "
        "hiredis >= 1.0");
  }
  if (url.scheme() != "redis") {
    return Bad(absl::StrCat("scheme '", std::string(url.scheme()),
                            "' is not supported (only redis://; no TLS)"));
  }
  RedisEndpoint endpoint;
  if (url.host_type() == boost::urls::host_type::ipv6) {
    endpoint.host = url.host_address();
  } else {
    endpoint.host = url.host();
  }
  if (endpoint.host.empty()) return Bad("no host");
  if (url.has_port()) {
    std::uint32_t port = 0;
    if (!absl::SimpleAtoi(std::string(url.port()), &port) || port == 0 || port > 65535) {
      return Bad(absl::StrCat("port '", std::string(url.port()), "' is not in [1, 65535]"));
    }
    endpoint.port = static_cast<std::uint16_t>(port);
  }
  if (url.has_userinfo()) {
    endpoint.user = url.user();
    if (url.has_password()) endpoint.password = url.password();
    if (endpoint.password.empty()) {
      return Bad("a user without a password (write redis://user:password@host)");
    }
  }
  std::string path = url.path();
  if (!path.empty() && path != "/") {
    std::string_view db = std::string_view(path).substr(1);
    if (path[0] != '/' || !absl::SimpleAtoi(std::string(db), &endpoint.db) || endpoint.db < 0 ||
        db.find_first_not_of("0123456789") != std::string_view::npos) {
      return Bad(absl::StrCat("database '", std::string(db), "' is not a number"));
    }
  }
  if (url.has_query() || url.has_fragment()) return Bad("query and fragment are not supported");
  return endpoint;
}

}  // namespace obgw::gateway
