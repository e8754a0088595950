#ifndef OBGW_GATEWAY_AUTH_SYMBOL_GRANT_H_
#define OBGW_GATEWAY_AUTH_SYMBOL_GRANT_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <absl/container/flat_hash_set.h>
#include <boost/json/array.hpp>

namespace obgw::gateway {

// Which symbols a token lets its holder subscribe to: the JWT's optional
// `symbols` claim. Each entry is an exact symbol ("AAPL") or a prefix pattern
// ("US.*": every symbol that starts with "US." and is longer than it); "*"
// alone allows every symbol. Without the claim (Unrestricted()) every symbol
// is allowed. Immutable value, safe to read from any thread.
class SymbolGrant {
 public:
  // Most entries one claim may hold; a longer claim is bad_claims.
  static constexpr std::size_t kMaxEntries = 1000;

  // Every symbol (no `symbols` claim).
  static SymbolGrant Unrestricted() { return SymbolGrant(); }
  // The claim's array: strings, each a valid symbol (gateway/fanout/symbol.h)
  // or such a symbol's leading part ending in ".*", or "*"; nullopt for any
  // other shape (the token is refused as bad_claims). An empty array allows
  // nothing.
  static std::optional<SymbolGrant> FromClaim(const boost::json::array& claim);

  bool Allows(std::string_view symbol) const;
  bool unrestricted() const { return all_; }

 private:
  SymbolGrant() = default;

  bool all_ = true;
  absl::flat_hash_set<std::string> exact_;
  // Patterns without their '*' ("US."), checked in order.
  std::vector<std::string> prefixes_;
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_AUTH_SYMBOL_GRANT_H_
