#include "ingest/update_validator.h"

#include <cmath>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "gateway/fanout/symbol.h"
#include "ingest/printable.h"

namespace obgw::ingest {
namespace {

using google::protobuf::RepeatedPtrField;
using orderbook::v1::PriceLevel;

// How much of a bad symbol is quoted back: enough to recognise it, bounded so
// a hostile 4 MiB "symbol" cannot bloat the summary.
constexpr std::size_t kQuotedSymbolBytes = 40;

absl::Status ValidateSide(const char* side, const RepeatedPtrField<PriceLevel>& levels,
                          const ValidationLimits& limits) {
  if (static_cast<std::size_t>(levels.size()) > limits.max_levels) {
    return absl::InvalidArgumentError(
        absl::StrCat(side, " has ", levels.size(), " levels, limit is ", limits.max_levels));
  }
  for (int i = 0; i < levels.size(); ++i) {
    const PriceLevel& level = levels[i];
    // NaN compares false with everything, so finiteness is checked first.
    if (!std::isfinite(level.price())) {
      return absl::InvalidArgumentError(absl::StrCat(side, "[", i, "].price is not finite"));
    }
    if (level.price() <= 0) {
      return absl::InvalidArgumentError(absl::StrCat(side, "[", i, "].price must be > 0"));
    }
    if (!std::isfinite(level.volume())) {
      return absl::InvalidArgumentError(absl::StrCat(side, "[", i, "].volume is not finite"));
    }
    if (level.volume() < 0) {
      return absl::InvalidArgumentError(absl::StrCat(side, "[", i, "].volume is negative"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateTimestamp(std::string_view timestamp) {
  if (timestamp.size() > kMaxTimestampLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("timestamp is longer than ", kMaxTimestampLength, " characters"));
  }
  for (std::size_t i = 0; i < timestamp.size(); ++i) {
    if (static_cast<unsigned char>(timestamp[i]) < 0x20) {
      return absl::InvalidArgumentError(
          absl::StrCat("timestamp has a control character at offset ", i));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateUpdate(const orderbook::v1::OrderBookUpdate& update,
                            const ValidationLimits& limits) {
  if (!gateway::IsValidSymbol(update.symbol())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "symbol \"", PrintableExcerpt(update.symbol(), kQuotedSymbolBytes), "\" is invalid: 1-",
        gateway::kMaxSymbolLength, " characters of [A-Za-z0-9._:-]"));
  }
  if (absl::Status status = ValidateSide("bids", update.bids(), limits); !status.ok()) {
    return status;
  }
  if (absl::Status status = ValidateSide("asks", update.asks(), limits); !status.ok()) {
    return status;
  }
  return ValidateTimestamp(update.timestamp());
}

}  // namespace obgw::ingest
