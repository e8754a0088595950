#include "http_test_client.h"

#include <cctype>
#include <cmath>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace obgw::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using tcp = asio::ip::tcp;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Connects, writes `bytes` and reads one response concurrently.
HttpResponse Exchange(int port, std::string_view bytes, std::chrono::milliseconds timeout) {
  HttpResponse out;
  asio::io_context ioc;
  tcp::socket socket(ioc);
  auto deadline = Clock::now() + timeout;
  auto run_until = [&](const bool& done) {
    while (!done) {
      auto now = Clock::now();
      if (now >= deadline) return false;
      if (ioc.stopped()) ioc.restart();
      ioc.run_one_for(deadline - now);
    }
    return true;
  };
  auto abort = [&] {
    beast::error_code ignored;
    socket.close(ignored);
    if (ioc.stopped()) ioc.restart();
    ioc.poll();
  };

  bool connected = false;
  beast::error_code connect_ec;
  socket.async_connect(
      tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)),
      [&](beast::error_code ec) {
        connect_ec = ec;
        connected = true;
      });
  if (!run_until(connected)) {
    out.error = "connect timed out";
    abort();
    return out;
  }
  if (connect_ec) {
    out.error = "connect: " + connect_ec.message();
    return out;
  }
  socket.set_option(tcp::no_delay(true));

  bool written = false;
  beast::error_code write_ec;
  asio::async_write(socket, asio::buffer(bytes.data(), bytes.size()),
                    [&](beast::error_code ec, std::size_t) {
                      write_ec = ec;
                      written = true;
                    });
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  // A response to HEAD has a Content-Length but no body (RFC 9110 9.3.2).
  parser.skip(bytes.starts_with("HEAD "));
  bool read = false;
  beast::error_code read_ec;
  http::async_read(socket, buffer, parser, [&](beast::error_code ec, std::size_t) {
    read_ec = ec;
    read = true;
  });
  bool finished = run_until(read);
  if (finished && !read_ec) {
    const auto& response = parser.get();
    out.status = static_cast<int>(response.result_int());
    for (const auto& field : response) {
      out.headers[Lower(field.name_string())] = std::string(field.value());
    }
    out.body = response.body();
  } else if (!finished) {
    out.error = "response timed out";
  } else {
    out.error = "read: " + read_ec.message();
    if (written && write_ec) out.error += " (write: " + write_ec.message() + ")";
  }
  abort();
  return out;
}

}  // namespace

json::value HttpResponse::Json() const {
  boost::system::error_code ec;
  json::value value = json::parse(body, ec);
  if (ec) return nullptr;
  return value;
}

std::string HttpResponse::Describe() const {
  std::string text = "HTTP " + std::to_string(status);
  if (!error.empty()) text += " error=" + error;
  text += " body=" + (body.size() > 500 ? body.substr(0, 500) + "..." : body);
  return text;
}

HttpResponse HttpRequest(int port, std::string_view method, std::string_view target,
                         std::string_view body, const Headers& headers,
                         std::chrono::milliseconds timeout) {
  std::string request;
  request.reserve(body.size() + 256);
  request.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
  request.append("Host: 127.0.0.1:").append(std::to_string(port)).append("\r\n");
  bool has_type = false;
  bool has_length = false;
  for (const auto& [name, value] : headers) {
    if (Lower(name) == "content-type") has_type = true;
    if (Lower(name) == "content-length") has_length = true;
    request.append(name).append(": ").append(value).append("\r\n");
  }
  if (!body.empty() && !has_type) request.append("Content-Type: application/json\r\n");
  if (!has_length && (!body.empty() || method == "POST" || method == "PUT")) {
    request.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  request.append("Connection: close\r\n\r\n");
  request.append(body);
  return Exchange(port, request, timeout);
}

HttpResponse PostBook(int port, std::string_view symbol, std::string_view body) {
  return HttpRequest(port, "POST", "/broadcast/orderbook?symbol=" + std::string(symbol), body);
}

HttpResponse RawHttpExchange(int port, std::string_view bytes, std::chrono::milliseconds timeout) {
  return Exchange(port, bytes, timeout);
}

HttpConnection::HttpConnection(int port, Duration timeout) {
  bool connected = false;
  beast::error_code connect_ec;
  stream_.async_connect(
      tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)),
      [&](beast::error_code ec) {
        connect_ec = ec;
        connected = true;
      });
  if (!RunUntil(connected, timeout)) {
    error_ = "connect timed out";
  } else if (connect_ec) {
    error_ = "connect: " + connect_ec.message();
  } else {
    stream_.socket().set_option(tcp::no_delay(true));
  }
}

