#include "gateway/ws/client_message.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace obgw::gateway {
namespace {

using Action = ClientRequest::Action;
using Symbols = std::vector<std::string>;

TEST(ClientMessageTest, SubscribeCarriesTheSymbol) {
  ClientRequest request = ParseClientMessage(R"({"action":"subscribe","symbol":"AAPL"})");
  EXPECT_EQ(request.action, Action::kSubscribe);
  EXPECT_EQ(request.symbols, Symbols{"AAPL"});
  EXPECT_TRUE(request.error_code.empty());
  EXPECT_TRUE(request.error_message.empty());
}

TEST(ClientMessageTest, UnsubscribeCarriesTheSymbol) {
  ClientRequest request = ParseClientMessage(R"({"action":"unsubscribe","symbol":"TSLA"})");
  EXPECT_EQ(request.action, Action::kUnsubscribe);
  EXPECT_EQ(request.symbols, Symbols{"TSLA"});
  EXPECT_TRUE(request.error_code.empty());
}

TEST(ClientMessageTest, PingNeedsNoSymbol) {
  ClientRequest request = ParseClientMessage(R"({"action":"ping"})");
  EXPECT_EQ(request.action, Action::kPing);
  EXPECT_TRUE(request.symbols.empty());
  EXPECT_TRUE(request.error_code.empty());
}

TEST(ClientMessageTest, ExtraFieldsAndKeyOrderDoNotMatter) {
  ClientRequest request = ParseClientMessage(
      R"({ "req_id": 7, "symbol" : "MSFT", "extra": [1, {"a": null}], "action": "subscribe" })");
  EXPECT_EQ(request.action, Action::kSubscribe);
  EXPECT_EQ(request.symbols, Symbols{"MSFT"});
}

TEST(ClientMessageTest, AcceptsExchangeStyleSymbols) {
  for (const std::string& symbol : std::vector<std::string>{
           "BRK.B", "BRK-B", "US.AAPL", "HK.00700", "BTC:USD", "a_b", "X", std::string(32, 'Z')}) {
    ClientRequest request =
        ParseClientMessage(R"({"action":"subscribe","symbol":")" + symbol + R"("})");
    EXPECT_EQ(request.action, Action::kSubscribe) << symbol;
    EXPECT_EQ(request.symbols, Symbols{symbol});
    EXPECT_TRUE(request.error_code.empty()) << symbol << ": " << request.error_code;
  }
}

TEST(ClientMessageTest, GarbageIsInvalidJson) {
  for (std::string text : {"", "not json", "{", R"({"action":"subscribe")",
                           R"({"action":"ping"} trailing)", "{action:'ping'}"}) {
    ClientRequest request = ParseClientMessage(text);
    EXPECT_EQ(request.action, Action::kInvalid) << text;
    EXPECT_EQ(request.error_code, "invalid_json") << text;
    EXPECT_FALSE(request.error_message.empty()) << text;
  }
}

TEST(ClientMessageTest, NonObjectJsonIsInvalidJson) {
  for (std::string text :
       {"[]", R"(["subscribe","AAPL"])", "42", R"("subscribe")", "null", "true"}) {
    ClientRequest request = ParseClientMessage(text);
    EXPECT_EQ(request.action, Action::kInvalid) << text;
    EXPECT_EQ(request.error_code, "invalid_json") << text;
    EXPECT_FALSE(request.error_message.empty()) << text;
  }
}

TEST(ClientMessageTest, UnknownActionNamesIt) {
  ClientRequest request = ParseClientMessage(R"({"action":"buy","symbol":"AAPL"})");
  EXPECT_EQ(request.action, Action::kInvalid);
  EXPECT_EQ(request.error_code, "unknown_action");
  EXPECT_EQ(request.error_message, "Unknown action: buy");
  EXPECT_TRUE(request.symbols.empty());
}

TEST(ClientMessageTest, ActionIsCaseSensitive) {
  ClientRequest request = ParseClientMessage(R"({"action":"Subscribe","symbol":"AAPL"})");
  EXPECT_EQ(request.action, Action::kInvalid);
  EXPECT_EQ(request.error_code, "unknown_action");
}

TEST(ClientMessageTest, MissingActionIsUnknownActionNone) {
  ClientRequest request = ParseClientMessage(R"({"symbol":"AAPL"})");
  EXPECT_EQ(request.action, Action::kInvalid);
  EXPECT_EQ(request.error_code, "unknown_action");
  EXPECT_EQ(request.error_message, "Unknown action: None");
}

TEST(ClientMessageTest, NonStringActionIsUnknownAction) {
  for (std::string text : {R"({"action":1,"symbol":"AAPL"})", R"({"action":null})",
                           R"({"action":["subscribe"],"symbol":"AAPL"})",
                           R"({"action":{"name":"ping"}})", R"({"action":true})"}) {
    ClientRequest request = ParseClientMessage(text);
    EXPECT_EQ(request.action, Action::kInvalid) << text;
    EXPECT_EQ(request.error_code, "unknown_action") << text;
  }
}

TEST(ClientMessageTest, LongActionIsShortenedInTheMessage) {
  std::string action(10000, 'x');
  ClientRequest request = ParseClientMessage(R"({"action":")" + action + R"("})");
  EXPECT_EQ(request.action, Action::kInvalid);
  EXPECT_EQ(request.error_code, "unknown_action");
  EXPECT_LT(request.error_message.size(), 100u);
  EXPECT_EQ(request.error_message, "Unknown action: " + std::string(32, 'x') + "...");
}

TEST(ClientMessageTest, ShortenedActionNeverSplitsAUtf8Character) {
  // 31 ASCII bytes, then a 2-byte character across the 32-byte cut.
  std::string action = std::string(31, 'x') + "\xC3\xA9" + "tail";
  ClientRequest request = ParseClientMessage(R"({"action":")" + action + "\"}");
  EXPECT_EQ(request.error_code, "unknown_action");
  EXPECT_EQ(request.error_message, "Unknown action: " + std::string(31, 'x') + "...");
}

