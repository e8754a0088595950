// TLS on the HTTP port and the gRPC port (issue 11): HTTPS, WSS, gRPC over
// TLS, plaintext clients on the TLS port, handshake timeouts, SIGHUP reload,
// and the start-up checks of the certificate flags. Certificates are made
// at test time with the openssl CLI (TestPki).
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include "gateway_process.h"
#include "grpc_test_client.h"
#include "http_test_client.h"
#include "orderbook/v1/orderbook.grpc.pb.h"
#include "raw_ws_client.h"
#include "tls_test_client.h"

namespace obgw::testing {
namespace {

using namespace std::chrono_literals;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

// A Publish stream over TLS, verifying the gateway with the test CA.
grpc::Status PublishOverTls(const std::string& target, const std::string& ca_file,
                            const std::vector<orderbook::v1::OrderBookUpdate>& updates,
                            orderbook::v1::PublishSummary* summary) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ReadAll(ca_file);
  grpc::ChannelArguments arguments;
  // The certificate names localhost (and 127.0.0.1); the target is an IP.
  arguments.SetSslTargetNameOverride("localhost");
  // A fresh connection per call: gRPC's process-wide subchannel pool could
  // otherwise hand this channel a connection to an earlier test's gateway
  // that had the same port.
  arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto channel = grpc::CreateCustomChannel(target, grpc::SslCredentials(options), arguments);
  auto stub = orderbook::v1::OrderBookIngest::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 20s);
  auto writer = stub->Publish(&context, summary);
  for (const auto& update : updates) {
    if (!writer->Write(update)) break;
  }
  writer->WritesDone();
  return writer->Finish();
}

// /stats over HTTPS, one counter; -1 when it cannot be read.
std::int64_t TlsStat(int port, const std::string& ca_file, std::string_view name) {
  HttpsResponse response = HttpsGet(port, "/stats", ca_file);
  if (response.status != 200) return -1;
  boost::system::error_code ec;
  boost::json::value stats = boost::json::parse(response.body, ec);
  if (ec) return -1;
  return FindInt(stats, name).value_or(-1);
}

// Waits until the server ends a raw TCP connection (EOF or reset); false
// on `timeout`.
bool WaitForServerClose(int fd, std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<long>(timeout.count() / 1000);
  tv.tv_usec = static_cast<long>((timeout.count() % 1000) * 1000);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  char buffer[4096];
  for (;;) {
    ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET;
  }
}

// Waits (up to 10 s) until the gateway's output holds `needle` `count`
// times: the log line of an event (the reload), which has no ready line.
bool WaitForOutput(GatewayProcess& gateway, std::string_view needle, int count) {
  auto deadline = std::chrono::steady_clock::now() + 10s;
  for (;;) {
    std::string output = gateway.Output();
    int seen = 0;
    for (auto at = output.find(needle); at != std::string::npos; at = output.find(needle, at + 1)) {
      ++seen;
    }
    if (seen >= count) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
}

int ConnectRaw(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(pki_.error().empty()) << pki_.error();
    ASSERT_TRUE(pki_.MakeServerCert("gateway", "1001")) << pki_.error();
  }

  std::vector<std::string> TlsFlags() const {
    return {"--tls_cert_file=" + pki_.dir() + "/gateway.crt",
            "--tls_key_file=" + pki_.dir() + "/gateway.key"};
  }

  std::unique_ptr<GatewayProcess> Start(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = TlsFlags();
    args.insert(args.end(), extra.begin(), extra.end());
    std::string error;
    auto gateway = StartGateway(args, &error);
    EXPECT_NE(gateway, nullptr) << error;
    return gateway;
  }

  TestPki pki_;
};

