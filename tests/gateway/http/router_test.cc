#include "gateway/http/router.h"

#include <string>

#include <gtest/gtest.h>
#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>

namespace obgw::gateway {
namespace {

namespace http = boost::beast::http;

HttpRequest Request(http::verb method, std::string target, unsigned version = 11) {
  HttpRequest request(method, target, version);
  request.set(http::field::host, "test");
  return request;
}

std::string CodeOf(const HttpReply& reply) {
  return std::string(boost::json::parse(reply.body).at("code").as_string());
}

std::string AllowOf(const HttpReply& reply) {
  for (const auto& [field, value] : reply.headers) {
    if (field == http::field::allow) return value;
  }
  return "";
}

TEST(RouterTest, HeadGoesWhereGetGoes) {
  for (const char* path : {"/health", "/stats"}) {
    RouteDecision get = RouteRequest(Request(http::verb::get, path));
    RouteDecision head = RouteRequest(Request(http::verb::head, path));
    ASSERT_NE(get.route, nullptr) << path;
    EXPECT_EQ(head.route, get.route) << path;
    EXPECT_EQ(get.route->path, path);
  }
}

TEST(RouterTest, OtherMethodsOnGetRoutesAre405AllowingGetAndHead) {
  RouteDecision decision = RouteRequest(Request(http::verb::post, "/health"));
  ASSERT_TRUE(decision.refusal);
  EXPECT_EQ(decision.route, nullptr);
  EXPECT_EQ(decision.refusal->status, http::status::method_not_allowed);
  EXPECT_EQ(CodeOf(*decision.refusal), "method_not_allowed");
  EXPECT_EQ(AllowOf(*decision.refusal), "GET, HEAD");
  EXPECT_FALSE(decision.refusal->close);
  EXPECT_EQ(decision.refusal_counter, nullptr);
}

TEST(RouterTest, GetOnThePublishRouteIs405AllowingPostAndCountedAsRejected) {
  for (http::verb method : {http::verb::get, http::verb::head}) {
    RouteDecision decision = RouteRequest(Request(method, "/broadcast/orderbook?symbol=A"));
    ASSERT_TRUE(decision.refusal);
    EXPECT_EQ(decision.refusal->status, http::status::method_not_allowed);
    EXPECT_EQ(AllowOf(*decision.refusal), "POST");
    EXPECT_EQ(decision.refusal_counter, &ShardStats::rest_rejected);
  }
  EXPECT_NE(RouteRequest(Request(http::verb::post, "/broadcast/orderbook?symbol=A")).route,
            nullptr);
}

TEST(RouterTest, UnknownPathIs404) {
  RouteDecision decision = RouteRequest(Request(http::verb::get, "/healthz"));
  ASSERT_TRUE(decision.refusal);
  EXPECT_EQ(decision.refusal->status, http::status::not_found);
  EXPECT_EQ(CodeOf(*decision.refusal), "not_found");
}

TEST(RouterTest, Http11NeedsExactlyOneHost) {
  HttpRequest without_host(http::verb::get, "/health", 11);
  RouteDecision decision = RouteRequest(without_host);
  ASSERT_TRUE(decision.refusal);
  EXPECT_EQ(decision.refusal->status, http::status::bad_request);
  EXPECT_EQ(CodeOf(*decision.refusal), "bad_request");
  EXPECT_TRUE(decision.refusal->close);

  HttpRequest two_hosts = Request(http::verb::get, "/health", 10);
  two_hosts.insert(http::field::host, "other");
  decision = RouteRequest(two_hosts);
  ASSERT_TRUE(decision.refusal);
  EXPECT_EQ(decision.refusal->status, http::status::bad_request);

  HttpRequest http10(http::verb::get, "/health", 10);
  EXPECT_NE(RouteRequest(http10).route, nullptr);
}

HttpRequest Upgrade(std::string target) {
  HttpRequest request = Request(http::verb::get, std::move(target));
  request.set(http::field::connection, "Upgrade");
  request.set(http::field::upgrade, "websocket");
  request.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
  request.set(http::field::sec_websocket_version, "13");
  return request;
}

TEST(RouterTest, WebSocketUpgradeCarriesClientIdAndThrottle) {
  RouteDecision decision = RouteRequest(Upgrade("/ws/alice?throttle_ms=250"));
  ASSERT_TRUE(decision.upgrade);
  EXPECT_EQ(decision.upgrade->client_id, "alice");
  EXPECT_EQ(decision.upgrade->throttle, std::chrono::milliseconds(250));

  decision = RouteRequest(Upgrade("/ws/alice?throttle_ms=60001"));
  ASSERT_TRUE(decision.refusal);
  EXPECT_EQ(CodeOf(*decision.refusal), "invalid_throttle");
  EXPECT_TRUE(decision.refusal->close);

  decision = RouteRequest(Request(http::verb::get, "/ws/alice"));
  ASSERT_TRUE(decision.refusal);
  EXPECT_EQ(decision.refusal->status, http::status::upgrade_required);
}

TEST(RouterTest, WebSocketUpgradeRestoresTheSessionUnlessRestoreIsZero) {
  RouteDecision decision = RouteRequest(Upgrade("/ws/alice"));
  ASSERT_TRUE(decision.upgrade);
  EXPECT_TRUE(decision.upgrade->restore);
  decision = RouteRequest(Upgrade("/ws/alice?restore=1&throttle_ms=5"));
  ASSERT_TRUE(decision.upgrade);
  EXPECT_TRUE(decision.upgrade->restore);
  EXPECT_EQ(decision.upgrade->throttle, std::chrono::milliseconds(5));
  decision = RouteRequest(Upgrade("/ws/alice?restore=0"));
  ASSERT_TRUE(decision.upgrade);
  EXPECT_FALSE(decision.upgrade->restore);

  for (const char* bad : {"/ws/alice?restore=yes", "/ws/alice?restore=", "/ws/alice?restore=01"}) {
    decision = RouteRequest(Upgrade(bad));
    ASSERT_TRUE(decision.refusal) << bad;
    EXPECT_EQ(decision.refusal->status, http::status::bad_request) << bad;
    EXPECT_EQ(CodeOf(*decision.refusal), "invalid_restore") << bad;
    EXPECT_TRUE(decision.refusal->close) << bad;
  }
}

TEST(RouterTest, WebSocketUpgradeCarriesTheTokenAsGiven) {
  RouteDecision decision = RouteRequest(Upgrade("/ws/alice"));
  ASSERT_TRUE(decision.upgrade);
  EXPECT_FALSE(decision.upgrade->token);
  decision = RouteRequest(Upgrade("/ws/alice?throttle_ms=5&token=eyJh.eyJz.c2ln"));
  ASSERT_TRUE(decision.upgrade);
  EXPECT_EQ(decision.upgrade->token, "eyJh.eyJz.c2ln");
  EXPECT_EQ(decision.upgrade->throttle, std::chrono::milliseconds(5));
  // Present but empty: HttpSession's token check refuses it (token_malformed).
  decision = RouteRequest(Upgrade("/ws/alice?token="));
  ASSERT_TRUE(decision.upgrade);
  EXPECT_EQ(decision.upgrade->token, "");
}

}  // namespace
}  // namespace obgw::gateway
