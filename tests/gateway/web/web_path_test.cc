#include "gateway/web/web_path.h"

#include <gtest/gtest.h>

namespace obgw::gateway::web {
namespace {

TEST(RelativeWebPathTest, NamesTheFileUnderTheRoot) {
  EXPECT_EQ(RelativeWebPath("/"), "index.html");
  EXPECT_EQ(RelativeWebPath("/index.html"), "index.html");
  EXPECT_EQ(RelativeWebPath("/client/orderbook-client.js"), "client/orderbook-client.js");
  EXPECT_EQ(RelativeWebPath("/a.b/c..d"), "a.b/c..d");  // dots inside a name are fine
}

TEST(RelativeWebPathTest, RefusesEveryWayOut) {
  // Decoded paths: "%2e%2e" arrives as "..", "%5c" as "\".
  for (std::string_view bad :
       {"", "index.html", "/..", "/../etc/passwd", "/client/../../x", "/client/..", "/./index.html",
        "/.", "/.env", "/client/.git/x", "//etc/passwd", "/client//x", "/client/", "/a\\b",
        "/..\\..\\windows", "/ctl\x01", "/del\x7f"}) {
    EXPECT_EQ(RelativeWebPath(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(RelativeWebPath(std::string_view("/index.html\0.js", 15)), std::nullopt);
}

TEST(ContentTypeForTest, ByExtension) {
  EXPECT_EQ(ContentTypeFor("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("/app.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("m.mjs"), "text/javascript; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("style.css"), "text/css; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("a.svg"), "image/svg+xml");
  EXPECT_EQ(ContentTypeFor("a.png"), "image/png");
  EXPECT_EQ(ContentTypeFor("a.json"), "application/json");
  EXPECT_EQ(ContentTypeFor("a.js.map"), "application/json");
  EXPECT_EQ(ContentTypeFor("client/orderbook-client.d.ts"),
            "application/typescript; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("README"), "application/octet-stream");
  EXPECT_EQ(ContentTypeFor(".js"), "application/octet-stream");  // no name, only an extension
}

}  // namespace
}  // namespace obgw::gateway::web
