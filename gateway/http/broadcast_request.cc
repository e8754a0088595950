#include "gateway/http/broadcast_request.h"

#include <boost/json/basic_parser_impl.hpp>

#include "gateway/fanout/symbol.h"

namespace obgw::gateway {
namespace {

// A validating parse that builds nothing: the body is forwarded as it came,
// so only its well-formedness and its top-level kind matter.
struct ShapeHandler {
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  int depth = 0;
  bool top_is_object = false;

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_object_begin(boost::system::error_code&) {
    if (depth++ == 0) top_is_object = true;
    return true;
  }
  bool on_object_end(std::size_t, boost::system::error_code&) {
    --depth;
    return true;
  }
  bool on_array_begin(boost::system::error_code&) {
    ++depth;
    return true;
  }
  bool on_array_end(std::size_t, boost::system::error_code&) {
    --depth;
    return true;
  }
  bool on_key_part(std::string_view, std::size_t, boost::system::error_code&) { return true; }
  bool on_key(std::string_view, std::size_t, boost::system::error_code&) { return true; }
  bool on_string_part(std::string_view, std::size_t, boost::system::error_code&) { return true; }
  bool on_string(std::string_view, std::size_t, boost::system::error_code&) { return true; }
  bool on_number_part(std::string_view, boost::system::error_code&) { return true; }
  bool on_int64(std::int64_t, std::string_view, boost::system::error_code&) { return true; }
  bool on_uint64(std::uint64_t, std::string_view, boost::system::error_code&) { return true; }
  bool on_double(double, std::string_view, boost::system::error_code&) { return true; }
  bool on_bool(bool, boost::system::error_code&) { return true; }
  bool on_null(boost::system::error_code&) { return true; }
  bool on_comment_part(std::string_view, boost::system::error_code&) { return true; }
  bool on_comment(std::string_view, boost::system::error_code&) { return true; }
};

BroadcastCheck Reject(int status, std::string code, std::string detail) {
  return BroadcastCheck{status, std::move(code), std::move(detail)};
}

}  // namespace

BroadcastCheck CheckBroadcast(bool has_symbol, std::string_view symbol, std::string_view body) {
  // The query is checked before the body, as FastAPI did (422 before 400).
  if (!has_symbol || symbol.empty()) {
    return Reject(422, "missing_symbol", "query parameter 'symbol' is required");
  }
  if (!IsValidSymbol(symbol)) {
    return Reject(422, "invalid_symbol",
                  "invalid symbol: 1-32 characters of A-Z a-z 0-9 . _ : - expected");
  }
  boost::json::basic_parser<ShapeHandler> parser(boost::json::parse_options{});
  boost::system::error_code ec;
  std::size_t used = parser.write_some(false, body.data(), body.size(), ec);
  if (!ec && used != body.size()) ec = boost::json::error::extra_data;
  if (ec) return Reject(400, "invalid_json", "body is not valid JSON: " + ec.message());
  if (!parser.handler().top_is_object) {
    return Reject(400, "not_an_object", "body must be a JSON object");
  }
  return BroadcastCheck{};
}

}  // namespace obgw::gateway
