#ifndef OBGW_GATEWAY_HTTP_ORIGIN_POLICY_H_
#define OBGW_GATEWAY_HTTP_ORIGIN_POLICY_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/http/http_reply.h"

namespace obgw::gateway {

// The Origin check of WebSocket upgrades (cross-site WebSocket hijacking: a
// browser sends any page's cookies and credentials with an upgrade to any
// host, and only the Origin header says which page asked). Pure functions,
// safe on any thread; the allow-list is GatewayConfig::allowed_origins.

// "scheme://host[:port]" in lower case, as a browser sends it (RFC 6454: no
// path, query, user or trailing '/'); nullopt for anything else, so a flag
// value that could never match a browser's Origin fails at start.
std::optional<std::string> NormalizeOrigin(std::string_view origin);

// Whether `request` (a WebSocket upgrade) may proceed: its one Origin header
// normalised is in `allowed` (empty `allowed`: any Origin), or it has none
// and `allow_missing`. Several Origin headers, or one that is not an origin
// ("null" from a sandboxed page or a file:// URL), are refused whenever a
// list is set.
bool OriginAllowed(const std::vector<std::string>& allowed, bool allow_missing,
                   const HttpRequest& request);

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_HTTP_ORIGIN_POLICY_H_
