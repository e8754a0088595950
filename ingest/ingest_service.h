#ifndef OBGW_INGEST_INGEST_SERVICE_H_
#define OBGW_INGEST_INGEST_SERVICE_H_

#include <chrono>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "gateway/fanout/update_queue.h"
#include "ingest/ingest_stats.h"
#include "ingest/update_validator.h"
#include "orderbook/v1/orderbook.grpc.pb.h"

namespace obgw::ingest {

// Largest gRPC message accepted: a 1,000 + 1,000 level book is ~50 KB on the
// wire, so 4 MiB leaves room without letting one message eat memory.
inline constexpr int kMaxReceiveMessageBytes = 4 * 1024 * 1024;

// The OrderBookIngest service: hands each Publish stream to a new
// PublishReactor and each PublishBatch stream to a new PublishBatchReactor.
// Holds only references and the limits; gRPC callback threads call Publish
// and PublishBatch.
class IngestService final : public orderbook::v1::OrderBookIngest::CallbackService {
 public:
  // `queue` and `stats` must outlive the service.
  IngestService(gateway::UpdateQueue& queue, IngestStats& stats, ValidationLimits limits);

  grpc::ServerReadReactor<orderbook::v1::OrderBookUpdate>* Publish(
      grpc::CallbackServerContext* context, orderbook::v1::PublishSummary* summary) override;
  grpc::ServerReadReactor<orderbook::v1::OrderBookBatch>* PublishBatch(
      grpc::CallbackServerContext* context, orderbook::v1::PublishSummary* summary) override;

  const gateway::UpdateQueue& queue() const { return queue_; }

 private:
  gateway::UpdateQueue& queue_;
  IngestStats& stats_;
  const ValidationLimits limits_;
};

// The gRPC listener: owns the IngestService and the grpc::Server running it
// (plaintext HTTP/2; TLS belongs in front, or comes with its own issue).
// Start and Shutdown are called from the main thread; gRPC runs the streams
// on its own threads in between.
class IngestServer {
 public:
  // `queue` and `stats` must outlive the server; the hub must keep draining
  // `queue` until Shutdown returns, or paused streams only end at the
  // shutdown deadline.
  IngestServer(gateway::UpdateQueue& queue, IngestStats& stats, ValidationLimits limits);
  ~IngestServer();

  IngestServer(const IngestServer&) = delete;
  IngestServer& operator=(const IngestServer&) = delete;

  // Listens on `bind`:`port` (port 0 picks a free port) and returns the
  // bound port, or an error with a one-line reason when the address is busy
  // or invalid. Call at most once.
  absl::StatusOr<int> Start(const std::string& bind, int port);

  // Stops accepting streams, lets open ones end for up to `deadline`, then
  // cancels the rest and waits for them. Idempotent; the destructor calls it
  // with no grace period.
  void Shutdown(std::chrono::milliseconds deadline);

 private:
  IngestService service_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace obgw::ingest

#endif  // OBGW_INGEST_INGEST_SERVICE_H_
