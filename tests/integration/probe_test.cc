// <build>/bin/orderbook-probe against a real gateway (issue 13): `watch`
// prints each published book with its seq and age and reports a gap made by
// a throttled connection (exit 1 with --fail_on_gap); `publish` works over
// REST and gRPC (with and without the publish token); `health` exits 0
// healthy, 1 degraded (Redis away) or NOT_SERVING, 2 unreachable, over HTTP
// and gRPC; TLS on both ports with --ca; --json lines parse; usage errors
// exit 2 with one line.

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "gateway_process.h"
#include "grpc_test_client.h"
#include "health_watch.h"
#include "http_test_client.h"
#include "jwt_minter.h"
#include "redis_server.h"
#include "test_util.h"
#include "tls_test_client.h"
#include "ws_test_client.h"

namespace obgw::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

const std::string kToken = "probe-publish-token-0123456789";

std::string ProbePath() { return BinDir() + "/orderbook-probe"; }

struct ProbeRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr, merged
  // Every line of the output that is a JSON object.
  std::vector<json::object> Events(const std::string& event = {}) const {
    std::vector<json::object> events;
    std::size_t start = 0;
    while (start < output.size()) {
      std::size_t end = output.find('\n', start);
      if (end == std::string::npos) end = output.size();
      std::string line = output.substr(start, end - start);
      start = end + 1;
      if (line.empty() || line.front() != '{') continue;
      boost::system::error_code error;
      json::value value = json::parse(line, error);
      if (error || !value.is_object()) continue;
      const json::value* name = value.as_object().if_contains("event");
      if (!event.empty() && (name == nullptr || *name != json::value(event))) continue;
      events.push_back(value.as_object());
    }
    return events;
  }
};

std::unique_ptr<Process> SpawnProbe(const std::vector<std::string>& args) {
  std::string error;
  auto process = Process::Spawn(ProbePath(), args, &error);
  EXPECT_TRUE(process) << error;
  return process;
}

ProbeRun Finish(Process& process, std::chrono::milliseconds timeout = 20s) {
  ProbeRun run;
  // Once it has exited, WaitForExit has also read the rest of its output.
  std::optional<int> code = process.WaitForExit(timeout);
  run.exit_code = code.value_or(-1);
  run.output = process.Output();
  return run;
}

ProbeRun RunProbe(const std::vector<std::string>& args) {
  auto process = SpawnProbe(args);
  if (!process) return {};
  return Finish(*process);
}

std::string GatewayFlag(const GatewayProcess& gw) {
  return "--gateway=http://127.0.0.1:" + std::to_string(gw.http_port());
}
std::string GrpcFlag(const GatewayProcess& gw) { return "--grpc=" + gw.grpc_target(); }

TEST(ProbeTest, WatchPrintsEachPublishedBookWithSeqAgeAndLevels) {
  OBGW_START_GATEWAY(gw, {});
  auto probe = SpawnProbe({"watch", GatewayFlag(*gw), "--symbols=AAPL,MSFT", "--count=3", "--json",
                           "--client_id=probe-watch"});
  ASSERT_TRUE(probe);
  // Synchronised on the probe's own lines: both subscriptions are live.
  ASSERT_TRUE(probe->WaitForLine(R"({"event":"subscribed","symbol":"AAPL")", 10s))
      << probe->Output();
  ASSERT_TRUE(probe->WaitForLine(R"({"event":"subscribed","symbol":"MSFT")", 10s))
      << probe->Output();
  PublishResult published =
      PublishStream(gw->grpc_target(),
                    {MakeUpdate("AAPL", 1, 3), MakeUpdate("MSFT", 1, 2), MakeUpdate("AAPL", 2, 3)});
  ASSERT_TRUE(published.status.ok()) << published.status.error_message();
  ProbeRun run = Finish(*probe);
  EXPECT_EQ(run.exit_code, 0) << run.output;

  std::vector<json::object> updates = run.Events("update");
  ASSERT_EQ(updates.size(), 3u) << run.output;
  EXPECT_EQ(updates[0].at("symbol"), "AAPL");
  EXPECT_EQ(updates[0].at("seq"), 1);
  EXPECT_EQ(updates[1].at("symbol"), "MSFT");
  EXPECT_EQ(updates[1].at("seq"), 1);
  EXPECT_EQ(updates[2].at("symbol"), "AAPL");
  EXPECT_EQ(updates[2].at("seq"), 2);
  EXPECT_EQ(updates[0].at("bids"), 3);
  EXPECT_EQ(updates[0].at("asks"), 3);
  EXPECT_EQ(updates[1].at("bids"), 2);
  EXPECT_EQ(updates[0].at("best_bid").to_number<double>(), 100.0);
  EXPECT_EQ(updates[0].at("best_ask").to_number<double>(), 100.5);
  json::value epoch = json::parse(HttpGet(gw->http_port(), "/health").body).at("epoch");
  for (const json::object& update : updates) {
    EXPECT_EQ(update.at("epoch"), epoch) << json::serialize(update);
    // The age: now minus the gateway's timestamp, on one machine: >= 0 and small.
    double age = update.at("age_ms").to_number<double>();
    EXPECT_GE(age, 0.0) << json::serialize(update);
    EXPECT_LT(age, 10000.0) << json::serialize(update);
    EXPECT_EQ(update.at("snapshot"), false);
  }
  EXPECT_TRUE(run.Events("gap").empty()) << run.output;
  std::vector<json::object> summary = run.Events("summary");
  ASSERT_EQ(summary.size(), 1u) << run.output;
  EXPECT_EQ(summary[0].at("updates"), 3);
  EXPECT_EQ(summary[0].at("gaps"), 0);
}

