#include "probe/probe.h"

#include <unistd.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iterator>
#include <memory>
#include <utility>

#include <grpcpp/grpcpp.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/pchars.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "ingest/feed/publish_token.h"
#include "orderbook/v1/orderbook.grpc.pb.h"

namespace obgw::probe {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using Steady = std::chrono::steady_clock;

// Runs `io` until `done` is set by a completion handler or `deadline`
// passes; false on timeout (the operation is then still pending: the caller
// gives up on the connection).
bool RunUntil(asio::io_context& io, const bool& done, Steady::time_point deadline) {
  io.restart();
  while (!done) {
    if (io.run_one_until(deadline) == 0 && !done) return false;
  }
  return true;
}

std::string Describe(const beast::error_code& error) { return error.message(); }

std::string ReadFile(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = absl::StrCat("cannot read ", path);
    return {};
  }
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A TCP (and TLS) connection to the gateway's HTTP port, made within the
// deadline. Owns the io_context and the TLS context.
class HttpConnection {
 public:
  HttpConnection(const HttpEndpoint& endpoint, const Options& options)
      : endpoint_(endpoint), options_(options) {}

  // Connects (and shakes hands); false with error() on failure.
  bool Open(Steady::time_point deadline) {
    tcp::resolver resolver(io_);
    bool done = false;
    beast::error_code error;
    tcp::resolver::results_type results;
    resolver.async_resolve(endpoint_.host, endpoint_.port,
                           [&](beast::error_code e, tcp::resolver::results_type r) {
                             error = e;
                             results = std::move(r);
                             done = true;
                           });
    if (!RunUntil(io_, done, deadline)) return Fail("timed out resolving " + endpoint_.host);
    if (error) return Fail("cannot resolve " + endpoint_.host + ": " + Describe(error));
    tcp_ = std::make_unique<beast::tcp_stream>(io_);
    done = false;
    tcp_->async_connect(results, [&](beast::error_code e, const tcp::endpoint&) {
      error = e;
      done = true;
    });
    if (!RunUntil(io_, done, deadline)) return Fail("timed out connecting to " + Where());
    if (error) return Fail("cannot connect to " + Where() + ": " + Describe(error));
    if (!endpoint_.tls) return true;

    ssl_context_ = std::make_unique<ssl::context>(ssl::context::tls_client);
    ssl_context_->set_verify_mode(ssl::verify_peer);
    beast::error_code ca_error;
    if (options_.ca_file.empty()) {
      ssl_context_->set_default_verify_paths(ca_error);
    } else {
      ssl_context_->load_verify_file(options_.ca_file, ca_error);
    }
    if (ca_error) return Fail("cannot load CA certificates: " + Describe(ca_error));
    tls_ = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(std::move(*tcp_), *ssl_context_);
    tcp_.reset();
    beast::error_code address_error;
    asio::ip::make_address(endpoint_.host, address_error);
    // SNI for host names only (RFC 6066: never an IP address).
    if (address_error) SSL_set_tlsext_host_name(tls_->native_handle(), endpoint_.host.c_str());
    tls_->set_verify_callback(ssl::host_name_verification(endpoint_.host));
    done = false;
    tls_->async_handshake(ssl::stream_base::client, [&](beast::error_code e) {
      error = e;
      done = true;
    });
    if (!RunUntil(io_, done, deadline))
      return Fail("timed out in the TLS handshake with " + Where());
    if (error) return Fail("TLS handshake with " + Where() + " failed: " + Describe(error));
    return true;
  }

  // Calls `f` with the connected stream, moved out of this object: a
  // beast::tcp_stream&&, or a beast::ssl_stream<beast::tcp_stream>&&.
  template <typename F>
  auto WithStream(F&& f) {
    if (tls_) return f(std::move(*tls_));
    return f(std::move(*tcp_));
  }

  asio::io_context& io() { return io_; }
  const std::string& error() const { return error_; }
  std::string Where() const { return endpoint_.host + ":" + endpoint_.port; }
  std::string Host() const {
    bool default_port = endpoint_.port == (endpoint_.tls ? "443" : "80");
    return default_port ? endpoint_.host : Where();
  }

 private:
  bool Fail(std::string error) {
    error_ = std::move(error);
    return false;
  }

