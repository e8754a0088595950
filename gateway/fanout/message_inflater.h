#ifndef OBGW_GATEWAY_FANOUT_MESSAGE_INFLATER_H_
#define OBGW_GATEWAY_FANOUT_MESSAGE_INFLATER_H_

#include <cstddef>
#include <string>
#include <string_view>

#include <zlib.h>

namespace obgw::gateway {

// Decompresses the messages clients send on permessage-deflate connections
// (RFC 7692). The gateway always negotiates client_no_context_takeover, so
// every client message is compressed on its own and one inflate stream
// serves every connection of a shard: a connection costs no inflate state
// (Beast kept one per connection, ~9 KiB with the default window). One per
// I/O shard (FrameDeflater's counterpart), used only on its thread. Owns the
// zlib stream, whose window (32 KiB, so any client window decodes) zlib
// allocates on first use.
class MessageInflater {
 public:
  enum class Result {
    kOk,
    kTooBig,   // The message inflates past the limit.
    kCorrupt,  // Not a valid deflate stream (or zlib failed).
  };

  MessageInflater();
  ~MessageInflater();
  MessageInflater(const MessageInflater&) = delete;
  MessageInflater& operator=(const MessageInflater&) = delete;

  // Inflates one whole message (its frames' payloads joined) into `out`,
  // replacing its contents; at most `max_bytes` (0: no limit).
  Result Inflate(std::string_view compressed, std::size_t max_bytes, std::string& out);

 private:
  z_stream zstream_{};
  bool ready_ = false;
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_FANOUT_MESSAGE_INFLATER_H_
