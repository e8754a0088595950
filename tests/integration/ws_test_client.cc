#include "ws_test_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http.hpp>

namespace obgw::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace http = beast::http;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using tcp = asio::ip::tcp;

}  // namespace

WsTestClient::WsTestClient() : ws_(ioc_) {}

WsTestClient::~WsTestClient() { Abort(); }

bool WsTestClient::RunUntil(const bool& done, Clock::time_point deadline) {
  while (!done) {
    auto now = Clock::now();
    if (now >= deadline) return false;
    if (ioc_.stopped()) ioc_.restart();
    ioc_.run_one_for(deadline - now);
  }
  return true;
}

bool WsTestClient::Connect(int port, std::string_view client_id, Duration timeout) {
  return ConnectTarget(port, "/ws/" + std::string(client_id), timeout);
}

bool WsTestClient::ConnectTarget(int port, std::string_view target, Duration timeout) {
  auto deadline = Clock::now() + timeout;
  tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port));
  bool done = false;
  beast::error_code result;
  beast::get_lowest_layer(ws_).async_connect(endpoint, [&](beast::error_code ec) {
    result = ec;
    done = true;
  });
  if (!RunUntil(done, deadline)) {
    Abort();
    error_ = "connect timed out";
    return false;
  }
  if (result) {
    error_ = "connect: " + result.message();
    return false;
  }
  beast::get_lowest_layer(ws_).set_option(tcp::no_delay(true));
  ws_.read_message_max(64 * 1024 * 1024);

  websocket::response_type response;
  done = false;
  std::string host = "127.0.0.1:" + std::to_string(port);
  ws_.async_handshake(response, host, target, [&](beast::error_code ec) {
    result = ec;
    done = true;
  });
  if (!RunUntil(done, deadline)) {
    Abort();
    error_ = "handshake timed out";
    return false;
  }
  handshake_status_ = static_cast<int>(response.result_int());
  if (result) {
    error_ = "handshake: " + result.message() + " (HTTP " + std::to_string(handshake_status_) + ")";
    return false;
  }
  connected_ = true;
  StartRead();
  return true;
}

void WsTestClient::StartRead() {
  ws_.async_read(buffer_, [this](beast::error_code ec, std::size_t) {
    if (ec) {
      closed_ = true;
      if (ec == websocket::error::closed) {
        close_code_ = static_cast<int>(ws_.reason().code);
        close_reason_ = std::string(ws_.reason().reason.c_str());
        error_ = "closed by server (" + std::to_string(close_code_) + " " + close_reason_ + ")";
      } else {
        // A close frame may have arrived before the error (e.g. a reset).
        if (ws_.reason().code != websocket::close_code::none) {
          close_code_ = static_cast<int>(ws_.reason().code);
          close_reason_ = std::string(ws_.reason().reason.c_str());
        }
        error_ = "read: " + ec.message();
      }
      return;
    }
    inbox_.push_back(Message{beast::buffers_to_string(buffer_.data()), !ws_.got_text()});
    buffer_.consume(buffer_.size());
    StartRead();
  });
}

bool WsTestClient::Send(std::string_view data, bool binary, Duration timeout) {
  if (!connected_ || closed_) {
    error_ = "send on a closed connection";
    return false;
  }
  auto deadline = Clock::now() + timeout;
  ws_.binary(binary);
  bool done = false;
  beast::error_code result;
  ws_.async_write(asio::buffer(data.data(), data.size()), [&](beast::error_code ec, std::size_t) {
    result = ec;
    done = true;
  });
  if (!RunUntil(done, deadline)) {
    error_ = "write timed out";
    Abort();
    return false;
  }
  if (result) {
    error_ = "write: " + result.message();
    return false;
  }
  return true;
}

bool WsTestClient::SendText(std::string_view text, Duration timeout) {
  return Send(text, false, timeout);
}

bool WsTestClient::SendBinary(std::string_view bytes, Duration timeout) {
  return Send(bytes, true, timeout);
}

bool WsTestClient::SendJson(const json::value& value, Duration timeout) {
  return SendText(json::serialize(value), timeout);
}

std::optional<std::string> WsTestClient::Read(Duration timeout) {
  auto deadline = Clock::now() + timeout;
  while (inbox_.empty() && !closed_ && connected_) {
    auto now = Clock::now();
    if (now >= deadline) break;
    if (ioc_.stopped()) ioc_.restart();
    ioc_.run_one_for(deadline - now);
  }
  if (inbox_.empty()) {
    if (!closed_) error_ = connected_ ? "read timed out" : "not connected";
    return std::nullopt;
  }
  Message message = std::move(inbox_.front());
  inbox_.pop_front();
  last_binary_ = message.binary;
  return std::move(message.data);
}

