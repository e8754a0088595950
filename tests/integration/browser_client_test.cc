// The integration guide's own WebSocketClient (section 2.1, transcribed to
// guide_websocket_client.js with only the TypeScript syntax erased), running
// in a real browser (headless Chromium, driven over the DevTools protocol),
// works unchanged against the gateway: it connects to /ws/{clientId},
// subscribes, gets the books POSTed to /broadcast/orderbook through its
// onOrderBookUpdate callback, and unsubscribes.
//
// Needs /usr/bin/chromium (deploy/install-deps.sh installs it; OBGW_CHROMIUM
// overrides the path). Without it these tests fail, they do not skip.

#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "cdp_session.h"
#include "chromium_process.h"
#include "gateway_process.h"
#include "http_test_client.h"
#include "test_util.h"

#ifndef OBGW_GUIDE_CLIENT_JS
#error "OBGW_GUIDE_CLIENT_JS must name tests/integration/guide_websocket_client.js"
#endif

namespace obgw::testing {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

// Browser-side waits give up after kJsWait; the C++ side waits a little
// longer for the answer, so a JS timeout is reported as such.
constexpr int kJsWaitMs = 8000;
constexpr milliseconds kCdpWait(12000);

// Defined in the page once: waitFor(predicate, ms, what) resolves with the
// predicate's first truthy value, polling every 10 ms, or rejects after ms.
constexpr std::string_view kWaitForJs = R"JS(
globalThis.waitFor = (predicate, timeoutMs, what) => new Promise((resolve, reject) => {
  const start = Date.now();
  const poll = () => {
    let value;
    try { value = predicate(); } catch (e) { reject(e); return; }
    if (value) { resolve(value); return; }
    if (Date.now() - start >= timeoutMs) {
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      return;
    }
    setTimeout(poll, 10);
  };
  poll();
});
true
)JS";

