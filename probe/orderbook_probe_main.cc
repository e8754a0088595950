// orderbook-probe: checks a running orderbook-gateway from the command line,
// as the integration guide's test_websocket.py did, for people and scripts.
//
//   orderbook-probe [watch] --symbols=AAPL,MSFT [--count=N] [--duration_s=S]
//   orderbook-probe publish [--via=rest|grpc] --symbols=AAPL
//   orderbook-probe health [--via=http|grpc]
//
// Threads: the main thread only (gRPC's own threads aside); every check runs
// to its end, then the process exits with the check's code.

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "ingest/cli/command_line.h"
#include "probe/probe.h"

ABSL_FLAG(std::string, gateway, "http://127.0.0.1:8002",
          "The gateway's HTTP port as a URL: http://host:port, or https://host:port for TLS; the "
          "WebSocket is ws(s)://host:port/ws/<client_id> on it.");
ABSL_FLAG(std::string, grpc, "127.0.0.1:50051", "The gateway's gRPC port, host:port.");
ABSL_FLAG(bool, grpc_tls, false,
          "Speak TLS to the gRPC port (trusting --ca, or the system's CAs).");
ABSL_FLAG(std::string, ca, "",
          "PEM file of the CA certificates to trust for https, wss and gRPC TLS; empty: the "
          "system's.");
ABSL_FLAG(int32_t, timeout_ms, 5000, "Longest wait to connect and for each answer.");
ABSL_FLAG(bool, json, false,
          "One JSON object per line (an \"event\" field first) instead of text.");
ABSL_FLAG(std::vector<std::string>, symbols, {"AAPL"},
          "watch: the symbols to subscribe to; publish: the book's symbol (the first).");
ABSL_FLAG(std::string, client_id, "",
          "watch: the client_id of /ws/<client_id>; empty: orderbook-probe-<pid>.");
ABSL_FLAG(std::string, token, "",
          "watch: a browser JWT, sent as the first message ({\"action\":\"auth\"}); empty: none. "
          "Never printed.");
ABSL_FLAG(uint64_t, count, 0, "watch: stop after this many updates; 0: no limit.");
ABSL_FLAG(double, duration_s, 0, "watch: stop after this many seconds; 0: no limit.");
ABSL_FLAG(int32_t, throttle_ms, -1, "watch: connect with ?throttle_ms=N (0-60000); -1: none.");
ABSL_FLAG(bool, fail_on_gap, false, "watch: exit 1 when a seq gap or an epoch change was seen.");
ABSL_FLAG(std::string, via, "",
          "publish: rest (POST /broadcast/orderbook, the default) or grpc (a Publish stream); "
          "health: http (GET /health, the default) or grpc (grpc.health.v1.Health/Check).");
ABSL_FLAG(std::string, publish_token, "",
          "publish: the gateway's publish token (its --publish_tokens), sent as "
          "'authorization: Bearer <token>'. Never printed.");
ABSL_FLAG(int32_t, levels, 5, "publish: price levels per side of the test book (0-1000).");
ABSL_FLAG(std::string, service, "",
          "health --via=grpc: the service name to check: \"\" (the server) or "
          "orderbook.v1.OrderBookIngest.");

