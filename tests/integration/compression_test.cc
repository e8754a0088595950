// permessage-deflate (--ws_deflate): clients that offer it get compressed
// frames they can read back exactly; the others, and clients that ask for a
// smaller server window than the shared compressed frames use, get plain
// frames; compression happens once per frame, not once per client.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include "gateway_process.h"
#include "http_test_client.h"
#include "test_util.h"

namespace obgw::testing {
namespace {

namespace beast = boost::beast;
namespace json = boost::json;
namespace websocket = boost::beast::websocket;
using tcp = boost::asio::ip::tcp;

// A Beast client that may offer permessage-deflate; Beast inflates what it
// reads, so a wrongly compressed frame fails the read.
class DeflateClient {
 public:
  // `offer`: offer the extension; `server_window_bits` < 15 asks the server
  // for a smaller window.
  DeflateClient(int port, bool offer, int server_window_bits = 15) : ws_(io_) {
    websocket::permessage_deflate deflate;
    deflate.client_enable = offer;
    deflate.server_max_window_bits = server_window_bits;
    ws_.set_option(deflate);
    ws_.next_layer().connect(
        {boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
    ws_.handshake(response_, "127.0.0.1", "/ws/deflate-client");
  }

  // The Sec-WebSocket-Extensions the gateway answered.
  std::string Extensions() const {
    return std::string(response_[beast::http::field::sec_websocket_extensions]);
  }

  void Send(std::string_view text) { ws_.write(boost::asio::buffer(text)); }

  // The next message, or nullopt after 5 s or on error.
  std::optional<json::object> ReadJson() {
    beast::flat_buffer buffer;
    std::optional<json::object> result;
    ws_.async_read(buffer, [&](beast::error_code ec, std::size_t) {
      if (ec) return;
      json::value value = json::parse(beast::buffers_to_string(buffer.data()));
      if (value.is_object()) result = value.as_object();
    });
    io_.restart();
    io_.run_for(std::chrono::seconds(5));
    if (!io_.stopped()) {
      ws_.next_layer().cancel();
      io_.restart();
      io_.run();
    }
    return result;
  }

 private:
  boost::asio::io_context io_;
  websocket::stream<tcp::socket> ws_;
  websocket::response_type response_;
};

// A book large enough to be compressed: 50 levels a side.
std::string LargeBook() {
  json::array bids;
  json::array asks;
  for (int i = 0; i < 50; ++i) {
    bids.push_back(json::array{150.0 - i * 0.01, 100 + i});
    asks.push_back(json::array{150.01 + i * 0.01, 200 + i});
  }
  return json::serialize(json::object{{"bids", bids}, {"asks", asks}});
}

// Subscribes `client` to AAPL and reads the confirmation.
void Subscribe(DeflateClient& client) {
  client.Send(R"({"action":"subscribe","symbol":"AAPL"})");
  std::optional<json::object> confirmed = client.ReadJson();
  ASSERT_TRUE(confirmed);
  ASSERT_EQ(confirmed->at("type"), "subscription_confirmed") << Str(*confirmed);
}

TEST(CompressionTest, OfferingClientsGetCompressedFramesAndReadThemExactly) {
  OBGW_START_GATEWAY(gw, {"--ws_deflate", "--threads=2"});
  // Six compressing clients, spread over both I/O threads, and a plain one.
  std::vector<std::unique_ptr<DeflateClient>> clients;
  for (int i = 0; i < 7; ++i) {
    clients.push_back(std::make_unique<DeflateClient>(gw->http_port(), /*offer=*/i < 6));
  }
  EXPECT_NE(clients[0]->Extensions().find("permessage-deflate"), std::string::npos);
  EXPECT_NE(clients[0]->Extensions().find("server_no_context_takeover"), std::string::npos);
  EXPECT_EQ(clients[6]->Extensions(), "");
  for (auto& client : clients) Subscribe(*client);

  const std::string book = LargeBook();
  constexpr int kBooks = 20;
  for (int i = 0; i < kBooks; ++i) ASSERT_EQ(PostBook(gw->http_port(), "AAPL", book).status, 200);
  for (auto& client : clients) {
    for (int i = 1; i <= kBooks; ++i) {
      std::optional<json::object> update = client->ReadJson();
      ASSERT_TRUE(update) << "book " << i;
      EXPECT_EQ(update->at("seq"), i);
      EXPECT_EQ(update->at("data"), json::parse(book));
    }
  }
  json::value stats = GetStats(gw->http_port());
  // Once per book, shared by the six clients; two I/O threads that need the
  // same frame at the same moment may both compress it (lock-free: the
  // second copy is dropped), never once per client (120).
  std::int64_t deflated = FindInt(stats, "frames_deflated").value_or(0);
  EXPECT_GE(deflated, kBooks) << Str(stats);
  EXPECT_LE(deflated, 2 * kBooks) << Str(stats);
  std::int64_t in = FindInt(stats, "deflate_bytes_in").value_or(0);
  std::int64_t out = FindInt(stats, "deflate_bytes_out").value_or(0);
  EXPECT_GT(in, 0) << Str(stats);
  EXPECT_LT(out * 2, in) << "a 50-level JSON book should compress at least 2:1; " << Str(stats);
}

TEST(CompressionTest, SmallMessagesAndReplyFramesStayReadable) {
  OBGW_START_GATEWAY(gw, {"--ws_deflate", "--ws_deflate_min_bytes=0"});
  DeflateClient client(gw->http_port(), true);
  // Replies are compressed too (min_bytes 0) and must round-trip.
  client.Send(R"({"action":"ping","req_id":"p1"})");
  std::optional<json::object> pong = client.ReadJson();
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->at("type"), "pong");
  EXPECT_EQ(pong->at("req_id"), "p1");
  Subscribe(client);
  ASSERT_EQ(PostBook(gw->http_port(), "AAPL", kGuideBody).status, 200);
  std::optional<json::object> update = client.ReadJson();
  ASSERT_TRUE(update);
  EXPECT_EQ(update->at("data"), json::parse(kGuideBody));
}

TEST(CompressionTest, ClientAskingForASmallerWindowGetsPlainFrames) {
  OBGW_START_GATEWAY(gw, {"--ws_deflate"});
  DeflateClient client(gw->http_port(), true, /*server_window_bits=*/10);
  EXPECT_NE(client.Extensions().find("server_max_window_bits=10"), std::string::npos)
      << client.Extensions();
  Subscribe(client);
  const std::string book = LargeBook();
  ASSERT_EQ(PostBook(gw->http_port(), "AAPL", book).status, 200);
  std::optional<json::object> update = client.ReadJson();
  ASSERT_TRUE(update);
  EXPECT_EQ(update->at("data"), json::parse(book));
  EXPECT_EQ(FindInt(GetStats(gw->http_port()), "frames_deflated"), 0);
}

TEST(CompressionTest, OffByDefault) {
  OBGW_START_GATEWAY(gw, {});
  DeflateClient client(gw->http_port(), true);
  EXPECT_EQ(client.Extensions(), "");
  Subscribe(client);
  ASSERT_EQ(PostBook(gw->http_port(), "AAPL", LargeBook()).status, 200);
  EXPECT_TRUE(client.ReadJson());
  EXPECT_EQ(FindInt(GetStats(gw->http_port()), "frames_deflated"), 0);
}

}  // namespace
}  // namespace obgw::testing
