#ifndef OBGW_TESTS_INTEGRATION_TLS_TEST_CLIENT_H_
#define OBGW_TESTS_INTEGRATION_TLS_TEST_CLIENT_H_

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>

namespace obgw::testing {

// A throw-away PKI for TLS tests, made with the openssl CLI in a fresh
// temporary directory (removed by the destructor): a CA, and server
// certificates it signs for 127.0.0.1 and localhost (SAN), each with the
// serial the test picks, so that a client can tell which one it was served.
//
// Thread-compatible.
class TestPki {
 public:
  // Creates the directory and the CA; error() is non-empty on failure.
  TestPki();
  ~TestPki();
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  const std::string& error() const { return error_; }
  const std::string& dir() const { return dir_; }
  std::string ca_file() const { return dir_ + "/ca.crt"; }

  // Writes <dir>/<name>.crt and <dir>/<name>.key, a fresh EC key and a
  // certificate with serial `serial` (hex digits), signed by the CA. False on
  // failure (error() says why).
  bool MakeServerCert(const std::string& name, const std::string& serial_hex);

 private:
  // Runs `command` through the shell; false (and error_) when it fails.
  bool Run(const std::string& command);

  std::string dir_;
  std::string error_;
};

// The upper-case hex serial of `ssl`'s peer certificate; empty if none.
std::string PeerSerial(SSL* ssl);

// A TLS client context that trusts only `ca_file` and checks the server's
// name against "127.0.0.1" (the certificate's IP SAN).
std::shared_ptr<boost::asio::ssl::context> ClientContext(const std::string& ca_file);

struct HttpsResponse {
  int status = 0;  // 0: no response; see error.
  std::string body;
  std::string peer_serial;
  std::string error;
};

// One HTTPS request on a fresh connection to 127.0.0.1:<port>, verified with
// `ca_file`; bounded by `timeout`. The body is written while the response is
// read, so an early answer (413) is seen.
HttpsResponse HttpsRequest(int port, std::string_view method, std::string_view target,
                           std::string_view body, const std::string& ca_file,
                           std::chrono::milliseconds timeout = std::chrono::seconds(5));

inline HttpsResponse HttpsGet(int port, std::string_view target, const std::string& ca_file,
                              std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  return HttpsRequest(port, "GET", target, {}, ca_file, timeout);
}

// A wss:// client (Beast's websocket over an SSL stream, certificate
// verified with the test CA), every call bounded by a timeout; the
// io_context runs only inside its calls, on the calling thread.
//
// Thread-compatible: use from one thread.
class WssTestClient {
 public:
  using Duration = std::chrono::milliseconds;

  explicit WssTestClient(const std::string& ca_file);
  WssTestClient(const WssTestClient&) = delete;
  WssTestClient& operator=(const WssTestClient&) = delete;

  // TLS handshake, then the upgrade to `target` ("/ws/<client_id>").
  bool Connect(int port, std::string_view target, Duration timeout = std::chrono::seconds(5));
  bool SendText(std::string_view text, Duration timeout = std::chrono::seconds(5));
  // The next text message; nullopt on timeout or a closed connection.
  std::optional<std::string> Read(Duration timeout = std::chrono::seconds(5));
  // Reads until a message containing `needle`.
  std::optional<std::string> ReadUntil(std::string_view needle,
                                       Duration timeout = std::chrono::seconds(5));
  // Close handshake (1000), then the TLS shutdown.
  bool Close(Duration timeout = std::chrono::seconds(5));

  std::string peer_serial() { return PeerSerial(ws_.next_layer().native_handle()); }
  const std::string& error() const { return error_; }

 private:
  bool RunUntil(const bool& done, std::chrono::steady_clock::time_point deadline);

  std::shared_ptr<boost::asio::ssl::context> context_;
  boost::asio::io_context ioc_;
  boost::beast::websocket::stream<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>> ws_;
  boost::beast::flat_buffer buffer_;
  std::string error_;
};

}  // namespace obgw::testing

#endif  // OBGW_TESTS_INTEGRATION_TLS_TEST_CLIENT_H_
