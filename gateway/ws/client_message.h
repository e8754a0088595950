#ifndef OBGW_GATEWAY_WS_CLIENT_MESSAGE_H_
#define OBGW_GATEWAY_WS_CLIENT_MESSAGE_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

namespace obgw::gateway {

// Most symbols one subscribe/unsubscribe request may name.
inline constexpr std::size_t kMaxSymbolsPerRequest = 1000;
// Longest string req_id echoed back.
inline constexpr std::size_t kMaxReqIdLength = 64;

// What a client asked for in one WebSocket text message.
struct ClientRequest {
  enum class Action { kSubscribe, kUnsubscribe, kPing, kListSubscriptions, kAuth, kInvalid };
  Action action = Action::kInvalid;
  // kSubscribe / kUnsubscribe: the validated symbols, in request order,
  // without repeats ("symbol" first, then "symbols").
  std::vector<std::string> symbols;
  // The client's optional correlation id (a string of at most 64 bytes or an
  // integer), echoed in every answer to this request; null when absent. Set
  // for kInvalid too when the message got that far, so errors echo it.
  boost::json::value req_id;
  // kAuth: the token, a non-empty string (checked by the session's
  // JwtVerifier, which also bounds its length).
  std::string token;
  // kInvalid: a stable error code (see docs/protocol.md) and a human message.
  std::string error_code;
  std::string error_message;
};

// Parses one client message of the legacy protocol and its extensions:
//   {"action":"subscribe","symbol":"AAPL"}, {"action":"unsubscribe",...},
//   {"action":"subscribe","symbols":["AAPL","MSFT"],"req_id":7},
//   {"action":"ping"}, {"action":"list_subscriptions"},
//   {"action":"auth","token":"<JWT>"} (browser authentication, issue 11).
// Pure function, no state: safe on any thread. Never throws.
ClientRequest ParseClientMessage(std::string_view text);

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_WS_CLIENT_MESSAGE_H_
