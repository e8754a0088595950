// Replies, snapshots and the close leave in request order (docs/protocol.md
// 2.4 items 2 and 7, 2.10), also when a client sends its requests back to back
// before the hub answered the first: the snapshot is the very next message
// after its subscription_confirmed, and a connection closed by the rate limit
// first receives every reply queued before the close.

#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "gateway_process.h"
#include "http_test_client.h"
#include "raw_ws_client.h"
#include "test_util.h"

namespace obgw::testing {
namespace {

namespace json = boost::json;

// Sends `texts` as masked text frames in one TCP write, as a hostile client
// may: the gateway reads them all before the hub answers the first.
bool SendBackToBack(RawWsClient& client, const std::vector<std::string>& texts) {
  std::string bytes;
  for (const std::string& text : texts) {
    // FIN + text, masked, 7- or 16-bit length; the all-zero mask keeps the
    // payload as it is (RFC 6455 only requires the mask bit).
    bytes += '\x81';
    if (text.size() < 126) {
      bytes += static_cast<char>(0x80 | text.size());
    } else {
      bytes += static_cast<char>(0x80 | 126);
      bytes += static_cast<char>(text.size() >> 8);
      bytes += static_cast<char>(text.size() & 0xff);
    }
    bytes.append(4, '\0');
    bytes += text;
  }
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(client.fd(), bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

// The next text frame parsed as a JSON object; nullopt for anything else
// (the close frame, a timeout).
std::optional<json::object> ReadJson(RawWsClient& client, RawWsClient::Frame* last) {
  std::optional<RawWsClient::Frame> frame = client.ReadFrame(std::chrono::seconds(5));
  if (!frame) return std::nullopt;
  *last = *frame;
  if (frame->opcode != 0x1) return std::nullopt;
  boost::system::error_code ec;
  json::value value = json::parse(frame->payload, ec);
  if (ec || !value.is_object()) return std::nullopt;
  return value.as_object();
}

// The message's type, with its req_id when it has one ("pong#2"), or
// "snapshot" for the snapshot of a book.
std::string Describe(const json::object& message) {
  std::string type = TypeOf(message);
  if (type == "orderbook_update") return message.contains("snapshot") ? "snapshot" : "book";
  std::optional<std::int64_t> req_id = FindInt(message, "req_id");
  return req_id ? type + "#" + std::to_string(*req_id) : type;
}

TEST(ReplyOrderTest, SnapshotFollowsItsConfirmationBeforeLaterReplies) {
  OBGW_START_GATEWAY(gw, {});
  const int port = gw->http_port();
  ASSERT_TRUE(IsBroadcastSuccess(PostBook(port, "AAPL", kGuideBody), "AAPL", 0));
  const std::vector<std::string> expected{"subscription_confirmed#1", "snapshot", "pong#2",
                                          "error#3", "error#4"};
  constexpr int kTrials = 300;
  int out_of_order = 0;
  for (int trial = 0; trial < kTrials; ++trial) {
    // A fresh connection each time: a new subscription with a snapshot, and
    // a full token bucket. Its own client_id: the closes of earlier trials
    // need not have been processed for it to be admitted.
    RawWsClient client;
    ASSERT_TRUE(client.Connect(port, "/ws/order-" + std::to_string(trial))) << client.error();
    // A ping and two invalid messages right behind the subscribe.
    ASSERT_TRUE(SendBackToBack(
        client,
        {R"({"action":"subscribe","symbol":"AAPL","req_id":1})", R"({"action":"ping","req_id":2})",
         R"({"action":"dance","req_id":3})", R"({"action":"subscribe","req_id":4})"}));
    std::vector<std::string> seen;
    RawWsClient::Frame last;
    while (seen.size() < expected.size()) {
      std::optional<json::object> message = ReadJson(client, &last);
      ASSERT_TRUE(message) << "trial " << trial << ": " << client.error();
      seen.push_back(Describe(*message));
    }
    if (seen != expected) {
      ++out_of_order;
      ADD_FAILURE() << "trial " << trial << ": " << ::testing::PrintToString(seen);
    }
  }
  EXPECT_EQ(out_of_order, 0) << "of " << kTrials << " trials";
}

TEST(ReplyOrderTest, RateLimitCloseComesAfterEveryQueuedReply) {
  // Practically no refill during the test (one token per 10 s): exactly `burst` messages are
  // accepted, the next burst - 1 get rate_limited, and the one after closes.
  constexpr int kBurst = 100;
  OBGW_START_GATEWAY(gw, {"--max_message_burst=" + std::to_string(kBurst),
                          "--max_messages_per_second=0.1", "--max_subscriptions=200"});
  const int port = gw->http_port();
  RawWsClient client;
  ASSERT_TRUE(client.Connect(port, "/ws/flood")) << client.error();
  // Subscribes, in one write: each answer is owed by the hub, so the
  // refusals and the close are decided while confirmations are still due.
  std::vector<std::string> flood;
  for (int i = 0; i < 2 * kBurst; ++i) {
    flood.push_back(R"({"action":"subscribe","symbol":"F)" + std::to_string(i) + R"(","req_id":)" +
                    std::to_string(i) + "}");
  }
  ASSERT_TRUE(SendBackToBack(client, flood));
  std::vector<std::int64_t> confirmed;
  int rate_limited = 0;
  RawWsClient::Frame last;
  while (std::optional<json::object> message = ReadJson(client, &last)) {
    if (TypeOf(*message) == "subscription_confirmed") {
      confirmed.push_back(FindInt(*message, "req_id").value_or(-1));
    } else if (TypeOf(*message) == "error" && Field(*message, "code") == "rate_limited") {
      ++rate_limited;
    } else {
      ADD_FAILURE() << "unexpected: " << Str(*message);
    }
  }
  ASSERT_EQ(last.opcode, 0x8) << "the connection ends with a close frame: " << client.error();
  EXPECT_EQ(last.close_code(), 1008);
  EXPECT_EQ(last.close_reason(), "rate limit exceeded");
  // Every accepted subscribe was confirmed, in request order, and every
  // refusal but the last (which closed) got its error, before the close.
  std::vector<std::int64_t> expected_confirmed;
  for (int i = 0; i < kBurst; ++i) expected_confirmed.push_back(i);
  EXPECT_EQ(confirmed, expected_confirmed);
  EXPECT_EQ(rate_limited, kBurst - 1);
  json::value stats = WaitForStat(port, "ws_closed_rate_limit", 1);
  EXPECT_EQ(FindInt(stats, "ws_closed_rate_limit"), 1) << Str(stats);
  EXPECT_EQ(FindInt(stats, "ws_errors"), kBurst - 1) << Str(stats);
}

}  // namespace
}  // namespace obgw::testing
