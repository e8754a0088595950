#ifndef OBGW_GATEWAY_HTTP_HTTP_SESSION_H_
#define OBGW_GATEWAY_HTTP_HTTP_SESSION_H_

#include <memory>
#include <optional>
#include <string>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

namespace obgw::gateway {

class Shard;

// One HTTP/1.1 connection. Runs on its shard's thread.
//
// Owns the socket until a WebSocket upgrade hands it to a WebSocketSession.
// Serves POST /broadcast/orderbook (the legacy REST publish), GET /health and
// GET /stats, one request at a time, keep-alive. A publish is answered when
// the hub has routed the book, with the number of subscribers it went to.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  using Response = boost::beast::http::response<boost::beast::http::string_body>;

  HttpSession(boost::asio::ip::tcp::socket socket, Shard& shard);
  void Run();

 private:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;

  void DoRead();
  void OnRead(boost::beast::error_code ec, std::size_t bytes);
  void Handle(Request request);
  void HandleBroadcast(Request& request);
  void Reply(boost::beast::http::status status, std::string body, bool keep_alive,
             std::string_view content_type = "application/json");
  void ReplyError(boost::beast::http::status status, std::string_view code, std::string_view detail,
                  bool keep_alive);
  void OnWrite(bool keep_alive, boost::beast::error_code ec, std::size_t bytes);
  void LingeringClose();
  void Discard();

  boost::beast::tcp_stream stream_;
  Shard& shard_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  Response response_;
  unsigned version_ = 11;
  bool head_ = false;  // The request being answered is a HEAD.
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_HTTP_HTTP_SESSION_H_
