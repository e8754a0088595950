#include "subscriber_pool.h"

#include <algorithm>
#include <cstring>

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
  Client(SubscriberPool& pool, Reader& reader, std::size_t index)
      : pool_(pool), reader_(reader), index_(index), ws_(reader.io_context) {}

  void Start(const tcp::endpoint& endpoint) {
    ws_.next_layer().async_connect(endpoint, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return self->Fail();
      self->ws_.next_layer().set_option(tcp::no_delay(true));
      if (self->pool_.deflate_) {
        websocket::permessage_deflate deflate;
        deflate.client_enable = true;
        self->ws_.set_option(deflate);
      }
      self->ws_.async_handshake(
          self->response_, self->pool_.host_, "/ws/lg-" + std::to_string(self->index_),
          [self](beast::error_code ec) {
            if (ec) return self->Fail();
            if (self->response_[beast::http::field::sec_websocket_extensions].starts_with(
                    "permessage-deflate")) {
              self->pool_.deflate_negotiated_.fetch_add(1, std::memory_order_relaxed);
            }
            self->pool_.confirmations_due_.fetch_add(self->pool_.plan_[self->index_].size());
            self->pool_.connected_.fetch_add(1, std::memory_order_relaxed);
            self->pool_.StartNext();
            self->SubscribeNext(0);
            self->ReadRaw();
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

  // After the handshake, frames are read straight off the socket in large
  // chunks and split here: a load generator must cost far less per message
  // than the server it measures, and Beast's one-operation-per-message read
  // does not. Server frames are unmasked; every server under test sends
  // whole (unfragmented) text frames.
  void ReadRaw() {
    if (pending_.size() < used_ + 65536) pending_.resize(used_ + 65536);
    ws_.next_layer().async_read_some(
        boost::asio::buffer(pending_.data() + used_, pending_.size() - used_),
        [self = shared_from_this()](beast::error_code ec, std::size_t bytes) {
          if (ec) return;  // Closed by the server or at Stop().
          self->pool_.wire_bytes_.fetch_add(bytes, std::memory_order_relaxed);
          self->used_ += bytes;
          self->SplitFrames();
          self->ReadRaw();
        });
  }

  void SplitFrames() {
    const auto* data = reinterpret_cast<const unsigned char*>(pending_.data());
    std::size_t pos = 0;
    while (used_ - pos >= 2) {
      std::size_t header = 2;
      std::uint64_t length = data[pos + 1] & 0x7F;
      if (length == 126) {
        if (used_ - pos < 4) break;
        length = (std::uint64_t{data[pos + 2]} << 8) | data[pos + 3];
        header = 4;
      } else if (length == 127) {
        if (used_ - pos < 10) break;
        length = 0;
        for (int i = 0; i < 8; ++i) length = (length << 8) | data[pos + 2 + i];
        header = 10;
      }
      if (used_ - pos < header + length) break;
      if ((data[pos] & 0x0F) == 0x1) {
        std::string_view payload(pending_.data() + pos + header, length);
        if ((data[pos] & 0x40) == 0) {
          pool_.OnMessage(reader_, payload);
        } else if (reader_.Inflate(payload)) {  // RSV1: compressed.
          pool_.OnMessage(reader_, reader_.inflated);
        } else {
          pool_.failures_.fetch_add(1, std::memory_order_relaxed);
        }
      }
      pos += header + length;
    }
    // Keep the partial frame at the front.
    std::memmove(pending_.data(), pending_.data() + pos, used_ - pos);
    used_ -= pos;
  }

  void Fail() {
    pool_.failures_.fetch_add(1, std::memory_order_relaxed);
    pool_.StartNext();
  }

  SubscriberPool& pool_;
  Reader& reader_;
  std::size_t index_;
  websocket::stream<tcp::socket> ws_;
  websocket::response_type response_;
  std::vector<char> pending_;  // Received bytes not yet split into frames.
  std::size_t used_ = 0;
  std::string request_;
};

SubscriberPool::Reader::Reader() { inflateInit2(&zstream, -15); }

SubscriberPool::Reader::~Reader() { inflateEnd(&zstream); }

bool SubscriberPool::Reader::Inflate(std::string_view payload) {
  // RFC 7692 7.2.2: append the 00 00 FF FF the sender removed. The gateway
  // negotiates server_no_context_takeover, so each message starts afresh.
  static constexpr unsigned char kTail[4] = {0x00, 0x00, 0xFF, 0xFF};
  inflateReset(&zstream);
  inflated.resize(std::max<std::size_t>(inflated.capacity(), payload.size() * 8 + 1024));
  std::size_t produced = 0;
  for (int part = 0; part < 2; ++part) {
    zstream.next_in = part == 0 ? reinterpret_cast<Bytef*>(const_cast<char*>(payload.data()))
                                : const_cast<Bytef*>(kTail);
    zstream.avail_in = part == 0 ? static_cast<uInt>(payload.size()) : 4;
    while (zstream.avail_in > 0) {
      if (produced == inflated.size()) inflated.resize(inflated.size() * 2);
      zstream.next_out = reinterpret_cast<Bytef*>(inflated.data() + produced);
      zstream.avail_out = static_cast<uInt>(inflated.size() - produced);
      int result = inflate(&zstream, Z_SYNC_FLUSH);
      produced = inflated.size() - zstream.avail_out;
      if (result != Z_OK && result != Z_BUF_ERROR) return false;
      if (result == Z_BUF_ERROR && zstream.avail_out != 0) return false;
    }
  }
  inflated.resize(produced);
  return true;
}

SubscriberPool::SubscriberPool(std::string host, std::uint16_t port,
                               std::vector<std::vector<std::string>> symbols_per_client,
                               std::size_t threads, bool deflate)
    : host_(std::move(host)), port_(port), plan_(std::move(symbols_per_client)), deflate_(deflate) {
  for (std::size_t i = 0; i < std::max<std::size_t>(threads, 1); ++i) {
    readers_.push_back(std::make_unique<Reader>());
    readers_.back()->latencies.Reserve(1 << 21);
  }
}

SubscriberPool::~SubscriberPool() { Stop(); }

bool SubscriberPool::ConnectAll(std::chrono::seconds timeout, std::size_t window) {
  for (auto& reader : readers_) {
    reader->thread =
        std::thread([io = &reader->io_context,
                     work = boost::asio::make_work_guard(reader->io_context)] { io->run(); });
  }
  boost::asio::post(readers_.front()->io_context, [this, window] {
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
  std::shared_ptr<Client> client;
  {
    gateway::MutexLock lock(start_mutex_);
    if (next_client_ >= plan_.size()) return;
    std::size_t index = next_client_++;
    client = std::make_shared<Client>(*this, *readers_[index % readers_.size()], index);
    clients_.push_back(client);
  }
  client->Start(tcp::endpoint(boost::asio::ip::make_address(host_), port_));
}

void SubscriberPool::OnMessage(Reader& reader, std::string_view text) {
  // The type is near the front in every server's encoding; no full parse.
  std::string_view head = text.substr(0, 48);
  if (head.find("orderbook_update") != std::string_view::npos) {
    // The gateway's snapshot on subscribe repeats a book published earlier
    // (another run's): it is neither expected nor a latency sample.
    std::string_view before_data = text.substr(0, text.find("\"data\""));
    if (before_data.find("\"snapshot\":true") != std::string_view::npos) return;
    received_.fetch_add(1, std::memory_order_relaxed);
    std::int64_t sent = ExtractSendTimeNs(text);
    if (sent > 0) reader.latencies.Record(NowNs() - sent);
  } else if (head.find("subscription_confirmed") != std::string_view::npos) {
    confirmed_.fetch_add(1, std::memory_order_relaxed);
  }
}

void SubscriberPool::Stop() {
  for (auto& reader : readers_) reader->io_context.stop();
  for (auto& reader : readers_) {
    if (!reader->thread.joinable()) continue;
    reader->thread.join();
    latencies_.Merge(reader->latencies);
  }
}

}  // namespace obgw::loadgen
