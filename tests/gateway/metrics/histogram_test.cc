#include "gateway/metrics/histogram.h"

#include <algorithm>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

#include "gateway/metrics/gateway_stats.h"
#include "gateway/metrics/stat_registry.h"
#include "tests/gateway/metrics/prometheus_text.h"

namespace obgw::gateway {
namespace {

using Small = ExponentialHistogram<10, 4>;  // Buckets: <=10, <=20, <=40, <=80, +Inf.

std::vector<std::uint64_t> Counts(const Small& histogram, std::uint64_t* sum = nullptr) {
  std::vector<std::uint64_t> counts(Small::kBounds.size() + 1, 0);
  std::uint64_t total = 0;
  histogram.Read(counts, total);
  if (sum != nullptr) *sum = total;
  return counts;
}

TEST(HistogramTest, BoundsDoubleFromTheFirst) {
  EXPECT_EQ(Small::kBounds, (std::array<std::uint64_t, 4>{10, 20, 40, 80}));
  EXPECT_EQ(DeliveryLatencyHistogram::kBounds.front(), 10'000u);                     // 10 us
  EXPECT_EQ(DeliveryLatencyHistogram::kBounds.back(), std::uint64_t{10'000} << 20);  // ~10.5 s
  EXPECT_EQ(FramesPerWriteHistogram::kBounds.back(), 512u);  // kMaxFramesPerWrite
}

TEST(HistogramTest, ABoundBelongsToItsBucketAndOneMoreToTheNext) {
  EXPECT_EQ(Small::BucketOf(0), 0u);
  EXPECT_EQ(Small::BucketOf(1), 0u);
  EXPECT_EQ(Small::BucketOf(10), 0u);
  EXPECT_EQ(Small::BucketOf(11), 1u);
  EXPECT_EQ(Small::BucketOf(20), 1u);
  EXPECT_EQ(Small::BucketOf(21), 2u);
  EXPECT_EQ(Small::BucketOf(40), 2u);
  EXPECT_EQ(Small::BucketOf(41), 3u);
  EXPECT_EQ(Small::BucketOf(80), 3u);
  EXPECT_EQ(Small::BucketOf(81), 4u);  // +Inf
  EXPECT_EQ(Small::BucketOf(UINT64_MAX), 4u);
  // Every value lands in the first bucket whose bound is not below it.
  for (std::uint64_t value = 0; value <= 200; ++value) {
    auto it = std::lower_bound(Small::kBounds.begin(), Small::kBounds.end(), value);
    EXPECT_EQ(Small::BucketOf(value), static_cast<std::size_t>(it - Small::kBounds.begin()))
        << value;
  }
}

TEST(HistogramTest, CountsAndSumsObservations) {
  Small histogram;
  for (std::uint64_t value : {5, 10, 15, 80, 1000}) histogram.Observe(value);
  std::uint64_t sum = 0;
  EXPECT_EQ(Counts(histogram, &sum), (std::vector<std::uint64_t>{2, 1, 0, 1, 1}));
  EXPECT_EQ(sum, 1110u);
  EXPECT_EQ(histogram.Sum(), 1110u);
  EXPECT_EQ(histogram.Count(), 5u);
}

TEST(HistogramTest, ReadAddsToWhatIsAlreadyThere) {
  // A scrape sums the shards by reading each into the same counts.
  Small a;
  Small b;
  a.Observe(1);
  b.Observe(1);
  b.Observe(50);
  std::vector<std::uint64_t> counts(5, 0);
  std::uint64_t sum = 0;
  a.Read(counts, sum);
  b.Read(counts, sum);
  EXPECT_EQ(counts, (std::vector<std::uint64_t>{2, 0, 0, 1, 0}));
  EXPECT_EQ(sum, 52u);
}

using WaitHistogram = ExponentialHistogram<1'000, 3>;  // ns: 1 us, 2 us, 4 us
using SizeHistogram = ExponentialHistogram<1, 2>;

#define TEST_HISTOGRAMS(HISTOGRAM)                                                           \
  HISTOGRAM(wait, WaitHistogram, kNanoseconds, "wait_ns_total", "test_wait_seconds", "Wait") \
  HISTOGRAM(size, SizeHistogram, kCount, "", "test_size", "Size")

struct TwoHistograms {
  TEST_HISTOGRAMS(OBGW_HISTOGRAM_MEMBER)
};

TEST(HistogramTest, RendersCumulativeBucketsSumAndCountPerShard) {
  TwoHistograms shard0;
  TwoHistograms shard1;
  shard0.wait.Observe(500);    // <= 1 us
  shard0.wait.Observe(3'000);  // <= 4 us
  shard1.wait.Observe(9'000);  // +Inf
  shard1.size.Observe(2);
  constexpr auto fields = OBGW_DESCRIBE_HISTOGRAMS(TwoHistograms, TEST_HISTOGRAMS);
  std::array<const TwoHistograms*, 2> shards{&shard0, &shard1};
  StatRegistry registry;
  registry.AddHistograms<TwoHistograms>(fields, shards, /*by_shard=*/true);

  std::string text = registry.RenderPrometheus();
  EXPECT_NE(text.find("# HELP obgw_test_wait_seconds Wait\n# TYPE obgw_test_wait_seconds "
                      "histogram\n"),
            std::string::npos)
      << text;
  auto samples = ParsePrometheusSamples(text);
  ASSERT_TRUE(samples) << text;
  auto value = [&](std::string_view name, std::map<std::string, std::string> labels) {
    for (const PrometheusSample& sample : *samples) {
      if (sample.name == name && sample.labels == labels) return sample.value;
    }
    ADD_FAILURE() << name << " missing in\n" << text;
    return -1.0;
  };
  // Bounds in seconds; buckets cumulative; +Inf = count.
  EXPECT_EQ(value("obgw_test_wait_seconds_bucket", {{"shard", "0"}, {"le", "0.000001"}}), 1);
  EXPECT_EQ(value("obgw_test_wait_seconds_bucket", {{"shard", "0"}, {"le", "0.000002"}}), 1);
  EXPECT_EQ(value("obgw_test_wait_seconds_bucket", {{"shard", "0"}, {"le", "0.000004"}}), 2);
  EXPECT_EQ(value("obgw_test_wait_seconds_bucket", {{"shard", "0"}, {"le", "+Inf"}}), 2);
  EXPECT_EQ(value("obgw_test_wait_seconds_count", {{"shard", "0"}}), 2);
  EXPECT_DOUBLE_EQ(value("obgw_test_wait_seconds_sum", {{"shard", "0"}}), 3.5e-6);
  EXPECT_EQ(value("obgw_test_wait_seconds_bucket", {{"shard", "1"}, {"le", "0.000004"}}), 0);
  EXPECT_EQ(value("obgw_test_wait_seconds_bucket", {{"shard", "1"}, {"le", "+Inf"}}), 1);
  EXPECT_EQ(value("obgw_test_size_bucket", {{"shard", "1"}, {"le", "1"}}), 0);
  EXPECT_EQ(value("obgw_test_size_bucket", {{"shard", "1"}, {"le", "2"}}), 1);
  EXPECT_EQ(value("obgw_test_size_sum", {{"shard", "1"}}), 2);

  // /stats: the sum over the shards, in observed units, under json_sum_name.
  boost::json::object json = registry.RenderJson();
  ASSERT_TRUE(json.contains("wait_ns_total")) << boost::json::serialize(json);
  EXPECT_EQ(json.at("wait_ns_total").to_number<std::uint64_t>(), 12'500u);
  EXPECT_EQ(json.size(), 1u) << boost::json::serialize(json);
}

}  // namespace
}  // namespace obgw::gateway