TEST(ClientMessageTest, ActionOfExactly32CharactersIsNotShortened) {
  std::string action(32, 'y');
  ClientRequest request = ParseClientMessage(R"({"action":")" + action + R"("})");
  EXPECT_EQ(request.error_code, "unknown_action");
  EXPECT_EQ(request.error_message, "Unknown action: " + action);
}

TEST(ClientMessageTest, MissingSymbol) {
  for (std::string text :
       {R"({"action":"subscribe"})", R"({"action":"unsubscribe"})",
        R"({"action":"subscribe","symbol":""})", R"({"action":"unsubscribe","symbol":""})",
        R"({"action":"subscribe","symbol":null})", R"({"action":"subscribe","symbol":42})",
        R"({"action":"subscribe","symbol":["AAPL"]})",
        R"({"action":"subscribe","symbol":{"s":"AAPL"}})"}) {
    ClientRequest request = ParseClientMessage(text);
    EXPECT_EQ(request.action, Action::kInvalid) << text;
    EXPECT_EQ(request.error_code, "missing_symbol") << text;
    EXPECT_FALSE(request.error_message.empty()) << text;
    EXPECT_TRUE(request.symbols.empty()) << text;
  }
}

TEST(ClientMessageTest, InvalidSymbols) {
  // Each symbol as it appears inside the JSON string literal.
  for (const std::string& literal :
       std::vector<std::string>{"A B", std::string(33, 'A'), R"(AAPL\")", "AAPL/USD", " AAPL",
                                R"(AAPL\n)", R"(AAPL\u0000)", "\xC3\x84PPL" /* ÄPPL */,
                                R"(\u00c4PPL)", "\xE8\x85\xBE\xE8\xAE\xAF" /* 腾讯 */, "AAPL;"}) {
    ClientRequest request =
        ParseClientMessage(R"({"action":"subscribe","symbol":")" + literal + R"("})");
    EXPECT_EQ(request.action, Action::kInvalid) << literal;
    EXPECT_EQ(request.error_code, "invalid_symbol") << literal;
    EXPECT_FALSE(request.error_message.empty()) << literal;
    EXPECT_TRUE(request.symbols.empty()) << literal;
  }
}

TEST(ClientMessageTest, InvalidSymbolIsCheckedForUnsubscribeToo) {
  ClientRequest request = ParseClientMessage(R"({"action":"unsubscribe","symbol":"A B"})");
  EXPECT_EQ(request.action, Action::kInvalid);
  EXPECT_EQ(request.error_code, "invalid_symbol");
}

TEST(ClientMessageTest, InvalidSymbolErrorDoesNotEchoTheSymbol) {
  // The message is safe to embed: it never contains the untrusted symbol.
  ClientRequest request =
      ParseClientMessage(R"({"action":"subscribe","symbol":"<script>alert(1)</script>"})");
  EXPECT_EQ(request.error_code, "invalid_symbol");
  EXPECT_EQ(request.error_message.find("script"), std::string::npos);
}

TEST(ClientMessageTest, SymbolsListKeepsOrderAndDropsRepeats) {
  ClientRequest request = ParseClientMessage(
      R"({"action":"subscribe","symbol":"MSFT","symbols":["AAPL","MSFT","TSLA","AAPL"]})");
  EXPECT_EQ(request.action, Action::kSubscribe);
  EXPECT_EQ(request.symbols, (Symbols{"MSFT", "AAPL", "TSLA"}));
  EXPECT_TRUE(request.error_code.empty());
}