  const HttpEndpoint endpoint_;
  const Options& options_;
  asio::io_context io_;
  std::unique_ptr<ssl::context> ssl_context_;
  std::unique_ptr<beast::tcp_stream> tcp_;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls_;
  std::string error_;
};

struct HttpResult {
  std::string error;  // non-empty: no response
  unsigned status = 0;
  std::string body;
};

// One HTTP request over a fresh connection, within options.timeout.
HttpResult HttpRequest(const Options& options, http::verb method, const std::string& target,
                       std::string body, const std::string& bearer_token) {
  HttpResult result;
  absl::StatusOr<HttpEndpoint> endpoint = ParseGatewayUrl(options.gateway);
  if (!endpoint.ok()) {
    result.error = std::string(endpoint.status().message());
    return result;
  }
  auto deadline = Steady::now() + options.timeout;
  HttpConnection connection(*endpoint, options);
  if (!connection.Open(deadline)) {
    result.error = connection.error();
    return result;
  }
  http::request<http::string_body> request(method, target, 11);
  request.set(http::field::host, connection.Host());
  request.set(http::field::user_agent, "orderbook-probe");
  if (!bearer_token.empty()) {
    request.set(http::field::authorization, ingest::BearerAuthorization(bearer_token));
  }
  if (method == http::verb::post) {
    request.set(http::field::content_type, "application/json");
    request.body() = std::move(body);
  }
  request.prepare_payload();
  connection.WithStream([&](auto&& stream) {
    bool done = false;
    beast::error_code error;
    http::async_write(stream, request, [&](beast::error_code e, std::size_t) {
      error = e;
      done = true;
    });
    if (!RunUntil(connection.io(), done, deadline)) {
      result.error = "timed out sending the request to " + connection.Where();
      return 0;
    }
    if (error) {
      result.error = "cannot send the request to " + connection.Where() + ": " + Describe(error);
      return 0;
    }
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    done = false;
    http::async_read(stream, buffer, response, [&](beast::error_code e, std::size_t) {
      error = e;
      done = true;
    });
    if (!RunUntil(connection.io(), done, deadline)) {
      result.error = "timed out waiting for the answer of " + connection.Where();
      return 0;
    }
    if (error) {
      result.error = "no answer from " + connection.Where() + ": " + Describe(error);
      return 0;
    }
    result.status = response.result_int();
    result.body = std::move(response.body());
    return 0;
  });
  return result;
}

const boost::json::value* Field(const boost::json::object& object, std::string_view key) {
  return object.if_contains(key);
}

std::optional<std::uint64_t> UintField(const boost::json::object& object, std::string_view key) {
  const boost::json::value* value = object.if_contains(key);
  if (value == nullptr) return std::nullopt;
  if (value->is_uint64()) return value->as_uint64();
  if (value->is_int64() && value->as_int64() >= 0) return value->as_int64();
  return std::nullopt;
}

std::string StringField(const boost::json::object& object, std::string_view key) {
  const boost::json::value* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string();
}

// The price of a level: [price, volume, orders] (gRPC books) or
// {"price": p, ...} (REST bodies in the guide's shape).
std::optional<double> LevelPrice(const boost::json::value& level) {
  const boost::json::value* price = nullptr;
  if (const boost::json::array* array = level.if_array(); array && !array->empty()) {
    price = &(*array)[0];
  } else if (const boost::json::object* object = level.if_object()) {
    price = object->if_contains("price");
  }
  if (price == nullptr) return std::nullopt;
  if (price->is_double()) return price->as_double();
  if (price->is_int64()) return static_cast<double>(price->as_int64());
  if (price->is_uint64()) return static_cast<double>(price->as_uint64());
  return std::nullopt;
}

// The shortest text that reads back as `value` ("100", "99.5", "62.768");
// Boost.JSON would write 1E2 and 6.2768E1.
std::string Number(double value) {
  char text[32];
  auto [end, error] = std::to_chars(text, text + sizeof(text), value);
  return std::string(text, end);
}

// JSON text of `value` with doubles written as Number does, for people and
// for tools that read numbers naively (grep, awk).
void AppendJson(const boost::json::value& value, std::string& out) {
  switch (value.kind()) {
    case boost::json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& field : value.get_object()) {
        if (!first) out += ',';
        first = false;
        out += boost::json::serialize(boost::json::string(field.key()));
        out += ':';
        AppendJson(field.value(), out);
      }
      out += '}';
      break;
    }
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& element : value.get_array()) {
        if (!first) out += ',';
        first = false;
        AppendJson(element, out);
      }
      out += ']';
      break;
    }
    case boost::json::kind::double_:
      // JSON has no NaN or infinity.
      out += std::isfinite(value.get_double()) ? Number(value.get_double()) : "null";
      break;
    default:
      out += boost::json::serialize(value);
  }
}

