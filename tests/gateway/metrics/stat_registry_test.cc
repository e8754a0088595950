// The declared lists (shard, hub, ingest) behind GET /stats and GET /metrics:
// every /stats value has its /metrics twin from the same declaration, with
// the same value, and the /stats names clients depend on stay as they are.

#include "gateway/metrics/stat_registry.h"

#include <map>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

#include "gateway/metrics/gateway_stats.h"
#include "ingest/ingest_stats.h"
#include "tests/gateway/metrics/prometheus_text.h"

namespace obgw::gateway {
namespace {

constexpr std::size_t kShards = 3;
constexpr auto kIngestStatFields =
    OBGW_DESCRIBE_STATS(obgw::ingest::IngestStats, OBGW_INGEST_STATS);

// Every declared list registered as the gateway does (shards, hub, ingest),
// each counter set to a value of its own.
class StatRegistryTest : public ::testing::Test {
 protected:
  StatRegistryTest() {
    std::uint64_t next = 1;
    for (ShardStats& shard : shards_) {
      for (const auto& field : kShardStatFields) (shard.*field.counter).store(next++);
      shard_pointers_.push_back(&shard);
    }
    for (const auto& field : kHubStatFields) (hub_.*field.counter).store(next++);
    for (const auto& field : kIngestStatFields) (ingest_.*field.counter).store(next++);
    registry_.AddSharded<ShardStats>(kShardStatFields, shard_pointers_);
    registry_.Add(kHubStatFields, hub_);
    registry_.Add(BindStats(kIngestStatFields, ingest_));
    registry_.AddHistograms<ShardStats>(kShardHistogramFields, shard_pointers_, true);
    const HubStats* hub = &hub_;
    registry_.AddHistograms<HubStats>(kHubHistogramFields, std::span(&hub, 1), false);
  }

  // The value `json_name` has in `body` ("a.b": key b of object a).
  static std::optional<std::uint64_t> JsonValue(const boost::json::object& body,
                                                std::string_view json_name) {
    const boost::json::object* object = &body;
    std::size_t dot = json_name.find('.');
    if (dot != std::string_view::npos) {
      auto section = body.find(json_name.substr(0, dot));
      if (section == body.end() || !section->value().is_object()) return std::nullopt;
      object = &section->value().as_object();
      json_name = json_name.substr(dot + 1);
    }
    auto it = object->find(json_name);
    if (it == object->end() || !it->value().is_number()) return std::nullopt;
    return it->value().to_number<std::uint64_t>();
  }

  // The constant labels of a declaration ("a=\"x\",b=\"y\"") as a map.
  static std::map<std::string, std::string> LabelsOf(std::string_view labels) {
    auto parsed = ParsePrometheusSamples("x{" + std::string(labels) + "} 0\n");
    if (labels.empty() || !parsed) return {};
    return parsed->front().labels;
  }

