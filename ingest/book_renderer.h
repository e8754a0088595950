#ifndef OBGW_INGEST_BOOK_RENDERER_H_
#define OBGW_INGEST_BOOK_RENDERER_H_

#include <string>

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
// Doubles use the shortest form that round-trips exactly (std::to_chars);
// a non-finite double, which validation refuses, would render as null so the
// output is always valid JSON.
//
// Pure; any thread. The gateway runs it on the gRPC callback thread for every
// accepted update (up to ~500k/s), so it sizes the output once and writes
// into it with no further allocation.
std::string RenderBookData(const orderbook::v1::OrderBookUpdate& update);

}  // namespace obgw::ingest

#endif  // OBGW_INGEST_BOOK_RENDERER_H_