// The WebSocket part of `watch`, over either stream type.
class Watcher {
 public:
  Watcher(const Options& options, Output& out, asio::io_context& io)
      : options_(options), out_(out), io_(io) {}

  template <typename Stream>
  int Run(Stream&& stream, const std::string& host, Steady::time_point connect_deadline) {
    websocket::stream<std::decay_t<Stream>> ws(std::move(stream));
    beast::get_lowest_layer(ws).expires_never();
    ws.read_message_max(64 << 20);
    std::string client_id = options_.client_id.empty()
                                ? absl::StrCat("orderbook-probe-", ::getpid())
                                : options_.client_id;
    std::string target = "/ws/" + boost::urls::encode(client_id, boost::urls::pchars);
    if (options_.throttle_ms >= 0) absl::StrAppend(&target, "?throttle_ms=", options_.throttle_ms);
    bool done = false;
    beast::error_code error;
    ws.async_handshake(host, target, [&](beast::error_code e) {
      error = e;
      done = true;
    });
    if (!RunUntil(io_, done, connect_deadline))
      return Error("timed out in the WebSocket handshake");
    if (error) return Error("WebSocket handshake failed: " + Describe(error));
    out_.Event("connected", {{"client_id", client_id}, {"target", target}},
               "connected as " + client_id);

    started_ = Steady::now();
    if (!options_.token.empty()) {
      if (!Send(ws, {{"action", "auth"}, {"token", options_.token}, {"req_id", "auth"}})) {
        return Error("cannot send the auth message: " + error_);
      }
    }
    boost::json::array symbols;
    for (const std::string& symbol : options_.symbols) symbols.emplace_back(symbol);
    if (!Send(ws, {{"action", "subscribe"}, {"symbols", symbols}, {"req_id", "subscribe"}})) {
      return Error("cannot send the subscribe message: " + error_);
    }

    beast::flat_buffer buffer;
    for (;;) {
      if (options_.count != 0 && updates_ >= options_.count) break;
      Steady::time_point deadline = Steady::time_point::max();
      if (options_.duration.count() > 0) deadline = started_ + options_.duration;
      buffer.clear();
      done = false;
      ws.async_read(buffer, [&](beast::error_code e, std::size_t) {
        error = e;
        done = true;
      });
      if (!RunUntil(io_, done, deadline)) break;  // --duration is over.
      if (error) {
        std::string why = error == websocket::error::closed
                              ? absl::StrCat("closed by the gateway: ", ws.reason().code, " ",
                                             std::string(ws.reason().reason.c_str()))
                              : Describe(error);
        Summary();
        return Error("connection lost: " + why);
      }
      Handle(beast::buffers_to_string(buffer.data()));
    }
    // A clean close; the result does not change the outcome.
    done = false;
    ws.async_close(websocket::close_code::normal, [&](beast::error_code) { done = true; });
    RunUntil(io_, done, Steady::now() + std::chrono::seconds(1));
    Summary();
    if (error_replies_ > 0) return kExitCheckFailed;
    if (options_.fail_on_gap && (gaps_ > 0 || epoch_changes_ > 0)) return kExitCheckFailed;
    return kExitOk;
  }

 private:
  template <typename Ws>
  bool Send(Ws& ws, const boost::json::object& message) {
    std::string text = boost::json::serialize(message);
    bool done = false;
    beast::error_code error;
    ws.async_write(asio::buffer(text), [&](beast::error_code e, std::size_t) {
      error = e;
      done = true;
    });
    if (!RunUntil(io_, done, Steady::now() + options_.timeout)) {
      error_ = "timed out";
      return false;
    }
    if (error) error_ = Describe(error);
    return !error;
  }

  int Error(std::string message) {
    out_.Event("error", {{"message", message}}, message);
    return kExitError;
  }

