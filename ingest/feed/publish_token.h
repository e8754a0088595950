#ifndef OBGW_INGEST_FEED_PUBLISH_TOKEN_H_
#define OBGW_INGEST_FEED_PUBLISH_TOKEN_H_

#include <cstdlib>
#include <string>

#include <grpcpp/grpcpp.h>

namespace obgw::ingest {

// The environment variable a publishing tool (orderbook-feed,
// orderbook-loadgen) reads its publish token from when --publish_token is
// empty. Read for this one flag, not through the tools' command line
// (which has no environment fallback: their flags have generic names such
// as HOST and RATE): a secret in the environment stays out of `ps`, which
// shows every user the command lines.
inline constexpr const char* kPublishTokenVariable = "PUBLISH_TOKEN";

// `flag` if set, else $PUBLISH_TOKEN, else "" (send no token).
inline std::string PublishTokenOr(std::string flag) {
  if (!flag.empty()) return flag;
  const char* value = std::getenv(kPublishTokenVariable);
  return value != nullptr ? std::string(value) : std::string();
}

// The Authorization value the gateway wants for `token` (REST header and
// gRPC metadata alike).
inline std::string BearerAuthorization(const std::string& token) { return "Bearer " + token; }

// Adds the token to a call's metadata (`authorization`), if there is one.
inline void AttachPublishToken(grpc::ClientContext& context, const std::string& token) {
  if (!token.empty()) context.AddMetadata("authorization", BearerAuthorization(token));
}

}  // namespace obgw::ingest

#endif  // OBGW_INGEST_FEED_PUBLISH_TOKEN_H_