TEST_F(TlsTest, HttpsHealthAndWssReceivesBookPublishedOverGrpcTls) {
  auto gateway = Start();
  ASSERT_NE(gateway, nullptr);
  HttpsResponse health = HttpsGet(gateway->http_port(), "/health", pki_.ca_file());
  ASSERT_EQ(health.status, 200) << health.error;
  EXPECT_NE(health.body.find("\"status\""), std::string::npos) << health.body;
  EXPECT_EQ(health.peer_serial, "1001");

  WssTestClient client(pki_.ca_file());
  ASSERT_TRUE(client.Connect(gateway->http_port(), "/ws/tls-client")) << client.error();
  ASSERT_TRUE(client.SendText(R"({"action":"subscribe","symbol":"TLS-USD"})"));
  ASSERT_TRUE(client.ReadUntil("subscription_confirmed")) << client.error();

  orderbook::v1::PublishSummary summary;
  grpc::Status status =
      PublishOverTls(gateway->grpc_target(), pki_.ca_file(),
                     {MakeUpdate("TLS-USD", 1), MakeUpdate("TLS-USD", 2)}, &summary);
  ASSERT_TRUE(status.ok()) << status.error_message();
  auto book = client.ReadUntil("\"source_seq\":2");
  ASSERT_TRUE(book) << client.error();
  EXPECT_NE(book->find("orderbook_update"), std::string::npos) << *book;
  EXPECT_NE(book->find("TLS-USD"), std::string::npos) << *book;
  EXPECT_TRUE(client.Close()) << client.error();
  EXPECT_GE(TlsStat(gateway->http_port(), pki_.ca_file(), "tls_handshakes"), 2);
}

TEST_F(TlsTest, LargeBooksSpanningManyRecordsArriveWholeAndInOrder) {
  auto gateway = Start();
  ASSERT_NE(gateway, nullptr);
  WssTestClient client(pki_.ca_file());
  ASSERT_TRUE(client.Connect(gateway->http_port(), "/ws/big-books")) << client.error();
  ASSERT_TRUE(client.SendText(R"({"action":"subscribe","symbol":"BIG"})"));
  ASSERT_TRUE(client.ReadUntil("subscription_confirmed")) << client.error();
  // 350 levels a side (prices stay positive): ~20 KB a frame, more than one
  // TLS record (16 KiB), so writes end inside frames and the Outbox resumes
  // them.
  std::vector<orderbook::v1::OrderBookUpdate> updates;
  for (int seq = 1; seq <= 30; ++seq) updates.push_back(MakeUpdate("BIG", seq, 350));
  orderbook::v1::PublishSummary summary;
  grpc::Status status = PublishOverTls(gateway->grpc_target(), pki_.ca_file(), updates, &summary);
  ASSERT_TRUE(status.ok()) << status.error_message() << "\n" << gateway->Output();
  ASSERT_EQ(summary.accepted(), 30u);
  std::int64_t last_seq = 0;
  while (last_seq < 30) {
    auto message = client.Read(10s);
    ASSERT_TRUE(message) << client.error();
    boost::system::error_code ec;
    boost::json::value book = boost::json::parse(*message, ec);
    ASSERT_FALSE(ec) << message->substr(0, 200);
    auto seq = FindInt(book, "data.source_seq");
    if (!seq) seq = FindInt(book, "source_seq");
    ASSERT_TRUE(seq) << message->substr(0, 200);
    // Conflation may skip books, never reorder them.
    EXPECT_GT(*seq, last_seq);
    last_seq = *seq;
  }
}

TEST_F(TlsTest, OversizedBodyOverHttpsGets413AndTheGatewayKeepsServing) {
  auto gateway = Start({"--max_body_bytes=1024"});
  ASSERT_NE(gateway, nullptr);
  // Answered at the header, while the rest of the body is still coming:
  // the gateway then sends close_notify and discards what follows.
  std::string body(256 << 10, ' ');
  HttpsResponse response = HttpsRequest(gateway->http_port(), "POST",
                                        "/broadcast/orderbook?symbol=BIG", body, pki_.ca_file());
  EXPECT_EQ(response.status, 413) << response.error;
  EXPECT_NE(response.body.find("body_too_large"), std::string::npos) << response.body;
  HttpsResponse health = HttpsGet(gateway->http_port(), "/health", pki_.ca_file());
  EXPECT_EQ(health.status, 200) << health.error;
}

TEST_F(TlsTest, PlaintextGrpcClientIsRefusedOnTlsGrpcPort) {
  auto gateway = Start();
  ASSERT_NE(gateway, nullptr);
  PublishResult result = PublishStream(gateway->grpc_target(), {MakeUpdate("TLS-USD", 1)}, 5s);
  EXPECT_FALSE(result.status.ok());
  EXPECT_EQ(result.summary.accepted(), 0u);
}

