#ifndef OBGW_GATEWAY_METRICS_STAT_REGISTRY_H_
#define OBGW_GATEWAY_METRICS_STAT_REGISTRY_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "gateway/metrics/histogram.h"
#include "gateway/metrics/stat_declaration.h"

namespace obgw::gateway {

// The content type of RenderPrometheus's text (exposition format 0.0.4).
inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// The prefix of every Prometheus family name.
inline constexpr std::string_view kMetricPrefix = "obgw_";

// A declared stat bound to where its value lives: the counter of one
// instance, one counter per shard, or a function computing it.
struct RegisteredStat {
  StatInfo info;
  std::vector<const Counter*> shards;  // One per shard when by_shard, else one.
  bool by_shard = false;
  std::function<std::uint64_t()> compute;  // Instead of `shards`, when set.

  std::uint64_t Total() const;
};

// A declared histogram bound to its instances (one per shard, or one).
struct RegisteredHistogram {
  HistogramInfo info;
  std::span<const std::uint64_t> bounds;
  std::vector<std::function<void(std::span<std::uint64_t>, std::uint64_t&)>> shards;
  bool by_shard = false;
};

// `fields` of the single instance `stats`: a list another component declares
// (ingest), for GatewayConfig::extra_stats. `stats` must outlive every
// registry they are added to.
template <typename Stats, std::size_t N>
std::vector<RegisteredStat> BindStats(const std::array<StatField<Stats>, N>& fields,
                                      const Stats& stats) {
  std::vector<RegisteredStat> bound;
  for (const StatField<Stats>& field : fields) {
    bound.push_back(RegisteredStat{field.info, {&(stats.*field.counter)}, false, nullptr});
  }
  return bound;
}

// The histograms `fields` of the single instance `stats` (a cluster's), the
// counterpart of BindStats. `stats` must outlive every registry they are
// added to.
template <typename Stats, std::size_t N>
std::vector<RegisteredHistogram> BindHistograms(const std::array<HistogramField<Stats>, N>& fields,
                                                const Stats& stats) {
  std::vector<RegisteredHistogram> bound;
  for (const HistogramField<Stats>& field : fields) {
    RegisteredHistogram histogram{field.info, field.bounds, {}, false};
    histogram.shards.push_back(
        [&stats, read = field.read](std::span<std::uint64_t> counts, std::uint64_t& sum) {
          read(stats, counts, sum);
        });
    bound.push_back(std::move(histogram));
  }
  return bound;
}

// Every stat and histogram GET /stats and GET /metrics show, in declaration
// order, with where to read them. Built per request on the shard thread that
// answers it (cheap: a few dozen entries) and read from atomics only, so any
// thread may render while the writers count.
class StatRegistry {
 public:
  // Stats of one instance (no shard label).
  template <typename Stats, std::size_t N>
  void Add(const std::array<StatField<Stats>, N>& fields, const Stats& stats) {
    Add(BindStats(fields, stats));
  }
  // Stats of one instance per shard: /stats sums them, /metrics labels each
  // shard="N" (N = the index in `shards`).
  template <typename Stats, std::size_t N>
  void AddSharded(const std::array<StatField<Stats>, N>& fields,
                  std::span<const Stats* const> shards) {
    for (const StatField<Stats>& field : fields) {
      RegisteredStat stat{field.info, {}, true, nullptr};
      for (const Stats* shard : shards) stat.shards.push_back(&(shard->*field.counter));
      stats_.push_back(std::move(stat));
    }
  }
  void Add(std::vector<RegisteredStat> stats);
  // A value computed at render time (uptime, queue depth); `info.member` names it.
  void AddComputed(StatInfo info, std::function<std::uint64_t()> compute);

  // Histograms of `instances`: one per shard (by_shard: /metrics labels each
  // shard="N", sums are over all) or a single instance.
  template <typename Stats, std::size_t N>
  void AddHistograms(const std::array<HistogramField<Stats>, N>& fields,
                     std::span<const Stats* const> instances, bool by_shard) {
    for (const HistogramField<Stats>& field : fields) {
      RegisteredHistogram histogram{field.info, field.bounds, {}, by_shard};
      for (const Stats* stats : instances) {
        histogram.shards.push_back(
            [stats, read = field.read](std::span<std::uint64_t> counts, std::uint64_t& sum) {
              read(*stats, counts, sum);
            });
      }
      histograms_.push_back(std::move(histogram));
    }
  }

  // Histograms bound elsewhere (BindHistograms).
  void Add(std::vector<RegisteredHistogram> histograms) {
    for (RegisteredHistogram& histogram : histograms) histograms_.push_back(std::move(histogram));
  }

  const std::vector<RegisteredStat>& stats() const { return stats_; }
  const std::vector<RegisteredHistogram>& histograms() const { return histograms_; }

  // GET /stats: every stat under its json_name (sums over shards; "a.b"
  // nests b in object a), and every histogram with a json_sum_name.
  boost::json::object RenderJson() const;
  // GET /metrics: Prometheus text format 0.0.4, one # HELP / # TYPE block per
  // family in order of first declaration.
  std::string RenderPrometheus() const;

 private:
  std::vector<RegisteredStat> stats_;
  std::vector<RegisteredHistogram> histograms_;
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_METRICS_STAT_REGISTRY_H_
