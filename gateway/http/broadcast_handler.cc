#include "gateway/http/broadcast_handler.h"

#include <chrono>
#include <string>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

#include "gateway/fanout/book_update.h"
#include "gateway/http/broadcast_request.h"
#include "gateway/server/shard.h"

namespace obgw::gateway {

namespace http = boost::beast::http;

void HandleBroadcast(Shard& shard, HttpRequest& request, std::shared_ptr<HttpResponder> responder) {
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
  // The hub answers: it knows how many subscribers the book went to. Its
  // callback runs on the hub thread, the reply goes back to the shard's.
  update.on_routed = [&shard, responder, symbol](std::size_t subscribers) {
    boost::asio::post(shard.io_context(), [&shard, responder, symbol, subscribers] {
      shard.stats().rest_accepted.fetch_add(1, std::memory_order_relaxed);
      boost::json::object body{
          {"status", "success"}, {"symbol", symbol}, {"subscribers", subscribers}};
      responder->Respond(OkReply(boost::json::serialize(body)));
    });
  };
  if (!shard.state().queue.TryPushUpdate(shard.token(), update)) {
    shard.stats().rest_rejected.fetch_add(1, std::memory_order_relaxed);
    HttpReply reply = ErrorReply(http::status::service_unavailable, "queue_full",
                                 "the gateway is overloaded; retry later");
    reply.headers.emplace_back(http::field::retry_after, "1");
    return responder->Respond(std::move(reply));
  }
}

}  // namespace obgw::gateway