  void Handle(const std::string& text) {
    boost::system::error_code parse_error;
    boost::json::value message = boost::json::parse(text, parse_error);
    if (parse_error || !message.is_object()) {
      out_.Event("error", {{"message", "a message that is not a JSON object"}},
                 "a message that is not a JSON object: " + text.substr(0, 200));
      ++error_replies_;
      return;
    }
    const boost::json::object& object = message.as_object();
    std::string type = StringField(object, "type");
    if (type == "orderbook_update") {
      Update(object);
    } else if (type == "subscription_confirmed") {
      std::string symbol = StringField(object, "symbol");
      std::uint64_t epoch = UintField(object, "epoch").value_or(0);
      tracker_.Confirmed(symbol, epoch);
      out_.Event("subscribed", {{"symbol", symbol}, {"epoch", epoch}},
                 absl::StrCat("subscribed ", symbol, " epoch=", epoch));
    } else if (type == "session_restored") {
      std::vector<std::string> names;
      if (const boost::json::value* symbols = Field(object, "symbols");
          symbols && symbols->is_array()) {
        for (const boost::json::value& symbol : symbols->as_array()) {
          if (!symbol.is_string()) continue;
          names.emplace_back(symbol.as_string());
          tracker_.Confirmed(names.back(), 0);
        }
      }
      boost::json::array list(names.begin(), names.end());
      out_.Event("session_restored", {{"symbols", list}},
                 "session restored: " + absl::StrJoin(names, ","));
    } else if (type == "authenticated") {
      out_.Event("authenticated", {{"sub", StringField(object, "sub")}},
                 "authenticated as " + StringField(object, "sub"));
    } else if (type == "error") {
      ++error_replies_;
      std::string code = StringField(object, "code");
      std::string text_message = StringField(object, "message");
      out_.Event("error_reply", {{"code", code}, {"message", text_message}},
                 absl::StrCat("gateway error ", code, ": ", text_message));
    }
    // Anything else (pong, unsubscription_confirmed, ...) is not the
    // probe's business.
  }

  void Update(const boost::json::object& object) {
    ++updates_;
    std::string symbol = StringField(object, "symbol");
    std::uint64_t seq = UintField(object, "seq").value_or(0);
    std::optional<std::uint64_t> epoch = UintField(object, "epoch");
    bool snapshot = false;
    if (const boost::json::value* value = Field(object, "snapshot"); value && value->is_bool()) {
      snapshot = value->as_bool();
    }
    SequenceTracker::Observation seen = tracker_.Update(symbol, seq, epoch);
    std::string timestamp = StringField(object, "timestamp");
    std::optional<double> age_ms;
    if (auto when = ParseIsoTime(timestamp)) {
      age_ms = std::chrono::duration<double, std::milli>(std::chrono::system_clock::now() - *when)
                   .count();
    }
    std::size_t bids = 0;
    std::size_t asks = 0;
    std::optional<double> best_bid;
    std::optional<double> best_ask;
    if (const boost::json::value* data = Field(object, "data"); data && data->is_object()) {
      const boost::json::object& book = data->as_object();
      if (const boost::json::value* side = Field(book, "bids"); side && side->is_array()) {
        bids = side->as_array().size();
        if (bids > 0) best_bid = LevelPrice(side->as_array()[0]);
      }
      if (const boost::json::value* side = Field(book, "asks"); side && side->is_array()) {
        asks = side->as_array().size();
        if (asks > 0) best_ask = LevelPrice(side->as_array()[0]);
      }
    }
    boost::json::object fields{{"symbol", symbol},       {"seq", seq},   {"epoch", seen.epoch},
                               {"timestamp", timestamp}, {"bids", bids}, {"asks", asks},
                               {"snapshot", snapshot}};
    fields["age_ms"] = age_ms ? boost::json::value(std::round(*age_ms * 1000) / 1000)
                              : boost::json::value(nullptr);
    fields["best_bid"] = best_bid ? boost::json::value(*best_bid) : boost::json::value(nullptr);
    fields["best_ask"] = best_ask ? boost::json::value(*best_ask) : boost::json::value(nullptr);
    std::string text = absl::StrCat("update ", symbol, " seq=", seq, " epoch=", seen.epoch,
                                    " age=", age_ms ? Number(std::round(*age_ms * 10) / 10) : "?",
                                    "ms bids=", bids, " asks=", asks);
    if (best_bid) absl::StrAppend(&text, " best_bid=", Number(*best_bid));
    if (best_ask) absl::StrAppend(&text, " best_ask=", Number(*best_ask));
    if (snapshot) absl::StrAppend(&text, " snapshot");
    out_.Event("update", std::move(fields), text);

    using Kind = SequenceTracker::Observation::Kind;
    switch (seen.kind) {
      case Kind::kGap:
        ++gaps_;
        missed_ += seen.missed;
        out_.Event("gap",
                   {{"symbol", symbol},
                    {"from_seq", seen.previous_seq},
                    {"to_seq", seq},
                    {"missed", seen.missed},
                    {"epoch", seen.epoch}},
                   absl::StrCat("GAP ", symbol, ": seq ", seen.previous_seq, " -> ", seq, ", ",
                                seen.missed, " missed"));
        break;
      case Kind::kEpochChange:
        ++epoch_changes_;
        out_.Event("epoch_change",
                   {{"symbol", symbol},
                    {"from_epoch", seen.previous_epoch},
                    {"to_epoch", seen.epoch},
                    {"seq", seq}},
                   absl::StrCat("EPOCH CHANGE ", symbol, ": ", seen.previous_epoch, " -> ",
                                seen.epoch, " (seq numbering restarted, now ", seq, ")"));
        break;
      case Kind::kRegression:
        ++gaps_;
        out_.Event("seq_regression",
                   {{"symbol", symbol}, {"from_seq", seen.previous_seq}, {"to_seq", seq}},
                   absl::StrCat("SEQ REGRESSION ", symbol, ": seq ", seen.previous_seq, " -> ", seq,
                                " without an epoch change"));
        break;
      case Kind::kBaseline:
      case Kind::kInOrder:
        break;
    }
  }

