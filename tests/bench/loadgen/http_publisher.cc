// POST /broadcast/orderbook publishers: keep-alive connections on one thread,
// each sending its next book as soon as the previous reply arrived (flat out)
// or at its share of the target rate.
#include <algorithm>
#include <memory>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "ingest/book_renderer.h"
#include "ingest/feed/book_generator.h"
#include "ingest/feed/publish_token.h"
#include "latency_recorder.h"
#include "publisher.h"

namespace obgw::loadgen {
namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

class HttpPublisher : public std::enable_shared_from_this<HttpPublisher> {
 public:
  HttpPublisher(boost::asio::io_context& io, const PublishPlan& plan, PublishCounters& counters,
                std::size_t index, Clock::time_point start, Clock::time_point end)
      : plan_(plan),
        counters_(counters),
        index_(index),
        first_send_(start + FirstSendOffset(plan, index)),
        end_(end),
        socket_(io),
        timer_(io),
        generator_(plan.symbols, plan.levels, 1000 + index) {
    if (plan.rate > 0) interval_ = std::chrono::duration<double>(plan.publishers / plan.rate);
  }

  void Start() {
    tcp::endpoint endpoint(boost::asio::ip::make_address(plan_.host), plan_.port);
    socket_.async_connect(endpoint, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return self->Fail();
      self->socket_.set_option(tcp::no_delay(true));
      self->next_send_ = std::max(Clock::now(), self->first_send_);
      self->SendAt(self->next_send_);
    });
  }

 private:
  void Send() {
    if (Clock::now() >= end_) return;
    std::size_t symbol = (index_ + sent_ * plan_.publishers) % plan_.symbols;
    symbol_ = symbol;
    auto book = generator_.Next(symbol);
    book.set_send_time_ns(NowNs());
    request_ = {http::verb::post, "/broadcast/orderbook?symbol=" + generator_.symbol(symbol), 11};
    request_.set(http::field::host, plan_.host);
    request_.set(http::field::content_type, "application/json");
    if (!plan_.publish_token.empty()) {
      request_.set(http::field::authorization, ingest::BearerAuthorization(plan_.publish_token));
    }
    request_.keep_alive(true);
    request_.body() = ingest::RenderBookData(book);
    request_.prepare_payload();
    ++sent_;
    http::async_write(socket_, request_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) return self->Fail();
                        self->ReadReply();
                      });
  }

  void ReadReply() {
    response_ = {};
    http::async_read(socket_, buffer_, response_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) return self->Fail();
                       self->OnReply();
                     });
  }

  void OnReply() {
    if (response_.result() == http::status::ok) {
      counters_.accepted.fetch_add(1, std::memory_order_relaxed);
      counters_.accepted_per_symbol[symbol_].fetch_add(1, std::memory_order_relaxed);
    } else {
      counters_.rejected.fetch_add(1, std::memory_order_relaxed);
    }
    if (interval_.count() == 0) return Send();
    // Paced: the next send is due one interval after the previous one was;
    // when behind, send at once (the server sets the pace).
    next_send_ += std::chrono::duration_cast<Clock::duration>(interval_);
    SendAt(next_send_);
  }

  // Sends at `when`, or at once when that has passed.
  void SendAt(Clock::time_point when) {
    if (when <= Clock::now()) return Send();
    timer_.expires_at(when);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->Send();
    });
  }

  void Fail() { counters_.errors.fetch_add(1, std::memory_order_relaxed); }

  const PublishPlan& plan_;
  PublishCounters& counters_;
  std::size_t index_;
  Clock::time_point first_send_;
  Clock::time_point end_;
  tcp::socket socket_;
  boost::asio::steady_timer timer_;
  ingest::BookGenerator generator_;
  std::chrono::duration<double> interval_{0};
  Clock::time_point next_send_;
  std::size_t sent_ = 0;
  std::size_t symbol_ = 0;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
};

}  // namespace

void PublishHttp(const PublishPlan& plan, PublishCounters& counters) {
  boost::asio::io_context io(1);
  auto start = Clock::now();
  auto end = start + std::chrono::duration_cast<Clock::duration>(plan.duration);
  for (std::size_t i = 0; i < plan.publishers; ++i) {
    std::make_shared<HttpPublisher>(io, plan, counters, i, start, end)->Start();
  }
  io.run();  // Returns when every publisher has passed the end time.
}

}  // namespace obgw::loadgen
