// HTTP/1.1 as RFC 9110 and RFC 9112 require of a server, on the points a
// health checker or a strict client relies on: Host, HEAD, Allow. Requests
// are written byte for byte so the test controls every header.

#include <string>

#include <gtest/gtest.h>

#include "gateway_process.h"
#include "http_test_client.h"
#include "test_util.h"

namespace obgw::testing {
namespace {

TEST(HttpConformanceTest, Http11WithoutHostIs400) {
  OBGW_START_GATEWAY(gw, {});
  HttpResponse response = RawHttpExchange(gw->http_port(), "GET /health HTTP/1.1\r\n\r\n");
  EXPECT_EQ(response.status, 400) << response.Describe();
  ExpectErrorBody(response, "bad_request");
}

TEST(HttpConformanceTest, DuplicateHostIs400) {
  OBGW_START_GATEWAY(gw, {});
  for (std::string version : {"1.1", "1.0"}) {
    HttpResponse response =
        RawHttpExchange(gw->http_port(), "GET /health HTTP/" + version +
                                             "\r\nHost: a.example\r\nHost: b.example\r\n\r\n");
    EXPECT_EQ(response.status, 400) << "HTTP/" << version << ": " << response.Describe();
    ExpectErrorBody(response, "bad_request");
  }
}

TEST(HttpConformanceTest, Http10WithoutHostIsServed) {
  OBGW_START_GATEWAY(gw, {});
  HttpResponse response = RawHttpExchange(gw->http_port(), "GET /health HTTP/1.0\r\n\r\n");
  EXPECT_EQ(response.status, 200) << response.Describe();
  EXPECT_TRUE(response.Json().is_object()) << response.Describe();
}

// HEAD answers like GET, same headers, no body; the connection stays usable,
// which it would not if body bytes followed the headers.
void ExpectHeadLikeGet(int port, const std::string& target) {
  HttpConnection connection(port);
  ASSERT_TRUE(connection.Send("HEAD " + target + " HTTP/1.1\r\nHost: test\r\n\r\n"))
      << connection.error();
  HttpResponse head = connection.Read(/*to_head=*/true);
  ASSERT_EQ(head.status, 200) << target << ": " << head.Describe();
  EXPECT_TRUE(head.body.empty()) << head.Describe();
  EXPECT_NE(head.Header("content-type").find("application/json"), std::string::npos);
  ASSERT_FALSE(head.Header("content-length").empty()) << head.Describe();

  ASSERT_TRUE(connection.Send("GET " + target + " HTTP/1.1\r\nHost: test\r\n\r\n"))
      << connection.error();
  HttpResponse get = connection.Read();
  ASSERT_EQ(get.status, 200) << target << " after HEAD: " << get.Describe();
  EXPECT_TRUE(get.Json().is_object()) << get.Describe();
  // A fresh gateway: the counters in the body keep their number of digits
  // from one request to the next, so the lengths match exactly.
  EXPECT_EQ(head.Header("content-length"), std::to_string(get.body.size()))
      << "HEAD " << target << " vs GET body " << get.body;
  EXPECT_EQ(head.Header("content-type"), get.Header("content-type"));

  ASSERT_TRUE(connection.Send("HEAD " + target +
                              " HTTP/1.1\r\nHost: test\r\n"
                              "Connection: close\r\n\r\n"))
      << connection.error();
  HttpResponse last = connection.Read(/*to_head=*/true);
  EXPECT_EQ(last.status, 200) << last.Describe();
  // Nothing after the headers: the server hangs up without another byte.
  EXPECT_TRUE(connection.WaitForClose()) << connection.error();
}

TEST(HttpConformanceTest, HeadOnHealthIsGetWithoutBody) {
  OBGW_START_GATEWAY(gw, {});
  ExpectHeadLikeGet(gw->http_port(), "/health");
}

TEST(HttpConformanceTest, HeadOnStatsIsGetWithoutBody) {
  OBGW_START_GATEWAY(gw, {});
  ExpectHeadLikeGet(gw->http_port(), "/stats");
}

TEST(HttpConformanceTest, OtherMethodOnGetRouteIs405AllowingGetAndHead) {
  OBGW_START_GATEWAY(gw, {});
  for (const char* target : {"/health", "/stats"}) {
    HttpResponse response = HttpRequest(gw->http_port(), "POST", target, "");
    EXPECT_EQ(response.status, 405) << target << ": " << response.Describe();
    EXPECT_EQ(response.Header("allow"), "GET, HEAD") << target << ": " << response.Describe();
    ExpectErrorBody(response, "method_not_allowed");
  }
}

TEST(HttpConformanceTest, HeadOnPostRouteIs405AllowingPost) {
  OBGW_START_GATEWAY(gw, {});
  HttpConnection connection(gw->http_port());
  ASSERT_TRUE(
      connection.Send("HEAD /broadcast/orderbook?symbol=AAPL HTTP/1.1\r\nHost: test\r\n\r\n"
                      "GET /health HTTP/1.1\r\nHost: test\r\n\r\n"))
      << connection.error();
  HttpResponse head = connection.Read(/*to_head=*/true);
  EXPECT_EQ(head.status, 405) << head.Describe();
  EXPECT_EQ(head.Header("allow"), "POST") << head.Describe();
  EXPECT_TRUE(head.body.empty()) << head.Describe();
  HttpResponse next = connection.Read();
  EXPECT_EQ(next.status, 200) << next.Describe();
}

}  // namespace
}  // namespace obgw::testing
