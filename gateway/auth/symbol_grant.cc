#include "gateway/auth/symbol_grant.h"

#include <algorithm>

#include "gateway/fanout/symbol.h"

namespace obgw::gateway {

std::optional<SymbolGrant> SymbolGrant::FromClaim(const boost::json::array& claim) {
  if (claim.size() > kMaxEntries) return std::nullopt;
  SymbolGrant grant;
  grant.all_ = false;
  for (const boost::json::value& item : claim) {
    const boost::json::string* text = item.if_string();
    if (text == nullptr) return std::nullopt;
    std::string_view entry = *text;
    if (entry == "*") {
      grant.all_ = true;
      continue;
    }
    if (entry.ends_with(".*")) {
      // "US.*": the part before '*' must itself be a valid symbol with
      // something before its dot (".*" would be a roundabout "*").
      std::string_view prefix = entry.substr(0, entry.size() - 1);
      if (prefix.size() < 2 || !IsValidSymbol(prefix)) return std::nullopt;
      if (std::find(grant.prefixes_.begin(), grant.prefixes_.end(), prefix) ==
          grant.prefixes_.end()) {
        grant.prefixes_.emplace_back(prefix);
      }
      continue;
    }
    if (!IsValidSymbol(entry)) return std::nullopt;
    grant.exact_.emplace(std::string(entry));
  }
  return grant;
}

bool SymbolGrant::Allows(std::string_view symbol) const {
  if (all_) return true;
  // Debian's abseil has its own string_view (not std::string_view).
  if (exact_.contains(absl::string_view(symbol.data(), symbol.size()))) return true;
  for (const std::string& prefix : prefixes_) {
    if (symbol.size() > prefix.size() && symbol.starts_with(prefix)) return true;
  }
  return false;
}

}  // namespace obgw::gateway
