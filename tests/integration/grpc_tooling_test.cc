// The standard gRPC services on the gateway's gRPC port (issue 13), seen
// through stubs generated from the standard protos (Debian's grpc-proto):
// server reflection lists the services and serves orderbook.proto's
// descriptor (off with --grpc_reflection=false); grpc.health.v1.Health
// follows GET /health: SERVING while healthy, NOT_SERVING while Redis is away
// and back to SERVING when it returns (seen on Watch, synchronised on its
// messages), NOT_SERVING on SIGTERM before the port closes.

#include <signal.h>

#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <google/protobuf/descriptor.pb.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "gateway_process.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "health_watch.h"
#include "http_test_client.h"
#include "redis_server.h"
#include "test_util.h"

namespace obgw::testing {
namespace {

using namespace std::chrono_literals;
using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;
using grpc::reflection::v1alpha::ServerReflection;
using grpc::reflection::v1alpha::ServerReflectionRequest;
using grpc::reflection::v1alpha::ServerReflectionResponse;

constexpr char kIngest[] = "orderbook.v1.OrderBookIngest";

std::shared_ptr<grpc::Channel> Channel(const GatewayProcess& gw) {
  return grpc::CreateChannel(gw.grpc_target(), grpc::InsecureChannelCredentials());
}

// Check(service): the status, or the RPC's error as a negative code.
struct CheckResult {
  grpc::Status status;
  HealthCheckResponse::ServingStatus serving = HealthCheckResponse::UNKNOWN;
};

CheckResult Check(const GatewayProcess& gw, const std::string& service) {
  auto stub = Health::NewStub(Channel(gw));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 5s);
  HealthCheckRequest request;
  request.set_service(service);
  HealthCheckResponse response;
  CheckResult result;
  result.status = stub->Check(&context, request, &response);
  result.serving = response.status();
  return result;
}

std::string HealthStatus(int port) {
  boost::json::value body = HttpGet(port, "/health").Json();
  const boost::json::value* status =
      body.is_object() ? body.as_object().if_contains("status") : nullptr;
  return status && status->is_string() ? std::string(status->as_string()) : "no answer";
}

TEST(GrpcReflectionTest, ListsTheServicesAndServesOrderbookProto) {
  OBGW_START_GATEWAY(gw, {});
  auto stub = ServerReflection::NewStub(Channel(*gw));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 10s);
  auto stream = stub->ServerReflectionInfo(&context);

  ServerReflectionRequest list;
  list.set_list_services("");
  ASSERT_TRUE(stream->Write(list));
  ServerReflectionResponse listed;
  ASSERT_TRUE(stream->Read(&listed));
  ASSERT_TRUE(listed.has_list_services_response()) << listed.DebugString();
  std::set<std::string> names;
  for (const auto& service : listed.list_services_response().service()) {
    names.insert(service.name());
  }
  EXPECT_TRUE(names.count(kIngest)) << listed.DebugString();
  EXPECT_TRUE(names.count("grpc.health.v1.Health")) << listed.DebugString();
  EXPECT_TRUE(names.count("grpc.reflection.v1alpha.ServerReflection")) << listed.DebugString();

  ServerReflectionRequest by_symbol;
  by_symbol.set_file_containing_symbol(kIngest);
  ASSERT_TRUE(stream->Write(by_symbol));
  ServerReflectionResponse file;
  ASSERT_TRUE(stream->Read(&file));
  ASSERT_TRUE(file.has_file_descriptor_response()) << file.DebugString();
  ASSERT_EQ(file.file_descriptor_response().file_descriptor_proto_size(), 1);
  google::protobuf::FileDescriptorProto proto;
  ASSERT_TRUE(proto.ParseFromString(file.file_descriptor_response().file_descriptor_proto(0)));
  EXPECT_EQ(proto.name(), "orderbook/v1/orderbook.proto");
  EXPECT_EQ(proto.package(), "orderbook.v1");
  ASSERT_EQ(proto.service_size(), 1);
  EXPECT_EQ(proto.service(0).name(), "OrderBookIngest");
  std::set<std::string> methods;
  for (const auto& method : proto.service(0).method()) {
    methods.insert(method.name());
    EXPECT_TRUE(method.client_streaming()) << method.name();
  }
  EXPECT_EQ(methods, (std::set<std::string>{"Publish", "PublishBatch"}));
  std::set<std::string> messages;
  for (const auto& message : proto.message_type()) messages.insert(message.name());
  EXPECT_EQ(messages, (std::set<std::string>{"PriceLevel", "OrderBookUpdate", "OrderBookBatch",
                                             "PublishSummary"}));

  // The same file by its name.
  ServerReflectionRequest by_name;
  by_name.set_file_by_filename("orderbook/v1/orderbook.proto");
  ASSERT_TRUE(stream->Write(by_name));
  ServerReflectionResponse named;
  ASSERT_TRUE(stream->Read(&named));
  ASSERT_TRUE(named.has_file_descriptor_response()) << named.DebugString();
  google::protobuf::FileDescriptorProto same;
  ASSERT_TRUE(same.ParseFromString(named.file_descriptor_response().file_descriptor_proto(0)));
  EXPECT_EQ(same.SerializeAsString(), proto.SerializeAsString());