std::optional<json::object> WsTestClient::ReadJson(Duration timeout) {
  std::optional<std::string> text = Read(timeout);
  if (!text) return std::nullopt;
  boost::system::error_code ec;
  json::value value = json::parse(*text, ec);
  if (ec || !value.is_object()) {
    error_ = "not a JSON object: " + *text;
    return std::nullopt;
  }
  return std::move(value.as_object());
}

std::optional<json::object> WsTestClient::ReadUntilType(std::string_view type, Duration timeout) {
  auto deadline = Clock::now() + timeout;
  std::string skipped;
  for (;;) {
    auto now = Clock::now();
    auto left = std::chrono::duration_cast<Duration>(deadline - now);
    if (left.count() <= 0) left = Duration(0);
    std::optional<std::string> text = Read(left);
    if (!text) {
      error_ += "; waiting for type " + std::string(type) + ", skipped: [" + skipped + "]";
      return std::nullopt;
    }
    boost::system::error_code ec;
    json::value value = json::parse(*text, ec);
    if (!ec && value.is_object()) {
      const json::value* t = value.as_object().if_contains("type");
      if (t != nullptr && t->is_string() && t->as_string() == type) {
        return std::move(value.as_object());
      }
    }
    if (skipped.size() < 2000) skipped += *text + " ";
    if (left.count() == 0) {
      error_ = "timed out waiting for type " + std::string(type) + ", skipped: [" + skipped + "]";
      return std::nullopt;
    }
  }
}

bool WsTestClient::Close(Duration timeout) {
  if (!connected_) return false;
  auto deadline = Clock::now() + timeout;
  if (!closed_) {
    bool done = false;
    beast::error_code result;
    ws_.async_close(websocket::close_code::normal, [&](beast::error_code ec) {
      result = ec;
      done = true;
    });
    if (!RunUntil(done, deadline) || result) {
      Abort();
      return false;
    }
  }
  // The pending read completes once the server's close frame arrives.
  RunUntil(closed_, deadline);
  Abort();
  return true;
}

bool WsTestClient::WaitForClose(Duration timeout) {
  auto deadline = Clock::now() + timeout;
  while (!closed_) {
    inbox_.clear();
    auto now = Clock::now();
    if (now >= deadline || !connected_) break;
    if (ioc_.stopped()) ioc_.restart();
    ioc_.run_one_for(deadline - now);
  }
  inbox_.clear();
  return closed_;
}

void WsTestClient::Abort() {
  beast::error_code ignored;
  auto& socket = beast::get_lowest_layer(ws_);
  if (socket.is_open()) {
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }
  // Let the pending handlers see operation_aborted so nothing outlives us.
  if (ioc_.stopped()) ioc_.restart();
  ioc_.poll();
  connected_ = false;
}

std::optional<json::object> ReadReply(WsTestClient& client, WsTestClient::Duration timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<WsTestClient::Duration>(deadline - Clock::now());
    if (left.count() < 0) left = WsTestClient::Duration(0);
    std::optional<json::object> message = client.ReadJson(left);
    if (!message) return std::nullopt;
    const json::value* type = message->if_contains("type");
    if (type != nullptr && type->is_string() && type->as_string() == "orderbook_update") continue;
    return message;
  }
}

namespace {

bool SubscriptionRequest(WsTestClient& client, std::string_view action, std::string_view confirm,
                         std::string_view symbol, std::string* error) {
  json::object request{{"action", action}, {"symbol", symbol}};
  if (!client.SendJson(request)) {
    if (error) *error = client.error();
    return false;
  }
  std::optional<json::object> reply = ReadReply(client);
  if (!reply) {
    if (error) *error = "no " + std::string(confirm) + ": " + client.error();
    return false;
  }
  // Extensions may add fields; the legacy ones must be exactly these.
  const json::value* type = reply->if_contains("type");
  const json::value* s = reply->if_contains("symbol");
  if (type == nullptr || !type->is_string() || type->as_string() != confirm || s == nullptr ||
      !s->is_string() || s->as_string() != symbol) {
    if (error)
      *error = "unexpected reply to " + std::string(action) + ": " + json::serialize(*reply);
    return false;
  }
  return true;
}

}  // namespace

bool Subscribe(WsTestClient& client, std::string_view symbol, std::string* error) {
  return SubscriptionRequest(client, "subscribe", "subscription_confirmed", symbol, error);
}

bool Unsubscribe(WsTestClient& client, std::string_view symbol, std::string* error) {
  return SubscriptionRequest(client, "unsubscribe", "unsubscription_confirmed", symbol, error);
}

std::optional<json::object> ReadUpdate(WsTestClient& client, std::string_view symbol,
                                       WsTestClient::Duration timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<WsTestClient::Duration>(deadline - Clock::now());
    if (left.count() <= 0) return std::nullopt;
    std::optional<json::object> message = client.ReadUntilType("orderbook_update", left);
    if (!message) return std::nullopt;
    const json::value* s = message->if_contains("symbol");
    if (s != nullptr && s->is_string() && s->as_string() == symbol) return message;
  }
}

}  // namespace obgw::testing
