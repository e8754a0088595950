#include "gateway/redis/redis_url.h"

#include <gtest/gtest.h>

namespace obgw::gateway {
namespace {

TEST(RedisUrlTest, HostAloneTakesTheDefaults) {
  auto endpoint = ParseRedisUrl("redis://localhost");
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  EXPECT_EQ(endpoint->host, "localhost");
  EXPECT_EQ(endpoint->port, 6379);
  EXPECT_EQ(endpoint->db, 0);
  EXPECT_TRUE(endpoint->password.empty());
  EXPECT_EQ(endpoint->Redacted(), "redis://localhost:6379");
}

TEST(RedisUrlTest, PasswordPortAndDatabase) {
  auto endpoint = ParseRedisUrl("redis://:s3cret@redis:6380/3");
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  EXPECT_EQ(endpoint->host, "redis");
  EXPECT_EQ(endpoint->port, 6380);
  EXPECT_EQ(endpoint->db, 3);
  EXPECT_EQ(endpoint->user, "");
  EXPECT_EQ(endpoint->password, "s3cret");
  EXPECT_EQ(endpoint->Redacted(), "redis://:***@redis:6380/3");
}

TEST(RedisUrlTest, UserPasswordIpv4AndPercentEncoding) {
  auto endpoint = ParseRedisUrl("redis://app:p%40ss@10.0.0.7:1/0");
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  EXPECT_EQ(endpoint->user, "app");
  EXPECT_EQ(endpoint->password, "p@ss");
  EXPECT_EQ(endpoint->host, "10.0.0.7");
  EXPECT_EQ(endpoint->port, 1);
  EXPECT_EQ(endpoint->Redacted(), "redis://app:***@10.0.0.7:1");
}

TEST(RedisUrlTest, Ipv6Host) {
  auto endpoint = ParseRedisUrl("redis://[::1]:7000/");
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  EXPECT_EQ(endpoint->host, "::1");
  EXPECT_EQ(endpoint->port, 7000);
  EXPECT_EQ(endpoint->Redacted(), "redis://[::1]:7000");
}

TEST(RedisUrlTest, BadUrlsSayWhatIsWrongInOneLine) {
  struct Case {
    const char* url;
    const char* expected;
  };
  for (const Case& c :
       {Case{"http://redis:6379", "scheme 'http'"},
        Case{"rediss://redis", "rediss:// (TLS) is not supported"},
        Case{"redis://redis:99999", "port '99999'"}, Case{"redis://redis:0", "port '0'"},
        Case{"redis://redis/abc", "database 'abc' is not a number"},
        Case{"redis://redis/-1", "database '-1'"}, Case{"redis://redis/1/2", "database '1/2'"},
        Case{"redis://", "no host"}, Case{"redis://user@redis", "without a password"},
        Case{"redis://redis?db=1", "query"}, Case{"not a url", "not a URL"},
        Case{"", "not a URL"}}) {
    auto endpoint = ParseRedisUrl(c.url);
    ASSERT_FALSE(endpoint.ok()) << c.url;
    std::string message(endpoint.status().message());
    EXPECT_NE(message.find(c.expected), std::string::npos) << c.url << ": " << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    EXPECT_EQ(message.rfind("redis URL: ", 0), 0u) << message;
  }
}

TEST(RedisUrlTest, RedissSaysWhyAndWhatToUseInstead) {
  auto endpoint = ParseRedisUrl("rediss://:hunter2@redis:6380");
  ASSERT_FALSE(endpoint.ok());
  std::string message(endpoint.status().message());
  EXPECT_NE(message.find("hiredis 0.14"), std::string::npos) << message;
  EXPECT_NE(message.find("stunnel"), std::string::npos) << message;
  EXPECT_NE(message.find("hiredis >= 1.0"), std::string::npos) << message;
  EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
}

TEST(RedisUrlTest, UserWithPasswordAndTheRedactedFormNeverShowsIt) {
  auto endpoint = ParseRedisUrl("redis://gateway:hunter2@redis");
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  EXPECT_EQ(endpoint->user, "gateway");
  EXPECT_EQ(endpoint->password, "hunter2");
  EXPECT_EQ(endpoint->port, 6379);
  EXPECT_EQ(endpoint->Redacted(), "redis://gateway:***@redis:6379");
}

TEST(RedisUrlTest, ErrorsNeverShowThePassword) {
  for (const char* url :
       {"redis://:hunter2@redis:99999", "redis://u:hunter2@redis/x", "redis://u:hunter2@redis:bad",
        "ftp://u:hunter2@redis", "rediss://u:hunter2@redis"}) {
    auto endpoint = ParseRedisUrl(url);
    ASSERT_FALSE(endpoint.ok()) << url;
    EXPECT_EQ(endpoint.status().message().find("hunter2"), std::string::npos) << endpoint.status();
  }
}

}  // namespace
}  // namespace obgw::gateway
