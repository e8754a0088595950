// Shared inputs for the micro-benchmarks: realistic books from the same
// generator the load tool uses, so numbers match what the gateway sees.
#ifndef OBGW_TESTS_BENCH_MICRO_BENCH_DATA_H_
#define OBGW_TESTS_BENCH_MICRO_BENCH_DATA_H_

#include <cstddef>
#include <string>
#include <vector>

#include "orderbook/v1/orderbook.pb.h"

namespace obgw::bench {

// Deterministic (fixed seed) books: `count` updates cycling over
// `symbol_count` symbols, `levels` levels per side.
std::vector<orderbook::v1::OrderBookUpdate> MakeBooks(std::size_t count, std::size_t symbol_count,
                                                      std::size_t levels);

// The JSON "data" string of one realistic book (ingest::RenderBookData).
std::string MakeBookData(std::size_t levels);

// The symbols MakeBooks uses, in order.
std::vector<std::string> MakeSymbols(std::size_t symbol_count);

}  // namespace obgw::bench

#endif  // OBGW_TESTS_BENCH_MICRO_BENCH_DATA_H_
