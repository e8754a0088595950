#ifndef OBGW_GATEWAY_HTTP_BROADCAST_HANDLER_H_
#define OBGW_GATEWAY_HTTP_BROADCAST_HANDLER_H_

#include <memory>

#include "gateway/http/http_reply.h"

namespace obgw::gateway {

// POST /broadcast/orderbook?symbol=S, the legacy REST publish. Runs on the
// shard's thread. A valid book goes to the hub's queue. A single node answers
// at once with the symbol's subscriptions as the hub counts them then
// (SubscriberCounts); a cluster node once the cluster ordered the book (the
// hub answers, with the subscribers it went to). A full queue is answered 503
// with Retry-After. With --publish_tokens (GatewayConfig::publish_tokens) a
// request without one of the tokens in `Authorization: Bearer` is answered
// 401 unauthorized with WWW-Authenticate before its book is even parsed.
void HandleBroadcast(Shard& shard, HttpRequest& request, std::shared_ptr<HttpResponder> responder);

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_HTTP_BROADCAST_HANDLER_H_
