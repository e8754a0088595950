#include "gateway/fanout/json_shape.h"

#include <cstddef>
#include <cstdint>

#include <boost/json/basic_parser_impl.hpp>

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

}  // namespace

JsonShape CheckJsonShape(std::string_view text) {
  boost::json::basic_parser<ShapeHandler> parser(boost::json::parse_options{});
  JsonShape shape;
  std::size_t used = parser.write_some(false, text.data(), text.size(), shape.error);
  if (!shape.error && used != text.size()) shape.error = boost::json::error::extra_data;
  shape.is_object = parser.handler().top_is_object;
  return shape;
}

}  // namespace obgw::gateway
