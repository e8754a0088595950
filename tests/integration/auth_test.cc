// Browser authentication (issue 11): JWT on WebSocket /ws/{client_id}, from
// ?token= (checked before the upgrade: 401) or a first auth message (error,
// then close 1008); sub bound to the client_id; the symbols claim
// (forbidden); the auth deadline and a token expiring on an open connection
// (1008), refreshed by a new auth message; the session restored only once
// authenticated, filtered by the claim; the Python minting example of
// docs/security.md run as documented.

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "gateway_process.h"
#include "http_test_client.h"
#include "jwt_minter.h"
#include "raw_ws_client.h"
#include "test_util.h"
#include "ws_test_client.h"

namespace obgw::testing {
namespace {

constexpr char kSecret[] = "integration-secret-0123456789abcdef";
constexpr char kOtherSecret[] = "another-secret-0123456789abcdef-xyz";

// A file holding `text` for the test's lifetime.
class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    char name[] = "/tmp/obgw-auth-XXXXXX";
    int fd = mkstemp(name);
    EXPECT_GE(fd, 0);
    path_ = name;
    EXPECT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    close(fd);
  }
  ~TempFile() { unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string Hs256(std::string_view sub, long long ttl, std::string_view extra = "") {
  return MintToken("HS256", kSecret, ClaimsJson(sub, ttl, extra));
}

// The upgrade of /ws/<id>?token=<token>, answered: the HTTP response.
HttpResponse UpgradeWithToken(int port, const std::string& id, const std::string& token) {
  return RawHttpExchange(port, "GET /ws/" + id + "?token=" + token +
                                   " HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                                   "Connection: Upgrade\r\n"
                                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                   "Sec-WebSocket-Version: 13\r\n\r\n");
}

// ?token= refused with 401 and `code`.
void ExpectRefusedUpgrade(int port, const std::string& id, const std::string& token,
                          std::string_view code) {
  HttpResponse response = UpgradeWithToken(port, id, token);
  EXPECT_EQ(response.status, 401) << code << ": " << response.Describe();
  ExpectErrorBody(response, code);
  EXPECT_EQ(response.Header("www-authenticate"), "Bearer error=\"invalid_token\"");
}

// The auth message refused: an error with `code`, then close 1008 `code`.
void ExpectRefusedAuthMessage(int port, const std::string& id, const std::string& token,
                              std::string_view code) {
  WsTestClient client;
  ASSERT_TRUE(client.Connect(port, id)) << client.error();
  ASSERT_TRUE(client.SendJson({{"action", "auth"}, {"token", token}, {"req_id", 9}}));
  std::optional<boost::json::object> reply = client.ReadJson();
  ASSERT_TRUE(reply) << code << ": " << client.error();
  EXPECT_EQ(TypeOf(*reply), "error") << Str(*reply);
  EXPECT_EQ(Field(*reply, "code"), boost::json::value(code)) << Str(*reply);
  EXPECT_EQ(Field(*reply, "req_id"), boost::json::value(9)) << Str(*reply);
  ASSERT_TRUE(client.WaitForClose()) << code;
  EXPECT_EQ(client.close_code(), 1008);
  EXPECT_EQ(client.close_reason(), code);
}

void ExpectRefusedBothWays(int port, const std::string& id, const std::string& token,
                           std::string_view code) {
  SCOPED_TRACE(std::string(code));
  ExpectRefusedUpgrade(port, id, token, code);
  ExpectRefusedAuthMessage(port, id, token, code);
}

// Authenticates `client` with an auth message; the authenticated reply.
std::optional<boost::json::object> Authenticate(WsTestClient& client, const std::string& token) {
  if (!client.SendJson({{"action", "auth"}, {"token", token}})) return std::nullopt;
  std::optional<boost::json::object> reply = client.ReadJson();
  if (!reply || TypeOf(*reply) != "authenticated") {
    ADD_FAILURE() << "not authenticated: " << (reply ? Str(*reply) : client.error());
    return std::nullopt;
  }
  return reply;
}

// A subscribed client receives a published book.
void ExpectReceivesBook(int port, WsTestClient& client, std::string_view symbol) {
  std::string error;
  ASSERT_TRUE(Subscribe(client, symbol, &error)) << error;
  EXPECT_TRUE(IsBroadcastSuccess(PostBook(port, symbol, kGuideBody), symbol, 1));
  std::optional<boost::json::object> update = ReadUpdate(client, symbol);
  ASSERT_TRUE(update) << client.error();
}

TEST(AuthTest, Hs256RejectionsAnswerTheDocumentedCode) {
  OBGW_START_GATEWAY(gw, {std::string("--jwt_secret=") + kSecret});
  const int port = gw->http_port();
  ExpectRefusedBothWays(port, "alice", Hs256("alice", -100), "token_expired");
  ExpectRefusedBothWays(port, "alice",
                        Hs256("alice", 600, ",\"nbf\":" + std::to_string(UnixNow() + 3600)),
                        "token_not_yet_valid");
  ExpectRefusedBothWays(port, "alice", MintToken("HS256", kOtherSecret, ClaimsJson("alice", 600)),
                        "token_bad_signature");
  ExpectRefusedBothWays(port, "alice", MintToken("none", "", ClaimsJson("alice", 600)),
                        "token_wrong_algorithm");
  ExpectRefusedBothWays(port, "alice", Hs256("bob", 600), "token_wrong_sub");
  ExpectRefusedBothWays(port, "alice", MintToken("HS256", kSecret, "{\"exp\":99999999999}"),
                        "token_missing_sub");
  ExpectRefusedBothWays(port, "alice", Hs256("alice", 600, ",\"symbols\":\"AAPL\""),
                        "token_bad_claims");
  ExpectRefusedBothWays(port, "alice", "not-a-token", "token_malformed");

  boost::json::value stats = GetStats(port);
  for (std::string_view counter :
       {"auth_rejected_expired", "auth_rejected_not_yet_valid", "auth_rejected_bad_signature",
        "auth_rejected_wrong_algorithm", "auth_rejected_wrong_sub", "auth_rejected_missing_sub",
        "auth_rejected_bad_claims", "auth_rejected_malformed"}) {
    EXPECT_EQ(FindInt(stats, counter), 2) << counter << " " << Str(stats);
  }
  EXPECT_EQ(FindInt(stats, "ws_closed_auth_rejected"), 8) << Str(stats);
  // The secret reaches neither /stats, /metrics nor the log.
  HttpResponse metrics = HttpGet(port, "/metrics");
  EXPECT_NE(metrics.body.find("obgw_ws_auth_rejected_total{reason=\"token_expired\""),
            std::string::npos);
  EXPECT_EQ(metrics.body.find(kSecret), std::string::npos);
  EXPECT_EQ(Str(stats).find(kSecret), std::string::npos);
  EXPECT_EQ(gw->Output().find(kSecret), std::string::npos);
}

TEST(AuthTest, NoTokenMeansOnlyAuthIsAnswered) {
  OBGW_START_GATEWAY(gw, {std::string("--jwt_secret=") + kSecret});
  const int port = gw->http_port();
  WsTestClient client;
  ASSERT_TRUE(client.Connect(port, "alice")) << client.error();
  for (std::string_view text : {R"({"action":"subscribe","symbol":"AAPL","req_id":1})",
                                R"({"action":"ping"})", R"({"action":"list_subscriptions"})"}) {
    ASSERT_TRUE(client.SendText(text));
    std::optional<boost::json::object> reply = client.ReadJson();
    ASSERT_TRUE(reply) << client.error();
    EXPECT_EQ(Field(*reply, "code"), boost::json::value("unauthenticated")) << Str(*reply);
  }
  // Still open, and a valid auth message lets it in.
  std::optional<boost::json::object> ok = Authenticate(client, Hs256("alice", 600));
  ASSERT_TRUE(ok);
  EXPECT_EQ(Field(*ok, "sub"), boost::json::value("alice"));
  ExpectReceivesBook(port, client, "AAPL");
  EXPECT_EQ(FindInt(GetStats(port), "auth_unauthenticated"), 3);
}

TEST(AuthTest, ValidTokensOfEachAlgorithmReceiveBooks) {
  TempFile rsa_key(Rsa().public_pem);
  TempFile ec_key(Ec().public_pem);
  {
    OBGW_START_GATEWAY(gw, {std::string("--jwt_secret=") + kSecret});
    WsTestClient client;
    ASSERT_TRUE(client.ConnectTarget(gw->http_port(), "/ws/alice?token=" + Hs256("alice", 600)))
        << client.error();
    ExpectReceivesBook(gw->http_port(), client, "AAPL");
    EXPECT_EQ(FindInt(GetStats(gw->http_port()), "auth_accepted"), 1);
  }
  {
    OBGW_START_GATEWAY(gw, {"--jwt_public_key_file=" + rsa_key.path()});
    const int port = gw->http_port();
    WsTestClient client;
    ASSERT_TRUE(client.Connect(port, "alice")) << client.error();
    ASSERT_TRUE(
        Authenticate(client, MintToken("RS256", Rsa().private_pem, ClaimsJson("alice", 600))));
    ExpectReceivesBook(port, client, "AAPL");
    // Algorithm confusion: HS256 "signed" with the public key's PEM.
    ExpectRefusedBothWays(port, "mallory",
                          MintToken("HS256", Rsa().public_pem, ClaimsJson("mallory", 600)),
                          "token_wrong_algorithm");
    ExpectRefusedBothWays(port, "mallory", MintToken("none", "", ClaimsJson("mallory", 600)),
                          "token_wrong_algorithm");
  }
  {
    OBGW_START_GATEWAY(gw, {"--jwt_public_key_file=" + ec_key.path()});
    WsTestClient client;
    ASSERT_TRUE(client.ConnectTarget(
        gw->http_port(),
        "/ws/alice?token=" + MintToken("ES256", Ec().private_pem, ClaimsJson("alice", 600))))
        << client.error();
    ExpectReceivesBook(gw->http_port(), client, "AAPL");
  }
}

TEST(AuthTest, JwksPicksTheKeyByKid) {
  static const TestKeyPair second_rsa = GenerateRsaKey();
  TempFile jwks("{\"keys\":[" + PublicJwk(Rsa(), "2026-01") + "," +
                PublicJwk(second_rsa, "2026-02") + "," + PublicJwk(Ec(), "ec-1") + "]}");
  OBGW_START_GATEWAY(gw, {"--jwt_jwks_file=" + jwks.path()});
  const int port = gw->http_port();
  // Rotation: tokens of the old and the new key are both accepted.
  for (auto [key, kid, alg] :
       {std::tuple{&Rsa(), "2026-01", "RS256"}, std::tuple{&second_rsa, "2026-02", "RS256"},
        std::tuple{&Ec(), "ec-1", "ES256"}}) {
    // A client_id per key: the same one would get its session back.
    const std::string id = std::string("user-") + kid;
    WsTestClient client;
    ASSERT_TRUE(client.ConnectTarget(
        port, "/ws/" + id + "?token=" + MintToken(alg, key->private_pem, ClaimsJson(id, 600), kid)))
        << kid << ": " << client.error();
    ExpectReceivesBook(port, client, "AAPL");
    ASSERT_TRUE(client.Close());
    EXPECT_EQ(FindInt(WaitForStat(port, "active_connections", 0), "active_connections"), 0);
    // The hub has counted the unsubscription too: the next book has one subscriber.
    EXPECT_EQ(FindInt(WaitForStat(port, "symbols", 0), "symbols"), 0);
  }
  ExpectRefusedBothWays(port, "alice",
                        MintToken("RS256", Rsa().private_pem, ClaimsJson("alice", 600), "2025-12"),
                        "token_unknown_key");
  ExpectRefusedBothWays(port, "alice",
                        MintToken("RS256", Rsa().private_pem, ClaimsJson("alice", 600), "2026-02"),
                        "token_bad_signature");
  ExpectRefusedBothWays(port, "alice",
                        MintToken("HS256", Rsa().public_pem, ClaimsJson("alice", 600), "2026-01"),
                        "token_wrong_algorithm");
}

TEST(AuthTest, BadKeyConfigurationFailsAtStart) {
  TempFile private_key(Rsa().private_pem);
  for (std::vector<std::string> args :
       {std::vector<std::string>{"--jwt_secret=short"},
        std::vector<std::string>{"--jwt_public_key_file=" + private_key.path()},
        std::vector<std::string>{"--jwt_public_key_file=/nonexistent/key.pem"},
        std::vector<std::string>{"--jwt_jwks_file=" + private_key.path()}}) {
    std::string error;
    auto gw = StartGateway(args, &error);
    EXPECT_EQ(gw, nullptr) << args[0];
    EXPECT_EQ(error.find("BEGIN"), std::string::npos) << "a key leaked: " << error;
    EXPECT_EQ(error.find("=short"), std::string::npos) << "the secret leaked: " << error;
  }
}

TEST(AuthTest, ForbiddenSymbolKeepsTheConnection) {
  OBGW_START_GATEWAY(gw, {std::string("--jwt_secret=") + kSecret});
  const int port = gw->http_port();
  WsTestClient client;
  ASSERT_TRUE(client.ConnectTarget(
      port, "/ws/alice?token=" + Hs256("alice", 600, ",\"symbols\":[\"AAPL\",\"US.*\"]")))
      << client.error();
  ASSERT_TRUE(client.SendText(R"({"action":"subscribe","symbols":["MSFT","US.IBM"],"req_id":4})"));
  std::optional<boost::json::object> first = ReadReply(client);
  ASSERT_TRUE(first) << client.error();
  EXPECT_EQ(Field(*first, "code"), boost::json::value("forbidden")) << Str(*first);
  EXPECT_EQ(Field(*first, "symbol"), boost::json::value("MSFT")) << Str(*first);
  EXPECT_EQ(Field(*first, "req_id"), boost::json::value(4)) << Str(*first);
  std::optional<boost::json::object> second = ReadReply(client);
  ASSERT_TRUE(second) << client.error();
  EXPECT_EQ(TypeOf(*second), "subscription_confirmed") << Str(*second);
  EXPECT_EQ(Field(*second, "symbol"), boost::json::value("US.IBM")) << Str(*second);
  // The connection still works.
  ExpectReceivesBook(port, client, "AAPL");
  EXPECT_EQ(FindInt(GetStats(port), "auth_forbidden_symbols"), 1);
  // A refresh with a narrower claim unsubscribes what it no longer allows.
  ASSERT_TRUE(Authenticate(client, Hs256("alice", 600, ",\"symbols\":[\"AAPL\"]")));
  std::optional<boost::json::object> revoked = ReadReply(client);
  ASSERT_TRUE(revoked) << client.error();
  EXPECT_EQ(TypeOf(*revoked), "unsubscription_confirmed") << Str(*revoked);
  EXPECT_EQ(Field(*revoked, "symbol"), boost::json::value("US.IBM")) << Str(*revoked);
  ASSERT_TRUE(client.SendText(R"({"action":"list_subscriptions"})"));
  std::optional<boost::json::object> list = ReadReply(client);
  ASSERT_TRUE(list) << client.error();
  EXPECT_EQ(Field(*list, "symbols"), boost::json::parse(R"(["AAPL"])")) << Str(*list);
}

TEST(AuthTest, AuthDeadlineClosesWith1008) {
  OBGW_START_GATEWAY(gw, {std::string("--jwt_secret=") + kSecret, "--auth_timeout_ms=300"});
  RawWsClient client;
  ASSERT_TRUE(client.Connect(gw->http_port(), "/ws/alice")) << client.error();
  std::optional<RawWsClient::Frame> frame = client.ReadFrame(std::chrono::seconds(5));
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->opcode, 0x8);
  EXPECT_EQ(frame->close_code(), 1008);
  EXPECT_EQ(frame->close_reason(), "auth timeout");
  EXPECT_EQ(
      FindInt(WaitForStat(gw->http_port(), "ws_closed_auth_timeout", 1), "ws_closed_auth_timeout"),
      1);
}

TEST(AuthTest, ExpiryClosesAnOpenConnectionUnlessRefreshed) {
  // One shard, so every connection is checked by the same sweeps; no leeway.
  OBGW_START_GATEWAY(gw,
                     {std::string("--jwt_secret=") + kSecret, "--jwt_leeway_s=0", "--threads=1"});
  const int port = gw->http_port();
  WsTestClient expiring, refreshed, later;
  ASSERT_TRUE(expiring.ConnectTarget(port, "/ws/a?token=" + Hs256("a", 2)));
  ASSERT_TRUE(refreshed.ConnectTarget(port, "/ws/b?token=" + Hs256("b", 2)));
  ASSERT_TRUE(later.ConnectTarget(port, "/ws/c?token=" + Hs256("c", 4)));
  // b refreshes at once: its new token is valid for 10 minutes.
  std::optional<boost::json::object> ok = Authenticate(refreshed, Hs256("b", 600));
  ASSERT_TRUE(ok);
  EXPECT_GE(Field(*ok, "exp").to_number<long long>(), UnixNow() + 590) << Str(*ok);
  ASSERT_TRUE(expiring.WaitForClose(std::chrono::seconds(10)));
  EXPECT_EQ(expiring.close_code(), 1008);
  EXPECT_EQ(expiring.close_reason(), "token expired");
  // c's token ends two seconds after b's first one: by then b's old expiry
  // has been swept past more than once.
  ASSERT_TRUE(later.WaitForClose(std::chrono::seconds(10)));
  EXPECT_EQ(later.close_reason(), "token expired");
  ASSERT_TRUE(refreshed.SendText(R"({"action":"ping"})"));
  std::optional<boost::json::object> pong = refreshed.ReadJson();
  ASSERT_TRUE(pong) << refreshed.error();
  EXPECT_EQ(TypeOf(*pong), "pong");
  EXPECT_EQ(FindInt(GetStats(port), "ws_closed_token_expired"), 2);
}

TEST(AuthTest, SessionIsRestoredOnlyOnceAuthenticatedAndFiltered) {
  OBGW_START_GATEWAY(gw, {std::string("--jwt_secret=") + kSecret});
  const int port = gw->http_port();
  {
    WsTestClient first;
    ASSERT_TRUE(first.ConnectTarget(port, "/ws/alice?token=" + Hs256("alice", 600)));
    std::string error;
    ASSERT_TRUE(Subscribe(first, "AAPL", &error)) << error;
    ASSERT_TRUE(Subscribe(first, "MSFT", &error)) << error;
    ASSERT_TRUE(first.Close());
    // The store has closed the connection before the gauge drops.
    EXPECT_EQ(FindInt(WaitForStat(port, "active_connections", 0), "active_connections"), 0);
  }
  WsTestClient second;
  ASSERT_TRUE(second.Connect(port, "alice")) << second.error();
  // Nothing of alice's session before the token: the first message answered
  // is the unauthenticated ping.
  ASSERT_TRUE(second.SendText(R"({"action":"ping"})"));
  std::optional<boost::json::object> refused = second.ReadJson();
  ASSERT_TRUE(refused) << second.error();
  EXPECT_EQ(Field(*refused, "code"), boost::json::value("unauthenticated")) << Str(*refused);
  ASSERT_TRUE(Authenticate(second, Hs256("alice", 600, ",\"symbols\":[\"AAPL\"]")));
  std::optional<boost::json::object> restored = second.ReadJson();
  ASSERT_TRUE(restored) << second.error();
  EXPECT_EQ(TypeOf(*restored), "session_restored") << Str(*restored);
  EXPECT_EQ(Field(*restored, "symbols"), boost::json::parse(R"(["AAPL"])")) << Str(*restored);
}

TEST(AuthTest, AuthMessageWithAuthOffIsAnUnknownAction) {
  OBGW_START_GATEWAY(gw, {});
  WsTestClient client;
  ASSERT_TRUE(client.Connect(gw->http_port(), "alice")) << client.error();
  ASSERT_TRUE(client.SendText(R"({"action":"auth","token":"x.y.z"})"));
  std::optional<boost::json::object> reply = client.ReadJson();
  ASSERT_TRUE(reply) << client.error();
  EXPECT_EQ(Field(*reply, "code"), boost::json::value("unknown_action")) << Str(*reply);
  EXPECT_EQ(Field(*reply, "message"), boost::json::value("Unknown action: auth")) << Str(*reply);
}

TEST(AuthTest, PythonMintingExampleWorks) {
  OBGW_START_GATEWAY(gw, {std::string("--jwt_secret=") + kSecret});
  std::string error;
  auto mint = Process::Spawn("/usr/bin/python3",
                             {std::string(OBGW_SOURCE_DIR) + "/docs/examples/mint_token.py",
                              "carol", "--symbols", "AAPL,US.*", "--ttl", "120"},
                             &error, {std::string("JWT_SECRET=") + kSecret});
  ASSERT_NE(mint, nullptr) << error;
  ASSERT_TRUE(mint->WaitForOutputEnd(std::chrono::seconds(20)));
  ASSERT_EQ(mint->WaitForExit(std::chrono::seconds(5)), 0) << mint->Output();
  std::string token = mint->Output();
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  WsTestClient client;
  ASSERT_TRUE(client.ConnectTarget(gw->http_port(), "/ws/carol?token=" + token))
      << client.error() << " " << token;
  ExpectReceivesBook(gw->http_port(), client, "AAPL");
  ASSERT_TRUE(client.SendText(R"({"action":"subscribe","symbol":"MSFT"})"));
  std::optional<boost::json::object> reply = ReadReply(client);
  ASSERT_TRUE(reply) << client.error();
  EXPECT_EQ(Field(*reply, "code"), boost::json::value("forbidden")) << Str(*reply);
}

}  // namespace
}  // namespace obgw::testing