bool HttpConnection::RunUntil(const bool& done, Duration timeout) {
  auto deadline = Clock::now() + timeout;
  while (!done) {
    auto now = Clock::now();
    if (now >= deadline) {
      // Cancel what is pending and let its handler run, so nothing refers to
      // a caller's locals afterwards.
      beast::error_code ignored;
      stream_.socket().cancel(ignored);
      if (ioc_.stopped()) ioc_.restart();
      while (!done) ioc_.run_one();
      return false;
    }
    if (ioc_.stopped()) ioc_.restart();
    ioc_.run_one_for(deadline - now);
  }
  return true;
}

bool HttpConnection::Send(std::string_view bytes, Duration timeout) {
  if (!error_.empty()) return false;
  bool written = false;
  beast::error_code write_ec;
  asio::async_write(stream_, asio::buffer(bytes.data(), bytes.size()),
                    [&](beast::error_code ec, std::size_t) {
                      write_ec = ec;
                      written = true;
                    });
  if (!RunUntil(written, timeout)) {
    error_ = "write timed out";
  } else if (write_ec) {
    error_ = "write: " + write_ec.message();
  }
  return error_.empty();
}

HttpResponse HttpConnection::Read(bool to_head, Duration timeout) {
  HttpResponse out;
  if (!error_.empty()) {
    out.error = error_;
    return out;
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  parser.skip(to_head);
  bool read = false;
  beast::error_code read_ec;
  http::async_read(stream_, buffer_, parser, [&](beast::error_code ec, std::size_t) {
    read_ec = ec;
    read = true;
  });
  if (!RunUntil(read, timeout)) {
    // The connection is out of step with the server: nothing more on it.
    error_ = out.error = "response timed out";
  } else if (read_ec) {
    error_ = out.error = "read: " + read_ec.message();
  } else {
    const auto& response = parser.get();
    out.status = static_cast<int>(response.result_int());
    for (const auto& field : response) {
      out.headers[Lower(field.name_string())] = std::string(field.value());
    }
    out.body = response.body();
  }
  return out;
}

bool HttpConnection::WaitForClose(Duration timeout) {
  if (!error_.empty() || buffer_.size() > 0) return false;
  // Anything still arriving is not a response the test asked for: the
  // connection must end with no more bytes.
  bool read = false;
  beast::error_code read_ec;
  std::size_t bytes = 0;
  stream_.async_read_some(buffer_.prepare(4096), [&](beast::error_code ec, std::size_t n) {
    read_ec = ec;
    bytes = n;
    read = true;
  });
  if (!RunUntil(read, timeout)) return false;
  return bytes == 0 && (read_ec == asio::error::eof || read_ec == asio::error::connection_reset);
}

json::value GetStats(int port) {
  HttpResponse response = HttpGet(port, "/stats");
  if (response.status != 200) return nullptr;
  return response.Json();
}

const json::value* Find(const json::value& root, std::string_view dotted_path) {
  const json::value* current = &root;
  while (!dotted_path.empty()) {
    size_t dot = dotted_path.find('.');
    std::string_view key = dotted_path.substr(0, dot);
    if (!current->is_object()) return nullptr;
    current = current->as_object().if_contains(key);
    if (current == nullptr) return nullptr;
    dotted_path = dot == std::string_view::npos ? std::string_view() : dotted_path.substr(dot + 1);
  }
  return current;
}

std::optional<std::int64_t> FindInt(const json::value& root, std::string_view dotted_path) {
  const json::value* value = Find(root, dotted_path);
  if (value == nullptr) return std::nullopt;
  if (value->is_int64()) return value->as_int64();
  if (value->is_uint64()) return static_cast<std::int64_t>(value->as_uint64());
  if (value->is_double() && std::isfinite(value->as_double()) &&
      value->as_double() == std::floor(value->as_double())) {
    return static_cast<std::int64_t>(value->as_double());
  }
  return std::nullopt;
}

}  // namespace obgw::testing
