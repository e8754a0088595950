#ifndef OBGW_GATEWAY_HTTP_STATUS_REPORT_H_
#define OBGW_GATEWAY_HTTP_STATUS_REPORT_H_

#include <string>

#include "gateway/server/shared_state.h"

namespace obgw::gateway {

// Bodies of GET /health and GET /stats, summed over every shard's counters.
// Reads atomics only: safe on any thread.
std::string RenderHealth(const SharedState& state);
std::string RenderStats(const SharedState& state);

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_HTTP_STATUS_REPORT_H_