  // A symbol the gateway does not have: NOT_FOUND in the stream, which stays open.
  ServerReflectionRequest unknown;
  unknown.set_file_containing_symbol("orderbook.v1.NoSuchThing");
  ASSERT_TRUE(stream->Write(unknown));
  ServerReflectionResponse missing;
  ASSERT_TRUE(stream->Read(&missing));
  ASSERT_TRUE(missing.has_error_response()) << missing.DebugString();
  EXPECT_EQ(missing.error_response().error_code(), grpc::StatusCode::NOT_FOUND);

  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

TEST(GrpcReflectionTest, OffWithTheFlag) {
  OBGW_START_GATEWAY(gw, {"--grpc_reflection=false"});
  auto stub = ServerReflection::NewStub(Channel(*gw));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 10s);
  auto stream = stub->ServerReflectionInfo(&context);
  ServerReflectionRequest list;
  list.set_list_services("");
  stream->Write(list);
  ServerReflectionResponse listed;
  EXPECT_FALSE(stream->Read(&listed));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::UNIMPLEMENTED);
  // Health stays.
  EXPECT_EQ(Check(*gw, "").serving, HealthCheckResponse::SERVING);
}

TEST(GrpcHealthTest, ServingForTheServerAndTheIngestServiceNotFoundForOthers) {
  OBGW_START_GATEWAY(gw, {});
  ASSERT_EQ(HealthStatus(gw->http_port()), "healthy");
  CheckResult server = Check(*gw, "");
  ASSERT_TRUE(server.status.ok()) << server.status.error_message();
  EXPECT_EQ(server.serving, HealthCheckResponse::SERVING);
  CheckResult ingest = Check(*gw, kIngest);
  ASSERT_TRUE(ingest.status.ok()) << ingest.status.error_message();
  EXPECT_EQ(ingest.serving, HealthCheckResponse::SERVING);
  EXPECT_EQ(Check(*gw, "no.such.Service").status.error_code(), grpc::StatusCode::NOT_FOUND);

  HealthWatch watch(*gw, kIngest);
  EXPECT_EQ(watch.Next(), HealthCheckResponse::SERVING);
  HealthWatch unknown(*gw, "no.such.Service");
  EXPECT_EQ(unknown.Next(), HealthCheckResponse::SERVICE_UNKNOWN);
}

// Redis away: /health degraded, gRPC health NOT_SERVING; back: SERVING.
TEST(GrpcHealthTest, FollowsRedisAwayAndBack) {
  std::string error;
  std::unique_ptr<RedisServer> redis = RedisServer::Start(&error);
  ASSERT_TRUE(redis) << error;
  OBGW_START_GATEWAY(gw, {"--redis_url=" + redis->url(), "--redis_timeout_ms=300"});

  // The node may start degraded (the cluster epoch is not known until
  // Redis answered); the Watch says when it is not.
  HealthWatch watch(*gw, "");
  ASSERT_TRUE(watch.WaitFor(HealthCheckResponse::SERVING)) << watch.Seen() << gw->Output();
  EXPECT_EQ(HealthStatus(gw->http_port()), "healthy");
  EXPECT_EQ(Check(*gw, kIngest).serving, HealthCheckResponse::SERVING);

  redis->Kill();
  ASSERT_TRUE(watch.WaitFor(HealthCheckResponse::NOT_SERVING)) << watch.Seen() << gw->Output();
  // The ingest service's name is set first, /health decided the same.
  EXPECT_EQ(Check(*gw, kIngest).serving, HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(Check(*gw, "").serving, HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(HealthStatus(gw->http_port()), "degraded");

  ASSERT_TRUE(redis->Restart(&error)) << error;
  ASSERT_TRUE(watch.WaitFor(HealthCheckResponse::SERVING)) << watch.Seen() << gw->Output();
  EXPECT_EQ(Check(*gw, kIngest).serving, HealthCheckResponse::SERVING);
  EXPECT_EQ(HealthStatus(gw->http_port()), "healthy");
}

// SIGTERM: the Watch gets NOT_SERVING while the port still serves, then the
// call ends (at the shutdown deadline at the latest) and the process exits 0.
TEST(GrpcHealthTest, NotServingOnShutdownBeforeThePortCloses) {
  OBGW_START_GATEWAY(gw, {"--shutdown_grace_ms=1000"});
  HealthWatch watch(*gw, kIngest);
  ASSERT_EQ(watch.Next(), HealthCheckResponse::SERVING);
  ASSERT_EQ(::kill(gw->process().pid(), SIGTERM), 0);
  EXPECT_EQ(watch.Next(), HealthCheckResponse::NOT_SERVING) << gw->Output();
  EXPECT_EQ(watch.Next(), std::nullopt) << "the Watch call ends with the server";
  EXPECT_EQ(gw->process().WaitForExit(10s), 0) << gw->Output();
}

}  // namespace
}  // namespace obgw::testing
