#ifndef OBGW_GATEWAY_HTTP_HTTP_REPLY_H_
#define OBGW_GATEWAY_HTTP_HTTP_REPLY_H_

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>

namespace obgw::gateway {

class Shard;

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;

// What a route answers, before the session adds the connection-level part
// (version, keep-alive, Server, Content-Type, Content-Length, and no body for
// HEAD). Every body is JSON but the web files (web_handler.h), which
// set their own Content-Type.
struct HttpReply {
  boost::beast::http::status status = boost::beast::http::status::ok;
  std::string body;
  // Route-specific headers: Allow on a 405, Retry-After on a 503.
  std::vector<std::pair<boost::beast::http::field, std::string>> headers;
  // Headers Beast has no field enum for (X-Content-Type-Options,
  // Content-Security-Policy on the web files), by name.
  std::vector<std::pair<std::string, std::string>> named_headers;
  // Hang up after this reply even if the client asked for keep-alive.
  bool close = false;
  // ErrorReply's code, for the http_rejected log line (issue 13).
  std::string error_code;
};

// 200 with `body`.
HttpReply OkReply(std::string body);

// The error reply every route and the session share:
// {"detail":"<detail>","code":"<code>"} (codes: docs/protocol.md).
HttpReply ErrorReply(boost::beast::http::status status, std::string_view code,
                     std::string_view detail);

// The session side of one request, as a route handler sees it. A handler
// answers exactly once, on the shard's thread, now or later (every route
// today answers at once; the interface allows later); it keeps the connection alive
// until then by holding the shared_ptr it was given.
class HttpResponder {
 public:
  virtual void Respond(HttpReply reply) = 0;

 protected:
  ~HttpResponder() = default;
};

// A route's handler; runs on `shard`'s thread.
using RouteHandler = void (*)(Shard& shard, HttpRequest& request,
                              std::shared_ptr<HttpResponder> responder);

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_HTTP_HTTP_REPLY_H_
