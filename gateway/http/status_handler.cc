#include "gateway/http/status_handler.h"

#include "gateway/http/status_report.h"
#include "gateway/server/shard.h"

namespace obgw::gateway {

void HandleHealth(Shard& shard, HttpRequest&, std::shared_ptr<HttpResponder> responder) {
  responder->Respond(OkReply(RenderHealth(shard.state())));
}

void HandleStats(Shard& shard, HttpRequest&, std::shared_ptr<HttpResponder> responder) {
  responder->Respond(OkReply(RenderStats(shard.state())));
}

}  // namespace obgw::gateway
