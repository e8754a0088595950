#ifndef OBGW_GATEWAY_WS_OUTBOX_STREAM_H_
#define OBGW_GATEWAY_WS_OUTBOX_STREAM_H_

#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/teardown.hpp>

#include "gateway/ws/outbox.h"

namespace obgw::gateway {

// The stream layer under Beast's websocket::stream, which the session uses
// for the opening handshake only: reads go straight to the socket; writes
// (Beast's 101 reply, or its refusal) are handed to the connection's Outbox,
// so that they share one ordered write path with the pre-encoded frames the
// gateway sends around Beast.
//
// Generic over the stream below (`Stream`: the TCP socket or a TlsStream),
// as Beast's advanced_server_flex example is over its streams.
//
// Runs on the connection's shard thread. Refers to the stream, which the
// session owns: Beast's stream (and its per-connection buffers) is dropped
// once the handshake is done, the socket lives on.
template <class Stream>
class OutboxStream {
 public:
  using next_layer_type = Stream;
  using executor_type = typename Stream::executor_type;

  explicit OutboxStream(Stream& stream) : stream_(stream) {}

  void set_outbox(Outbox<Stream>* outbox) { outbox_ = outbox; }
  executor_type get_executor() noexcept { return stream_.get_executor(); }
  Stream& next_layer() noexcept { return stream_; }
  const Stream& next_layer() const noexcept { return stream_; }

  template <class MutableBufferSequence, class ReadHandler>
  auto async_read_some(const MutableBufferSequence& buffers, ReadHandler&& handler) {
    return stream_.async_read_some(buffers, std::forward<ReadHandler>(handler));
  }

  template <class ConstBufferSequence, class WriteHandler>
  auto async_write_some(const ConstBufferSequence& buffers, WriteHandler&& handler) {
    return boost::asio::async_initiate<WriteHandler, void(boost::system::error_code, std::size_t)>(
        [this](auto completion, const ConstBufferSequence& data) {
          std::string bytes(boost::asio::buffer_size(data), '\0');
          boost::asio::buffer_copy(boost::asio::buffer(bytes), data);
          // Beast's operations are move-only; the Outbox stores copyable
          // callbacks, so the operation moves into shared storage.
          using Completion = std::decay_t<decltype(completion)>;
          auto shared = std::make_shared<Completion>(std::move(completion));
          auto executor = boost::asio::get_associated_executor(*shared, stream_.get_executor());
          outbox_->PushRaw(
              std::move(bytes), [shared, executor](boost::system::error_code ec, std::size_t n) {
                // Completed through the operation's executor, never inline.
                boost::asio::post(executor,
                                  boost::beast::bind_front_handler(std::move(*shared), ec, n));
              });
        },
        handler, buffers);
  }

 private:
  Stream& stream_;
  Outbox<Stream>* outbox_ = nullptr;
};

// Beast's customization points: closing the connection tears down the stream
// below (for a TLS stream, Beast's teardown of ssl::stream).
template <class Stream>
void teardown(boost::beast::role_type role, OutboxStream<Stream>& stream,
              boost::system::error_code& ec) {
  using boost::beast::websocket::teardown;
  teardown(role, stream.next_layer(), ec);
}

template <class Stream, class TeardownHandler>
void async_teardown(boost::beast::role_type role, OutboxStream<Stream>& stream,
                    TeardownHandler&& handler) {
  using boost::beast::websocket::async_teardown;
  async_teardown(role, stream.next_layer(), std::forward<TeardownHandler>(handler));
}

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_WS_OUTBOX_STREAM_H_
