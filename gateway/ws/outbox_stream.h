#ifndef OBGW_GATEWAY_WS_OUTBOX_STREAM_H_
#define OBGW_GATEWAY_WS_OUTBOX_STREAM_H_

#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/websocket/teardown.hpp>

#include "gateway/ws/outbox.h"

namespace obgw::gateway {

// The stream layer under Beast's websocket::stream: reads go straight to the
// socket; writes (Beast's handshake reply, pongs, close frames) are handed to
// the connection's Outbox, so that they share one ordered write path with the
// pre-encoded frames the gateway sends around Beast. Beast keeps the protocol
// (handshake, masking, control frames, limits); the Outbox owns the socket's
// write side.
//
// Runs on the connection's shard thread. Owns the socket.
class OutboxStream {
 public:
  using socket_type = boost::asio::ip::tcp::socket;
  using executor_type = socket_type::executor_type;
  using next_layer_type = socket_type;

  explicit OutboxStream(socket_type socket) : socket_(std::move(socket)) {}

  void set_outbox(Outbox* outbox) { outbox_ = outbox; }
  executor_type get_executor() noexcept { return socket_.get_executor(); }
  socket_type& next_layer() noexcept { return socket_; }
  const socket_type& next_layer() const noexcept { return socket_; }

  template <class MutableBufferSequence, class ReadHandler>
  auto async_read_some(const MutableBufferSequence& buffers, ReadHandler&& handler) {
    return socket_.async_read_some(buffers, std::forward<ReadHandler>(handler));
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
          auto executor = boost::asio::get_associated_executor(*shared, socket_.get_executor());
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
  socket_type socket_;
  Outbox* outbox_ = nullptr;
};

// Beast's customization points: closing the connection closes the socket.
inline void teardown(boost::beast::role_type role, OutboxStream& stream,
                     boost::system::error_code& ec) {
  using boost::beast::websocket::teardown;
  teardown(role, stream.next_layer(), ec);
}

template <class TeardownHandler>
void async_teardown(boost::beast::role_type role, OutboxStream& stream, TeardownHandler&& handler) {
  using boost::beast::websocket::async_teardown;
  async_teardown(role, stream.next_layer(), std::forward<TeardownHandler>(handler));
}

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_WS_OUTBOX_STREAM_H_
