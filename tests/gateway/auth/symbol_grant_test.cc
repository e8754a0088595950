#include "gateway/auth/symbol_grant.h"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

namespace obgw::gateway {
namespace {

std::optional<SymbolGrant> Grant(std::string_view json) {
  return SymbolGrant::FromClaim(boost::json::parse(json).as_array());
}

TEST(SymbolGrantTest, UnrestrictedAllowsEverything) {
  SymbolGrant grant = SymbolGrant::Unrestricted();
  EXPECT_TRUE(grant.unrestricted());
  EXPECT_TRUE(grant.Allows("AAPL"));
}

TEST(SymbolGrantTest, ExactNamesAndPrefixPatterns) {
  std::optional<SymbolGrant> grant = Grant(R"(["AAPL","US.*","BTC:USD"])");
  ASSERT_TRUE(grant);
  EXPECT_FALSE(grant->unrestricted());
  EXPECT_TRUE(grant->Allows("AAPL"));
  EXPECT_TRUE(grant->Allows("BTC:USD"));
  EXPECT_TRUE(grant->Allows("US.AAPL"));
  EXPECT_TRUE(grant->Allows("US.X"));
  // The prefix alone, a longer exact name, and case all differ.
  EXPECT_FALSE(grant->Allows("US."));
  EXPECT_FALSE(grant->Allows("US"));
  EXPECT_FALSE(grant->Allows("AAPL2"));
  EXPECT_FALSE(grant->Allows("aapl"));
  EXPECT_FALSE(grant->Allows("HK.00700"));
}

TEST(SymbolGrantTest, StarAloneAllowsAllAndEmptyNothing) {
  EXPECT_TRUE(Grant(R"(["*"])")->Allows("ANY"));
  std::optional<SymbolGrant> none = Grant("[]");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->Allows("AAPL"));
}

TEST(SymbolGrantTest, BadEntriesRefuseTheClaim) {
  for (std::string_view json :
       {R"([1])", R"([null])", R"([""])", R"(["A B"])", R"(["US*"])", R"(["*.US"])", R"(["US.**"])",
        R"([".*"])", R"(["US.*.X"])", R"([["AAPL"]])",
        R"(["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"])"}) {
    EXPECT_FALSE(Grant(json)) << json;
  }
  boost::json::array many;
  for (std::size_t i = 0; i <= SymbolGrant::kMaxEntries; ++i) many.emplace_back("AAPL");
  EXPECT_FALSE(SymbolGrant::FromClaim(many));
}

}  // namespace
}  // namespace obgw::gateway
