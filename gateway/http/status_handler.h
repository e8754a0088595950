#ifndef OBGW_GATEWAY_HTTP_STATUS_HANDLER_H_
#define OBGW_GATEWAY_HTTP_STATUS_HANDLER_H_

#include <memory>

#include "gateway/http/http_reply.h"

namespace obgw::gateway {

// GET /health, GET /stats and GET /metrics (bodies: status_report.h). Run on
// the shard's thread and answer at once.
void HandleHealth(Shard& shard, HttpRequest& request, std::shared_ptr<HttpResponder> responder);
void HandleStats(Shard& shard, HttpRequest& request, std::shared_ptr<HttpResponder> responder);
void HandleMetrics(Shard& shard, HttpRequest& request, std::shared_ptr<HttpResponder> responder);

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_HTTP_STATUS_HANDLER_H_
