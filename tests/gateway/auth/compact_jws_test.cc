#include "gateway/auth/compact_jws.h"

#include <gtest/gtest.h>

namespace obgw::gateway {
namespace {

TEST(CompactJwsTest, DecodesUnpaddedBase64Url) {
  EXPECT_EQ(DecodeBase64Url(""), "");
  EXPECT_EQ(DecodeBase64Url("Zg"), "f");
  EXPECT_EQ(DecodeBase64Url("Zm8"), "fo");
  EXPECT_EQ(DecodeBase64Url("Zm9v"), "foo");
  EXPECT_EQ(DecodeBase64Url("-_8"), "\xfb\xff");
  EXPECT_FALSE(DecodeBase64Url("Zg=="));  // padding is not JWS
  EXPECT_FALSE(DecodeBase64Url("Z"));     // impossible length
  EXPECT_FALSE(DecodeBase64Url("Zm+v"));  // the standard alphabet
  EXPECT_FALSE(DecodeBase64Url("Zm9v\n"));
}

TEST(CompactJwsTest, ParsesHeaderAndPayload) {
  // {"alg":"HS256"} . {"sub":"a"} . "sig"
  std::optional<CompactJws> jws = ParseCompactJws("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln");
  ASSERT_TRUE(jws);
  EXPECT_EQ(jws->header.at("alg"), "HS256");
  EXPECT_EQ(jws->payload.at("sub"), "a");
  // An empty signature part (alg none) parses; its refusal is the verifier's.
  EXPECT_TRUE(ParseCompactJws("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0."));
}

TEST(CompactJwsTest, RefusesOtherShapes) {
  for (std::string_view token :
       {"", ".", "..", "e30.e30", "e30.e30.c2ln.x", ".e30.c2ln", "e30..c2ln",
        "e30.e30.c2l=", "WzFd.e30.c2ln", "e30.bnVsbA.c2ln", "e30.e30 .c2ln"}) {
    EXPECT_FALSE(ParseCompactJws(token)) << token;
  }
}

}  // namespace
}  // namespace obgw::gateway
