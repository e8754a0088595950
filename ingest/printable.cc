#include "ingest/printable.h"

#include "absl/strings/escaping.h"

namespace obgw::ingest {

std::string PrintableExcerpt(std::string_view text, std::size_t max_bytes) {
  // Debian's abseil has its own string_view type, not an alias of std's.
  if (text.size() <= max_bytes)
    return absl::CHexEscape(absl::string_view(text.data(), text.size()));
  // Escape only the kept prefix: a cut multi-byte character just shows as
  // its leading \xNN bytes, which is harmless in a message.
  std::string out = absl::CHexEscape(absl::string_view(text.data(), max_bytes));
  out += "...";
  return out;
}

}  // namespace obgw::ingest
