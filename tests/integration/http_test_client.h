#ifndef OBGW_TESTS_INTEGRATION_HTTP_TEST_CLIENT_H_
#define OBGW_TESTS_INTEGRATION_HTTP_TEST_CLIENT_H_

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/json.hpp>

namespace obgw::testing {

struct HttpResponse {
  // 0 when no response could be read; see error.
  int status = 0;
  // Header names lower-cased.
  std::map<std::string, std::string> headers;
  std::string body;
  std::string error;

  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
  // The body parsed as JSON; null value on a parse error.
  boost::json::value Json() const;
  // A one-line description for failure messages.
  std::string Describe() const;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

// One HTTP/1.1 request on a fresh connection to 127.0.0.1:<port>. The body is
// written while the response is read, so a server that answers early (413)
// and closes is still seen. Content-Type defaults to application/json when a
// body is given and no Content-Type header is.
HttpResponse HttpRequest(int port, std::string_view method, std::string_view target,
                         std::string_view body = {}, const Headers& headers = {},
                         std::chrono::milliseconds timeout = std::chrono::seconds(5));

inline HttpResponse HttpGet(int port, std::string_view target) {
  return HttpRequest(port, "GET", target);
}

// POST /broadcast/orderbook?symbol=<symbol> with `body`.
HttpResponse PostBook(int port, std::string_view symbol, std::string_view body);

// Sends `bytes` as they are on a fresh connection and reads one HTTP response
// (until it is complete, the connection ends or the timeout).
HttpResponse RawHttpExchange(int port, std::string_view bytes,
                             std::chrono::milliseconds timeout = std::chrono::seconds(5));

// One connection to 127.0.0.1:<port> kept open across requests, for tests
// of keep-alive and of requests written byte for byte. Every call is bounded
// by a timeout; the io_context runs only inside them, on the calling thread.
//
// Thread-compatible: use from one thread.
class HttpConnection {
 public:
  using Duration = std::chrono::milliseconds;
  static constexpr Duration kDefaultTimeout = std::chrono::seconds(5);

  // Connects; on failure error() says why and every later call fails.
  explicit HttpConnection(int port, Duration timeout = kDefaultTimeout);
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Writes `bytes` as they are (one request, several, or part of one).
  bool Send(std::string_view bytes, Duration timeout = kDefaultTimeout);
  // Reads the next response. `to_head`: it answers a HEAD, so no body follows
  // whatever its Content-Length says (RFC 9110 section 9.3.2).
  HttpResponse Read(bool to_head = false, Duration timeout = kDefaultTimeout);
  // Waits for the server to end the connection; true when it did.
  bool WaitForClose(Duration timeout = kDefaultTimeout);

  const std::string& error() const { return error_; }

 private:
  // Runs the io_context until `done` or the timeout; false on timeout.
  bool RunUntil(const bool& done, Duration timeout);

  boost::asio::io_context ioc_;
  boost::beast::tcp_stream stream_{ioc_};
  boost::beast::flat_buffer buffer_;
  std::string error_;
};

// GET /stats parsed; null on failure.
boost::json::value GetStats(int port);

// Looks up a dotted path ("ingest.grpc_accepted") in a JSON value; nullptr
// when absent.
const boost::json::value* Find(const boost::json::value& root, std::string_view dotted_path);

// Numeric value at `dotted_path` as int64; nullopt when absent or not a number.
std::optional<std::int64_t> FindInt(const boost::json::value& root, std::string_view dotted_path);

}  // namespace obgw::testing

#endif  // OBGW_TESTS_INTEGRATION_HTTP_TEST_CLIENT_H_
