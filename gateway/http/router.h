#ifndef OBGW_GATEWAY_HTTP_ROUTER_H_
#define OBGW_GATEWAY_HTTP_ROUTER_H_

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <boost/beast/http/verb.hpp>

#include "gateway/http/http_reply.h"
#include "gateway/metrics/gateway_stats.h"

namespace obgw::gateway {

// One entry of the route table (router.cc): a path, the method it takes and
// its handler. A GET route also answers HEAD: the session sends the same
// headers without the body (RFC 9110 section 9.3.2).
struct Route {
  std::string_view path;
  boost::beast::http::verb method;
  RouteHandler handler;
  // Bumped when the route refuses a request for its method (405), or null.
  Counter ShardStats::*refused = nullptr;
};

// A WebSocket upgrade of /ws/{client_id}[?throttle_ms=N][&restore=0|1]
// [&token=JWT], validated.
struct WebSocketTarget {
  std::string client_id;
  std::chrono::milliseconds throttle{0};
  // Whether the client_id's session is restored (session_restored).
  bool restore = true;
  // ?token=<JWT> (browser authentication), as given; checked by the HTTP
  // session, and ignored when auth is off.
  std::optional<std::string> token;
};

// Where one request goes: exactly one of the three is set.
struct RouteDecision {
  const Route* route = nullptr;            // its handler answers
  std::optional<WebSocketTarget> upgrade;  // a WebSocket session takes the connection
  std::optional<HttpReply> refusal;        // answered as is: 400, 404, 405 or 426
  // The counter the session bumps for this refusal (the route's `refused`), or null.
  Counter ShardStats::*refusal_counter = nullptr;
};

// Decides where `request` goes: checks Host (RFC 9112 section 3.2: an
// HTTP/1.1 request needs exactly one, any request at most one), the target,
// then the route table; an unknown path is 404, a known one with another
// method 405 with Allow. A GET or HEAD of another path goes to the web files
// (web_handler.h) when it names an embedded file, or any file path when
// `serve_web_root` (--web_root: the directory decides, per request); a path
// no file could have ("..", a backslash, NUL) is 400 invalid_path. Pure: safe
// on any thread.
RouteDecision RouteRequest(const HttpRequest& request, bool serve_web_root = false);

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_HTTP_ROUTER_H_