std::string ReadGuideClient(std::string* error) {
  std::ifstream in(OBGW_GUIDE_CLIENT_JS, std::ios::binary);
  if (!in) {
    *error = std::string("cannot read ") + OBGW_GUIDE_CLIENT_JS;
    return {};
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// A JS string literal holding `text` (JSON strings are JS strings).
std::string JsString(std::string_view text) { return json::serialize(json::string(text)); }

class BrowserClientTest : public ::testing::Test {
 protected:
  // Gateway, browser, the guide's class loaded, a client connected and
  // subscribed to AAPL, confirmed by the server on both sides.
  void SetUp() override {
    std::string error;
    gateway_ = StartGateway({}, &error);
    ASSERT_NE(gateway_, nullptr) << error;
    port_ = gateway_->http_port();

    chromium_ = ChromiumProcess::Start(&error);
    ASSERT_NE(chromium_, nullptr) << error;
    std::string page = chromium_->PageWebSocketPath(&error);
    ASSERT_FALSE(page.empty()) << error << "\nChromium output:\n" << chromium_->Output();
    ASSERT_TRUE(cdp_.Connect(chromium_->devtools_port(), page, &error)) << error;
    ASSERT_TRUE(cdp_.Call("Runtime.enable", {}, &error)) << error;
    ASSERT_TRUE(cdp_.Call("Log.enable", {}, &error)) << error;
    ASSERT_TRUE(Eval(kWaitForJs));

    // The app's environment, then the guide's module exactly as written
    // (`export class ...`), imported from a data: URL.
    std::string source = ReadGuideClient(&error);
    ASSERT_FALSE(source.empty()) << error;
    std::string load = "globalThis.process = {env: {REACT_APP_WEBSOCKET_URL: 'ws://127.0.0.1:" +
                       std::to_string(port_) +
                       "'}};\n"
                       "import('data:text/javascript;charset=utf-8,' + encodeURIComponent(" +
                       JsString(source) +
                       "))\n"
                       "  .then(module => { globalThis.WebSocketClient = module.WebSocketClient;\n"
                       "                    return typeof WebSocketClient; })";
    std::optional<json::value> loaded = Eval(load);
    ASSERT_TRUE(loaded);
    ASSERT_EQ(*loaded, "function") << Str(*loaded);

    // As the guide's StockChart does: construct, set the callback, connect()
    // and subscribe() at once. That subscribe() is a no-op (the socket is
    // still CONNECTING and the guide only sends when OPEN), so nothing is
    // remembered for onopen to resubscribe either.
    // `received` records every server message (an extra listener: the
    // class's own onmessage is untouched).
    std::optional<json::value> connecting = Eval(R"JS(
globalThis.updates = [];
globalThis.received = [];
globalThis.client = new WebSocketClient('chart-AAPL');
client.onOrderBookUpdate = (s, d) => updates.push({s, d});
client.connect();
client.ws.addEventListener('message', event => received.push(JSON.parse(event.data)));
client.subscribe('AAPL');
({readyState: client.ws.readyState, url: client.ws.url, subscriptions: client.subscriptions.size})
)JS");
    ASSERT_TRUE(connecting);
    EXPECT_EQ(*connecting,
              json::value(json::object{
                  {"readyState", 0},
                  {"url", "ws://127.0.0.1:" + std::to_string(port_) + "/ws/chart-AAPL"},
                  {"subscriptions", 0}}));

    // So the test subscribes once the socket is OPEN.
    std::optional<json::value> opened =
        Eval("waitFor(() => client.ws.readyState === WebSocket.OPEN, " + std::to_string(kJsWaitMs) +
             ", 'the socket to open').then(() => {\n"
             "  client.subscribe('AAPL');\n"
             "  return client.subscriptions.size;\n"
             "})");
    ASSERT_TRUE(opened);
    EXPECT_EQ(*opened, 1) << Str(*opened);

    std::optional<json::value> confirmed =
        Eval("waitFor(() => received.find(m => m.type === 'subscription_confirmed'), " +
             std::to_string(kJsWaitMs) + ", 'subscription_confirmed')");
    ASSERT_TRUE(confirmed);
    ASSERT_TRUE(confirmed->is_object()) << Str(*confirmed);
    EXPECT_EQ(confirmed->as_object().at("symbol"), "AAPL") << Str(*confirmed);
    json::value stats = WaitForStat(port_, "total_subscriptions", 1);
    ASSERT_EQ(FindInt(stats, "total_subscriptions"), 1) << Str(stats);
  }

  // Evaluates `expression` in the page; on failure adds a test failure with
  // the reason, the page's console and the gateway's output.
  std::optional<json::value> Eval(std::string_view expression) {
    std::string error;
    std::optional<json::value> value = cdp_.Evaluate(expression, &error, kCdpWait);
    if (!value) {
      ADD_FAILURE() << error << "\nexpression:\n"
                    << expression << "\nbrowser console:\n"
                    << cdp_.ConsoleLog() << "gateway output:\n"
                    << (gateway_ ? gateway_->Output() : std::string());
    }
    return value;
  }

  // Like Eval for an expression that yields JSON.stringify(...): the parsed
  // value.
  std::optional<json::value> EvalJson(std::string_view expression) {
    std::optional<json::value> text = Eval(expression);
    if (!text) return std::nullopt;
    if (!text->is_string()) {
      ADD_FAILURE() << "expected a JSON string, got " << Str(*text);
      return std::nullopt;
    }
    boost::system::error_code ec;
    json::value value = json::parse(text->as_string(), ec);
    if (ec) {
      ADD_FAILURE() << "not JSON: " << text->as_string();
      return std::nullopt;
    }
    return value;
  }

  // Declared in start order; destroyed in reverse (DevTools session,
  // browser, gateway).
  std::unique_ptr<GatewayProcess> gateway_;
  int port_ = 0;
  std::unique_ptr<ChromiumProcess> chromium_;
  CdpSession cdp_;
};

TEST_F(BrowserClientTest, GuideClientReceivesPostedBookThroughCallback) {
  HttpResponse response = PostBook(port_, "AAPL", kGuideBody);
  ASSERT_TRUE(IsBroadcastSuccess(response, "AAPL", 1));

  std::optional<json::value> updates =
      EvalJson("waitFor(() => updates.length > 0, " + std::to_string(kJsWaitMs) +
               ", 'onOrderBookUpdate').then(() => JSON.stringify(updates))");
  ASSERT_TRUE(updates);
  ASSERT_TRUE(updates->is_array()) << Str(*updates);
  ASSERT_EQ(updates->as_array().size(), 1u) << Str(*updates);
  const json::value& update = updates->as_array()[0];
  ASSERT_TRUE(update.is_object()) << Str(update);
  EXPECT_EQ(update.as_object().at("s"), "AAPL") << Str(update);
  // The book arrives as the backend posted it (object comparison ignores
  // key order; the values must be equal all the way down).
  EXPECT_EQ(update.as_object().at("d"), json::parse(kGuideBody)) << Str(update);
}

TEST_F(BrowserClientTest, GuideClientUnsubscribeStopsUpdates) {
  std::optional<json::value> after = Eval(R"JS(
client.unsubscribe('AAPL');
({readyState: client.ws.readyState, subscriptions: client.subscriptions.size})
)JS");
  ASSERT_TRUE(after);
  EXPECT_EQ(*after, json::value(json::object{{"readyState", 1}, {"subscriptions", 0}}));
  // Our extension's answer; the guide's handleMessage ignores the type.
  std::optional<json::value> confirmed =
      Eval("waitFor(() => received.find(m => m.type === 'unsubscription_confirmed'), " +
           std::to_string(kJsWaitMs) + ", 'unsubscription_confirmed')");
  ASSERT_TRUE(confirmed);
  ASSERT_TRUE(confirmed->is_object()) << Str(*confirmed);
  EXPECT_EQ(confirmed->as_object().at("symbol"), "AAPL") << Str(*confirmed);
  json::value stats = WaitForStat(port_, "total_subscriptions", 0);
  ASSERT_EQ(FindInt(stats, "total_subscriptions"), 0) << Str(stats);

  HttpResponse response = PostBook(port_, "AAPL", kGuideBody);
  ASSERT_EQ(response.status, 200) << response.Describe();
  EXPECT_EQ(FindInt(response.Json(), "subscribers"), 0) << response.Describe();

  std::optional<json::value> quiet = EvalJson(R"JS(
new Promise(resolve => setTimeout(resolve, 500)).then(() => JSON.stringify({
  updates,
  readyState: client.ws.readyState,
  errors: received.filter(m => m.type === 'error'),
}))
)JS");
  ASSERT_TRUE(quiet);
  EXPECT_EQ(*quiet, json::value(json::object{
                        {"updates", json::array()}, {"readyState", 1}, {"errors", json::array()}}));
}

}  // namespace
}  // namespace obgw::testing
