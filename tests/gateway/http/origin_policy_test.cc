#include "gateway/http/origin_policy.h"

#include <gtest/gtest.h>

namespace obgw::gateway {
namespace {

namespace http = boost::beast::http;

HttpRequest Upgrade(std::initializer_list<std::string_view> origins) {
  HttpRequest request{http::verb::get, "/ws/a", 11};
  for (std::string_view origin : origins) request.insert(http::field::origin, origin);
  return request;
}

TEST(OriginPolicyTest, NormalizesWhatBrowsersSend) {
  EXPECT_EQ(NormalizeOrigin("https://App.Example.com"), "https://app.example.com");
  EXPECT_EQ(NormalizeOrigin("HTTP://localhost:8002"), "http://localhost:8002");
  EXPECT_EQ(NormalizeOrigin("https://[::1]:443"), "https://[::1]:443");
}

TEST(OriginPolicyTest, RefusesWhatIsNotAnOrigin) {
  for (std::string_view bad :
       {"", "null", "app.example.com", "https://app.example.com/", "https://app.example.com/page",
        "https://user@app.example.com", "https://app.example.com?x=1", "ftp://app.example.com",
        "file:///etc/passwd", "https://"}) {
    EXPECT_EQ(NormalizeOrigin(bad), std::nullopt) << bad;
  }
}

TEST(OriginPolicyTest, AllowsListedOriginsOnly) {
  const std::vector<std::string> allowed = {"https://app.example.com", "http://localhost:8002"};
  EXPECT_TRUE(OriginAllowed(allowed, true, Upgrade({"https://app.example.com"})));
  EXPECT_TRUE(OriginAllowed(allowed, true, Upgrade({"https://APP.example.com"})));
  EXPECT_TRUE(OriginAllowed(allowed, true, Upgrade({"http://localhost:8002"})));
  EXPECT_FALSE(OriginAllowed(allowed, true, Upgrade({"https://evil.example"})));
  EXPECT_FALSE(OriginAllowed(allowed, true, Upgrade({"http://app.example.com"})));
  EXPECT_FALSE(OriginAllowed(allowed, true, Upgrade({"https://app.example.com:444"})));
  EXPECT_FALSE(OriginAllowed(allowed, true, Upgrade({"null"})));
  EXPECT_FALSE(
      OriginAllowed(allowed, true, Upgrade({"https://app.example.com", "https://evil.example"})));
}

TEST(OriginPolicyTest, MissingOriginFollowsItsFlag) {
  const std::vector<std::string> allowed = {"https://app.example.com"};
  EXPECT_TRUE(OriginAllowed(allowed, true, Upgrade({})));
  EXPECT_FALSE(OriginAllowed(allowed, false, Upgrade({})));
  EXPECT_FALSE(OriginAllowed({}, false, Upgrade({})));
}

TEST(OriginPolicyTest, NoListAllowsAnyOrigin) {
  EXPECT_TRUE(OriginAllowed({}, true, Upgrade({"https://anything.example"})));
  EXPECT_TRUE(OriginAllowed({}, true, Upgrade({"null"})));
}

}  // namespace
}  // namespace obgw::gateway
