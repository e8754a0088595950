#ifndef OBGW_GATEWAY_REDIS_REDIS_URL_H_
#define OBGW_GATEWAY_REDIS_REDIS_URL_H_

#include <cstdint>
#include <string>
#include <string_view>

#include <absl/status/statusor.h>

namespace obgw::gateway {

// Where a node's Redis is and how to log in, from --redis_url. A plain value,
// any thread.
struct RedisEndpoint {
  std::string host;
  std::uint16_t port = 6379;
  std::string user;      // ACL user (AUTH user password); empty: the default user.
  std::string password;  // Empty: no AUTH. Never logged: see Redacted().
  int db = 0;            // SELECT after connecting when not 0.

  // The URL with the password replaced by "***": the only form of an
  // endpoint that may be logged or shown.
  std::string Redacted() const;
};

// Parses `redis://[[user]:password@]host[:port][/db]`. Errors are one line
// naming what is wrong ("redis URL: port 99999 is out of range") and never
// contain the password. `rediss://` is refused with what to use instead:
// Debian 12's hiredis (0.14) has no TLS.
absl::StatusOr<RedisEndpoint> ParseRedisUrl(std::string_view url);

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_REDIS_REDIS_URL_H_
