#include "gateway/http/broadcast_request.h"

#include "gateway/fanout/json_shape.h"
#include "gateway/fanout/symbol.h"

namespace obgw::gateway {
namespace {

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
  JsonShape shape = CheckJsonShape(body);
  if (shape.error) {
    return Reject(400, "invalid_json", "body is not valid JSON: " + shape.error.message());
  }
  if (!shape.is_object) {
    return Reject(400, "not_an_object", "body must be a JSON object");
  }
  return BroadcastCheck{};
}

}  // namespace obgw::gateway