TEST(ProbeTest, WatchTextShowsTheSnapshotAndAge) {
  OBGW_START_GATEWAY(gw, {});
  ASSERT_EQ(PostBook(gw->http_port(), "AAPL", kGuideBody).status, 200);
  ProbeRun run = RunProbe({GatewayFlag(*gw), "--symbols=AAPL", "--count=1"});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("subscribed AAPL epoch="), std::string::npos) << run.output;
  // The guide's body: no levels, a snapshot of seq 1.
  EXPECT_NE(run.output.find("update AAPL seq=1 epoch="), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("ms bids=0 asks=0 snapshot"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find(" age="), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("summary: 1 updates, 0 gaps"), std::string::npos) << run.output;
}

// A throttled connection skips the books replaced while it waits: seq
// jumps, and the probe says so (and fails with --fail_on_gap).
TEST(ProbeTest, WatchReportsTheSeqGapOfAThrottledConnection) {
  OBGW_START_GATEWAY(gw, {});
  auto probe = SpawnProbe({"watch", GatewayFlag(*gw), "--symbols=AAPL", "--count=2",
                           "--throttle_ms=1000", "--fail_on_gap", "--json"});
  ASSERT_TRUE(probe);
  ASSERT_TRUE(probe->WaitForLine(R"({"event":"subscribed")", 10s)) << probe->Output();
  // Ten books in one stream, well within one throttle interval: the first
  // goes out at once, the last one at the interval's end, the 8 between are
  // replaced.
  std::vector<orderbook::v1::OrderBookUpdate> books;
  for (int i = 1; i <= 10; ++i) books.push_back(MakeUpdate("AAPL", i));
  ASSERT_TRUE(PublishStream(gw->grpc_target(), books).status.ok());
  ProbeRun run = Finish(*probe);
  EXPECT_EQ(run.exit_code, 1) << run.output;
  std::vector<json::object> updates = run.Events("update");
  ASSERT_EQ(updates.size(), 2u) << run.output;
  EXPECT_EQ(updates[0].at("seq"), 1);
  EXPECT_EQ(updates[1].at("seq"), 10);
  std::vector<json::object> gaps = run.Events("gap");
  ASSERT_EQ(gaps.size(), 1u) << run.output;
  EXPECT_EQ(gaps[0].at("symbol"), "AAPL");
  EXPECT_EQ(gaps[0].at("from_seq"), 1);
  EXPECT_EQ(gaps[0].at("to_seq"), 10);
  EXPECT_EQ(gaps[0].at("missed"), 8);
  EXPECT_EQ(run.Events("summary").at(0).at("missed"), 8);
}

