#include "ingest/ingest_service.h"

#include <iterator>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/impl/server_builder_option.h>
#include <grpcpp/impl/server_builder_plugin.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gateway/logging/event_log.h"
#include "ingest/publish_reactor.h"
#include "spdlog/spdlog.h"

namespace obgw::ingest {
namespace {

using gateway::MutexLock;

// gRPC wants IPv6 literals in brackets ("[::]:50051").
std::string HostPort(const std::string& bind, int port) {
  if (absl::StrContains(bind, ':') && !absl::StartsWith(bind, "[")) {
    return absl::StrCat("[", bind, "]:", port);
  }
  return absl::StrCat(bind, ":", port);
}

// A call refused before it starts: finished with `status` at once, before
// any read, so none of its books is ever looked at. gRPC holds the Finish
// until the method handler has returned the reactor. Deletes itself in
// OnDone, which may run on another gRPC thread: under TSan the hand-over is
// stated as StreamReactor::HandOff does (Debian's gRPC is not instrumented).
template <typename Request>
class RefusedStream final : public grpc::ServerReadReactor<Request> {
 public:
  explicit RefusedStream(grpc::Status status) {
    this->Finish(std::move(status));
    // After Finish, which writes the status OnDone's thread destroys; gRPC
    // runs OnDone only once this constructor has returned the reactor.
#if OBGW_TSAN
    __tsan_release(this);
#endif
  }
  void OnDone() override {
#if OBGW_TSAN
    __tsan_acquire(this);
#endif
    delete this;
  }
};

// Server reflection on one ServerBuilder, or none. Linking gRPC's
// reflection library registers its plugin for every server of the process
// (a static initializer calls InitProtoReflectionServerBuilderPlugin), so
// "off" must take the plugin out again; "on" adds it when it is missing.
class ReflectionOption final : public grpc::ServerBuilderOption {
 public:
  explicit ReflectionOption(bool enabled) : enabled_(enabled) {}
  void UpdateArguments(grpc::ChannelArguments* arguments) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    const std::string name = grpc::reflection::ProtoServerReflectionPlugin().name();
    std::erase_if(*plugins, [&name](const auto& plugin) { return plugin->name() == name; });
    if (enabled_)
      plugins->push_back(std::make_unique<grpc::reflection::ProtoServerReflectionPlugin>());
  }

 private:
  const bool enabled_;
};

}  // namespace

std::vector<std::pair<std::string, int>> ReceiveWindowArguments(int bytes) {
  if (bytes <= 0) return {};
  return {
      // BDP probing would grow the windows past `bytes` as soon as the
      // backend fills them.
      {GRPC_ARG_HTTP2_BDP_PROBE, 0},
      {GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, bytes},
  };
}

IngestService::IngestService(gateway::UpdateQueue& queue, IngestStats& stats,
                             ValidationLimits limits,
                             std::shared_ptr<const gateway::PublishTokens> publish_tokens)
    : queue_(queue), stats_(stats), limits_(limits), publish_tokens_(std::move(publish_tokens)) {}

grpc::Status IngestService::Authenticate(const grpc::CallbackServerContext& context) {
  if (publish_tokens_ == nullptr) return grpc::Status::OK;
  // gRPC lower-cases metadata keys; one value only, as for HTTP.
  const auto& metadata = context.client_metadata();
  auto [first, last] = metadata.equal_range("authorization");
  const bool presented = first != last;
  if (presented && std::next(first) == last) {
    std::string_view value(first->second.data(), first->second.size());
    std::optional<std::string_view> token = gateway::BearerToken(value);
    if (token && publish_tokens_->Matches(*token)) return grpc::Status::OK;
  }
  stats_.unauthenticated.fetch_add(1, std::memory_order_relaxed);
  // Rate limited (issue 13): a client retrying with a wrong token cannot
  // flood the log; the counter shows every one. Never the metadata itself.
  gateway::LogEvent(gateway::LogKind::grpc_rejected, spdlog::level::warn, "grpc_refused",
                    [&](gateway::LogFields& line) {
                      line.Add("peer", context.peer())
                          .Add("status", "UNAUTHENTICATED")
                          .Add("code", presented ? "wrong_publish_token" : "no_publish_token");
                    });
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                      presented ? "the publish token is not valid (metadata authorization: "
                                  "Bearer <token>)"
                                : "publishing needs a publish token (metadata authorization: "
                                  "Bearer <token>)");
}

