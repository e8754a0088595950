#ifndef OBGW_TESTS_INTEGRATION_HEALTH_WATCH_H_
#define OBGW_TESTS_INTEGRATION_HEALTH_WATCH_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "gateway_process.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace obgw::testing {

// One open Watch call; Next() blocks until the server sends a status (or
// the call ends, or the deadline passes): the test waits on these events.
// Thread-compatible: use from one thread.
class HealthWatch {
 public:
  HealthWatch(const GatewayProcess& gw, const std::string& service,
              std::chrono::seconds deadline = std::chrono::seconds(60))
      : stub_(grpc::health::v1::Health::NewStub(
            grpc::CreateChannel(gw.grpc_target(), grpc::InsecureChannelCredentials()))) {
    context_.set_deadline(std::chrono::system_clock::now() + deadline);
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    reader_ = stub_->Watch(&context_, request);
  }
  ~HealthWatch() {
    context_.TryCancel();
    reader_->Finish();
  }

  std::optional<grpc::health::v1::HealthCheckResponse::ServingStatus> Next() {
    grpc::health::v1::HealthCheckResponse response;
    if (!reader_->Read(&response)) return std::nullopt;
    return response.status();
  }
  // Reads until `wanted`; false when the call ended first.
  bool WaitFor(grpc::health::v1::HealthCheckResponse::ServingStatus wanted) {
    for (;;) {
      std::optional<grpc::health::v1::HealthCheckResponse::ServingStatus> status = Next();
      if (!status) return false;
      seen_.push_back(*status);
      if (*status == wanted) return true;
    }
  }
  std::string Seen() const {
    std::string text;
    for (auto status : seen_)
      text += grpc::health::v1::HealthCheckResponse::ServingStatus_Name(status) + " ";
    return text;
  }

 private:
  std::unique_ptr<grpc::health::v1::Health::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<grpc::health::v1::HealthCheckResponse>> reader_;
  std::vector<grpc::health::v1::HealthCheckResponse::ServingStatus> seen_;
};

}  // namespace obgw::testing

#endif  // OBGW_TESTS_INTEGRATION_HEALTH_WATCH_H_
