// Shared inputs for the micro-benchmarks (see bench_data.h).
#include "tests/bench/micro/bench_data.h"

#include "ingest/book_renderer.h"
#include "ingest/feed/book_generator.h"

namespace obgw::bench {
namespace {

constexpr std::uint64_t kSeed = 42;

}  // namespace

std::vector<orderbook::v1::OrderBookUpdate> MakeBooks(std::size_t count, std::size_t symbol_count,
                                                      std::size_t levels) {
  ingest::BookGenerator generator(symbol_count, levels, kSeed);
  std::vector<orderbook::v1::OrderBookUpdate> books;
  books.reserve(count);
  for (std::size_t i = 0; i < count; ++i) books.push_back(generator.Next(i % symbol_count));
  return books;
}

std::string MakeBookData(std::size_t levels) {
  ingest::BookGenerator generator(1, levels, kSeed);
  return ingest::RenderBookData(generator.Next(0));
}

std::vector<std::string> MakeSymbols(std::size_t symbol_count) {
  ingest::BookGenerator generator(symbol_count, 1, kSeed);
  std::vector<std::string> symbols;
  for (std::size_t i = 0; i < symbol_count; ++i) symbols.push_back(generator.symbol(i));
  return symbols;
}

}  // namespace obgw::bench
