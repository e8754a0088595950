#ifndef OBGW_GATEWAY_HTTP_BROADCAST_REQUEST_H_
#define OBGW_GATEWAY_HTTP_BROADCAST_REQUEST_H_

#include <string>
#include <string_view>

namespace obgw::gateway {

// The verdict on one POST /broadcast/orderbook request.
struct BroadcastCheck {
  // 0 when the request is valid; otherwise the HTTP status to answer.
  int status = 0;
  std::string code;    // stable error code (docs/protocol.md)
  std::string detail;  // human-readable reason
};

// Validates the legacy REST publish: the `symbol` query parameter (absent:
// has_symbol false) and the body, which must be one JSON object; it is
// forwarded verbatim, so nothing is re-encoded. Pure; safe on any thread.
BroadcastCheck CheckBroadcast(bool has_symbol, std::string_view symbol, std::string_view body);

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_HTTP_BROADCAST_REQUEST_H_
