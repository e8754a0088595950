#include "tls_test_client.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <openssl/bn.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/dynamic_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/ssl.hpp>

namespace obgw::testing {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

TestPki::TestPki() {
  char pattern[] = "/tmp/obgw-tls-XXXXXX";
  if (mkdtemp(pattern) == nullptr) {
    error_ = "mkdtemp failed";
    return;
  }
  dir_ = pattern;
  Run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
      "-subj /CN=obgw-test-ca -keyout '" +
      dir_ + "/ca.key' -out '" + dir_ + "/ca.crt'");
}

TestPki::~TestPki() {
  if (dir_.empty()) return;
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

bool TestPki::Run(const std::string& command) {
  if (!error_.empty()) return false;
  std::string quiet = command + " >'" + dir_ + "/openssl.log' 2>&1";
  if (std::system(quiet.c_str()) != 0) {
    std::ifstream log(dir_ + "/openssl.log");
    std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    error_ = "`" + command + "` failed: " + text;
    return false;
  }
  return true;
}

bool TestPki::MakeServerCert(const std::string& name, const std::string& serial_hex) {
  const std::string base = dir_ + "/" + name;
  // Written next to the target and renamed over it, so that a gateway
  // reloading meanwhile never reads half a file.
  const std::string tmp = dir_ + "/tmp-" + name;
  {
    std::ofstream ext(dir_ + "/san.ext");
    ext << "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
           "basicConstraints=CA:FALSE\n"
           "keyUsage=digitalSignature\n"
           "extendedKeyUsage=serverAuth\n";
  }
  if (!Run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "
           "/CN=localhost -keyout '" +
           tmp + ".key' -out '" + tmp + ".csr'") ||
      !Run("openssl x509 -req -in '" + tmp + ".csr' -CA '" + dir_ + "/ca.crt' -CAkey '" + dir_ +
           "/ca.key' -set_serial 0x" + serial_hex + " -days 2 -extfile '" + dir_ +
           "/san.ext' -out '" + tmp + ".crt'")) {
    return false;
  }
  std::error_code ec;
  std::filesystem::rename(tmp + ".key", base + ".key", ec);
  if (!ec) std::filesystem::rename(tmp + ".crt", base + ".crt", ec);
  if (ec) {
    error_ = "rename: " + ec.message();
    return false;
  }
  return true;
}

std::string PeerSerial(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) return {};
  std::string serial;
  if (BIGNUM* number = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr)) {
    if (char* hex = BN_bn2hex(number)) {
      serial = hex;
      OPENSSL_free(hex);
    }
    BN_free(number);
  }
  X509_free(cert);
  return serial;
}

std::shared_ptr<ssl::context> ClientContext(const std::string& ca_file) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  context->load_verify_file(ca_file);
  context->set_verify_mode(ssl::verify_peer);
  context->set_verify_callback(ssl::host_name_verification("127.0.0.1"));
  return context;
}

namespace {

bool RunIo(net::io_context& ioc, const bool& done, std::chrono::steady_clock::time_point deadline) {
  ioc.restart();
  while (!done) {
    if (ioc.run_one_until(deadline) == 0) return done;
  }
  return true;
}

}  // namespace

