#ifndef OBGW_GATEWAY_METRICS_STAT_DECLARATION_H_
#define OBGW_GATEWAY_METRICS_STAT_DECLARATION_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

// The shape of a stat list, shared by every component that counts something
// (gateway_stats.h, ingest/ingest_stats.h). A list is an X-macro taking
// two macros, MY_STATS(COUNTER, GAUGE), whose body is a sequence of
//   COUNTER(member, "json_name", "metric", "labels", "help")
//   GAUGE(member, "json_name", "metric", "labels", "help")
// with, for each stat:
//   member     the std::atomic<std::uint64_t> member of the stats struct;
//   json_name  its key in GET /stats; "ingest.x" is key "x" of the nested
//              object "ingest";
//   metric     its Prometheus family, without the "obgw_" prefix and without
//              a counter's "_total" suffix; stats of one family (same metric)
//              differ by their labels;
//   labels     constant Prometheus labels, e.g. reason="slow_consumer", or "";
//   help       what it counts (the family's # HELP is its first stat's help).
// The struct declares its members with LIST(MEMBER, MEMBER) and the
// gateway's registry reads them through OBGW_DESCRIBE_STATS, so a stat is
// named in exactly one place.

namespace obgw::gateway {

using Counter = std::atomic<std::uint64_t>;

enum class StatKind { kCounter, kGauge };

// One declared stat, as written in its list.
struct StatInfo {
  std::string_view member;
  StatKind kind;
  std::string_view json_name;
  std::string_view metric;
  std::string_view labels;
  std::string_view help;
};

// A declared stat and where it lives in its struct.
template <typename Stats>
struct StatField {
  StatInfo info;
  Counter Stats::*counter;
};

}  // namespace obgw::gateway

// Inside a stats struct: LIST(OBGW_STAT_MEMBER, OBGW_STAT_MEMBER).
#define OBGW_STAT_MEMBER(member, json_name, metric, labels, help) \
  ::obgw::gateway::Counter member{0};

// A list's declarations as a constexpr std::array<StatField<Stats>, N>.
#define OBGW_DESCRIBE_STATS(Stats, LIST)                                         \
  ([] {                                                                          \
    using DescribedStats = Stats;                                                \
    return ::std::array{LIST(OBGW_STAT_FIELD_COUNTER_, OBGW_STAT_FIELD_GAUGE_)}; \
  }())

#define OBGW_STAT_FIELD_(kind, member, json_name, metric, labels, help)                        \
  ::obgw::gateway::StatField<DescribedStats>{{#member, kind, json_name, metric, labels, help}, \
                                             &DescribedStats::member},
#define OBGW_STAT_FIELD_COUNTER_(...) \
  OBGW_STAT_FIELD_(::obgw::gateway::StatKind::kCounter, __VA_ARGS__)
#define OBGW_STAT_FIELD_GAUGE_(...) OBGW_STAT_FIELD_(::obgw::gateway::StatKind::kGauge, __VA_ARGS__)

#endif  // OBGW_GATEWAY_METRICS_STAT_DECLARATION_H_
