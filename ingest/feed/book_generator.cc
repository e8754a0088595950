#include "ingest/feed/book_generator.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <string_view>

#include "absl/strings/str_cat.h"

namespace obgw::ingest {
namespace {

struct Ticker {
  std::string_view symbol;
  double price;  // A plausible starting price.
};

constexpr std::array<Ticker, 24> kTickers = {{
    {"AAPL", 189.50}, {"MSFT", 415.20},  {"NVDA", 875.30},  {"AMZN", 178.10}, {"GOOGL", 152.40},
    {"META", 492.60}, {"TSLA", 171.05},  {"BRK.B", 408.90}, {"JPM", 198.70},  {"V", 279.30},
    {"UNH", 492.10},  {"XOM", 118.40},   {"JNJ", 152.80},   {"WMT", 60.25},   {"MA", 468.90},
    {"PG", 161.35},   {"AVGO", 1310.00}, {"HD", 345.60},    {"ORCL", 122.75}, {"COST", 730.40},
    {"KO", 59.80},    {"PEP", 171.90},   {"AMD", 162.45},   {"NFLX", 612.30},
}};

constexpr int kMaxLevelGapTicks = 3;
constexpr int kMaxSpreadTicks = 5;
constexpr std::uint32_t kMaxOrders = 50;
constexpr double kLot = 100.0;
// Per-step standard deviation of the mid, relative to the price (~2 bp).
constexpr double kRelativeStepSigma = 0.0002;

std::int64_t SystemNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "2024-05-01T13:45:07.123Z"
std::string IsoTimestamp(std::int64_t unix_ns) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ns / 1'000'000'000);
  const int millis = static_cast<int>((unix_ns / 1'000'000) % 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  const int length = std::snprintf(buffer, sizeof(buffer), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                                   utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour,
                                   utc.tm_min, utc.tm_sec, millis);
  return std::string(buffer, static_cast<std::size_t>(length));
}

}  // namespace

BookGenerator::BookGenerator(std::size_t symbol_count, std::size_t levels, std::uint64_t seed)
    : levels_(levels),
      // Twice the deepest bid's distance from the mid keeps every bid > 0.
      min_mid_ticks_(std::max<std::int64_t>(
          100, 2 * static_cast<std::int64_t>(levels * kMaxLevelGapTicks + kMaxSpreadTicks))),
      rng_(seed) {
  books_.reserve(symbol_count);
  std::uniform_real_distribution<double> unknown_price(20.0, 500.0);
  for (std::size_t i = 0; i < symbol_count; ++i) {
    SymbolBook book;
    double price;
    if (i < kTickers.size()) {
      book.symbol = std::string(kTickers[i].symbol);
      price = kTickers[i].price;
    } else {
      book.symbol = absl::StrCat("SYM", i);
      price = unknown_price(rng_);
    }
    book.mid_ticks =
        std::max(min_mid_ticks_, static_cast<std::int64_t>(std::llround(price * kTicksPerUnit)));
    books_.push_back(std::move(book));
  }
}

const std::string& BookGenerator::symbol(std::size_t symbol_index) const {
  return books_.at(symbol_index).symbol;
}

orderbook::v1::OrderBookUpdate BookGenerator::Next(std::size_t symbol_index) {
  orderbook::v1::OrderBookUpdate update;
  NextInto(symbol_index, &update);
  return update;
}

void BookGenerator::NextInto(std::size_t symbol_index, orderbook::v1::OrderBookUpdate* update) {
  SymbolBook& book = books_.at(symbol_index);

  // Random walk of the mid, in whole ticks.
  std::normal_distribution<double> step(
      0.0, std::max(1.0, static_cast<double>(book.mid_ticks) * kRelativeStepSigma));
  book.mid_ticks = std::max(min_mid_ticks_,
                            book.mid_ticks + static_cast<std::int64_t>(std::llround(step(rng_))));

  std::uniform_int_distribution<int> spread_ticks(1, kMaxSpreadTicks);
  std::uniform_int_distribution<int> gap_ticks(1, kMaxLevelGapTicks);
  std::uniform_int_distribution<int> lots(1, 10);
  std::uniform_int_distribution<std::uint32_t> orders(1, kMaxOrders);

  const int spread = spread_ticks(rng_);
  std::int64_t bid_ticks = book.mid_ticks - spread / 2;
  std::int64_t ask_ticks = bid_ticks + spread;

  // Clear keeps the cleared levels for reuse: the Add* below reuse them.
  update->Clear();
  update->set_symbol(book.symbol);
  update->mutable_bids()->Reserve(static_cast<int>(levels_));
  update->mutable_asks()->Reserve(static_cast<int>(levels_));
  for (std::size_t i = 0; i < levels_; ++i) {
    // More size rests deeper in the book: the lot count's upper end grows
    // with depth.
    const double depth_factor = 1.0 + 0.5 * static_cast<double>(i);
    if (i > 0) {
      bid_ticks -= gap_ticks(rng_);
      ask_ticks += gap_ticks(rng_);
    }
    orderbook::v1::PriceLevel* bid = update->add_bids();
    bid->set_price(static_cast<double>(bid_ticks) / kTicksPerUnit);
    bid->set_volume(kLot * std::round(lots(rng_) * depth_factor));
    bid->set_orders(orders(rng_));
    orderbook::v1::PriceLevel* ask = update->add_asks();
    ask->set_price(static_cast<double>(ask_ticks) / kTicksPerUnit);
    ask->set_volume(kLot * std::round(lots(rng_) * depth_factor));
    ask->set_orders(orders(rng_));
  }

  const std::int64_t now_ns = SystemNowNs();
  update->set_source_time_ns(now_ns);
  update->set_send_time_ns(now_ns);
  update->set_source_seq(++book.seq);
  update->set_timestamp(IsoTimestamp(now_ns));
}

}  // namespace obgw::ingest
