// libFuzzer target for CheckBroadcast (gateway/broadcast_request.h), the
// validation of POST /broadcast/orderbook?symbol=S. The input is split as
//   byte 0: bit 0 = has_symbol;  byte 1: symbol length L (0..255);
//   next L bytes: the symbol;   the rest: the body.
// For any input it checks that CheckBroadcast returns (no crash, hang,
// exception or sanitizer report) and that:
//   - status is 0 or one of 400, 413, 422;
//   - status 0 implies has_symbol, IsValidSymbol(symbol) (gateway/symbol.h),
//     and a body that boost::json::parse reads as a JSON object;
//   - conversely such a request gets status 0 (or 413, a size limit);
//   - status != 0 implies a non-empty code;
//   - detail is valid UTF-8 (it goes back in the JSON reply).
//
//   build-asan/bin/broadcast_request_fuzz -dict=tests/fuzz/json.dict
//   tests/fuzz/corpus/broadcast_request
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string_view>

#include "gateway/fanout/symbol.h"
#include "gateway/http/broadcast_request.h"
#include "gateway/ws/utf8.h"

namespace {

[[noreturn]] void Fail(const char* what, const obgw::gateway::BroadcastCheck& check) {
  std::fprintf(stderr, "broadcast_request_fuzz: invariant violated: %s (status=%d code='%s')\n",
               what, check.status, check.code.c_str());
  __builtin_trap();
}

// The oracle: what the endpoint accepts, written independently of
// CheckBroadcast's streaming parser.
bool IsJsonObject(std::string_view body) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(body, ec);
  return !ec && value.is_object();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const bool has_symbol = (data[0] & 1) != 0;
  const std::size_t symbol_size = data[1] < size - 2 ? data[1] : size - 2;
  const char* rest = reinterpret_cast<const char*>(data + 2);
  const std::string_view symbol(rest, symbol_size);
  const std::string_view body(rest + symbol_size, size - 2 - symbol_size);

  const obgw::gateway::BroadcastCheck check =
      obgw::gateway::CheckBroadcast(has_symbol, symbol, body);

  if (check.status != 0 && check.status != 400 && check.status != 413 && check.status != 422) {
    Fail("status is not 0, 400, 413 or 422", check);
  }
  const bool valid = has_symbol && obgw::gateway::IsValidSymbol(symbol) && IsJsonObject(body);
  if (check.status == 0 && !valid) Fail("accepted an invalid request", check);
  if (valid && check.status != 0 && check.status != 413) Fail("rejected a valid request", check);
  if (check.status != 0 && check.code.empty()) Fail("rejected without a code", check);
  if (!obgw::gateway::IsValidUtf8(check.detail)) Fail("detail is not valid UTF-8", check);
  return 0;
}
