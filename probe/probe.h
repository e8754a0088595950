#ifndef OBGW_PROBE_PROBE_H_
#define OBGW_PROBE_PROBE_H_

// orderbook-probe's three checks of a running gateway (watch, publish,
// health) and the pieces they are made of. Each check runs on the caller's
// thread, with an io_context (or a gRPC channel) of its own, prints one line
// per event to `out` (text, or one JSON object per line) and returns the
// process's exit code.

#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

namespace obgw::probe {

// Exit codes, documented in `orderbook-probe --help` and probe/README.md.
inline constexpr int kExitOk = 0;
// The check ran and failed: /health degraded, gRPC NOT_SERVING, a publish
// refused or rejected, an error reply to a subscribe, or (with --fail_on_gap)
// a seq gap or an epoch change.
inline constexpr int kExitCheckFailed = 1;
// Usage error, or the gateway could not be reached or broke the connection.
inline constexpr int kExitError = 2;

// Where the gateway's HTTP port is: from a URL with scheme http, https, ws
// or wss (ws is http, wss is https); the path, if any, is ignored.
struct HttpEndpoint {
  bool tls = false;
  std::string host;
  std::string port;
};
absl::StatusOr<HttpEndpoint> ParseGatewayUrl(std::string_view url);

// Parses the gateway's timestamps ("2024-01-01T12:00:00.123456+00:00", also
// "...Z" and without fraction); nullopt when it is not one.
std::optional<std::chrono::system_clock::time_point> ParseIsoTime(std::string_view text);

// Follows each symbol's (epoch, seq) as a client sees them (docs/protocol.md
// 2.4): the first book after a subscription_confirmed is the baseline; after
// it, a seq that is not last + 1 is a gap (books skipped by this
// connection), a live book carrying a new epoch starts a new run (no gap).
// Thread-compatible.
class SequenceTracker {
 public:
  struct Observation {
    enum class Kind { kBaseline, kInOrder, kGap, kEpochChange, kRegression };
    Kind kind = Kind::kBaseline;
    std::uint64_t previous_seq = 0;    // 0: none (baseline)
    std::uint64_t missed = 0;          // kGap: seq - previous_seq - 1
    std::uint64_t previous_epoch = 0;  // kEpochChange
    std::uint64_t epoch = 0;           // the book's epoch as known now (0: unknown)
  };

  // A subscription_confirmed (or session_restored) for `symbol`, carrying
  // the connection's epoch (0: none): the next book is a baseline.
  void Confirmed(const std::string& symbol, std::uint64_t epoch);
  // An orderbook_update; `epoch` when the frame carries one.
  Observation Update(const std::string& symbol, std::uint64_t seq,
                     std::optional<std::uint64_t> epoch);

 private:
  struct State {
    std::uint64_t epoch = 0;
    std::uint64_t last_seq = 0;  // 0: waiting for the baseline
  };
  absl::flat_hash_map<std::string, State> symbols_;
};

// Everything the command line says (orderbook_probe_main.cc has the flags).
struct Options {
  bool json = false;
  // HTTP port: http(s)://host:port; the WebSocket is ws(s)://host:port/ws/<client_id>.
  std::string gateway = "http://127.0.0.1:8002";
  // gRPC port host:port, and whether it speaks TLS.
  std::string grpc = "127.0.0.1:50051";
  bool grpc_tls = false;
  // PEM CA certificates to trust for https/wss/gRPC TLS; empty: the system's.
  std::string ca_file;
  std::chrono::milliseconds timeout{5000};  // connect and each request

  // watch
  std::vector<std::string> symbols = {"AAPL"};
  std::string client_id;                  // empty: "orderbook-probe-<pid>"
  std::string token;                      // browser JWT, sent as the first message ("auth")
  std::uint64_t count = 0;                // stop after this many updates; 0: no limit
  std::chrono::milliseconds duration{0};  // stop after this long; 0: no limit
  int throttle_ms = -1;                   // ?throttle_ms=N when >= 0
  bool fail_on_gap = false;

  // publish
  std::string via = "rest";  // rest | grpc (publish); http | grpc (health)
  std::string publish_token;
  int levels = 5;

  // health --via=grpc
  std::string service;  // "" (the server) or "orderbook.v1.OrderBookIngest"
};

// Writes events as text or JSON lines. Thread-compatible.
class Output {
 public:
  Output(std::ostream& out, std::ostream& err, bool json) : out_(out), err_(err), json_(json) {}
  // One event: `fields` as a JSON object with "event":`event` first on
  // `out`, or `text` on its own line. As text, an "error" event goes to
  // `err` as "orderbook-probe: <text>".
  void Event(std::string_view event, boost::json::object fields, std::string_view text);
  bool json() const { return json_; }

 private:
  std::ostream& out_;
  std::ostream& err_;
  bool json_;
};

// `watch`: connects, subscribes to options.symbols, prints every update
// (symbol, seq, epoch, age, levels) and every gap or epoch change, until
// --count updates, --duration, or the connection ends.
int Watch(const Options& options, Output& out);
// `publish`: one test book for options.symbols[0] over REST or gRPC.
int Publish(const Options& options, Output& out);
// `health`: GET /health, or grpc.health.v1.Health/Check.
int Health(const Options& options, Output& out);

// The test book `publish` sends: `levels` bids from 100 down, asks from
// 100.5 up, over REST as {"bids":[[p,v,o],...],"asks":[...],"timestamp":T}.
std::string RestTestBook(int levels, std::chrono::system_clock::time_point now);

}  // namespace obgw::probe

#endif  // OBGW_PROBE_PROBE_H_
