#ifndef OBGW_TESTS_INTEGRATION_HTTP_TEST_CLIENT_H_
#define OBGW_TESTS_INTEGRATION_HTTP_TEST_CLIENT_H_

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

// GET /stats parsed; null on failure.
boost::json::value GetStats(int port);

// Looks up a dotted path ("ingest.grpc_accepted") in a JSON value; nullptr
// when absent.
const boost::json::value* Find(const boost::json::value& root, std::string_view dotted_path);

// Numeric value at `dotted_path` as int64; nullopt when absent or not a number.
std::optional<std::int64_t> FindInt(const boost::json::value& root, std::string_view dotted_path);

}  // namespace obgw::testing

#endif  // OBGW_TESTS_INTEGRATION_HTTP_TEST_CLIENT_H_
