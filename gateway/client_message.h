#ifndef OBGW_GATEWAY_CLIENT_MESSAGE_H_
#define OBGW_GATEWAY_CLIENT_MESSAGE_H_

#include <string>
#include <string_view>

namespace obgw::gateway {

// What a client asked for in one WebSocket text message.
struct ClientRequest {
  enum class Action { kSubscribe, kUnsubscribe, kPing, kInvalid };
  Action action = Action::kInvalid;
  // kSubscribe / kUnsubscribe: the validated symbol.
  std::string symbol;
  // kInvalid: a stable error code (see docs/protocol.md) and a human message.
  std::string error_code;
  std::string error_message;
};

// Parses one client message of the legacy protocol:
//   {"action":"subscribe","symbol":"AAPL"}, {"action":"unsubscribe",...},
//   {"action":"ping"}.
// Pure function, no state: safe on any thread. Never throws.
ClientRequest ParseClientMessage(std::string_view text);

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_CLIENT_MESSAGE_H_