  void Summary() {
    double seconds = std::chrono::duration<double>(Steady::now() - started_).count();
    out_.Event("summary",
               {{"updates", updates_},
                {"gaps", gaps_},
                {"missed", missed_},
                {"epoch_changes", epoch_changes_},
                {"error_replies", error_replies_},
                {"seconds", std::round(seconds * 1000) / 1000}},
               absl::StrCat("summary: ", updates_, " updates, ", gaps_, " gaps (", missed_,
                            " missed), ", epoch_changes_, " epoch changes, ", error_replies_,
                            " error replies in ", Number(std::round(seconds * 10) / 10), " s"));
  }

  const Options& options_;
  Output& out_;
  asio::io_context& io_;
  SequenceTracker tracker_;
  Steady::time_point started_ = Steady::now();
  std::string error_;
  std::uint64_t updates_ = 0;
  std::uint64_t gaps_ = 0;
  std::uint64_t missed_ = 0;
  std::uint64_t epoch_changes_ = 0;
  std::uint64_t error_replies_ = 0;
};

std::shared_ptr<grpc::Channel> GrpcChannel(const Options& options, std::string* error) {
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (options.grpc_tls) {
    grpc::SslCredentialsOptions ssl_options;
    if (!options.ca_file.empty()) {
      ssl_options.pem_root_certs = ReadFile(options.ca_file, error);
      if (!error->empty()) return nullptr;
    }
    credentials = grpc::SslCredentials(ssl_options);
  }
  return grpc::CreateChannel(options.grpc, credentials);
}

// gRPC statuses that mean "not reached" rather than "refused".
bool Unreachable(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAVAILABLE ||
         status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
}

std::string StatusText(const grpc::Status& status) {
  static constexpr const char* kNames[] = {"OK",
                                           "CANCELLED",
                                           "UNKNOWN",
                                           "INVALID_ARGUMENT",
                                           "DEADLINE_EXCEEDED",
                                           "NOT_FOUND",
                                           "ALREADY_EXISTS",
                                           "PERMISSION_DENIED",
                                           "RESOURCE_EXHAUSTED",
                                           "FAILED_PRECONDITION",
                                           "ABORTED",
                                           "OUT_OF_RANGE",
                                           "UNIMPLEMENTED",
                                           "INTERNAL",
                                           "UNAVAILABLE",
                                           "DATA_LOSS",
                                           "UNAUTHENTICATED"};
  int code = status.error_code();
  std::string name = code >= 0 && code < 17 ? kNames[code] : absl::StrCat("status ", code);
  if (status.error_message().empty()) return name;
  return name + ": " + status.error_message();
}