TEST_F(TlsTest, PlaintextClientsFailCleanlyAndTlsStillWorks) {
  auto gateway = Start();
  ASSERT_NE(gateway, nullptr);
  // HTTP on the TLS port: OpenSSL sees no ClientHello, the connection ends.
  HttpResponse plain = HttpRequest(gateway->http_port(), "GET", "/health", {}, {}, 5s);
  EXPECT_EQ(plain.status, 0) << plain.Describe();
  RawWsClient ws;
  EXPECT_FALSE(ws.Connect(gateway->http_port(), "/ws/plain-client"));
  EXPECT_EQ(ws.status(), 0);

  HttpsResponse health = HttpsGet(gateway->http_port(), "/health", pki_.ca_file());
  EXPECT_EQ(health.status, 200) << health.error;
  WssTestClient client(pki_.ca_file());
  ASSERT_TRUE(client.Connect(gateway->http_port(), "/ws/after-plain")) << client.error();
  ASSERT_TRUE(client.SendText(R"({"action":"ping"})"));
  EXPECT_TRUE(client.ReadUntil("pong")) << client.error();
  EXPECT_EQ(TlsStat(gateway->http_port(), pki_.ca_file(), "tls_handshake_failed"), 2);
}

TEST_F(TlsTest, SilentAndHalfHelloConnectionsAreClosedAtHandshakeTimeout) {
  auto gateway = Start({"--tls_handshake_timeout_ms=300"});
  ASSERT_NE(gateway, nullptr);
  auto started = std::chrono::steady_clock::now();
  int silent = ConnectRaw(gateway->http_port());
  int half = ConnectRaw(gateway->http_port());
  ASSERT_GE(silent, 0);
  ASSERT_GE(half, 0);
  // A TLS record header announcing a 512-byte ClientHello, and 4 bytes of it.
  const char partial[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, static_cast<char>(0xfc)};
  ASSERT_EQ(send(half, partial, sizeof(partial), 0), static_cast<ssize_t>(sizeof(partial)));
  EXPECT_TRUE(WaitForServerClose(silent, 5s));
  EXPECT_TRUE(WaitForServerClose(half, 5s));
  // Closed by the deadline, not at once.
  EXPECT_GE(std::chrono::steady_clock::now() - started, 250ms);
  close(silent);
  close(half);
  // Meanwhile and after, TLS clients are served.
  EXPECT_EQ(TlsStat(gateway->http_port(), pki_.ca_file(), "tls_handshake_timeout"), 2);
  EXPECT_EQ(TlsStat(gateway->http_port(), pki_.ca_file(), "tls_handshake_failed"), 0);
}

TEST_F(TlsTest, SighupServesTheNewCertificateAndKeepsTheOldOneOnABadFile) {
  auto gateway = Start();
  ASSERT_NE(gateway, nullptr);
  WssTestClient before(pki_.ca_file());
  ASSERT_TRUE(before.Connect(gateway->http_port(), "/ws/before-reload")) << before.error();
  EXPECT_EQ(before.peer_serial(), "1001");

  ASSERT_TRUE(pki_.MakeServerCert("gateway", "1002")) << pki_.error();
  ASSERT_EQ(kill(gateway->process().pid(), SIGHUP), 0);
  ASSERT_TRUE(WaitForOutput(*gateway, "SIGHUP: TLS certificate reloaded", 1)) << gateway->Output();
  HttpsResponse fresh = HttpsGet(gateway->http_port(), "/health", pki_.ca_file());
  ASSERT_EQ(fresh.status, 200) << fresh.error;
  EXPECT_EQ(fresh.peer_serial, "1002");
  // The connection from before keeps its session.
  ASSERT_TRUE(before.SendText(R"({"action":"ping"})"));
  EXPECT_TRUE(before.ReadUntil("pong")) << before.error();

  // A broken replacement: the current certificate stays.
  {
    std::ofstream broken(pki_.dir() + "/gateway.crt", std::ios::trunc);
    broken << "-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n";
  }
  ASSERT_EQ(kill(gateway->process().pid(), SIGHUP), 0);
  ASSERT_TRUE(WaitForOutput(*gateway, "SIGHUP: TLS certificate not reloaded", 1))
      << gateway->Output();
  HttpsResponse still = HttpsGet(gateway->http_port(), "/health", pki_.ca_file());
  ASSERT_EQ(still.status, 200) << still.error;
  EXPECT_EQ(still.peer_serial, "1002");
}

