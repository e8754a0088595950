#ifndef OBGW_INGEST_PRINTABLE_H_
#define OBGW_INGEST_PRINTABLE_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace obgw::ingest {

// Makes untrusted client text (e.g. the symbol of a rejected update) safe to
// embed in an error message, a log line or a PublishSummary: keeps at most
// `max_bytes` bytes (appending "..." when it cut), and C-escapes quotes,
// backslashes, control bytes and non-ASCII bytes (\xNN), so the result is
// short, printable ASCII and never valid UTF-8 trouble for protobuf strings.
// Pure function; any thread.
std::string PrintableExcerpt(std::string_view text, std::size_t max_bytes);

}  // namespace obgw::ingest

#endif  // OBGW_INGEST_PRINTABLE_H_
