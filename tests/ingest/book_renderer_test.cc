#include "ingest/book_renderer.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace obgw::ingest {
namespace {

using orderbook::v1::OrderBookUpdate;
using orderbook::v1::PriceLevel;

void AddLevel(google::protobuf::RepeatedPtrField<PriceLevel>* side, double price, double volume,
              std::uint32_t orders) {
  PriceLevel* level = side->Add();
  level->set_price(price);
  level->set_volume(volume);
  level->set_orders(orders);
}

boost::json::object Parse(const std::string& text) {
  boost::system::error_code error;
  boost::json::value value = boost::json::parse(text, error);
  EXPECT_FALSE(error) << error.message() << " in " << text;
  EXPECT_TRUE(value.is_object()) << text;
  return value.is_object() ? value.as_object() : boost::json::object{};
}

TEST(BookRendererTest, ExactTextOfASmallBook) {
  OrderBookUpdate update;
  update.set_symbol("AAPL");
  AddLevel(update.mutable_bids(), 101.25, 300, 4);
  AddLevel(update.mutable_bids(), 101, 1500.5, 0);
  AddLevel(update.mutable_asks(), 101.26, 0.00001, 1);
  EXPECT_EQ(RenderBookData(update),
            R"({"bids":[[101.25,300,4],[101,1500.5,0]],"asks":[[101.26,1e-05,1]]})");
}

TEST(BookRendererTest, EmptySidesAndNoOptionalFields) {
  OrderBookUpdate update;
  update.set_symbol("AAPL");
  const std::string data = RenderBookData(update);
  EXPECT_EQ(data, R"({"bids":[],"asks":[]})");
  boost::json::object object = Parse(data);
  EXPECT_EQ(object.size(), 2u);
}

TEST(BookRendererTest, OptionalFieldsInOrderWhenSet) {
  OrderBookUpdate update;
  AddLevel(update.mutable_bids(), 10, 1, 1);
  update.set_timestamp("2024-05-01T13:45:07.123Z");
  update.set_source_time_ns(1714571107123000000);
  update.set_send_time_ns(-5);
  update.set_source_seq(std::numeric_limits<std::uint64_t>::max());
  const std::string data = RenderBookData(update);
  EXPECT_EQ(data, R"({"bids":[[10,1,1]],"asks":[],"timestamp":"2024-05-01T13:45:07.123Z",)"
                  R"("source_time_ns":1714571107123000000,"send_time_ns":-5,)"
                  R"("source_seq":18446744073709551615})");
  boost::json::object object = Parse(data);
  EXPECT_EQ(object.at("source_seq").as_uint64(), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(object.at("send_time_ns").as_int64(), -5);
}

TEST(BookRendererTest, EachOptionalFieldIndependently) {
  OrderBookUpdate update;
  update.set_source_seq(7);
  boost::json::object object = Parse(RenderBookData(update));
  EXPECT_EQ(object.size(), 3u);
  EXPECT_EQ(object.at("source_seq").to_number<std::uint64_t>(), 7u);
  EXPECT_FALSE(object.contains("timestamp"));
  EXPECT_FALSE(object.contains("source_time_ns"));
  EXPECT_FALSE(object.contains("send_time_ns"));

  update.Clear();
  update.set_send_time_ns(123);
  object = Parse(RenderBookData(update));
  EXPECT_EQ(object.size(), 3u);
  EXPECT_EQ(object.at("send_time_ns").to_number<std::int64_t>(), 123);
}

TEST(BookRendererTest, EscapesANastyTimestamp) {
  OrderBookUpdate update;
  using namespace std::string_literals;
  const std::string nasty = "q\"b\\s/\n\r\t\b\f\x01\x1f\x7f 時\0end"s;
  update.set_timestamp(nasty);
  const std::string data = RenderBookData(update);
  EXPECT_NE(data.find(R"("timestamp":"q\"b\\s/\n\r\t\u0008\u000c\u0001\u001f)"), std::string::npos)
      << data;
  EXPECT_NE(data.find(R"(\u0000end")"), std::string::npos) << data;
  // Whatever the escaping, a JSON parser must get the original bytes back.
  boost::json::object object = Parse(data);
  EXPECT_EQ(std::string(object.at("timestamp").as_string()), nasty);
}

// Checks every rendered level against the update, reading numbers with
// `to_double`.
template <typename ToDouble>
void ExpectLevelsMatch(const boost::json::array& rendered,
                       const google::protobuf::RepeatedPtrField<PriceLevel>& levels,
                       ToDouble to_double) {
  ASSERT_EQ(rendered.size(), static_cast<std::size_t>(levels.size()));
  for (std::size_t i = 0; i < rendered.size(); ++i) {
    const boost::json::array& level = rendered[i].as_array();
    ASSERT_EQ(level.size(), 3u);
    const PriceLevel& expected = levels[static_cast<int>(i)];
    EXPECT_EQ(to_double(level[0]), expected.price()) << "level " << i;
    EXPECT_EQ(to_double(level[1]), expected.volume()) << "level " << i;
    EXPECT_EQ(level[2].to_number<std::uint32_t>(), expected.orders()) << "level " << i;
  }
}

// What market data looks like: prices on a 0.01 grid, sizes in shares or
// with a few decimals. These must come back bit-exact through boost::json.
TEST(BookRendererTest, MarketValuesRoundTripThroughBoostJson) {
  OrderBookUpdate update;
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<std::int64_t> ticks(1, 100'000'000);
  std::uniform_int_distribution<std::int64_t> size(0, 10'000'000);
  for (int i = 0; i < 1000; ++i) {
    AddLevel(update.mutable_bids(), static_cast<double>(ticks(rng)) / 100.0,
             static_cast<double>(size(rng)), static_cast<std::uint32_t>(i));
    AddLevel(update.mutable_asks(), static_cast<double>(ticks(rng)) / 100.0,
             static_cast<double>(size(rng)) / 1000.0, static_cast<std::uint32_t>(i));
  }
  boost::json::object object = Parse(RenderBookData(update));
  auto boost_double = [](const boost::json::value& v) { return v.to_number<double>(); };
  ExpectLevelsMatch(object.at("bids").as_array(), update.bids(), boost_double);
  ExpectLevelsMatch(object.at("asks").as_array(), update.asks(), boost_double);
}

// Any double, including 17-digit ones and the extremes, round-trips through
// an exact parser (std::from_chars, like a browser's JSON.parse). Boost.JSON
// 1.81's parser is not exact in the last bit for 17-digit numbers (its
// "precise" mode arrived in 1.83), so it only checks the structure here.
TEST(BookRendererTest, AnyDoubleRoundTripsExactly) {
  OrderBookUpdate update;
  const double values[] = {0.1,
                           101.25,
                           1e-5,
                           1.0 / 3.0,
                           2.0 / 3.0,
                           0.30000000000000004,
                           9007199254740993.0,
                           std::numeric_limits<double>::min(),
                           std::numeric_limits<double>::max(),
                           std::numeric_limits<double>::denorm_min(),
                           -0.0};
  for (double value : values) AddLevel(update.mutable_bids(), value, value, 1);
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> anything(0.0, 1e9);
  for (int i = 0; i < 1000; ++i) AddLevel(update.mutable_asks(), anything(rng), anything(rng), 2);
  const std::string data = RenderBookData(update);

  // boost::json keeps each number's source text out of reach, so re-read
  // the numbers from the text in order: the output has no strings, so every
  // maximal run of number characters is one number.
  std::vector<double> numbers;
  for (std::size_t pos = 0; pos < data.size();) {
    const std::size_t start = data.find_first_of("-0123456789", pos);
    if (start == std::string::npos) break;
    std::size_t end = data.find_first_not_of("-+.0123456789eE", start);
    if (end == std::string::npos) end = data.size();
    double value = 0;
    const auto [ptr, ec] = std::from_chars(data.data() + start, data.data() + end, value);
    ASSERT_EQ(ec, std::errc()) << data.substr(start, end - start);
    ASSERT_EQ(ptr, data.data() + end) << data.substr(start, end - start);
    numbers.push_back(value);
    pos = end;
  }
  ASSERT_EQ(numbers.size(), 3u * (update.bids_size() + update.asks_size()));
  std::size_t n = 0;
  for (const auto* side : {&update.bids(), &update.asks()}) {
    for (const PriceLevel& level : *side) {
      EXPECT_EQ(numbers[n], level.price()) << "number " << n;
      EXPECT_EQ(std::signbit(numbers[n]), std::signbit(level.price())) << "number " << n;
      EXPECT_EQ(numbers[n + 1], level.volume()) << "number " << n + 1;
      EXPECT_EQ(numbers[n + 2], level.orders()) << "number " << n + 2;
      n += 3;
    }
  }
  // And it is JSON with the expected shape.
  boost::json::object object = Parse(data);
  EXPECT_EQ(object.at("bids").as_array().size(), std::size(values));
  EXPECT_EQ(object.at("asks").as_array().size(), 1000u);
}

TEST(BookRendererTest, NonFiniteRendersAsNullSoOutputStaysJson) {
  OrderBookUpdate update;
  AddLevel(update.mutable_bids(), std::numeric_limits<double>::quiet_NaN(),
           std::numeric_limits<double>::infinity(), 1);
  const std::string data = RenderBookData(update);
  EXPECT_EQ(data, R"({"bids":[[null,null,1]],"asks":[]})");
  Parse(data);
}

TEST(BookRendererTest, LargestBookFitsAndParses) {
  OrderBookUpdate update;
  for (int i = 0; i < 1000; ++i) {
    AddLevel(update.mutable_bids(), -2.2250738585072014e-308, -1.7976931348623157e308,
             std::numeric_limits<std::uint32_t>::max());
    AddLevel(update.mutable_asks(), -2.2250738585072014e-308, -1.7976931348623157e308,
             std::numeric_limits<std::uint32_t>::max());
  }
  update.set_timestamp(std::string(64, '\x01'));
  update.set_source_time_ns(std::numeric_limits<std::int64_t>::min());
  update.set_send_time_ns(std::numeric_limits<std::int64_t>::min());
  update.set_source_seq(std::numeric_limits<std::uint64_t>::max());
  boost::json::object object = Parse(RenderBookData(update));
  EXPECT_EQ(object.at("bids").as_array().size(), 1000u);
  EXPECT_EQ(object.at("source_time_ns").as_int64(), std::numeric_limits<std::int64_t>::min());
}

// The fast decimal path must write what std::to_chars writes, character for
// character: market-like values (the fast path), values near its limits, and
// arbitrary doubles (the fallback).
TEST(BookRendererTest, WriteShortestDoubleMatchesToChars) {
  std::vector<double> values = {0.0,
                                -0.0,
                                1.0,
                                0.5,
                                0.001,
                                0.0001,
                                1e-05,
                                10000,
                                100000,
                                1e6,
                                1500.5,
                                101.25,
                                0.1,
                                0.3,
                                1.0 / 3.0,
                                123456789012345.6,
                                999999999999999.0,
                                1e15,
                                1e15 - 1,
                                9007199254740993.0,
                                1e-8,
                                1.5e-8,
                                12345678.12345678,
                                5e-324,
                                1.7976931348623157e308,
                                2.2250738585072014e-308};
  for (int exponent = -12; exponent <= 22; ++exponent) values.push_back(std::pow(10.0, exponent));
  std::mt19937_64 rng(5);
  // Prices on tick grids, sizes in lots and with decimals.
  for (double divisor : {1.0, 10.0, 100.0, 1000.0, 10000.0, 1e6, 1e8, 1e9}) {
    std::uniform_int_distribution<std::int64_t> units(0, 10'000'000'000);
    for (int i = 0; i < 20000; ++i) values.push_back(static_cast<double>(units(rng)) / divisor);
    for (std::int64_t n = 0; n < 2000; ++n) values.push_back(static_cast<double>(n) / divisor);
  }
  // Integers with trailing zeros, where scientific notation can be shorter.
  for (std::int64_t n = 1; n < 1'000'000'000'000'000; n *= 10) {
    for (std::int64_t k : {1, 2, 12, 15, 100, 105, 999})
      values.push_back(static_cast<double>(n * k));
  }
  // Arbitrary bit patterns (finite ones).
  std::uniform_int_distribution<std::uint64_t> bits;
  for (int i = 0; i < 20000; ++i) {
    const std::uint64_t pattern = bits(rng);
    double value;
    std::memcpy(&value, &pattern, sizeof(value));
    if (std::isfinite(value)) values.push_back(value);
  }
  std::uniform_real_distribution<double> anything(0.0, 1e6);
  for (int i = 0; i < 20000; ++i) values.push_back(anything(rng));
  const std::size_t count = values.size();
  for (std::size_t i = 0; i < count; ++i) values.push_back(-values[i]);

  int mismatches = 0;
  for (double value : values) {
    char expected[64];
    char actual[64];
    const char* expected_end = std::to_chars(expected, expected + sizeof(expected), value).ptr;
    const char* actual_end = WriteShortestDouble(actual, value);
    const std::string_view want(expected, static_cast<std::size_t>(expected_end - expected));
    const std::string_view got(actual, static_cast<std::size_t>(actual_end - actual));
    ASSERT_LE(got.size(), kMaxDoubleChars);
    if (want != got && ++mismatches <= 10) {
      ADD_FAILURE() << "value " << std::hexfloat << value << ": std::to_chars " << want
                    << ", WriteShortestDouble " << got;
    }
  }
  EXPECT_EQ(mismatches, 0);
}

// One renderer reused across books of different sizes (as a stream's is)
// writes each exactly as a fresh one would: nothing of a longer book before
// leaks into a shorter one.
TEST(BookRendererTest, ReusedRendererMatchesAFreshOne) {
  OrderBookUpdate big;
  for (int i = 0; i < 200; ++i) AddLevel(big.mutable_bids(), 100 + i * 0.01, i * 100.5, i);
  big.set_timestamp("2024-05-01T13:45:07.123Z");
  OrderBookUpdate small;
  AddLevel(small.mutable_asks(), 101.26, 7, 1);
  small.set_source_seq(3);
  BookRenderer renderer;
  const std::string big_text = renderer.Render(big);
  EXPECT_EQ(big_text, BookRenderer().Render(big));
  EXPECT_EQ(renderer.Render(small), R"({"bids":[],"asks":[[101.26,7,1]],"source_seq":3})");
  EXPECT_EQ(renderer.Render(big), big_text);
  Parse(big_text);
}

}  // namespace
}  // namespace obgw::ingest
