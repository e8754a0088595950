#include "gateway/client_message.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "gateway/symbol.h"

namespace obgw::gateway {
namespace {

ClientRequest Invalid(std::string code, std::string message) {
  ClientRequest request;
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

}  // namespace

ClientRequest ParseClientMessage(std::string_view text) {
  boost::system::error_code ec;
  boost::json::value json = boost::json::parse(text, ec);
  if (ec) return Invalid("invalid_json", "Invalid JSON");
  const boost::json::object* object = json.if_object();
  if (object == nullptr) return Invalid("invalid_json", "Invalid JSON: expected an object");

  const boost::json::value* action_value = object->if_contains("action");
  const boost::json::string* action = action_value ? action_value->if_string() : nullptr;
  if (action == nullptr) return Invalid("unknown_action", "Unknown action: None");

  ClientRequest request;
  if (*action == "ping") {
    request.action = ClientRequest::Action::kPing;
    return request;
  }
  if (*action == "subscribe") {
    request.action = ClientRequest::Action::kSubscribe;
  } else if (*action == "unsubscribe") {
    request.action = ClientRequest::Action::kUnsubscribe;
  } else {
    return Invalid("unknown_action", "Unknown action: " + Excerpt(*action));
  }

  const boost::json::value* symbol_value = object->if_contains("symbol");
  const boost::json::string* symbol = symbol_value ? symbol_value->if_string() : nullptr;
  if (symbol == nullptr || symbol->empty()) {
    return Invalid("missing_symbol", "symbol is required");
  }
  if (!IsValidSymbol(*symbol)) {
    return Invalid("invalid_symbol",
                   "Invalid symbol: 1-32 characters of A-Z a-z 0-9 . _ : - expected");
  }
  request.symbol.assign(symbol->data(), symbol->size());
  return request;
}

}  // namespace obgw::gateway
