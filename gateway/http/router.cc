#include "gateway/http/router.h"

#include <charconv>
#include <iterator>

#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/url/parse.hpp>

#include "gateway/http/broadcast_handler.h"
#include "gateway/http/status_handler.h"
#include "gateway/http/web_handler.h"
#include "gateway/web/web_files.h"
#include "gateway/web/web_path.h"

namespace obgw::gateway {
namespace {

namespace http = boost::beast::http;

// The route table: a new route is one entry here.
constexpr Route kRoutes[] = {
    {"/broadcast/orderbook", http::verb::post, &HandleBroadcast, &ShardStats::rest_rejected},
    {"/health", http::verb::get, &HandleHealth},
    {"/stats", http::verb::get, &HandleStats},
    {"/metrics", http::verb::get, &HandleMetrics},
};

// The page and the client library: every path the table above does not name.
constexpr Route kWebRoute = {"", http::verb::get, &HandleWeb};

constexpr std::string_view kWebSocketPrefix = "/ws/";
constexpr std::chrono::milliseconds kMaxThrottle{60000};
constexpr std::size_t kMaxClientIdLength = 128;

// ?throttle_ms=N on the WebSocket URL: absent is 0 (no throttle); anything
// but an integer in [0, kMaxThrottle] is refused.
std::optional<std::chrono::milliseconds> ParseThrottle(boost::urls::params_view params) {
  auto it = params.find("throttle_ms");
  if (it == params.end()) return std::chrono::milliseconds(0);
  std::string text = (*it).value;
  long long value = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0 ||
      value > kMaxThrottle.count()) {
    return std::nullopt;
  }
  return std::chrono::milliseconds(value);
}

// ?restore=0|1 on the WebSocket URL: absent is 1 (restore the session);
// anything else is refused.
std::optional<bool> ParseRestore(boost::urls::params_view params) {
  auto it = params.find("restore");
  if (it == params.end()) return true;
  const boost::urls::param param = *it;
  if (param.has_value && param.value == "1") return true;
  if (param.has_value && param.value == "0") return false;
  return std::nullopt;
}

bool IsValidClientId(std::string_view id) {
  if (id.empty() || id.size() > kMaxClientIdLength) return false;
  for (unsigned char c : id) {
    if (c < 0x20 || c == 0x7F || c == '/') return false;
  }
  return true;
}

RouteDecision Refuse(HttpReply reply) {
  RouteDecision decision;
  decision.refusal = std::move(reply);
  return decision;
}

RouteDecision RouteUpgrade(std::string_view path, boost::urls::params_view params) {
  std::string client_id(path.substr(kWebSocketPrefix.size()));
  if (!IsValidClientId(client_id)) {
    HttpReply reply =
        ErrorReply(http::status::bad_request, "invalid_client_id",
                   "client_id must be 1-128 characters, no '/' or control characters");
    reply.close = true;
    return Refuse(std::move(reply));
  }
  std::optional<std::chrono::milliseconds> throttle = ParseThrottle(params);
  if (!throttle) {
    HttpReply reply = ErrorReply(
        http::status::bad_request, "invalid_throttle",
        "throttle_ms must be an integer from 0 to " + std::to_string(kMaxThrottle.count()));
    reply.close = true;
    return Refuse(std::move(reply));
  }
  std::optional<bool> restore = ParseRestore(params);
  if (!restore) {
    HttpReply reply =
        ErrorReply(http::status::bad_request, "invalid_restore", "restore must be 0 or 1");
    reply.close = true;
    return Refuse(std::move(reply));
  }
  RouteDecision decision;
  WebSocketTarget& target = decision.upgrade.emplace();
  target.client_id = std::move(client_id);
  target.throttle = *throttle;
  target.restore = *restore;
  if (auto token = params.find("token"); token != params.end()) {
    target.token = std::string((*token).value);
  }
  return decision;
}

// The Allow header of a route: a GET route takes HEAD too.
std::string AllowedMethods(const Route& route) {
  return route.method == http::verb::get ? "GET, HEAD" : std::string(http::to_string(route.method));
}

}  // namespace

RouteDecision RouteRequest(const HttpRequest& request, bool serve_web_root) {
  auto hosts = request.count(http::field::host);
  if (hosts > 1 || (hosts == 0 && request.version() >= 11)) {
    HttpReply reply = ErrorReply(
        http::status::bad_request, "bad_request",
        hosts > 1 ? "more than one Host header" : "an HTTP/1.1 request needs a Host header");
    reply.close = true;
    return Refuse(std::move(reply));
  }
  auto url = boost::urls::parse_origin_form(request.target());
  if (!url) {
    return Refuse(ErrorReply(http::status::bad_request, "bad_request", "malformed request target"));
  }
  std::string path = url->path();
  if (path.starts_with(kWebSocketPrefix)) {
    if (boost::beast::websocket::is_upgrade(request)) return RouteUpgrade(path, url->params());
    return Refuse(ErrorReply(http::status::upgrade_required, "upgrade_required",
                             "/ws/{client_id} takes a WebSocket upgrade"));
  }
  for (const Route& route : kRoutes) {
    if (route.path != path) continue;
    http::verb method = request.method();
    if (method == route.method || (method == http::verb::head && route.method == http::verb::get)) {
      RouteDecision decision;
      decision.route = &route;
      return decision;
    }
    std::string allowed = AllowedMethods(route);
    HttpReply reply = ErrorReply(http::status::method_not_allowed, "method_not_allowed",
                                 "use " + allowed + " for " + path);
    reply.headers.emplace_back(http::field::allow, std::move(allowed));
    RouteDecision decision = Refuse(std::move(reply));
    decision.refusal_counter = route.refused;
    return decision;
  }
  http::verb method = request.method();
  bool embedded = web::FindEmbedded(path) != nullptr;
  if (method == http::verb::get || method == http::verb::head) {
    if (!web::RelativeWebPath(path)) {
      return Refuse(ErrorReply(http::status::bad_request, "invalid_path",
                               "not a file path (empty, '.' or '..' segment, dot file, backslash "
                               "or control character)"));
    }
    if (embedded || serve_web_root) {
      RouteDecision decision;
      decision.route = &kWebRoute;
      return decision;
    }
  } else if (embedded) {
    HttpReply reply = ErrorReply(http::status::method_not_allowed, "method_not_allowed",
                                 "use GET, HEAD for " + path);
    reply.headers.emplace_back(http::field::allow, "GET, HEAD");
    return Refuse(std::move(reply));
  }
  return Refuse(ErrorReply(http::status::not_found, "not_found", "Not Found"));
}

}  // namespace obgw::gateway