orderbook::v1::OrderBookUpdate TestUpdate(const std::string& symbol, int levels,
                                          std::chrono::system_clock::time_point now) {
  orderbook::v1::OrderBookUpdate update;
  update.set_symbol(symbol);
  for (int i = 0; i < levels; ++i) {
    auto* bid = update.add_bids();
    bid->set_price(100.0 - i * 0.5);
    bid->set_volume(100.0 * (i + 1));
    bid->set_orders(static_cast<std::uint32_t>(i + 1));
    auto* ask = update.add_asks();
    ask->set_price(100.5 + i * 0.5);
    ask->set_volume(100.0 * (i + 1));
    ask->set_orders(static_cast<std::uint32_t>(i + 1));
  }
  std::int64_t now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  update.set_send_time_ns(now_ns);
  return update;
}

int PublishGrpc(const Options& options, Output& out, const std::string& symbol) {
  std::string error;
  std::shared_ptr<grpc::Channel> channel = GrpcChannel(options, &error);
  if (channel == nullptr) {
    out.Event("error", {{"message", error}}, error);
    return kExitError;
  }
  auto stub = orderbook::v1::OrderBookIngest::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + options.timeout);
  ingest::AttachPublishToken(context, options.publish_token);
  orderbook::v1::PublishSummary summary;
  std::unique_ptr<grpc::ClientWriter<orderbook::v1::OrderBookUpdate>> writer =
      stub->Publish(&context, &summary);
  writer->Write(TestUpdate(symbol, options.levels, std::chrono::system_clock::now()));
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  if (!status.ok()) {
    std::string message = absl::StrCat("gRPC publish to ", options.grpc, ": ", StatusText(status));
    out.Event("error", {{"message", message}}, message);
    return Unreachable(status) ? kExitError : kExitCheckFailed;
  }
  boost::json::array errors;
  for (const std::string& reason : summary.errors()) errors.emplace_back(reason);
  out.Event(
      "published",
      {{"via", "grpc"},
       {"symbol", symbol},
       {"accepted", summary.accepted()},
       {"rejected", summary.rejected()},
       {"errors", errors}},
      absl::StrCat(
          "published ", symbol, " via grpc: accepted ", summary.accepted(), ", rejected ",
          summary.rejected(),
          summary.errors().empty() ? "" : ", errors: " + absl::StrJoin(summary.errors(), "; ")));
  return summary.accepted() == 1 && summary.rejected() == 0 ? kExitOk : kExitCheckFailed;
}

int PublishRest(const Options& options, Output& out, const std::string& symbol) {
  std::string target =
      "/broadcast/orderbook?symbol=" + boost::urls::encode(symbol, boost::urls::unreserved_chars);
  HttpResult result = HttpRequest(options, http::verb::post, target,
                                  RestTestBook(options.levels, std::chrono::system_clock::now()),
                                  options.publish_token);
  if (!result.error.empty()) {
    out.Event("error", {{"message", result.error}}, result.error);
    return kExitError;
  }
  boost::system::error_code parse_error;
  boost::json::value reply = boost::json::parse(result.body, parse_error);
  if (parse_error) reply = boost::json::string(result.body);
  out.Event(
      "published",
      {{"via", "rest"}, {"symbol", symbol}, {"status", result.status}, {"reply", reply}},
      absl::StrCat("published ", symbol, " via rest: HTTP ", result.status, " ", result.body));
  return result.status == 200 ? kExitOk : kExitCheckFailed;
}

int HealthHttp(const Options& options, Output& out) {
  HttpResult result = HttpRequest(options, http::verb::get, "/health", {}, {});
  if (!result.error.empty()) {
    out.Event("error", {{"message", result.error}}, result.error);
    return kExitError;
  }
  boost::system::error_code parse_error;
  boost::json::value body = boost::json::parse(result.body, parse_error);
  std::string status = body.is_object() ? StringField(body.as_object(), "status") : "";
  if (result.status != 200 || parse_error || status.empty()) {
    std::string message =
        absl::StrCat("GET /health answered HTTP ", result.status, ": ", result.body.substr(0, 200));
    out.Event("error", {{"message", message}}, message);
    return kExitError;
  }
  const boost::json::object& object = body.as_object();
  std::string reason = StringField(object, "reason");
  std::string text = status;
  if (!reason.empty()) absl::StrAppend(&text, ": ", reason);
  absl::StrAppend(&text, " (version ", StringField(object, "version"), ", epoch ",
                  UintField(object, "epoch").value_or(0), ", ",
                  UintField(object, "active_connections").value_or(0), " connections, queue ",
                  UintField(object, "queue_depth").value_or(0), ", up ",
                  UintField(object, "uptime_seconds").value_or(0), " s)");
  out.Event("health", {{"via", "http"}, {"status", status}, {"reason", reason}, {"body", object}},
            text);
  if (status == "healthy") return kExitOk;
  if (status == "degraded") return kExitCheckFailed;
  return kExitError;
}

