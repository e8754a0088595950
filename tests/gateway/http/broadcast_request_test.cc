#include "gateway/http/broadcast_request.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace obgw::gateway {
namespace {

constexpr const char* kBook = R"({"bids":[[100.5,10,1]],"asks":[[100.6,5,2]]})";

TEST(BroadcastRequestTest, ValidRequestPasses) {
  BroadcastCheck check = CheckBroadcast(true, "AAPL", kBook);
  EXPECT_EQ(check.status, 0);
  EXPECT_TRUE(check.code.empty());
  EXPECT_TRUE(check.detail.empty());
}

TEST(BroadcastRequestTest, AbsentSymbolIs422) {
  BroadcastCheck check = CheckBroadcast(false, "", kBook);
  EXPECT_EQ(check.status, 422);
  EXPECT_EQ(check.code, "missing_symbol");
  EXPECT_FALSE(check.detail.empty());
}

TEST(BroadcastRequestTest, EmptySymbolIs422) {
  BroadcastCheck check = CheckBroadcast(true, "", kBook);
  EXPECT_EQ(check.status, 422);
  EXPECT_EQ(check.code, "missing_symbol");
}

TEST(BroadcastRequestTest, AbsentSymbolIgnoresTheValueArgument) {
  // has_symbol false wins even if a stale value is passed along.
  BroadcastCheck check = CheckBroadcast(false, "AAPL", kBook);
  EXPECT_EQ(check.status, 422);
  EXPECT_EQ(check.code, "missing_symbol");
}

TEST(BroadcastRequestTest, InvalidSymbolIs422) {
  for (const std::string& symbol :
       std::vector<std::string>{"A B", std::string(33, 'A'), "AAPL\"", "AAPL/X", "\xC3\x84PPL",
                                std::string("AA\0PL", 5), "AAPL\n"}) {
    BroadcastCheck check = CheckBroadcast(true, symbol, kBook);
    EXPECT_EQ(check.status, 422) << symbol;
    EXPECT_EQ(check.code, "invalid_symbol") << symbol;
    EXPECT_FALSE(check.detail.empty());
  }
}

TEST(BroadcastRequestTest, ValidSymbolsPass) {
  for (const std::string& symbol : std::vector<std::string>{
           "BRK.B", "BRK-B", "HK.00700", "BTC:USD", "US.AAPL", "a_b", std::string(32, 'Q')}) {
    EXPECT_EQ(CheckBroadcast(true, symbol, "{}").status, 0) << symbol;
  }
}

TEST(BroadcastRequestTest, SymbolIsCheckedBeforeBody) {
  EXPECT_EQ(CheckBroadcast(false, "", "garbage").status, 422);
  EXPECT_EQ(CheckBroadcast(true, "", "[1,2]").status, 422);
  BroadcastCheck check = CheckBroadcast(true, "A B", "not json");
  EXPECT_EQ(check.status, 422);
  EXPECT_EQ(check.code, "invalid_symbol");
}

TEST(BroadcastRequestTest, MalformedBodyIs400InvalidJson) {
  for (const std::string& body :
       std::vector<std::string>{"", "   ", "garbage", "{", R"({"bids":[[1,2,3]])", R"({"a":1,})",
                                "{'a':1}", R"({"a":tru})", "{a:1}", R"({"a":"unterminated})",
                                R"({"a":1} // comment)", "{\"a\":\"\xFF\"}" /* invalid UTF-8 */}) {
    BroadcastCheck check = CheckBroadcast(true, "AAPL", body);
    EXPECT_EQ(check.status, 400) << body;
    EXPECT_EQ(check.code, "invalid_json") << body;
    EXPECT_FALSE(check.detail.empty()) << body;
  }
}

TEST(BroadcastRequestTest, TrailingDataIs400InvalidJson) {
  for (const std::string& body : std::vector<std::string>{"{}{}", R"({"a":1} {"b":2})", "{} x",
                                                          "{}]", R"({"a":1}")", "{}\n,"}) {
    BroadcastCheck check = CheckBroadcast(true, "AAPL", body);
    EXPECT_EQ(check.status, 400) << body;
    EXPECT_EQ(check.code, "invalid_json") << body;
  }
}

TEST(BroadcastRequestTest, NonObjectIs400NotAnObject) {
  for (const std::string& body :
       std::vector<std::string>{"[]", R"([{"bids":[]}])", "42", "-1.5e3", R"("a string")", "null",
                                "true", "false", " [ {} ] "}) {
    BroadcastCheck check = CheckBroadcast(true, "AAPL", body);
    EXPECT_EQ(check.status, 400) << body;
    EXPECT_EQ(check.code, "not_an_object") << body;
    EXPECT_FALSE(check.detail.empty()) << body;
  }
}

TEST(BroadcastRequestTest, ObjectsPass) {
  for (const std::string& body : std::vector<std::string>{
           "{}", kBook, R"({"a":{"b":{"c":[1,[2,[3,{"d":null}]]]}},"e":[]})",
           " \t\r\n{\"a\":1}\n\t ", R"({"name":"Tencent \u817e\u8baf","x":"\ud83d\ude00"})",
           "{\"name\":\"\xE8\x85\xBE\xE8\xAE\xAF\"}",
           R"({"n":-0.0,"m":1e308,"big":18446744073709551615})", R"({"dup":1,"dup":2})"}) {
    BroadcastCheck check = CheckBroadcast(true, "AAPL", body);
    EXPECT_EQ(check.status, 0) << body << ": " << check.detail;
    EXPECT_TRUE(check.code.empty()) << body;
  }
}

std::string Nested(int depth) {
  // An object whose innermost value sits `depth` containers deep.
  std::string body = "{\"a\":";
  for (int i = 1; i < depth; ++i) body += "[";
  body += "1";
  for (int i = 1; i < depth; ++i) body += "]";
  body += "}";
  return body;
}

TEST(BroadcastRequestTest, ModerateNestingPasses) {
  EXPECT_EQ(CheckBroadcast(true, "AAPL", Nested(20)).status, 0);
}

TEST(BroadcastRequestTest, NestingBeyondMaxDepthIs400) {
  // Boost.JSON's default max_depth is 32; far deeper input must be refused
  // without exhausting the stack.
  for (int depth : {33, 100, 100000}) {
    BroadcastCheck check = CheckBroadcast(true, "AAPL", Nested(depth));
    EXPECT_EQ(check.status, 400) << depth;
    EXPECT_EQ(check.code, "invalid_json") << depth;
  }
}

}  // namespace
}  // namespace obgw::gateway
