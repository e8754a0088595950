#ifndef OBGW_INGEST_BOOK_RENDERER_H_
#define OBGW_INGEST_BOOK_RENDERER_H_

#include <cstddef>
#include <string>
#include <vector>

#include "orderbook/v1/orderbook.pb.h"

namespace obgw::ingest {

// Renders a validated OrderBookUpdate as the JSON object clients receive as
// "data", in the compact array form market-data APIs use:
//
//   {"bids":[[price,volume,orders],...],"asks":[[price,volume,orders],...],
//    "timestamp":"...","source_time_ns":N,"send_time_ns":N,"source_seq":N}
//
// Levels keep the order they arrived in (best first by contract). The four
// trailing fields appear only when set (non-empty / non-zero), in that order.
// Doubles are written exactly as std::to_chars writes them (the shortest form
// that round-trips, see WriteShortestDouble); a non-finite double, which
// validation refuses, would render as null so the output is always valid
// JSON.
//
// Owns a scratch buffer sized for the largest book seen so far, reused from
// one book to the next: a book costs one allocation, its exact-size result.
// Not thread-safe: one renderer per thread (RenderBookData keeps one per
// thread; the gateway's gRPC callback threads render every accepted update
// with it, up to ~600k/s).
class BookRenderer {
 public:
  std::string Render(const orderbook::v1::OrderBookUpdate& update);

 private:
  std::vector<char> scratch_;
};

// Renders with the calling thread's own BookRenderer (the ingest reactors,
// tests, tools); any thread.
std::string RenderBookData(const orderbook::v1::OrderBookUpdate& update);

// Longest text WriteShortestDouble writes ("-2.2250738585072014e-308").
inline constexpr std::size_t kMaxDoubleChars = 24;

// Writes finite `value` at `out` (room for kMaxDoubleChars) exactly as
// std::to_chars(out, end, value) does: the fewest characters that read back
// as `value`, fixed or scientific notation, fixed on a tie. Returns the end.
// Market data (prices on a tick grid, sizes in lots) takes a fast decimal
// path: the first k in 0..8 for which round(|value| * 10^k) / 10^k == |value|
// gives the digits (below 10^15, where such a decimal is the only one with k
// decimals that reads back as `value`); anything else, and the rare values
// where scientific notation is shorter (1e-05, 1e+06), goes to std::to_chars.
char* WriteShortestDouble(char* out, double value);

}  // namespace obgw::ingest

#endif  // OBGW_INGEST_BOOK_RENDERER_H_
