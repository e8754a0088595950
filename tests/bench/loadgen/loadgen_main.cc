// orderbook-loadgen: one benchmark run against a server of the legacy
// protocol (the gateway or a peer). Opens N WebSocket clients, subscribes
// each to K of S symbols, publishes books over HTTP or gRPC at a target rate
// (or flat out), and prints one JSON line: delivered messages/s, expected vs
// received, end-to-end latency percentiles, publish rate reached, and the
// server's CPU and RSS (with --server_pid). Progress goes to stderr. With
// --publish_host/--publish_*_port the books go to another node of a cluster
// than the one the clients are connected to.
#include <sys/resource.h>

#include <cstdio>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <absl/flags/flag.h>
#include <absl/strings/numbers.h>
#include <boost/json.hpp>

#include "ingest/cli/command_line.h"
#include "ingest/feed/book_generator.h"
#include "ingest/feed/publish_token.h"
#include "process_sampler.h"
#include "publisher.h"
#include "subscriber_pool.h"

ABSL_FLAG(std::string, host, "127.0.0.1", "server address");
ABSL_FLAG(int32_t, http_port, 8002, "server HTTP + WebSocket port");
ABSL_FLAG(int32_t, grpc_port, 50051, "server gRPC port (with --publish=grpc or grpc-batch)");
// Publishing to another node than the clients are on measures a cluster: the
// books cross the broker (Redis) before any subscriber sees them.
ABSL_FLAG(std::string, publish_host, "", "address books are published to; empty = --host");
ABSL_FLAG(int32_t, publish_http_port, 0,
          "HTTP port books are published to (--publish=http); 0 = --http_port");
ABSL_FLAG(int32_t, publish_grpc_port, 0,
          "gRPC port books are published to (--publish=grpc or grpc-batch); 0 = --grpc_port");
ABSL_FLAG(std::string, publish, "http",
          "how to publish: http, grpc (Publish streams, one book per message), grpc-batch "
          "(PublishBatch streams, --batch_size books per message), or none (idle clients)");
ABSL_FLAG(std::string, publish_token, "",
          "publish token of the server (its --publish_tokens), sent with every publish; empty: "
          "$PUBLISH_TOKEN if set, else none");
ABSL_FLAG(int32_t, batch_size, 100, "books per OrderBookBatch message (--publish=grpc-batch)");
ABSL_FLAG(int32_t, clients, 100, "WebSocket clients");
ABSL_FLAG(int32_t, symbols, 10, "symbols published");
ABSL_FLAG(int32_t, subs_per_client, 1, "symbols each client subscribes to (<= symbols)");
ABSL_FLAG(double, rate, 0, "offered books/s over all publishers; 0 = flat out");
ABSL_FLAG(int32_t, publishers, 4, "HTTP keep-alive connections or gRPC streams");
ABSL_FLAG(double, duration_s, 10, "publishing time");
ABSL_FLAG(double, drain_s, 5, "longest wait for in-flight messages after publishing");
ABSL_FLAG(int32_t, levels, 10, "levels per side of each book");
ABSL_FLAG(int32_t, server_pid, 0, "pid of the server, for its CPU and RSS; 0 = not measured");
ABSL_FLAG(std::vector<std::string>, other_pids, {},
          "more server processes (comma-separated pids, e.g. the other nodes and Redis of a "
          "cluster) whose CPU use while publishing is reported as other_cpu_pct");
ABSL_FLAG(std::string, target, "gateway", "name of the server in the output");
ABSL_FLAG(std::string, scenario, "custom", "name of the scenario in the output");
ABSL_FLAG(double, connect_timeout_s, 120, "longest time to connect and subscribe every client");
ABSL_FLAG(bool, deflate, false,
          "offer permessage-deflate and inflate compressed frames, as browsers do");
ABSL_FLAG(int32_t, reader_threads, 2,
          "threads reading the WebSocket clients (one can saturate near 250k messages/s)");

namespace {

using namespace obgw::loadgen;
using Clock = std::chrono::steady_clock;

void RaiseFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

[[noreturn]] void Die(const std::string& reason) {
  std::fprintf(stderr, "orderbook-loadgen: %s\n", reason.c_str());
  std::exit(2);
}

// The load generator's command line: every flag above, once, under its
// --help heading.
obgw::cli::Program CommandLine() {
  using obgw::cli::Flags;
  return {
      .name = "orderbook-loadgen",
      .summary = "Benchmarks one server of the legacy protocol; prints one JSON line.",
      .groups =
          {
              {"Server", Flags(FLAGS_host, FLAGS_http_port, FLAGS_grpc_port, FLAGS_server_pid,
                               FLAGS_other_pids)},
              {"Publish target", Flags(FLAGS_publish_host, FLAGS_publish_http_port,
                                       FLAGS_publish_grpc_port, FLAGS_publish_token)},
              {"Clients", Flags(FLAGS_clients, FLAGS_subs_per_client, FLAGS_connect_timeout_s,
                                FLAGS_deflate, FLAGS_reader_threads)},
              {"Publishing",
               Flags(FLAGS_publish, FLAGS_symbols, FLAGS_rate, FLAGS_publishers, FLAGS_batch_size,
                     FLAGS_duration_s, FLAGS_drain_s, FLAGS_levels)},
              {"Output", Flags(FLAGS_target, FLAGS_scenario)},
          },
  };
}

// Where books are published: the --publish_* flags, each defaulting to the
// server the clients connect to.
std::string PublishHost() {
  std::string host = absl::GetFlag(FLAGS_publish_host);
  return host.empty() ? absl::GetFlag(FLAGS_host) : host;
}

std::uint16_t PublishPort(const std::string& publish) {
  bool grpc = publish == "grpc" || publish == "grpc-batch";
  int port = grpc ? absl::GetFlag(FLAGS_publish_grpc_port) : absl::GetFlag(FLAGS_publish_http_port);
  if (port == 0) port = grpc ? absl::GetFlag(FLAGS_grpc_port) : absl::GetFlag(FLAGS_http_port);
  return static_cast<std::uint16_t>(port);
}

}  // namespace

