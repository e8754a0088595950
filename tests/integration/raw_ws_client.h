#ifndef OBGW_TESTS_INTEGRATION_RAW_WS_CLIENT_H_
#define OBGW_TESTS_INTEGRATION_RAW_WS_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace obgw::testing {

// A WebSocket client on a plain blocking TCP socket that does nothing behind
// the test's back: it answers no ping, reads only when told to, and can be
// given a tiny receive buffer. For tests of what the gateway does to a peer
// that stays silent or stops reading (heartbeats, idle timeout, slow
// consumers), which a Beast client cannot imitate (it answers pings).
//
// Thread-compatible: use from one thread.
class RawWsClient {
 public:
  using Duration = std::chrono::milliseconds;

  // One server frame (the gateway never fragments nor masks).
  struct Frame {
    int opcode = 0;  // 0x1 text, 0x2 binary, 0x8 close, 0x9 ping, 0xA pong
    bool fin = false;
    std::string payload;
    // For a close frame: the status code (0 if none) and the reason.
    int close_code() const;
    std::string close_reason() const;
  };

  RawWsClient() = default;
  RawWsClient(const RawWsClient&) = delete;
  RawWsClient& operator=(const RawWsClient&) = delete;
  ~RawWsClient();

  // Connects to 127.0.0.1:<port> (with SO_RCVBUF = `receive_buffer` set
  // before connecting, when > 0), sends an upgrade request for `target` and
  // reads the response head. True on 101; otherwise error() says why and
  // status() holds the HTTP status, if any.
  bool Connect(int port, std::string_view target, int receive_buffer = 0,
               Duration timeout = std::chrono::seconds(5));
  // Headers sent with the next Connect's upgrade request, each "Name: value\r\n".
  void SetExtraHeaders(std::string headers) { extra_headers_ = std::move(headers); }

  // Sends one masked text frame.
  bool SendText(std::string_view text, Duration timeout = std::chrono::seconds(5));
  // Sends one masked frame whose first byte (FIN, RSV bits, opcode) is
  // `first_byte`: fragments, control frames, protocol violations.
  bool SendFrame(unsigned char first_byte, std::string_view payload,
                 Duration timeout = std::chrono::seconds(5));

  // The next complete frame; nullopt on timeout, end of stream or error.
  std::optional<Frame> ReadFrame(Duration timeout);

  // Reads and discards until the peer ends the connection (EOF or reset);
  // true when it did within `timeout`. `bytes` (if given) counts what was
  // discarded.
  bool DrainUntilClosed(Duration timeout, std::size_t* bytes = nullptr);

  // True once a read saw EOF or a connection error.
  bool ended() const { return ended_; }
  int status() const { return status_; }
  const std::string& error() const { return error_; }
  int fd() const { return fd_; }

 private:
  // Appends what arrives within `timeout` to buffer_; false on timeout, EOF
  // or error.
  bool ReadMore(std::chrono::steady_clock::time_point deadline);

  std::string extra_headers_;
  int fd_ = -1;
  std::string buffer_;
  bool ended_ = false;
  int status_ = 0;
  std::string error_;
};

}  // namespace obgw::testing

#endif  // OBGW_TESTS_INTEGRATION_RAW_WS_CLIENT_H_
