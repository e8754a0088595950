#include "subscriber_pool.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

namespace obgw::loadgen {

namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using tcp = boost::asio::ip::tcp;

// One client connection; runs on the pool's thread.
class SubscriberPool::Client : public std::enable_shared_from_this<Client> {
 public:
  Client(SubscriberPool& pool, std::size_t index)
      : pool_(pool), index_(index), ws_(pool.io_context_) {}

  void Start(const tcp::endpoint& endpoint) {
    ws_.next_layer().async_connect(endpoint, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return self->Fail();
      self->ws_.next_layer().set_option(tcp::no_delay(true));
      self->ws_.async_handshake(
          self->pool_.host_, "/ws/lg-" + std::to_string(self->index_),
          [self](beast::error_code ec) {
            if (ec) return self->Fail();
            self->pool_.confirmations_due_.fetch_add(self->pool_.plan_[self->index_].size());
            self->pool_.connected_.fetch_add(1, std::memory_order_relaxed);
            self->pool_.StartNext();
            self->SubscribeNext(0);
            self->Read();
          });
    });
  }

 private:
  void SubscribeNext(std::size_t i) {
    const auto& symbols = pool_.plan_[index_];
    if (i >= symbols.size()) return;
    request_ = R"({"action":"subscribe","symbol":")" + symbols[i] + "\"}";
    ws_.async_write(boost::asio::buffer(request_),
                    [self = shared_from_this(), i](beast::error_code ec, std::size_t) {
                      if (ec) return self->Fail();
                      self->SubscribeNext(i + 1);
                    });
  }

  void Read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return;  // Closed by the server or at Stop().
      auto data = self->buffer_.cdata();
      self->pool_.OnMessage(std::string_view(static_cast<const char*>(data.data()), data.size()));
      self->buffer_.consume(self->buffer_.size());
      self->Read();
    });
  }

  void Fail() {
    pool_.failures_.fetch_add(1, std::memory_order_relaxed);
    pool_.StartNext();
  }

  SubscriberPool& pool_;
  std::size_t index_;
  websocket::stream<tcp::socket> ws_;
  beast::flat_buffer buffer_;
  std::string request_;
};

SubscriberPool::SubscriberPool(std::string host, std::uint16_t port,
                               std::vector<std::vector<std::string>> symbols_per_client)
    : host_(std::move(host)), port_(port), plan_(std::move(symbols_per_client)) {
  latencies_.Reserve(1 << 22);
}

SubscriberPool::~SubscriberPool() { Stop(); }

bool SubscriberPool::ConnectAll(std::chrono::seconds timeout, std::size_t window) {
  auto work = boost::asio::make_work_guard(io_context_);
  thread_ = std::thread([this, work = std::move(work)] { io_context_.run(); });
  boost::asio::post(io_context_, [this, window] {
    for (std::size_t i = 0; i < window; ++i) StartNext();
  });
  auto deadline = std::chrono::steady_clock::now() + timeout;
  // Done when every client has connected or failed, and every connected one
  // has all its subscriptions confirmed.
  while (std::chrono::steady_clock::now() < deadline) {
    std::uint64_t due = confirmations_due_.load();
    bool attempted = connected_.load() + failures_.load() >= plan_.size();
    if (attempted && confirmed_.load() >= due) return failures_.load() == 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

void SubscriberPool::StartNext() {
  if (next_client_ >= plan_.size()) return;
  auto client = std::make_shared<Client>(*this, next_client_++);
  clients_.push_back(client);
  client->Start(tcp::endpoint(boost::asio::ip::make_address(host_), port_));
}

void SubscriberPool::OnMessage(std::string_view text) {
  // The type is near the front in every server's encoding; no full parse.
  std::string_view head = text.substr(0, 48);
  if (head.find("orderbook_update") != std::string_view::npos) {
    received_.fetch_add(1, std::memory_order_relaxed);
    std::int64_t sent = ExtractSendTimeNs(text);
    if (sent > 0) latencies_.Record(NowNs() - sent);
  } else if (head.find("subscription_confirmed") != std::string_view::npos) {
    confirmed_.fetch_add(1, std::memory_order_relaxed);
  }
}

void SubscriberPool::Stop() {
  io_context_.stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace obgw::loadgen
