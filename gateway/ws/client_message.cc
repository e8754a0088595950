#include "gateway/ws/client_message.h"

#include <algorithm>
#include <optional>

#include <boost/json/parse.hpp>

#include "gateway/fanout/symbol.h"

namespace obgw::gateway {
namespace {

ClientRequest Invalid(ClientRequest request, std::string code, std::string message) {
  request.action = ClientRequest::Action::kInvalid;
  request.symbols.clear();
  request.token.clear();
  request.error_code = std::move(code);
  request.error_message = std::move(message);
  return request;
}

// Shortens untrusted text before echoing it in an error message, never
// inside a UTF-8 sequence: browsers drop a connection on invalid UTF-8.
std::string Excerpt(std::string_view text) {
  constexpr std::size_t kMax = 32;
  if (text.size() <= kMax) return std::string(text);
  std::size_t cut = kMax;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut)) + "...";
}

bool IsValidReqId(const boost::json::value& req_id) {
  if (req_id.is_int64() || req_id.is_uint64()) return true;
  return req_id.is_string() && req_id.get_string().size() <= kMaxReqIdLength;
}

// Collects "symbol" and "symbols" into request.symbols; returns the error
// request when either is malformed.
std::optional<ClientRequest> ReadSymbols(const boost::json::object& object,
                                         ClientRequest& request) {
  constexpr std::string_view kSymbolRule =
      "Invalid symbol: 1-32 characters of A-Z a-z 0-9 . _ : - expected";
  auto add = [&request](std::string_view symbol) {
    if (std::find(request.symbols.begin(), request.symbols.end(), symbol) ==
        request.symbols.end()) {
      request.symbols.emplace_back(symbol);
    }
  };
  if (const boost::json::value* symbol = object.if_contains("symbol")) {
    const boost::json::string* text = symbol->if_string();
    // "symbol":"" or a non-string counts as missing, as in the legacy middleware.
    if (text != nullptr && !text->empty()) {
      if (!IsValidSymbol(*text))
        return Invalid(request, "invalid_symbol", std::string(kSymbolRule));
      add(*text);
    } else if (object.if_contains("symbols") == nullptr) {
      return Invalid(request, "missing_symbol", "symbol is required");
    }
  }
  if (const boost::json::value* symbols = object.if_contains("symbols")) {
    const boost::json::array* list = symbols->if_array();
    if (list == nullptr || list->empty()) {
      return Invalid(request, "invalid_symbols", "symbols must be a non-empty array of strings");
    }
    if (list->size() > kMaxSymbolsPerRequest) {
      return Invalid(request, "too_many_symbols",
                     "symbols may name at most " + std::to_string(kMaxSymbolsPerRequest) +
                         " symbols per request");
    }
    for (const boost::json::value& item : *list) {
      const boost::json::string* text = item.if_string();
      if (text == nullptr) {
        return Invalid(request, "invalid_symbols", "symbols must be a non-empty array of strings");
      }
      if (!IsValidSymbol(*text))
        return Invalid(request, "invalid_symbol", std::string(kSymbolRule));
      add(*text);
    }
  }
  if (request.symbols.empty()) return Invalid(request, "missing_symbol", "symbol is required");
  return std::nullopt;
}

}  // namespace

ClientRequest ParseClientMessage(std::string_view text) {
  ClientRequest request;
  boost::system::error_code ec;
  boost::json::value json = boost::json::parse(text, ec);
  if (ec) return Invalid(std::move(request), "invalid_json", "Invalid JSON");
  const boost::json::object* object = json.if_object();
  if (object == nullptr) {
    return Invalid(std::move(request), "invalid_json", "Invalid JSON: expected an object");
  }

  if (const boost::json::value* req_id = object->if_contains("req_id")) {
    if (!IsValidReqId(*req_id)) {
      return Invalid(std::move(request), "invalid_req_id",
                     "req_id must be an integer or a string of at most " +
                         std::to_string(kMaxReqIdLength) + " bytes");
    }
    request.req_id = *req_id;
  }

  const boost::json::value* action_value = object->if_contains("action");
  const boost::json::string* action = action_value ? action_value->if_string() : nullptr;
  if (action == nullptr) {
    return Invalid(std::move(request), "unknown_action", "Unknown action: None");
  }
  if (*action == "ping") {
    request.action = ClientRequest::Action::kPing;
    return request;
  }
  if (*action == "list_subscriptions") {
    request.action = ClientRequest::Action::kListSubscriptions;
    return request;
  }
  if (*action == "auth") {
    const boost::json::value* token = object->if_contains("token");
    const boost::json::string* text = token ? token->if_string() : nullptr;
    if (text == nullptr || text->empty()) {
      return Invalid(std::move(request), "invalid_token", "auth needs a token: a non-empty string");
    }
    request.action = ClientRequest::Action::kAuth;
    request.token = *text;
    return request;
  }
  if (*action == "subscribe") {
    request.action = ClientRequest::Action::kSubscribe;
  } else if (*action == "unsubscribe") {
    request.action = ClientRequest::Action::kUnsubscribe;
  } else {
    return Invalid(std::move(request), "unknown_action", "Unknown action: " + Excerpt(*action));
  }
  if (auto error = ReadSymbols(*object, request)) return *std::move(error);
  return request;
}

}  // namespace obgw::gateway
