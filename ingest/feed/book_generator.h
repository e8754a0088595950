#ifndef OBGW_INGEST_FEED_BOOK_GENERATOR_H_
#define OBGW_INGEST_FEED_BOOK_GENERATOR_H_

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "orderbook/v1/orderbook.pb.h"

namespace obgw::ingest {

// Produces realistic, moving order books for load generation and benchmarks:
// per symbol a mid price doing a random walk on a 0.01 tick grid, a spread of
// a few ticks, `levels` levels per side (best first, gaps of 1-3 ticks),
// volumes in round lots that grow deeper in the book, and 1-50 orders per
// level. The same seed gives the same sequence of books (timestamps aside).
//
// Owns the random engine and the per-symbol state; not thread-safe: one
// generator per producing thread.
class BookGenerator {
 public:
  // `symbol_count` symbols: real tickers first, then "SYM<n>".
  BookGenerator(std::size_t symbol_count, std::size_t levels, std::uint64_t seed);

  std::size_t symbol_count() const { return books_.size(); }
  const std::string& symbol(std::size_t symbol_index) const;

  // Moves symbol `symbol_index` (< symbol_count()) one step and returns its
  // new book, with source_seq counting per symbol from 1, source_time_ns and
  // send_time_ns set to now (system clock), and an ISO-8601 UTC timestamp
  // with milliseconds ("2024-05-01T13:45:07.123Z").
  orderbook::v1::OrderBookUpdate Next(std::size_t symbol_index);

  // The same step written into `*update` (its previous content replaced):
  // a publisher that reuses one message, or a batch's, keeps the levels'
  // allocations, so generating stays cheap next to a gateway that ingests
  // 500k books/s. Next(i) and NextInto(i, &u) give the same book.
  void NextInto(std::size_t symbol_index, orderbook::v1::OrderBookUpdate* update);

  // Tick size as a divisor: price = ticks / kTicksPerUnit, which (unlike
  // ticks * 0.01) gives the double closest to the decimal price.
  static constexpr double kTicksPerUnit = 100.0;

 private:
  struct SymbolBook {
    std::string symbol;
    std::int64_t mid_ticks = 0;
    std::uint64_t seq = 0;
  };

  std::size_t levels_;
  // Lowest mid allowed, so the deepest bid stays above zero.
  std::int64_t min_mid_ticks_;
  std::mt19937_64 rng_;
  std::vector<SymbolBook> books_;
};

}  // namespace obgw::ingest

#endif  // OBGW_INGEST_FEED_BOOK_GENERATOR_H_