int main(int argc, char** argv) {
  obgw::cli::ParseCommandLine(CommandLine(), argc, argv);
  RaiseFileLimit();
  const std::string publish = absl::GetFlag(FLAGS_publish);
  if (publish != "http" && publish != "grpc" && publish != "grpc-batch" && publish != "none") {
    Die("--publish must be http, grpc, grpc-batch or none");
  }
  if (absl::GetFlag(FLAGS_batch_size) < 1) Die("--batch_size must be >= 1");
  const int clients = absl::GetFlag(FLAGS_clients);
  const int symbols = absl::GetFlag(FLAGS_symbols);
  const int subs = absl::GetFlag(FLAGS_subs_per_client);
  std::vector<std::pair<std::string, ProcessSampler>> others;
  for (const std::string& pid : absl::GetFlag(FLAGS_other_pids)) {
    int value = 0;
    if (!absl::SimpleAtoi(pid, &value) || value <= 0) Die("--other_pids: not a pid: " + pid);
    others.emplace_back(pid, ProcessSampler(value));
  }
  if (clients < 0 || symbols < 1 || subs < 0 || subs > symbols) {
    Die("need clients >= 0, symbols >= 1, 0 <= subs_per_client <= symbols");
  }
  for (int port :
       {absl::GetFlag(FLAGS_publish_http_port), absl::GetFlag(FLAGS_publish_grpc_port)}) {
    if (port < 0 || port > 65535) Die("--publish_http_port and --publish_grpc_port: 0-65535");
  }

  // Client i follows K consecutive symbols starting at i*K: every symbol gets
  // the same number of subscribers when clients*K is a multiple of S.
  obgw::ingest::BookGenerator names(symbols, 1, 0);
  std::vector<std::vector<std::string>> plan(clients);
  std::vector<std::uint64_t> subscribers(symbols, 0);
  for (int i = 0; i < clients; ++i) {
    for (int j = 0; j < subs; ++j) {
      int symbol = (i * subs + j) % symbols;
      plan[i].push_back(names.symbol(symbol));
      ++subscribers[symbol];
    }
  }

  ProcessSampler server(absl::GetFlag(FLAGS_server_pid));
  const std::int64_t rss_before_kb = server.RssKb();
  SubscriberPool pool(absl::GetFlag(FLAGS_host),
                      static_cast<std::uint16_t>(absl::GetFlag(FLAGS_http_port)), plan,
                      static_cast<std::size_t>(std::max(1, absl::GetFlag(FLAGS_reader_threads))),
                      absl::GetFlag(FLAGS_deflate));
  auto connect_started = Clock::now();
  bool all_connected = pool.ConnectAll(
      std::chrono::seconds(static_cast<int>(absl::GetFlag(FLAGS_connect_timeout_s))));
  double connect_s = std::chrono::duration<double>(Clock::now() - connect_started).count();
  std::fprintf(stderr, "connected %llu of %d clients in %.1f s (%llu failed)\n",
               static_cast<unsigned long long>(pool.connected()), clients, connect_s,
               static_cast<unsigned long long>(pool.failures()));
  // Let the server settle (allocations after the last handshake) before RSS.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const std::int64_t rss_connected_kb = server.RssKb();
  if (!all_connected && publish != "none") Die("not every client connected and subscribed");

  PublishPlan publish_plan;
  publish_plan.host = PublishHost();
  publish_plan.port = PublishPort(publish);
  publish_plan.publishers = static_cast<std::size_t>(absl::GetFlag(FLAGS_publishers));
  publish_plan.rate = absl::GetFlag(FLAGS_rate);
  publish_plan.symbols = static_cast<std::size_t>(symbols);
  publish_plan.levels = static_cast<std::size_t>(absl::GetFlag(FLAGS_levels));
  publish_plan.duration = std::chrono::duration<double>(absl::GetFlag(FLAGS_duration_s));
  publish_plan.publish_token = obgw::ingest::PublishTokenOr(absl::GetFlag(FLAGS_publish_token));
  if (publish == "grpc-batch") {
    publish_plan.batch_size = static_cast<std::size_t>(absl::GetFlag(FLAGS_batch_size));
  }
  PublishCounters counters(publish_plan.symbols);

  double cpu_before = server.CpuSeconds();
  std::vector<double> others_cpu_before;
  for (const auto& [pid, sampler] : others) others_cpu_before.push_back(sampler.CpuSeconds());
  auto started = Clock::now();
  std::int64_t rss_peak_kb = rss_connected_kb;
  double publish_s = 0;
  if (publish != "none") {
    std::thread publisher([&] {
      if (publish == "grpc" || publish == "grpc-batch") {
        PublishGrpc(publish_plan, counters);
      } else {
        PublishHttp(publish_plan, counters);
      }
    });
    // Sample RSS while publishing; the publisher stops itself at the end.
    while (Clock::now() - started < publish_plan.duration) {
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
      rss_peak_kb = std::max(rss_peak_kb, server.RssKb());
    }
    publisher.join();
    publish_s = std::chrono::duration<double>(Clock::now() - started).count();
  }
  double cpu_after = server.CpuSeconds();
  boost::json::object other_cpu_pct;
  for (std::size_t i = 0; i < others.size(); ++i) {
    double wall_s = std::chrono::duration<double>(Clock::now() - started).count();
    double used_s = others[i].second.CpuSeconds() - others_cpu_before[i];
    other_cpu_pct[others[i].first] = wall_s > 0 ? 100.0 * used_s / wall_s : 0.0;
  }
  double cpu_wall_s = std::chrono::duration<double>(Clock::now() - started).count();

  std::uint64_t expected = 0;
  for (int s = 0; s < symbols; ++s) expected += counters.accepted_per_symbol[s] * subscribers[s];
  // Drain: wait for what is in flight, until everything arrived or nothing
  // moves for a second.
  auto drain_end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(absl::GetFlag(FLAGS_drain_s)));
  std::uint64_t last = pool.received();
  auto last_progress = Clock::now();
  while (pool.received() < expected && Clock::now() < drain_end &&
         Clock::now() - last_progress < std::chrono::seconds(1)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (pool.received() != last) {
      last = pool.received();
      last_progress = Clock::now();
    }
  }
  std::uint64_t received = pool.received();
  pool.Stop();
  LatencyRecorder& latency = pool.latencies();

  boost::json::object out{
      {"scenario", absl::GetFlag(FLAGS_scenario)},
      {"target", absl::GetFlag(FLAGS_target)},
      {"publish", publish},
      {"publish_target", PublishHost() + ":" + std::to_string(publish_plan.port)},
      {"clients", clients},
      {"connected", pool.connected()},
      {"symbols", symbols},
      {"subs_per_client", subs},
      {"publishers", publish_plan.publishers},
      {"batch_size", publish_plan.batch_size},
      {"offered_rate", publish_plan.rate},
      {"duration_s", publish_s},
      {"published", counters.accepted.load()},
      {"publish_rejected", counters.rejected.load()},
      {"publish_errors", counters.errors.load()},
      {"publish_rate", publish_s > 0 ? counters.accepted.load() / publish_s : 0.0},
      {"expected", expected},
      {"received", received},
      {"loss_pct", expected > 0 ? 100.0 *
                                      (static_cast<double>(expected) -
                                       static_cast<double>(std::min(received, expected))) /
                                      static_cast<double>(expected)
                                : 0.0},
      {"delivered_per_s", publish_s > 0 ? received / publish_s : 0.0},
      {"latency_samples", latency.count()},
      {"latency_us",
       {{"p50", latency.PercentileUs(0.50)},
        {"p90", latency.PercentileUs(0.90)},
        {"p99", latency.PercentileUs(0.99)},
        {"p999", latency.PercentileUs(0.999)},
        {"max", latency.PercentileUs(1.0)}}},
      {"connect_s", connect_s},
      {"reader_threads", absl::GetFlag(FLAGS_reader_threads)},
      {"deflate_offered", absl::GetFlag(FLAGS_deflate)},
      {"deflate_negotiated", pool.deflate_negotiated()},
      {"wire_bytes", pool.wire_bytes()},
      {"wire_bytes_per_message",
       received > 0 ? static_cast<double>(pool.wire_bytes()) / static_cast<double>(received) : 0.0},
  };
  if (!others.empty()) out["other_cpu_pct"] = std::move(other_cpu_pct);
  if (server.valid()) {
    out["server_cpu_pct"] = cpu_wall_s > 0 ? 100.0 * (cpu_after - cpu_before) / cpu_wall_s : 0.0;
    out["server_rss_kb_idle"] = rss_before_kb;
    out["server_rss_kb_connected"] = rss_connected_kb;
    out["server_rss_kb_peak"] = rss_peak_kb;
    if (pool.connected() > 0) {
      out["rss_bytes_per_connection"] =
          1024.0 * static_cast<double>(rss_connected_kb - rss_before_kb) / pool.connected();
    }
  }
  std::printf("%s\n", boost::json::serialize(out).c_str());
  return pool.failures() == 0 ? 0 : 1;
}
