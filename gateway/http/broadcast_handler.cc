#include "gateway/http/broadcast_handler.h"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

#include "gateway/auth/publish_tokens.h"
#include "gateway/fanout/book_update.h"
#include "gateway/http/broadcast_request.h"
#include "gateway/server/shard.h"

namespace obgw::gateway {

namespace http = boost::beast::http;

namespace {

void QueueFull(Shard& shard, HttpResponder& responder) {
  shard.stats().rest_rejected.fetch_add(1, std::memory_order_relaxed);
  HttpReply reply = ErrorReply(http::status::service_unavailable, "queue_full",
                               "the gateway is overloaded; retry later");
  reply.headers.emplace_back(http::field::retry_after, "1");
  responder.Respond(std::move(reply));
}

// The documented success body (docs/protocol.md 3.1), whoever answers.
void Accepted(Shard& shard, HttpResponder& responder, std::string symbol, std::size_t subscribers) {
  shard.stats().rest_accepted.fetch_add(1, std::memory_order_relaxed);
  boost::json::object body{
      {"status", "success"}, {"symbol", std::move(symbol)}, {"subscribers", subscribers}};
  responder.Respond(OkReply(boost::json::serialize(body)));
}

// With --publish_tokens: whether `request` carries one of the tokens in its
// one Authorization header; if not, answers 401 (docs/protocol.md 3.1) and
// counts it. The reply never echoes what was sent.
bool Authorized(Shard& shard, const HttpRequest& request, HttpResponder& responder) {
  const PublishTokens* tokens = shard.config().publish_tokens.get();
  if (tokens == nullptr) return true;
  std::optional<std::string_view> token;
  bool presented = request.count(http::field::authorization) > 0;
  if (request.count(http::field::authorization) == 1) {
    token = BearerToken(request[http::field::authorization]);
  }
  if (token && tokens->Matches(*token)) return true;
  shard.stats().rest_unauthorized.fetch_add(1, std::memory_order_relaxed);
  // RFC 6750 section 3: no credentials get the bare challenge, wrong ones
  // error="invalid_token".
  HttpReply reply =
      presented ? ErrorReply(http::status::unauthorized, "unauthorized",
                             "the publish token is not valid (Authorization: Bearer <token>)")
                : ErrorReply(http::status::unauthorized, "unauthorized",
                             "publishing needs a publish token (Authorization: Bearer <token>)");
  reply.headers.emplace_back(
      http::field::www_authenticate,
      presented ? "Bearer realm=\"publish\", error=\"invalid_token\"" : "Bearer realm=\"publish\"");
  responder.Respond(std::move(reply));
  return false;
}

}  // namespace

void HandleBroadcast(Shard& shard, HttpRequest& request, std::shared_ptr<HttpResponder> responder) {
  if (!Authorized(shard, request, *responder)) return;
  // The router parsed this target already; it is well-formed.
  auto url = boost::urls::parse_origin_form(request.target());
  auto params = url->params();
  auto it = params.find("symbol");
  bool has_symbol = it != params.end() && (*it).has_value;
  std::string symbol = has_symbol ? std::string((*it).value) : std::string();
  BroadcastCheck check = CheckBroadcast(has_symbol, symbol, request.body());
  if (check.status != 0) {
    shard.stats().rest_rejected.fetch_add(1, std::memory_order_relaxed);
    return responder->Respond(
        ErrorReply(static_cast<http::status>(check.status), check.code, check.detail));
  }

  BookUpdate update;
  update.symbol = symbol;
  update.data = std::move(request.body());
  update.received_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::steady_clock::now().time_since_epoch())
                           .count();
  if (!shard.state().orders_locally) {
    // A cluster node: the hub answers once the cluster ordered the book, with
    // the subscribers it went to. Its callback runs on the hub thread, the
    // reply goes back to the shard's.
    update.on_routed = [&shard, responder, symbol](std::size_t subscribers) {
      boost::asio::post(shard.io_context(), [&shard, responder, symbol, subscribers] {
        Accepted(shard, *responder, symbol, subscribers);
      });
    };
    if (!shard.state().queue.TryPushUpdate(shard.token(), update)) QueueFull(shard, *responder);
    return;
  }
  // A single node: answered here, once the book is queued, not after the hub routed it: a
  // publisher waiting for each reply keeps one book in flight, and a hub round
  // trip per reply keeps the hub's batches (and so each connection's writes)
  // small. The count is the hub's as of now: every subscription confirmed
  // before this request is in it. The order stays as if the hub had answered:
  // a subscription queued after this book waits in the hub until the book is
  // routed (SubscriptionChange::books_before), so its snapshot is this book or
  // a newer one.
  std::uint32_t subscribers = shard.state().subscriber_counts.Get(symbol);
  if (!shard.state().queue.TryPushUpdate(shard.token(), update)) {
    return QueueFull(shard, *responder);
  }
  Accepted(shard, *responder, std::move(symbol), subscribers);
}

}  // namespace obgw::gateway
