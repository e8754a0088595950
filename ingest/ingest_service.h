#ifndef OBGW_INGEST_INGEST_SERVICE_H_
#define OBGW_INGEST_INGEST_SERVICE_H_

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "gateway/auth/publish_tokens.h"
#include "gateway/fanout/mutex.h"
#include "gateway/fanout/update_queue.h"
#include "ingest/ingest_stats.h"
#include "ingest/update_validator.h"
#include "orderbook/v1/orderbook.grpc.pb.h"

namespace obgw::ingest {

// Largest gRPC message accepted: a 1,000 + 1,000 level book is ~50 KB on the
// wire, so 4 MiB leaves room without letting one message eat memory.
inline constexpr int kMaxReceiveMessageBytes = 4 * 1024 * 1024;

// How far the gRPC listener reads ahead of the streams it serves (the
// HTTP/2 stream and connection windows it grants a backend), by default.
// gRPC's own default (BDP probing) grows the windows to megabytes: while the
// gateway cannot keep up, seconds of books then wait in the socket and in
// gRPC's buffers, where the hub's latest-wins cannot reach them. A small
// window makes the backend wait instead (its Write blocks), so the books
// that do arrive are recent. 64 KiB: about 200 10-level books, ~3 ms of a
// flood on one core; large enough that a stream is never starved while the
// hub keeps up.
inline constexpr int kDefaultReceiveWindowBytes = 64 << 10;

// The channel arguments that bound the receive window to `bytes`: no BDP
// probing, a stream lookahead of `bytes`. Empty for 0 (gRPC's defaults).
std::vector<std::pair<std::string, int>> ReceiveWindowArguments(int bytes);

// The OrderBookIngest service: hands each Publish stream to a new
// PublishReactor and each PublishBatch stream to a new PublishBatchReactor.
// With publish tokens, every call (both RPCs: the service has no other)
// must carry one in its metadata, `authorization: Bearer <token>`; a call
// without is finished UNAUTHENTICATED before a single message of it is read,
// and counted (ingest.grpc_unauthenticated).
// Holds only references, the limits and the (immutable, shared) tokens; gRPC
// callback threads call Publish and PublishBatch.
class IngestService final : public orderbook::v1::OrderBookIngest::CallbackService {
 public:
  // `queue` and `stats` must outlive the service; null `publish_tokens`:
  // anyone may publish.
  IngestService(gateway::UpdateQueue& queue, IngestStats& stats, ValidationLimits limits,
                std::shared_ptr<const gateway::PublishTokens> publish_tokens = nullptr);

  grpc::ServerReadReactor<orderbook::v1::OrderBookUpdate>* Publish(
      grpc::CallbackServerContext* context, orderbook::v1::PublishSummary* summary) override;
  grpc::ServerReadReactor<orderbook::v1::OrderBookBatch>* PublishBatch(
      grpc::CallbackServerContext* context, orderbook::v1::PublishSummary* summary) override;

  const gateway::UpdateQueue& queue() const { return queue_; }

 private:
  // OK, or UNAUTHENTICATED (counted) when publish tokens are set and the
  // call's metadata has none of them.
  grpc::Status Authenticate(const grpc::CallbackServerContext& context);

  gateway::UpdateQueue& queue_;
  IngestStats& stats_;
  const ValidationLimits limits_;
  const std::shared_ptr<const gateway::PublishTokens> publish_tokens_;
};

// The service names the standard health service (grpc.health.v1.Health)
// answers for: the ingest service's full name and "" (the whole server), set
// in this order, so that whoever sees "" change sees the ingest name changed.
inline constexpr std::string_view kHealthServiceNames[] = {
    orderbook::v1::OrderBookIngest::service_full_name(), ""};

// The gRPC listener: owns the IngestService and the grpc::Server running it
// (plaintext HTTP/2, or TLS with the credentials Start is given), with two
// standard services beside it on the same port: server reflection
// (grpc.reflection.v1alpha.ServerReflection, unless set_reflection(false))
// and health (grpc.health.v1.Health: Check and Watch, gRPC's default
// implementation). The health status is what SetServing last said; the node
// owner makes it follow GET /health.
// Start and Shutdown are called from the main thread; SetServing from any
// thread (the node's health check, gateway/node/gateway.h); gRPC runs the
// streams on its own threads in between.
class IngestServer {
 public:
  // `queue` and `stats` must outlive the server; the hub must keep draining
  // `queue` until Shutdown returns, or paused streams only end at the
  // shutdown deadline.
  // `receive_window_bytes`: see kDefaultReceiveWindowBytes (0: gRPC's defaults).
  // `publish_tokens`: see IngestService (null: no publisher auth).
  IngestServer(gateway::UpdateQueue& queue, IngestStats& stats, ValidationLimits limits,
               int receive_window_bytes = kDefaultReceiveWindowBytes,
               std::shared_ptr<const gateway::PublishTokens> publish_tokens = nullptr);
  ~IngestServer();

  IngestServer(const IngestServer&) = delete;
  IngestServer& operator=(const IngestServer&) = delete;

  // Listens on `bind`:`port` (port 0 picks a free port) and returns the
  // bound port, or an error with a one-line reason when the address is busy
  // or invalid. Call at most once. `credentials`: TLS (tls_credentials.h);
  // null serves plaintext HTTP/2.
  absl::StatusOr<int> Start(const std::string& bind, int port,
                            std::shared_ptr<grpc::ServerCredentials> credentials = nullptr);

  // Whether Start registers server reflection (on by default,
  // --grpc_reflection). Call before Start.
  void set_reflection(bool enabled) { reflection_ = enabled; }

  // Sets the health status of every name in kHealthServiceNames: SERVING
  // when `serving`, else NOT_SERVING; Watch calls see the change. Before
  // Start it is kept and applied when the server starts (the default is
  // SERVING); once Shutdown has begun it is ignored (NOT_SERVING stays).
  // Any thread; takes a lock gRPC's health service also takes, never for
  // long, and does no I/O.
  void SetServing(bool serving);

  // Stops accepting streams, lets open ones end for up to `deadline`, then
  // cancels the rest and waits for them. The health status turns
  // NOT_SERVING first, before the port closes. Open Watch calls of the
  // health service end at the deadline like the publish streams.
  // Idempotent; the destructor calls it with no grace period.
  void Shutdown(std::chrono::milliseconds deadline);

 private:
  IngestService service_;
  const int receive_window_bytes_;
  bool reflection_ = true;
  std::unique_ptr<grpc::Server> server_;
  gateway::Mutex health_mutex_;
  // The server's health service while it runs (null before Start and from
  // Shutdown on), and the status to report.
  grpc::HealthCheckServiceInterface* health_ ABSL_GUARDED_BY(health_mutex_) = nullptr;
  bool serving_ ABSL_GUARDED_BY(health_mutex_) = true;
  bool shut_down_ ABSL_GUARDED_BY(health_mutex_) = false;
};

}  // namespace obgw::ingest

#endif  // OBGW_INGEST_INGEST_SERVICE_H_
