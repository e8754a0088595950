#include "ingest/feed/book_generator.h"

#include <cmath>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "gateway/fanout/symbol.h"
#include "ingest/update_validator.h"

namespace obgw::ingest {
namespace {

TEST(BookGeneratorTest, BooksAreValidOrderedAndUncrossed) {
  for (std::size_t levels : {1u, 10u, 1000u}) {
    BookGenerator generator(30, levels, 12345);
    for (int step = 0; step < 200; ++step) {
      const std::size_t index = static_cast<std::size_t>(step) % generator.symbol_count();
      const orderbook::v1::OrderBookUpdate update = generator.Next(index);
      ASSERT_TRUE(ValidateUpdate(update, ValidationLimits{}).ok())
          << ValidateUpdate(update, ValidationLimits{});
      ASSERT_EQ(update.bids_size(), static_cast<int>(levels));
      ASSERT_EQ(update.asks_size(), static_cast<int>(levels));
      EXPECT_LT(update.bids(0).price(), update.asks(0).price());
      for (int i = 1; i < update.bids_size(); ++i) {
        ASSERT_LT(update.bids(i).price(), update.bids(i - 1).price()) << "bid level " << i;
        ASSERT_GT(update.asks(i).price(), update.asks(i - 1).price()) << "ask level " << i;
      }
      for (int i = 0; i < update.bids_size(); ++i) {
        EXPECT_GT(update.bids(i).volume(), 0);
        EXPECT_GE(update.bids(i).orders(), 1u);
        EXPECT_LE(update.bids(i).orders(), 50u);
      }
    }
  }
}

TEST(BookGeneratorTest, SymbolsAreDistinctValidTickersThenSyntheticNames) {
  BookGenerator generator(30, 5, 1);
  ASSERT_EQ(generator.symbol_count(), 30u);
  EXPECT_EQ(generator.symbol(0), "AAPL");
  EXPECT_EQ(generator.symbol(1), "MSFT");
  EXPECT_EQ(generator.symbol(29), "SYM29");
  std::set<std::string> seen;
  for (std::size_t i = 0; i < generator.symbol_count(); ++i) {
    EXPECT_TRUE(gateway::IsValidSymbol(generator.symbol(i))) << generator.symbol(i);
    seen.insert(generator.symbol(i));
  }
  EXPECT_EQ(seen.size(), 30u);
  EXPECT_EQ(generator.Next(3).symbol(), generator.symbol(3));
}

TEST(BookGeneratorTest, SequenceAndTimesPerSymbol) {
  BookGenerator generator(2, 3, 9);
  EXPECT_EQ(generator.Next(0).source_seq(), 1u);
  EXPECT_EQ(generator.Next(0).source_seq(), 2u);
  const orderbook::v1::OrderBookUpdate other = generator.Next(1);
  EXPECT_EQ(other.source_seq(), 1u);
  EXPECT_GT(other.source_time_ns(), 1'600'000'000'000'000'000);  // After 2020.
  EXPECT_GT(other.send_time_ns(), 0);
  // "2024-05-01T13:45:07.123Z"
  const std::string& ts = other.timestamp();
  ASSERT_EQ(ts.size(), 24u) << ts;
  EXPECT_EQ(ts[4], '-');
  EXPECT_EQ(ts[10], 'T');
  EXPECT_EQ(ts[19], '.');
  EXPECT_EQ(ts[23], 'Z');
}

TEST(BookGeneratorTest, PricesAreOnTheTickGridAndTheMidMoves) {
  BookGenerator generator(1, 10, 77);
  std::set<double> best_bids;
  for (int step = 0; step < 100; ++step) {
    const orderbook::v1::OrderBookUpdate update = generator.Next(0);
    for (const auto& level : update.bids()) {
      const double ticks = level.price() * BookGenerator::kTicksPerUnit;
      EXPECT_NEAR(ticks, std::round(ticks), 1e-6) << level.price();
    }
    best_bids.insert(update.bids(0).price());
  }
  // A random walk visits many prices; a stuck generator would not.
  EXPECT_GT(best_bids.size(), 10u);
}

TEST(BookGeneratorTest, SameSeedSameBooks) {
  BookGenerator a(5, 10, 42);
  BookGenerator b(5, 10, 42);
  BookGenerator c(5, 10, 43);
  bool differs_from_other_seed = false;
  for (int step = 0; step < 20; ++step) {
    auto ua = a.Next(step % 5);
    auto ub = b.Next(step % 5);
    auto uc = c.Next(step % 5);
    for (int i = 0; i < 10; ++i) {
      EXPECT_EQ(ua.bids(i).price(), ub.bids(i).price());
      EXPECT_EQ(ua.asks(i).volume(), ub.asks(i).volume());
      if (ua.asks(i).volume() != uc.asks(i).volume()) differs_from_other_seed = true;
    }
  }
  EXPECT_TRUE(differs_from_other_seed);
}

}  // namespace
}  // namespace obgw::ingest
