#include "gateway/auth/publish_tokens.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace obgw::gateway {
namespace {

const std::string kOld = "old-token-0123456789abcdef";
const std::string kNew = "new-token-fedcba9876543210";

TEST(PublishTokensTest, EveryConfiguredTokenMatchesAndNothingElse) {
  auto tokens = PublishTokens::Create({kOld, kNew});
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_EQ(tokens->size(), 2u);
  EXPECT_TRUE(tokens->Matches(kOld));
  EXPECT_TRUE(tokens->Matches(kNew));
  EXPECT_FALSE(tokens->Matches(""));
  EXPECT_FALSE(tokens->Matches(kOld.substr(0, kOld.size() - 1)));  // A prefix.
  EXPECT_FALSE(tokens->Matches(kOld + "x"));                       // An extension.
  std::string flipped = kNew;
  flipped.back() = '1';
  EXPECT_FALSE(tokens->Matches(flipped));
  EXPECT_FALSE(tokens->Matches("OLD-TOKEN-0123456789ABCDEF"));  // Case matters.
}

TEST(PublishTokensTest, BadTokensFailByPositionWithoutShowingThem) {
  struct Case {
    std::vector<std::string> tokens;
    const char* expected;
  };
  const std::string secret = "hunter2-hunter2-hunter2";
  for (const Case& c : {
           Case{{}, "no token"},
           Case{{secret, ""}, "token 2 of 2 is empty"},
           Case{{"short-hunter2"}, "token 1 of 1 is shorter than 16"},
           Case{{secret, secret + " x"}, "token 2 of 2 has a space"},
           Case{{"hunter2-hunter2\x01-x"}, "control"},
           Case{{"hunter2-hunter2-\xc3\xa9"}, "non-ASCII"},
       }) {
    auto tokens = PublishTokens::Create(c.tokens);
    ASSERT_FALSE(tokens.ok()) << c.expected;
    std::string message(tokens.status().message());
    EXPECT_NE(message.find(c.expected), std::string::npos) << message;
    EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

TEST(PublishTokensTest, BearerTokenTakesTheSchemeInAnyCase) {
  EXPECT_EQ(BearerToken("Bearer abc"), "abc");
  EXPECT_EQ(BearerToken("bearer abc"), "abc");
  EXPECT_EQ(BearerToken("BEARER   abc  "), "abc");
  EXPECT_EQ(BearerToken("Bearer"), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer "), std::nullopt);
  EXPECT_EQ(BearerToken("Bearerabc"), std::nullopt);
  EXPECT_EQ(BearerToken("Basic YWJjOmRlZg=="), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer a b"), std::nullopt);
  EXPECT_EQ(BearerToken("abc"), std::nullopt);
  EXPECT_EQ(BearerToken(""), std::nullopt);
}

}  // namespace
}  // namespace obgw::gateway