TEST(ProbeTest, WatchFailsWithAnErrorReplyAndWithAConnectionError) {
  OBGW_START_GATEWAY(gw, {});
  ProbeRun bad_symbol =
      RunProbe({GatewayFlag(*gw), "--symbols=NOT A SYMBOL", "--duration_s=1", "--json"});
  EXPECT_EQ(bad_symbol.exit_code, 1) << bad_symbol.output;
  std::vector<json::object> errors = bad_symbol.Events("error_reply");
  ASSERT_EQ(errors.size(), 1u) << bad_symbol.output;
  EXPECT_EQ(errors[0].at("code"), "invalid_symbol");

  ProbeRun unreachable =
      RunProbe({"--gateway=http://127.0.0.1:" + std::to_string(FreeTcpPort()), "--count=1"});
  EXPECT_EQ(unreachable.exit_code, 2) << unreachable.output;
  EXPECT_NE(unreachable.output.find("orderbook-probe: cannot connect to 127.0.0.1:"),
            std::string::npos)
      << unreachable.output;
}

TEST(ProbeTest, PublishOverRestAndGrpcReachesASubscriber) {
  OBGW_START_GATEWAY(gw, {});
  WsTestClient client;
  ASSERT_TRUE(client.Connect(gw->http_port(), "probe-publish-watcher"));
  ASSERT_TRUE(client.SendText(R"({"action":"subscribe","symbol":"MSFT"})"));
  ASSERT_TRUE(client.ReadUntilType("subscription_confirmed"));

  ProbeRun rest = RunProbe({"publish", GatewayFlag(*gw), "--symbols=MSFT", "--levels=4"});
  EXPECT_EQ(rest.exit_code, 0) << rest.output;
  EXPECT_NE(
      rest.output.find(
          R"(published MSFT via rest: HTTP 200 {"status":"success","symbol":"MSFT","subscribers":1})"),
      std::string::npos)
      << rest.output;
  auto first = client.ReadUntilType("orderbook_update");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->at("seq"), 1);
  EXPECT_EQ(first->at("data").at("bids").as_array().size(), 4u);

  ProbeRun grpc = RunProbe({"publish", "--via=grpc", GrpcFlag(*gw), "--symbols=MSFT", "--json"});
  EXPECT_EQ(grpc.exit_code, 0) << grpc.output;
  std::vector<json::object> published = grpc.Events("published");
  ASSERT_EQ(published.size(), 1u) << grpc.output;
  EXPECT_EQ(published[0].at("via"), "grpc");
  EXPECT_EQ(published[0].at("accepted"), 1);
  EXPECT_EQ(published[0].at("rejected"), 0);
  auto second = client.ReadUntilType("orderbook_update");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->at("seq"), 2);
  EXPECT_EQ(second->at("data").at("bids").as_array().size(), 5u);
  EXPECT_EQ(second->at("data").at("asks").as_array().at(0).as_array().at(0).to_number<double>(),
            100.5);
}

TEST(ProbeTest, PublishWithAndWithoutThePublishToken) {
  OBGW_START_GATEWAY(gw, {"--publish_tokens=" + kToken});
  for (std::string via : {"rest", "grpc"}) {
    ProbeRun refused = RunProbe({"publish", "--via=" + via, GatewayFlag(*gw), GrpcFlag(*gw)});
    EXPECT_EQ(refused.exit_code, 1) << via << ": " << refused.output;
    ProbeRun accepted = RunProbe(
        {"publish", "--via=" + via, GatewayFlag(*gw), GrpcFlag(*gw), "--publish_token=" + kToken});
    EXPECT_EQ(accepted.exit_code, 0) << via << ": " << accepted.output;
    // The token is never printed.
    EXPECT_EQ(accepted.output.find(kToken), std::string::npos) << accepted.output;
    EXPECT_EQ(refused.output.find(kToken), std::string::npos) << refused.output;
  }
  ProbeRun grpc_refused = RunProbe({"publish", "--via=grpc", GrpcFlag(*gw)});
  EXPECT_NE(grpc_refused.output.find("UNAUTHENTICATED: publishing needs a publish token"),
            std::string::npos)
      << grpc_refused.output;
}

