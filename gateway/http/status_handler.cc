#include "gateway/http/status_handler.h"

#include "gateway/http/status_report.h"
#include "gateway/metrics/stat_registry.h"
#include "gateway/server/shard.h"

namespace obgw::gateway {

void HandleHealth(Shard& shard, HttpRequest&, std::shared_ptr<HttpResponder> responder) {
  responder->Respond(OkReply(RenderHealth(shard.state())));
}

void HandleStats(Shard& shard, HttpRequest&, std::shared_ptr<HttpResponder> responder) {
  responder->Respond(OkReply(RenderStats(shard.state())));
}

void HandleMetrics(Shard& shard, HttpRequest&, std::shared_ptr<HttpResponder> responder) {
  HttpReply reply = OkReply(RenderMetrics(shard.state()));
  reply.headers.emplace_back(boost::beast::http::field::content_type, kPrometheusContentType);
  responder->Respond(std::move(reply));
}

}  // namespace obgw::gateway