grpc::ServerReadReactor<orderbook::v1::OrderBookUpdate>* IngestService::Publish(
    grpc::CallbackServerContext* context, orderbook::v1::PublishSummary* summary) {
  if (grpc::Status status = Authenticate(*context); !status.ok()) {
    return new RefusedStream<orderbook::v1::OrderBookUpdate>(std::move(status));
  }
  // Deletes itself in OnDone.
  return new PublishReactor(queue_, stats_, limits_, summary, context->peer());
}

grpc::ServerReadReactor<orderbook::v1::OrderBookBatch>* IngestService::PublishBatch(
    grpc::CallbackServerContext* context, orderbook::v1::PublishSummary* summary) {
  if (grpc::Status status = Authenticate(*context); !status.ok()) {
    return new RefusedStream<orderbook::v1::OrderBookBatch>(std::move(status));
  }
  // Deletes itself in OnDone.
  return new PublishBatchReactor(queue_, stats_, limits_, summary, context->peer());
}

IngestServer::IngestServer(gateway::UpdateQueue& queue, IngestStats& stats, ValidationLimits limits,
                           int receive_window_bytes,
                           std::shared_ptr<const gateway::PublishTokens> publish_tokens)
    : service_(queue, stats, limits, std::move(publish_tokens)),
      receive_window_bytes_(receive_window_bytes) {}

IngestServer::~IngestServer() { Shutdown(std::chrono::milliseconds(0)); }

absl::StatusOr<int> IngestServer::Start(const std::string& bind, int port,
                                        std::shared_ptr<grpc::ServerCredentials> credentials) {
  if (server_ != nullptr) return absl::FailedPreconditionError("gRPC server already started");
  if (port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("invalid gRPC port ", port));
  }
  const std::string address = HostPort(bind, port);
  int bound_port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, credentials ? credentials : grpc::InsecureServerCredentials(),
                           &bound_port);
  builder.SetMaxReceiveMessageSize(kMaxReceiveMessageBytes);
  // gRPC sets SO_REUSEPORT by default, which would let a second gateway
  // "bind" the same port and silently split the backends between the two.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  for (const auto& [key, value] : ReceiveWindowArguments(receive_window_bytes_)) {
    builder.AddChannelArgument(key, value);
  }
  builder.RegisterService(&service_);
  builder.SetOption(std::make_unique<ReflectionOption>(reflection_));
  // grpc.health.v1.Health, gRPC's implementation (Check and Watch). A
  // process-wide switch read by BuildAndStart; every server of the gateway
  // wants it.
  grpc::EnableDefaultHealthCheckService(true);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  // gRPC reports a failed bind as a null server or a bound port of 0.
  if (server == nullptr || bound_port == 0) {
    if (server != nullptr) server->Shutdown();
    return absl::UnavailableError(absl::StrCat("cannot listen for gRPC on ", address));
  }
  server_ = std::move(server);
  bool serving = true;
  {
    MutexLock lock(health_mutex_);
    serving = serving_;
    health_ = server_->GetHealthCheckService();
    if (health_ != nullptr) {
      for (std::string_view name : kHealthServiceNames) {
        health_->SetServingStatus(std::string(name), serving_);
      }
    }
  }
  spdlog::info("gRPC ingest listening on {} (reflection {}, health {})", HostPort(bind, bound_port),
               reflection_ ? "on" : "off", serving ? "SERVING" : "NOT_SERVING");
  return bound_port;
}

void IngestServer::SetServing(bool serving) {
  MutexLock lock(health_mutex_);
  if (shut_down_ || serving == serving_) return;
  serving_ = serving;
  if (health_ == nullptr) return;
  for (std::string_view name : kHealthServiceNames) {
    health_->SetServingStatus(std::string(name), serving);
  }
}

void IngestServer::Shutdown(std::chrono::milliseconds deadline) {
  if (server_ == nullptr) return;
  {
    // NOT_SERVING for good, while the port still answers: a Watch sees it
    // and a Check made now gets it, before new calls are refused.
    MutexLock lock(health_mutex_);
    shut_down_ = true;
    serving_ = false;
    if (health_ != nullptr) health_->Shutdown();
    health_ = nullptr;
  }
  // Blocks until every stream has finished (OnDone), cancelling those still
  // open at the deadline.
  server_->Shutdown(std::chrono::system_clock::now() + deadline);
  server_->Wait();
  PublishReactor::AfterEveryStreamEnded(service_.queue());
  server_.reset();
}

}  // namespace obgw::ingest