TEST(ProbeTest, HealthExitCodesHealthyAndUnreachable) {
  OBGW_START_GATEWAY(gw, {});
  ProbeRun http = RunProbe({"health", GatewayFlag(*gw)});
  EXPECT_EQ(http.exit_code, 0) << http.output;
  EXPECT_EQ(http.output.rfind("healthy (version ", 0), 0u) << http.output;
  ProbeRun grpc = RunProbe({"health", "--via=grpc", GrpcFlag(*gw), "--json"});
  EXPECT_EQ(grpc.exit_code, 0) << grpc.output;
  ASSERT_EQ(grpc.Events("health").size(), 1u) << grpc.output;
  EXPECT_EQ(grpc.Events("health")[0].at("status"), "SERVING");
  ProbeRun ingest =
      RunProbe({"health", "--via=grpc", GrpcFlag(*gw), "--service=orderbook.v1.OrderBookIngest"});
  EXPECT_EQ(ingest.exit_code, 0) << ingest.output;
  EXPECT_EQ(ingest.output, "SERVING (service orderbook.v1.OrderBookIngest)\n");
  ProbeRun unknown = RunProbe({"health", "--via=grpc", GrpcFlag(*gw), "--service=nope"});
  EXPECT_EQ(unknown.exit_code, 1) << unknown.output;

  std::string nowhere = "127.0.0.1:" + std::to_string(FreeTcpPort());
  ProbeRun http_down = RunProbe({"health", "--gateway=http://" + nowhere, "--json"});
  EXPECT_EQ(http_down.exit_code, 2) << http_down.output;
  ASSERT_EQ(http_down.Events("error").size(), 1u) << http_down.output;
  ProbeRun grpc_down = RunProbe({"health", "--via=grpc", "--grpc=" + nowhere, "--timeout_ms=2000"});
  EXPECT_EQ(grpc_down.exit_code, 2) << grpc_down.output;
  EXPECT_NE(grpc_down.output.find("orderbook-probe: gRPC health check of " + nowhere),
            std::string::npos)
      << grpc_down.output;
}

TEST(ProbeTest, HealthExitsOneWhileRedisIsAway) {
  std::string error;
  std::unique_ptr<RedisServer> redis = RedisServer::Start(&error);
  ASSERT_TRUE(redis) << error;
  OBGW_START_GATEWAY(gw, {"--redis_url=" + redis->url(), "--redis_timeout_ms=300"});
  // Synchronised on the gRPC health service's Watch (it follows /health).
  HealthWatch watch(*gw, "");
  ASSERT_TRUE(watch.WaitFor(grpc::health::v1::HealthCheckResponse::SERVING)) << gw->Output();
  EXPECT_EQ(RunProbe({"health", GatewayFlag(*gw)}).exit_code, 0);
  redis->Kill();
  ASSERT_TRUE(watch.WaitFor(grpc::health::v1::HealthCheckResponse::NOT_SERVING)) << gw->Output();
  ProbeRun http = RunProbe({"health", GatewayFlag(*gw), "--json"});
  EXPECT_EQ(http.exit_code, 1) << http.output;
  ASSERT_EQ(http.Events("health").size(), 1u) << http.output;
  EXPECT_EQ(http.Events("health")[0].at("status"), "degraded");
  EXPECT_NE(std::string(http.Events("health")[0].at("reason").as_string()).find("redis"),
            std::string::npos);
  ProbeRun grpc = RunProbe({"health", "--via=grpc", GrpcFlag(*gw)});
  EXPECT_EQ(grpc.exit_code, 1) << grpc.output;
  EXPECT_EQ(grpc.output, "NOT_SERVING (service \"\")\n");
}

// Browser auth on: --token goes in the first message; the session is
// authenticated, then subscribed. A token for another client_id is refused
// (error token_wrong_sub, then the gateway closes: exit 2). Never printed.
TEST(ProbeTest, WatchAuthenticatesWithAToken) {
  const std::string secret = "probe-jwt-secret-0123456789abcdef";
  OBGW_START_GATEWAY(gw, {"--jwt_secret=" + secret});
  const std::string token = MintToken("HS256", secret, ClaimsJson("probe-auth", 600));
  auto probe = SpawnProbe({"watch", GatewayFlag(*gw), "--client_id=probe-auth", "--token=" + token,
                           "--symbols=AAPL", "--count=1", "--json"});
  ASSERT_TRUE(probe);
  ASSERT_TRUE(probe->WaitForLine(R"({"event":"authenticated","sub":"probe-auth"})", 10s))
      << probe->Output();
  ASSERT_TRUE(probe->WaitForLine(R"({"event":"subscribed","symbol":"AAPL")", 10s))
      << probe->Output();
  ASSERT_EQ(PostBook(gw->http_port(), "AAPL", kGuideBody).status, 200);
  ProbeRun run = Finish(*probe);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.Events("update").size(), 1u) << run.output;
  EXPECT_EQ(run.output.find(token), std::string::npos) << "the token is never printed";

  ProbeRun wrong = RunProbe({"watch", GatewayFlag(*gw), "--client_id=someone-else",
                             "--token=" + token, "--count=1", "--json"});
  EXPECT_EQ(wrong.exit_code, 2) << wrong.output;
  ASSERT_EQ(wrong.Events("error_reply").size(), 1u) << wrong.output;
  EXPECT_EQ(wrong.Events("error_reply")[0].at("code"), "token_wrong_sub");
  EXPECT_EQ(wrong.output.find(token), std::string::npos) << "the token is never printed";
}