namespace {

// One paragraph: --help wraps it.
constexpr const char* kSummary =
    "Checks a running orderbook-gateway. Commands: watch (the default) subscribes over WebSocket "
    "to --symbols and prints each update (symbol, seq, epoch, age, levels) and every seq gap or "
    "epoch change; publish sends one test book over REST or gRPC (--via) and prints the reply; "
    "health asks GET /health or the gRPC health service (--via=grpc). Exit codes: 0 ok; 1 the "
    "check failed (degraded, NOT_SERVING, a publish refused or rejected, an error reply, a gap "
    "with --fail_on_gap); 2 usage error, or the gateway could not be reached or dropped the "
    "connection.";

obgw::cli::Program CommandLine() {
  using obgw::cli::Flags;
  return {
      .name = "orderbook-probe",
      .summary = kSummary,
      .groups =
          {
              {"Where",
               Flags(FLAGS_gateway, FLAGS_grpc, FLAGS_grpc_tls, FLAGS_ca, FLAGS_timeout_ms)},
              {"Output", Flags(FLAGS_json)},
              {"watch", Flags(FLAGS_symbols, FLAGS_client_id, FLAGS_token, FLAGS_count,
                              FLAGS_duration_s, FLAGS_throttle_ms, FLAGS_fail_on_gap)},
              {"publish and health",
               Flags(FLAGS_via, FLAGS_publish_token, FLAGS_levels, FLAGS_service)},
          },
      .environment_fallback = false,
      .secrets = Flags(FLAGS_token, FLAGS_publish_token),
  };
}

[[noreturn]] void UsageError(const std::string& reason) {
  std::fprintf(stderr, "orderbook-probe: %s (see --help)\n", reason.c_str());
  std::exit(obgw::probe::kExitError);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> positional = obgw::cli::ParseCommandLine(CommandLine(), argc, argv);
  std::string command = positional.size() > 1 ? positional[1] : "watch";
  if (positional.size() > 2) UsageError(absl::StrCat("unexpected argument '", positional[2], "'"));
  if (command != "watch" && command != "publish" && command != "health") {
    UsageError(absl::StrCat("unknown command '", command, "': watch, publish or health"));
  }

  obgw::probe::Options options;
  options.json = absl::GetFlag(FLAGS_json);
  options.gateway = absl::GetFlag(FLAGS_gateway);
  options.grpc = absl::GetFlag(FLAGS_grpc);
  options.grpc_tls = absl::GetFlag(FLAGS_grpc_tls);
  options.ca_file = absl::GetFlag(FLAGS_ca);
  int timeout_ms = absl::GetFlag(FLAGS_timeout_ms);
  if (timeout_ms <= 0) UsageError("--timeout_ms must be > 0");
  options.timeout = std::chrono::milliseconds(timeout_ms);
  options.symbols = absl::GetFlag(FLAGS_symbols);
  if (options.symbols.empty() || options.symbols.front().empty()) {
    UsageError("--symbols needs at least one symbol");
  }
  options.client_id = absl::GetFlag(FLAGS_client_id);
  options.token = absl::GetFlag(FLAGS_token);
  options.count = absl::GetFlag(FLAGS_count);
  double duration_s = absl::GetFlag(FLAGS_duration_s);
  if (duration_s < 0) UsageError("--duration_s must be >= 0");
  options.duration = std::chrono::milliseconds(static_cast<std::int64_t>(duration_s * 1000));
  options.throttle_ms = absl::GetFlag(FLAGS_throttle_ms);
  if (options.throttle_ms < -1 || options.throttle_ms > 60000) {
    UsageError("--throttle_ms must be -1 (none) or 0-60000");
  }
  options.fail_on_gap = absl::GetFlag(FLAGS_fail_on_gap);
  options.via = absl::GetFlag(FLAGS_via);
  if (command == "publish") {
    if (options.via.empty()) options.via = "rest";
    if (options.via != "rest" && options.via != "grpc") {
      UsageError("publish --via must be rest or grpc");
    }
  } else if (command == "health") {
    if (options.via.empty()) options.via = "http";
    if (options.via != "http" && options.via != "grpc") {
      UsageError("health --via must be http or grpc");
    }
  } else if (!options.via.empty()) {
    UsageError("--via is for publish and health");
  }
  options.publish_token = absl::GetFlag(FLAGS_publish_token);
  options.levels = absl::GetFlag(FLAGS_levels);
  if (options.levels < 0 || options.levels > 1000) UsageError("--levels must be 0-1000");
  options.service = absl::GetFlag(FLAGS_service);

  obgw::probe::Output out(std::cout, std::cerr, options.json);
  if (command == "publish") return obgw::probe::Publish(options, out);
  if (command == "health") return obgw::probe::Health(options, out);
  return obgw::probe::Watch(options, out);
}