HttpsResponse HttpsRequest(int port, std::string_view method, std::string_view target,
                           std::string_view body, const std::string& ca_file,
                           std::chrono::milliseconds timeout) {
  HttpsResponse out;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto context = ClientContext(ca_file);
  net::io_context ioc;
  ssl::stream<tcp::socket> stream(ioc, *context);
  beast::error_code ec;
  stream.next_layer().connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
  if (ec) {
    out.error = "connect: " + ec.message();
    return out;
  }
  bool done = false;
  stream.async_handshake(ssl::stream_base::client, [&](beast::error_code e) {
    ec = e;
    done = true;
  });
  if (!RunIo(ioc, done, deadline) || ec) {
    out.error = "TLS handshake: " + (done ? ec.message() : std::string("timeout"));
    return out;
  }
  out.peer_serial = PeerSerial(stream.native_handle());
  http::request<http::string_body> request(http::string_to_verb(method), std::string(target), 11);
  request.set(http::field::host, "127.0.0.1");
  if (!body.empty()) request.set(http::field::content_type, "application/json");
  request.body() = std::string(body);
  request.prepare_payload();
  request.keep_alive(false);
  // Written and read at once: a server may answer before the body is in.
  bool written = false;
  beast::error_code write_ec;
  http::async_write(stream, request, [&](beast::error_code e, std::size_t) {
    write_ec = e;
    written = true;
  });
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  done = false;
  http::async_read(stream, buffer, response, [&](beast::error_code e, std::size_t) {
    ec = e;
    done = true;
  });
  if (!RunIo(ioc, done, deadline) || ec) {
    out.error = "read: " + (done ? ec.message() : std::string("timeout")) +
                (written && write_ec ? " (write: " + write_ec.message() + ")" : "");
    return out;
  }
  out.status = static_cast<int>(response.result_int());
  out.body = response.body();
  return out;
}

WssTestClient::WssTestClient(const std::string& ca_file)
    : context_(ClientContext(ca_file)), ws_(ioc_, *context_) {}

bool WssTestClient::RunUntil(const bool& done, std::chrono::steady_clock::time_point deadline) {
  if (RunIo(ioc_, done, deadline)) return true;
  error_ = "timeout";
  return false;
}

bool WssTestClient::Connect(int port, std::string_view target, Duration timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  beast::error_code ec;
  beast::get_lowest_layer(ws_).connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
  if (ec) {
    error_ = "connect: " + ec.message();
    return false;
  }
  bool done = false;
  ws_.next_layer().async_handshake(ssl::stream_base::client, [&](beast::error_code e) {
    ec = e;
    done = true;
  });
  if (!RunUntil(done, deadline)) return false;
  if (ec) {
    error_ = "TLS handshake: " + ec.message();
    return false;
  }
  done = false;
  ws_.async_handshake("127.0.0.1", std::string(target), [&](beast::error_code e) {
    ec = e;
    done = true;
  });
  if (!RunUntil(done, deadline)) return false;
  if (ec) {
    error_ = "WebSocket handshake: " + ec.message();
    return false;
  }
  return true;
}

bool WssTestClient::SendText(std::string_view text, Duration timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool done = false;
  beast::error_code ec;
  ws_.text(true);
  ws_.async_write(net::buffer(text.data(), text.size()), [&](beast::error_code e, std::size_t) {
    ec = e;
    done = true;
  });
  if (!RunUntil(done, deadline)) return false;
  if (ec) error_ = "write: " + ec.message();
  return !ec;
}

std::optional<std::string> WssTestClient::Read(Duration timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool done = false;
  beast::error_code ec;
  buffer_.clear();
  ws_.async_read(buffer_, [&](beast::error_code e, std::size_t) {
    ec = e;
    done = true;
  });
  if (!RunUntil(done, deadline)) return std::nullopt;
  if (ec) {
    error_ = "read: " + ec.message();
    return std::nullopt;
  }
  return beast::buffers_to_string(buffer_.data());
}

std::optional<std::string> WssTestClient::ReadUntil(std::string_view needle, Duration timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<Duration>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      error_ = "timeout waiting for " + std::string(needle);
      return std::nullopt;
    }
    std::optional<std::string> message = Read(left);
    if (!message) return std::nullopt;
    if (message->find(needle) != std::string::npos) return message;
  }
}

bool WssTestClient::Close(Duration timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool done = false;
  beast::error_code ec;
  ws_.async_close(beast::websocket::close_code::normal, [&](beast::error_code e) {
    ec = e;
    done = true;
  });
  if (!RunUntil(done, deadline)) return false;
  if (ec) error_ = "close: " + ec.message();
  return !ec;
}

}  // namespace obgw::testing
