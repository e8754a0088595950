#ifndef OBGW_GATEWAY_AUTH_COMPACT_JWS_H_
#define OBGW_GATEWAY_AUTH_COMPACT_JWS_H_

#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

namespace obgw::gateway {

// The readable parts of a token in JWS compact form (RFC 7515 7.1):
// BASE64URL(header) "." BASE64URL(payload) "." BASE64URL(signature), each
// decoded. Read before any signature check, so that the verifier can refuse
// a token by its header (alg) without trusting it; nothing here is trusted.
struct CompactJws {
  boost::json::object header;
  boost::json::object payload;
};

// Decodes unpadded base64url (RFC 4648 5); nullopt for any character outside
// the alphabet, '=' included, or an impossible length. Not crypto: encoding.
std::optional<std::string> DecodeBase64Url(std::string_view text);

// Splits `token` into its three parts and parses the header and the payload
// as JSON objects; nullopt unless there are exactly three parts, the first
// two non-empty, all valid base64url, and the first two JSON objects. The
// signature part may be empty (alg "none" tokens): the caller refuses those.
// Pure function, safe on any thread, never throws.
std::optional<CompactJws> ParseCompactJws(std::string_view token);

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_AUTH_COMPACT_JWS_H_
