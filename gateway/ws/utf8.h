#ifndef OBGW_GATEWAY_WS_UTF8_H_
#define OBGW_GATEWAY_WS_UTF8_H_

#include <string_view>

namespace obgw::gateway {

// Whether `text` is well-formed UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF, no truncated sequence), as RFC 6455
// requires of text messages and close reasons, and as browsers enforce on
// what the gateway sends (the fuzzers check its replies with it). Pure; any
// thread.
bool IsValidUtf8(std::string_view text);

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_WS_UTF8_H_