TEST(ClientMessageTest, SymbolsListWorksForUnsubscribe) {
  ClientRequest request =
      ParseClientMessage(R"({"action":"unsubscribe","symbol":null,"symbols":["A","B"]})");
  EXPECT_EQ(request.action, Action::kUnsubscribe);
  EXPECT_EQ(request.symbols, (Symbols{"A", "B"}));
}

TEST(ClientMessageTest, MalformedSymbolsList) {
  for (std::string text :
       {R"({"action":"subscribe","symbols":[]})", R"({"action":"subscribe","symbols":"AAPL"})",
        R"({"action":"subscribe","symbols":["AAPL",1]})",
        R"({"action":"subscribe","symbols":[null]})"}) {
    ClientRequest request = ParseClientMessage(text);
    EXPECT_EQ(request.action, Action::kInvalid) << text;
    EXPECT_EQ(request.error_code, "invalid_symbols") << text;
    EXPECT_TRUE(request.symbols.empty()) << text;
  }
}

TEST(ClientMessageTest, OneInvalidSymbolRejectsTheWholeList) {
  ClientRequest request =
      ParseClientMessage(R"({"action":"subscribe","symbols":["AAPL","A B","MSFT"]})");
  EXPECT_EQ(request.action, Action::kInvalid);
  EXPECT_EQ(request.error_code, "invalid_symbol");
  EXPECT_TRUE(request.symbols.empty());
}

TEST(ClientMessageTest, SymbolsListIsBounded) {
  std::string list;
  for (std::size_t i = 0; i <= kMaxSymbolsPerRequest; ++i) {
    list += (i ? ",\"S" : "\"S") + std::to_string(i) + "\"";
  }
  ClientRequest request = ParseClientMessage(R"({"action":"subscribe","symbols":[)" + list + "]}");
  EXPECT_EQ(request.error_code, "too_many_symbols");
}

TEST(ClientMessageTest, ReqIdIsKeptAsGiven) {
  EXPECT_EQ(ParseClientMessage(R"({"action":"ping","req_id":42})").req_id, boost::json::value(42));
  EXPECT_EQ(ParseClientMessage(R"({"action":"ping","req_id":"a-1"})").req_id,
            boost::json::value("a-1"));
  EXPECT_TRUE(ParseClientMessage(R"({"action":"ping"})").req_id.is_null());
}

TEST(ClientMessageTest, ReqIdIsEchoedEvenWhenTheRequestIsInvalid) {
  ClientRequest request = ParseClientMessage(R"({"action":"buy","req_id":9})");
  EXPECT_EQ(request.error_code, "unknown_action");
  EXPECT_EQ(request.req_id, boost::json::value(9));
}

TEST(ClientMessageTest, MalformedReqId) {
  for (std::string text : std::vector<std::string>{
           R"({"action":"ping","req_id":1.5})", R"({"action":"ping","req_id":{}})",
           R"({"action":"ping","req_id":[1]})", R"({"action":"ping","req_id":null})",
           R"({"action":"ping","req_id":")" + std::string(65, 'x') + R"("})"}) {
    ClientRequest request = ParseClientMessage(text);
    EXPECT_EQ(request.action, Action::kInvalid) << text;
    EXPECT_EQ(request.error_code, "invalid_req_id") << text;
    EXPECT_TRUE(request.req_id.is_null()) << text;
  }
}

TEST(ClientMessageTest, ListSubscriptionsNeedsNoSymbol) {
  ClientRequest request = ParseClientMessage(R"({"action":"list_subscriptions","req_id":"l"})");
  EXPECT_EQ(request.action, Action::kListSubscriptions);
  EXPECT_TRUE(request.error_code.empty());
  EXPECT_EQ(request.req_id, boost::json::value("l"));
}

TEST(ClientMessageTest, AuthCarriesItsToken) {
  ClientRequest request = ParseClientMessage(R"({"action":"auth","token":"a.b.c","req_id":3})");
  EXPECT_EQ(request.action, Action::kAuth);
  EXPECT_EQ(request.token, "a.b.c");
  EXPECT_EQ(request.req_id, boost::json::value(3));
  for (std::string_view text : {R"({"action":"auth"})", R"({"action":"auth","token":""})",
                                R"({"action":"auth","token":["a.b.c"]})"}) {
    request = ParseClientMessage(text);
    EXPECT_EQ(request.action, Action::kInvalid) << text;
    EXPECT_EQ(request.error_code, "invalid_token") << text;
    EXPECT_TRUE(request.token.empty()) << text;
  }
}

}  // namespace
}  // namespace obgw::gateway