// TLS on both ports: https and wss with --ca, gRPC with --grpc_tls --ca; a
// certificate the probe cannot verify is a connection error (exit 2).
TEST(ProbeTest, SpeaksTlsWithTheGivenCa) {
  TestPki pki;
  ASSERT_TRUE(pki.error().empty()) << pki.error();
  ASSERT_TRUE(pki.MakeServerCert("gateway", "1001")) << pki.error();
  OBGW_START_GATEWAY(gw, {"--tls_cert_file=" + pki.dir() + "/gateway.crt",
                          "--tls_key_file=" + pki.dir() + "/gateway.key"});
  const std::string https = "--gateway=https://127.0.0.1:" + std::to_string(gw->http_port());
  const std::string ca = "--ca=" + pki.ca_file();

  ProbeRun health = RunProbe({"health", https, ca});
  EXPECT_EQ(health.exit_code, 0) << health.output;
  ProbeRun untrusted = RunProbe({"health", https});
  EXPECT_EQ(untrusted.exit_code, 2) << untrusted.output;
  EXPECT_NE(untrusted.output.find("orderbook-probe: TLS handshake with 127.0.0.1:"),
            std::string::npos)
      << untrusted.output;
  ProbeRun grpc_health = RunProbe({"health", "--via=grpc", GrpcFlag(*gw), "--grpc_tls", ca});
  EXPECT_EQ(grpc_health.exit_code, 0) << grpc_health.output;

  auto watch = SpawnProbe({"watch", https, ca, "--symbols=TLS-USD", "--count=2", "--json"});
  ASSERT_TRUE(watch);
  ASSERT_TRUE(watch->WaitForLine(R"({"event":"subscribed")", 10s)) << watch->Output();
  ProbeRun rest = RunProbe({"publish", https, ca, "--symbols=TLS-USD"});
  EXPECT_EQ(rest.exit_code, 0) << rest.output;
  ProbeRun grpc =
      RunProbe({"publish", "--via=grpc", GrpcFlag(*gw), "--grpc_tls", ca, "--symbols=TLS-USD"});
  EXPECT_EQ(grpc.exit_code, 0) << grpc.output;
  ProbeRun watched = Finish(*watch);
  EXPECT_EQ(watched.exit_code, 0) << watched.output;
  std::vector<json::object> updates = watched.Events("update");
  ASSERT_EQ(updates.size(), 2u) << watched.output;
  EXPECT_EQ(updates[0].at("seq"), 1);
  EXPECT_EQ(updates[1].at("seq"), 2);
}

TEST(ProbeTest, UsageErrorsExitTwoWithOneLine) {
  ProbeRun unknown = RunProbe({"frobnicate"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_EQ(
      unknown.output,
      "orderbook-probe: unknown command 'frobnicate': watch, publish or health (see --help)\n");
  ProbeRun via = RunProbe({"publish", "--via=carrier-pigeon"});
  EXPECT_EQ(via.exit_code, 2);
  EXPECT_EQ(via.output, "orderbook-probe: publish --via must be rest or grpc (see --help)\n");
  ProbeRun url = RunProbe({"health", "--gateway=ftp://x"});
  EXPECT_EQ(url.exit_code, 2);
  EXPECT_EQ(url.output,
            "orderbook-probe: --gateway=ftp://x: the scheme must be http, https, ws or wss\n");
  ProbeRun help = RunProbe({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  std::string help_text = help.output;
  std::replace(help_text.begin(), help_text.end(), '\n', ' ');
  EXPECT_NE(help_text.find("Exit codes: 0 ok; 1 the check failed"), std::string::npos)
      << help.output;
  EXPECT_NE(help_text.find("--fail_on_gap (default false)"), std::string::npos) << help.output;
}

}  // namespace
}  // namespace obgw::testing
