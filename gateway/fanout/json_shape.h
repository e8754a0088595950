#ifndef OBGW_GATEWAY_FANOUT_JSON_SHAPE_H_
#define OBGW_GATEWAY_FANOUT_JSON_SHAPE_H_

#include <string_view>

#include <boost/system/error_code.hpp>

namespace obgw::gateway {

// What a book's data is made of: books are forwarded to clients verbatim as
// the "data" field of a frame, so they must be well-formed JSON (else every
// client's frame breaks), and one object.
struct JsonShape {
  boost::system::error_code error;  // Not well-formed (or trailing data).
  bool is_object = false;           // The top-level value is an object.
};

// A full validating parse that builds nothing (no DOM, no allocation): the
// cost of checking a book, not of copying it. Pure; any thread.
JsonShape CheckJsonShape(std::string_view text);

// Well-formed JSON whose top level is an object.
inline bool IsJsonObject(std::string_view text) {
  if (text.empty() || text.front() != '{') return false;
  JsonShape shape = CheckJsonShape(text);
  return !shape.error && shape.is_object;
}

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_FANOUT_JSON_SHAPE_H_