  std::array<ShardStats, kShards> shards_;
  std::vector<const ShardStats*> shard_pointers_;
  HubStats hub_;
  obgw::ingest::IngestStats ingest_;
  StatRegistry registry_;
};

TEST_F(StatRegistryTest, EveryStatsValueHasItsMetricsTwinWithTheSameValue) {
  boost::json::object json = registry_.RenderJson();
  std::string text = registry_.RenderPrometheus();
  auto samples = ParsePrometheusSamples(text);
  ASSERT_TRUE(samples) << text;
  ASSERT_EQ(registry_.stats().size(),
            kShardStatFields.size() + kHubStatFields.size() + kIngestStatFields.size());
  for (const RegisteredStat& stat : registry_.stats()) {
    const StatInfo& info = stat.info;
    SCOPED_TRACE(std::string(info.member));
    std::string name = "obgw_" + std::string(info.metric);
    if (info.kind == StatKind::kCounter) name += "_total";
    std::map<std::string, std::string> labels = LabelsOf(info.labels);

    // Its series: the family's samples with exactly its labels (+ shard).
    std::uint64_t metrics_total = 0;
    std::set<std::string> shards_seen;
    for (const PrometheusSample& sample : *samples) {
      if (sample.name != name) continue;
      auto without_shard = sample.labels;
      without_shard.erase("shard");
      if (without_shard != labels) continue;
      metrics_total += static_cast<std::uint64_t>(sample.value);
      if (sample.labels.contains("shard")) {
        std::size_t shard = std::stoul(sample.labels.at("shard"));
        ASSERT_LT(shard, kShards);
        EXPECT_EQ(static_cast<std::uint64_t>(sample.value), stat.shards.at(shard)->load())
            << "shard " << shard;
        shards_seen.insert(sample.labels.at("shard"));
      }
    }
    EXPECT_EQ(shards_seen.size(), stat.by_shard ? kShards : 0u);
    EXPECT_GT(stat.Total(), 0u);
    EXPECT_EQ(metrics_total, stat.Total()) << name << " in\n" << text;
    EXPECT_EQ(JsonValue(json, info.json_name), stat.Total())
        << info.json_name << " in " << boost::json::serialize(json);
  }
}

TEST_F(StatRegistryTest, EachDeclarationHasItsOwnNameInBothRenderings) {
  std::set<std::string> json_names;
  std::set<std::pair<std::string, std::string>> series;
  for (const RegisteredStat& stat : registry_.stats()) {
    EXPECT_TRUE(json_names.insert(std::string(stat.info.json_name)).second) << stat.info.json_name;
    EXPECT_TRUE(series.emplace(stat.info.metric, stat.info.labels).second)
        << stat.info.metric << "{" << stat.info.labels << "}";
    EXPECT_FALSE(stat.info.help.empty()) << stat.info.member;
    EXPECT_FALSE(stat.info.metric.ends_with("_total")) << "the renderer adds it";
  }
  for (const RegisteredHistogram& histogram : registry_.histograms()) {
    if (!histogram.info.json_sum_name.empty()) {
      EXPECT_TRUE(json_names.insert(std::string(histogram.info.json_sum_name)).second);
    }
    EXPECT_TRUE(series.emplace(histogram.info.metric, "").second) << histogram.info.metric;
  }
  // And /stats holds exactly the declared names: nothing undeclared, nothing lost.
  boost::json::object json = registry_.RenderJson();
  std::size_t leaves = 0;
  for (const auto& [key, value] : json) leaves += value.is_object() ? value.as_object().size() : 1;
  EXPECT_EQ(leaves, json_names.size()) << boost::json::serialize(json);
}

TEST_F(StatRegistryTest, KeepsTheStatsNamesClientsDependOn) {
  // Today's /stats (protocol.md 3.4), but the values computed outside the
  // lists (uptime_seconds, queue_depth, queue_high_water, threads, epoch).
  boost::json::object json = registry_.RenderJson();
  std::vector<std::string> top_level;
  for (const auto& [key, value] : json) {
    if (!value.is_object()) top_level.emplace_back(key);
  }
  EXPECT_THAT(
      top_level,
      ::testing::UnorderedElementsAre(
          "active_connections", "total_subscriptions", "symbols", "messages_sent",
          "connections_total", "messages_dropped", "messages_conflated", "session_conflated_age",
          "socket_writes", "socket_buffer_full", "bytes_sent", "ws_errors", "ws_closed_too_big",
          "ws_closed_slow_consumer", "ws_closed_idle", "ws_refused_connection_limit",
          "ws_refused_origin", "ws_closed_rate_limit", "ws_closed_unread_replies",
          "ws_rate_limited", "ws_pings_sent", "snapshots_sent", "sessions_restored",
          "symbols_restored", "messages_throttled", "frames_deflated", "deflate_bytes_in",
          "deflate_bytes_out", "http_requests", "updates_routed", "hub_batches", "hub_conflated",
          "hub_conflated_in_batch", "hub_snapshots_rendered", "hub_stale_dropped", "hub_superseded",
          "queue_delay_ns_total",
          // Browser authentication (issue 11, JWT).
          "auth_accepted", "auth_rejected_malformed", "auth_rejected_wrong_algorithm",
          "auth_rejected_bad_signature", "auth_rejected_expired", "auth_rejected_not_yet_valid",
          "auth_rejected_missing_sub", "auth_rejected_bad_claims", "auth_rejected_wrong_sub",
          "auth_rejected_unknown_key", "auth_unauthenticated", "auth_forbidden_symbols",
          "ws_closed_auth_rejected", "ws_closed_auth_timeout", "ws_closed_token_expired",
          // Per-IP connection rate limit (issue 11).
          "connections_refused_rate",
          // TLS (issue 11).
          "tls_handshakes", "tls_handshake_failed", "tls_handshake_timeout"));

  ASSERT_TRUE(json.contains("ingest") && json.at("ingest").is_object());
  std::vector<std::string> ingest;
  for (const auto& [key, value] : json.at("ingest").as_object()) ingest.emplace_back(key);
  EXPECT_THAT(ingest, ::testing::ElementsAre("rest_accepted", "rest_rejected", "rest_unauthorized",
                                             "grpc_streams_open", "grpc_streams_total",
                                             "grpc_accepted", "grpc_rejected", "grpc_batches",
                                             "grpc_paused", "grpc_unauthenticated"));
}

TEST_F(StatRegistryTest, EachFamilyIsOneBlockWithHelpAndType) {
  std::string text = registry_.RenderPrometheus();
  std::map<std::string, int> help_lines;
  std::map<std::string, std::string> types;
  std::set<std::string> closed_families;  // Families whose block ended.
  std::string current;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string first, second, name, type;
    words >> first;
    if (first == "#") {
      words >> second >> name;
      if (second == "HELP") ++help_lines[name];
      if (second == "TYPE") words >> types[name];
      if (name != current) {
        EXPECT_FALSE(closed_families.contains(name)) << name << " split in two blocks";
        if (!current.empty()) closed_families.insert(current);
        current = name;
      }
      continue;
    }
    std::string sample = first.substr(0, first.find('{'));
    EXPECT_TRUE(sample.starts_with(current)) << sample << " outside its block " << current;
  }
  for (const auto& [name, type] : types) {
    EXPECT_EQ(help_lines[name], 1) << name;
    EXPECT_TRUE(name.starts_with("obgw_")) << name;
    EXPECT_EQ(name.ends_with("_total"), type == "counter") << name << " " << type;
  }
  EXPECT_EQ(types["obgw_ws_closed_total"], "counter");
  EXPECT_EQ(types["obgw_ws_connections"], "gauge");
  EXPECT_EQ(types["obgw_ws_delivery_latency_seconds"], "histogram");
  EXPECT_EQ(types["obgw_hub_queue_delay_seconds"], "histogram");
  EXPECT_EQ(types["obgw_ws_frames_per_write"], "histogram");
}

TEST_F(StatRegistryTest, CloseReasonsAndSourcesAreLabelsOfOneFamily) {
  auto samples = ParsePrometheusSamples(registry_.RenderPrometheus());
  ASSERT_TRUE(samples);
  std::set<std::string> reasons;
  std::set<std::string> sources;
  for (const PrometheusSample& sample : *samples) {
    if (sample.name == "obgw_ws_closed_total") reasons.insert(sample.labels.at("reason"));
    if (sample.name == "obgw_ingest_books_accepted_total") {
      sources.insert(sample.labels.at("source"));
    }
  }
  EXPECT_THAT(reasons, ::testing::ElementsAre("auth_rejected", "auth_timeout", "connection_limit",
                                              "idle_timeout", "message_too_big", "rate_limit",
                                              "slow_consumer", "token_expired", "unread_replies"));
  EXPECT_THAT(sources, ::testing::ElementsAre("grpc", "rest"));
}

TEST_F(StatRegistryTest, HubQueueDelayFeedsTheLegacyNanosecondTotal) {
  hub_.queue_delay.Observe(1'500);
  hub_.queue_delay.Observe(2'500'000);
  boost::json::object json = registry_.RenderJson();
  EXPECT_EQ(JsonValue(json, "queue_delay_ns_total"), 2'501'500u);
  auto samples = ParsePrometheusSamples(registry_.RenderPrometheus());
  ASSERT_TRUE(samples);
  for (const PrometheusSample& sample : *samples) {
    if (sample.name == "obgw_hub_queue_delay_seconds_sum") {
      EXPECT_DOUBLE_EQ(sample.value, 0.0025015);
    }
    if (sample.name == "obgw_hub_queue_delay_seconds_count") {
      EXPECT_EQ(sample.value, 2);
    }
  }
}

}  // namespace
}  // namespace obgw::gateway
