#ifndef OBGW_GATEWAY_FANOUT_SYMBOL_H_
#define OBGW_GATEWAY_FANOUT_SYMBOL_H_

#include <cstddef>
#include <string_view>

namespace obgw::gateway {

// Longest symbol accepted anywhere (gRPC, REST, WebSocket).
inline constexpr std::size_t kMaxSymbolLength = 32;

// A symbol is 1..32 characters of [A-Za-z0-9._:-]: tickers like "AAPL",
// "BRK.B", "BRK-B", "US.AAPL", "HK.00700", "BTC:USD". Anything else (spaces,
// quotes, slashes, control bytes, non-ASCII) is refused, which also means a
// symbol never needs escaping inside a JSON string.
constexpr bool IsValidSymbol(std::string_view symbol) {
  if (symbol.empty() || symbol.size() > kMaxSymbolLength) return false;
  for (char c : symbol) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_FANOUT_SYMBOL_H_