int HealthGrpc(const Options& options, Output& out) {
  std::string error;
  std::shared_ptr<grpc::Channel> channel = GrpcChannel(options, &error);
  if (channel == nullptr) {
    out.Event("error", {{"message", error}}, error);
    return kExitError;
  }
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + options.timeout);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(options.service);
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = stub->Check(&context, request, &response);
  std::string service = options.service.empty() ? "\"\"" : options.service;
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
    std::string message = absl::StrCat("service ", service, " is unknown to the health service");
    out.Event("health", {{"via", "grpc"}, {"service", options.service}, {"status", "NOT_FOUND"}},
              message);
    return kExitCheckFailed;
  }
  if (!status.ok()) {
    std::string message =
        absl::StrCat("gRPC health check of ", options.grpc, ": ", StatusText(status));
    out.Event("error", {{"message", message}}, message);
    return kExitError;
  }
  std::string name = grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status());
  out.Event("health", {{"via", "grpc"}, {"service", options.service}, {"status", name}},
            absl::StrCat(name, " (service ", service, ")"));
  return response.status() == grpc::health::v1::HealthCheckResponse::SERVING ? kExitOk
                                                                             : kExitCheckFailed;
}

}  // namespace

absl::StatusOr<HttpEndpoint> ParseGatewayUrl(std::string_view url_view) {
  // Debian's abseil has its own string_view.
  const std::string url(url_view);
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) {
    return absl::InvalidArgumentError(
        absl::StrCat("--gateway=", url, " is not a URL (http://host:port)"));
  }
  std::string scheme = absl::AsciiStrToLower(std::string(parsed->scheme()));
  HttpEndpoint endpoint;
  if (scheme == "https" || scheme == "wss") {
    endpoint.tls = true;
  } else if (scheme != "http" && scheme != "ws") {
    return absl::InvalidArgumentError(
        absl::StrCat("--gateway=", url, ": the scheme must be http, https, ws or wss"));
  }
  endpoint.host = std::string(parsed->encoded_host());
  // "[::1]" -> "::1"
  if (endpoint.host.size() > 2 && endpoint.host.front() == '[' && endpoint.host.back() == ']') {
    endpoint.host = endpoint.host.substr(1, endpoint.host.size() - 2);
  }
  if (endpoint.host.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--gateway=", url, " has no host"));
  }
  endpoint.port =
      parsed->has_port() ? std::string(parsed->port()) : std::string(endpoint.tls ? "443" : "80");
  return endpoint;
}

std::optional<std::chrono::system_clock::time_point> ParseIsoTime(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|+00:00|±HH:MM)
  int year, month, day, hour, minute, second;
  int consumed = 0;
  std::string copy(text);
  if (std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute,
                  &second, &consumed) != 6 ||
      consumed != 19) {
    return std::nullopt;
  }
  std::string_view rest = text.substr(19);
  std::chrono::nanoseconds fraction{0};
  if (!rest.empty() && rest[0] == '.') {
    std::size_t digits = 1;
    while (digits < rest.size() && absl::ascii_isdigit(rest[digits])) ++digits;
    std::string_view fraction_text = rest.substr(1, digits - 1);
    if (fraction_text.empty()) return std::nullopt;
    std::int64_t nanos = 0;
    for (std::size_t i = 0; i < 9; ++i) {
      nanos = nanos * 10 + (i < fraction_text.size() ? fraction_text[i] - '0' : 0);
    }
    fraction = std::chrono::nanoseconds(nanos);
    rest.remove_prefix(digits);
  }
  int offset_minutes = 0;
  if (rest == "Z") {
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    int hours = 0;
    int minutes = 0;
    if (!absl::SimpleAtoi(std::string(rest.substr(1, 2)), &hours) ||
        !absl::SimpleAtoi(std::string(rest.substr(4, 2)), &minutes)) {
      return std::nullopt;
    }
    offset_minutes = (rest[0] == '-' ? -1 : 1) * (hours * 60 + minutes);
  } else {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  std::chrono::sys_days days = std::chrono::year_month_day(
      std::chrono::year(year), std::chrono::month(month), std::chrono::day(day));
  auto when = std::chrono::time_point_cast<std::chrono::system_clock::duration>(
      days + std::chrono::hours(hour) + std::chrono::minutes(minute) +
      std::chrono::seconds(second) - std::chrono::minutes(offset_minutes));
  return when + std::chrono::duration_cast<std::chrono::system_clock::duration>(fraction);
}

