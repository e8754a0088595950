#ifndef OBGW_TESTS_INTEGRATION_CDP_SESSION_H_
#define OBGW_TESTS_INTEGRATION_CDP_SESSION_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "ws_test_client.h"

namespace obgw::testing {

// A minimal Chrome DevTools Protocol client for one page target: commands
// over the target's WebSocket (ws://127.0.0.1:<port>/devtools/page/<id>),
// answers matched by id. Events that arrive meanwhile are not acted on; the
// console messages, exceptions and log entries among them are kept for
// failure messages.
//
// Every call is bounded by its timeout. An answer that arrives after its
// call timed out is discarded by id, so the session stays usable.
//
// Thread-compatible: use from one thread.
class CdpSession {
 public:
  using Duration = std::chrono::milliseconds;
  static constexpr Duration kDefaultTimeout = std::chrono::seconds(10);

  // Connects to the DevTools WebSocket at `path` ("/devtools/page/<id>").
  bool Connect(int devtools_port, std::string_view path, std::string* error,
               Duration timeout = kDefaultTimeout);

  // Sends {"id","method","params"} and waits for the answer with that id.
  // Returns its "result"; nullopt with the reason in `error` on a protocol
  // error, a timeout or a closed connection.
  std::optional<boost::json::object> Call(std::string_view method, boost::json::object params,
                                          std::string* error, Duration timeout = kDefaultTimeout);

  // Runtime.evaluate with awaitPromise and returnByValue: the value the
  // expression (or the promise it yields) resolves to. An exception or a
  // rejected promise is an error whose text is the exception's description.
  // Evaluated as a classic script in the page's global scope: top-level
  // `const`/`let` persist between calls, so prefer assigning to globalThis.
  std::optional<boost::json::value> Evaluate(std::string_view expression, std::string* error,
                                             Duration timeout = kDefaultTimeout);

  // Console messages, uncaught exceptions (after Call("Runtime.enable")) and
  // browser log entries such as WebSocket failures (after Call("Log.enable"))
  // seen so far, one per line, for failure messages.
  std::string ConsoleLog() const;

 private:
  void NoteEvent(const boost::json::object& message);

  WsTestClient ws_;
  std::int64_t next_id_ = 1;
  std::deque<std::string> console_;  // The most recent lines (bounded).
};

}  // namespace obgw::testing

#endif  // OBGW_TESTS_INTEGRATION_CDP_SESSION_H_