TEST_F(TlsTest, AllowPlaintextServesBothOnOnePort) {
  auto gateway = Start({"--tls_allow_plaintext", "--tls_handshake_timeout_ms=300"});
  ASSERT_NE(gateway, nullptr);
  const int port = gateway->http_port();
  HttpResponse plain = HttpGet(port, "/health");
  EXPECT_EQ(plain.status, 200) << plain.Describe();
  HttpsResponse secure = HttpsGet(port, "/health", pki_.ca_file());
  EXPECT_EQ(secure.status, 200) << secure.error;
  EXPECT_EQ(secure.peer_serial, "1001");

  RawWsClient ws;
  ASSERT_TRUE(ws.Connect(port, "/ws/plain-side")) << ws.error();
  ASSERT_TRUE(ws.SendText(R"({"action":"ping"})"));
  auto pong = ws.ReadFrame(5s);
  ASSERT_TRUE(pong);
  EXPECT_NE(pong->payload.find("pong"), std::string::npos) << pong->payload;
  WssTestClient wss(pki_.ca_file());
  ASSERT_TRUE(wss.Connect(port, "/ws/tls-side")) << wss.error();
  ASSERT_TRUE(wss.SendText(R"({"action":"ping"})"));
  EXPECT_TRUE(wss.ReadUntil("pong")) << wss.error();

  // A connection that says nothing is still dropped at the deadline.
  int silent = ConnectRaw(port);
  ASSERT_GE(silent, 0);
  EXPECT_TRUE(WaitForServerClose(silent, 5s));
  close(silent);
  EXPECT_EQ(TlsStat(port, pki_.ca_file(), "tls_handshake_timeout"), 1);
  EXPECT_GE(TlsStat(port, pki_.ca_file(), "tls_handshakes"), 2);
}

TEST_F(TlsTest, HalfConfiguredOrUnloadableCertificateFailsAtStart) {
  struct Case {
    std::vector<std::string> args;
    std::string reason;
  };
  const std::string dir = pki_.dir();
  ASSERT_TRUE(pki_.MakeServerCert("other", "2001")) << pki_.error();
  const std::vector<Case> cases = {
      {{"--tls_cert_file=" + dir + "/gateway.crt"},
       "--tls_cert_file is set without --tls_key_file"},
      {{"--tls_key_file=" + dir + "/gateway.key"}, "--tls_key_file is set without --tls_cert_file"},
      {{"--tls_cert_file=" + dir + "/missing.crt", "--tls_key_file=" + dir + "/gateway.key"},
       "--tls_cert_file: cannot read"},
      {{"--tls_cert_file=" + dir + "/gateway.crt", "--tls_key_file=" + dir + "/ca.crt"},
       "holds no usable PEM private key"},
      {{"--tls_cert_file=" + dir + "/gateway.key", "--tls_key_file=" + dir + "/gateway.key"},
       "holds no usable PEM certificate"},
      {{"--tls_cert_file=" + dir + "/gateway.crt", "--tls_key_file=" + dir + "/other.key"},
       "does not match the certificate"},
      {{"--tls_allow_plaintext"}, "--tls_allow_plaintext needs --tls_cert_file and --tls_key_file"},
  };
  const std::string key_text = ReadAll(dir + "/gateway.key");
  for (const Case& c : cases) {
    std::vector<std::string> args = {"--bind=127.0.0.1", "--http_port=0", "--grpc_port=0"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto process = Process::Spawn(GatewayPath(), args);
    ASSERT_NE(process, nullptr);
    EXPECT_EQ(process->WaitForExit(10s), 2) << c.reason;
    ASSERT_TRUE(process->WaitForOutputEnd(5s));
    std::string output = process->Output();
    EXPECT_NE(output.find(c.reason), std::string::npos) << output;
    // One line, and never the key itself.
    EXPECT_EQ(std::count(output.begin(), output.end(), '\n'), 1) << output;
    EXPECT_EQ(output.find("PRIVATE KEY"), std::string::npos) << output;
  }
}

}  // namespace
}  // namespace obgw::testing