void SequenceTracker::Confirmed(const std::string& symbol, std::uint64_t epoch) {
  State& state = symbols_[symbol];
  if (epoch != 0) state.epoch = epoch;
  state.last_seq = 0;
}

SequenceTracker::Observation SequenceTracker::Update(const std::string& symbol, std::uint64_t seq,
                                                     std::optional<std::uint64_t> epoch) {
  using Kind = Observation::Kind;
  State& state = symbols_[symbol];
  Observation seen;
  seen.previous_seq = state.last_seq;
  if (state.last_seq == 0) {
    // The baseline: the snapshot (or the first live book) after a confirmation.
    seen.kind = Kind::kBaseline;
    if (epoch) state.epoch = *epoch;
  } else if (epoch && *epoch != state.epoch) {
    seen.kind = Kind::kEpochChange;
    seen.previous_epoch = state.epoch;
    state.epoch = *epoch;
  } else if (seq == state.last_seq + 1) {
    seen.kind = Kind::kInOrder;
  } else if (seq > state.last_seq + 1) {
    seen.kind = Kind::kGap;
    seen.missed = seq - state.last_seq - 1;
  } else {
    seen.kind = Kind::kRegression;
  }
  state.last_seq = seq;
  seen.epoch = state.epoch;
  return seen;
}

void Output::Event(std::string_view event, boost::json::object fields, std::string_view text) {
  if (json_) {
    boost::json::object line;
    line["event"] = event;
    for (auto& field : fields) line[field.key()] = std::move(field.value());
    std::string text;
    AppendJson(line, text);
    out_ << text << '\n';
    out_.flush();
  } else if (event == "error") {
    err_ << "orderbook-probe: " << text << '\n';
    err_.flush();
  } else {
    out_ << text << '\n';
    out_.flush();
  }
}

std::string RestTestBook(int levels, std::chrono::system_clock::time_point now) {
  // Written by hand: Boost.JSON would print 99.5 as 9.95E1, and the gateway
  // forwards a REST body byte for byte.
  auto side = [&](double best, double step) {
    std::string text = "[";
    for (int i = 0; i < levels; ++i) {
      if (i > 0) text += ",";
      absl::StrAppend(&text, "[", Number(best + step * i), ",", Number(100.0 * (i + 1)), ",", i + 1,
                      "]");
    }
    return text + "]";
  };
  std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char timestamp[32];
  std::strftime(timestamp, sizeof(timestamp), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return absl::StrCat(R"({"bids":)", side(100.0, -0.5), R"(,"asks":)", side(100.5, 0.5),
                      R"(,"timestamp":")", timestamp, R"("})");
}

int Watch(const Options& options, Output& out) {
  absl::StatusOr<HttpEndpoint> endpoint = ParseGatewayUrl(options.gateway);
  if (!endpoint.ok()) {
    std::string message(endpoint.status().message());
    out.Event("error", {{"message", message}}, message);
    return kExitError;
  }
  auto deadline = Steady::now() + options.timeout;
  HttpConnection connection(*endpoint, options);
  if (!connection.Open(deadline)) {
    out.Event("error", {{"message", connection.error()}}, connection.error());
    return kExitError;
  }
  Watcher watcher(options, out, connection.io());
  std::string host = connection.Host();
  return connection.WithStream(
      [&](auto&& stream) { return watcher.Run(std::move(stream), host, deadline); });
}

int Publish(const Options& options, Output& out) {
  const std::string& symbol = options.symbols.front();
  if (options.via == "grpc") return PublishGrpc(options, out, symbol);
  return PublishRest(options, out, symbol);
}

int Health(const Options& options, Output& out) {
  if (options.via == "grpc") return HealthGrpc(options, out);
  return HealthHttp(options, out);
}

}  // namespace obgw::probe
