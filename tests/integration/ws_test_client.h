#ifndef OBGW_TESTS_INTEGRATION_WS_TEST_CLIENT_H_
#define OBGW_TESTS_INTEGRATION_WS_TEST_CLIENT_H_

#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

namespace obgw::testing {

// A synchronous WebSocket client for tests, every call bounded by a timeout.
//
// One async_read is always outstanding once connected; incoming messages are
// queued and handed out by Read(). The io_context runs only inside this
// object's calls, on the calling thread, so nothing is ever cancelled mid-frame
// and a timed-out Read leaves the connection usable.
//
// Thread-compatible: use from one thread.
class WsTestClient {
 public:
  using Duration = std::chrono::milliseconds;
  static constexpr Duration kDefaultTimeout = std::chrono::seconds(5);

  WsTestClient();
  WsTestClient(const WsTestClient&) = delete;
  WsTestClient& operator=(const WsTestClient&) = delete;
  ~WsTestClient();

  // Connects to ws://127.0.0.1:<port>/ws/<client_id> (client_id is sent as
  // given, so a test may pass percent-encoded text). On failure returns false;
  // error() tells why and handshake_status() holds the HTTP status, if any.
  bool Connect(int port, std::string_view client_id, Duration timeout = kDefaultTimeout);
  // Like Connect but with an arbitrary request target.
  bool ConnectTarget(int port, std::string_view target, Duration timeout = kDefaultTimeout);

  bool SendText(std::string_view text, Duration timeout = kDefaultTimeout);
  bool SendBinary(std::string_view bytes, Duration timeout = kDefaultTimeout);
  bool SendJson(const boost::json::value& value, Duration timeout = kDefaultTimeout);

  // The next message (text or binary); nullopt on timeout or when the
  // connection is gone (see closed()).
  std::optional<std::string> Read(Duration timeout = kDefaultTimeout);
  // The next message parsed as a JSON object; nullopt on timeout, closure or
  // when it is not a JSON object (error() says which).
  std::optional<boost::json::object> ReadJson(Duration timeout = kDefaultTimeout);
  // Reads, discarding other messages, until one whose "type" is `type`.
  std::optional<boost::json::object> ReadUntilType(std::string_view type,
                                                   Duration timeout = kDefaultTimeout);
  // Waits up to `timeout` and returns whatever message arrived, if any; the
  // same as Read, named for "expect nothing" checks.
  std::optional<std::string> ReadAny(Duration timeout) { return Read(timeout); }
  // Whether the last message handed out by Read was binary.
  bool last_was_binary() const { return last_binary_; }

  // Sends a close frame (1000) and waits for the server's.
  bool Close(Duration timeout = kDefaultTimeout);
  // Drops the TCP connection without a closing handshake.
  void Abort();

  // True once the read side has ended (close frame or error).
  bool closed() const { return closed_; }
  // Waits up to `timeout` for the server to close the connection, discarding
  // messages; true when it did.
  bool WaitForClose(Duration timeout = kDefaultTimeout);
  // The close code the server sent (0 if none) and its reason.
  int close_code() const { return close_code_; }
  const std::string& close_reason() const { return close_reason_; }

  int handshake_status() const { return handshake_status_; }
  const std::string& error() const { return error_; }

 private:
  struct Message {
    std::string data;
    bool binary = false;
  };

  bool Send(std::string_view data, bool binary, Duration timeout);
  void StartRead();
  // Runs the io_context until `done` or the deadline; false on timeout.
  bool RunUntil(const bool& done, std::chrono::steady_clock::time_point deadline);

  boost::asio::io_context ioc_;
  boost::beast::websocket::stream<boost::asio::ip::tcp::socket> ws_;
  boost::beast::flat_buffer buffer_;
  std::deque<Message> inbox_;
  bool connected_ = false;
  bool closed_ = false;
  bool last_binary_ = false;
  int close_code_ = 0;
  std::string close_reason_;
  int handshake_status_ = 0;
  std::string error_;
};

// Subscribes and waits for {"type":"subscription_confirmed","symbol":symbol};
// false (with the reason in `error`) otherwise.
bool Subscribe(WsTestClient& client, std::string_view symbol, std::string* error = nullptr);
bool Unsubscribe(WsTestClient& client, std::string_view symbol, std::string* error = nullptr);

// Reads the next message that is not an orderbook_update (the reply to a
// request), skipping updates.
std::optional<boost::json::object> ReadReply(
    WsTestClient& client, WsTestClient::Duration timeout = WsTestClient::kDefaultTimeout);

// Reads until an orderbook_update for `symbol` (skipping other messages).
std::optional<boost::json::object> ReadUpdate(
    WsTestClient& client, std::string_view symbol,
    WsTestClient::Duration timeout = WsTestClient::kDefaultTimeout);

}  // namespace obgw::testing

#endif  // OBGW_TESTS_INTEGRATION_WS_TEST_CLIENT_H_
