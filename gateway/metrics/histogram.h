#ifndef OBGW_GATEWAY_METRICS_HISTOGRAM_H_
#define OBGW_GATEWAY_METRICS_HISTOGRAM_H_

#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace obgw::gateway {

// How a histogram's values read in /metrics.
enum class HistogramUnit {
  kNanoseconds,  // observed in ns, rendered in seconds
  kCount,        // rendered as observed
};

// A histogram with fixed exponential buckets: bucket i counts values up to
// kFirstBound * 2^i (inclusive, as Prometheus' "le"), the last one (+Inf)
// everything above the largest bound.
//
// Single writer: only one thread (a shard's or the hub's) calls Observe, so
// it increments with a relaxed load and store, no read-modify-write and no
// lock; any thread may Read at any time (a scrape), summing the buckets of
// every writer. A Read racing an Observe may see the bucket before the sum.
template <std::uint64_t kFirstBound, std::size_t kBuckets>
class ExponentialHistogram {
 public:
  static_assert(kFirstBound > 0 && kBuckets > 0 && kBuckets < 64);

  // Upper bounds of the finite buckets.
  static constexpr std::array<std::uint64_t, kBuckets> kBounds = [] {
    std::array<std::uint64_t, kBuckets> bounds{};
    for (std::size_t i = 0; i < kBuckets; ++i) bounds[i] = kFirstBound << i;
    return bounds;
  }();

  // The bucket of `value`: 0 for value <= kFirstBound, i for value in
  // (kFirstBound * 2^(i-1), kFirstBound * 2^i], kBuckets (+Inf) above.
  static constexpr std::size_t BucketOf(std::uint64_t value) {
    if (value <= kFirstBound) return 0;
    std::size_t bucket = static_cast<std::size_t>(std::bit_width((value - 1) / kFirstBound));
    return bucket < kBuckets ? bucket : kBuckets;
  }

  void Observe(std::uint64_t value) {
    Increment(counts_[BucketOf(value)], 1);
    Increment(sum_, value);
  }

  // Adds this histogram's per-bucket counts (kBuckets + 1 of them, not
  // cumulative) to `counts` and its sum to `sum`.
  void Read(std::span<std::uint64_t> counts, std::uint64_t& sum) const {
    for (std::size_t i = 0; i < counts_.size() && i < counts.size(); ++i) {
      counts[i] += counts_[i].load(std::memory_order_relaxed);
    }
    sum += sum_.load(std::memory_order_relaxed);
  }

  std::uint64_t Count() const {
    std::uint64_t count = 0;
    for (const auto& bucket : counts_) count += bucket.load(std::memory_order_relaxed);
    return count;
  }
  std::uint64_t Sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  static void Increment(std::atomic<std::uint64_t>& value, std::uint64_t by) {
    value.store(value.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }

  std::array<std::atomic<std::uint64_t>, kBuckets + 1> counts_{};
  std::atomic<std::uint64_t> sum_{0};
};

// One declared histogram, as written in its list (see gateway_stats.h):
// the shape of StatInfo, for a histogram family.
struct HistogramInfo {
  std::string_view member;
  HistogramUnit unit;
  std::string_view json_sum_name;  // /stats key of the sum (in observed units), or ""
  std::string_view metric;         // without the "obgw_" prefix
  std::string_view help;
};

// A declared histogram and how to read it from its struct.
template <typename Stats>
struct HistogramField {
  HistogramInfo info;
  std::span<const std::uint64_t> bounds;
  void (*read)(const Stats& stats, std::span<std::uint64_t> counts, std::uint64_t& sum);
};

}  // namespace obgw::gateway

// A histogram list is an X-macro of
//   HISTOGRAM(member, Type, unit, "json_sum_name", "metric", "help")
// with Type an ExponentialHistogram. Inside the stats struct:
// LIST(OBGW_HISTOGRAM_MEMBER); the registry reads them through:
#define OBGW_HISTOGRAM_MEMBER(member, Type, unit, json_sum_name, metric, help) Type member;

// A list's declarations as a constexpr std::array<HistogramField<Stats>, N>.
#define OBGW_DESCRIBE_HISTOGRAMS(Stats, LIST)         \
  ([] {                                               \
    using DescribedStats = Stats;                     \
    return ::std::array{LIST(OBGW_HISTOGRAM_FIELD_)}; \
  }())

#define OBGW_HISTOGRAM_FIELD_(member, Type, unit, json_sum_name, metric, help)                     \
  ::obgw::gateway::HistogramField<DescribedStats>{                                                 \
      {#member, ::obgw::gateway::HistogramUnit::unit, json_sum_name, metric, help},                \
      Type::kBounds,                                                                               \
      [](const DescribedStats& stats, ::std::span<::std::uint64_t> counts, ::std::uint64_t& sum) { \
        stats.member.Read(counts, sum);                                                            \
      }},

#endif  // OBGW_GATEWAY_METRICS_HISTOGRAM_H_
