#ifndef OBGW_GATEWAY_AUTH_PUBLISH_TOKENS_H_
#define OBGW_GATEWAY_AUTH_PUBLISH_TOKENS_H_

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <absl/status/statusor.h>

namespace obgw::gateway {

// Shortest publish token accepted at start: a token is a shared secret a
// backend sends with every publish, so it must not be guessable (docs:
// `openssl rand -hex 32` makes one of 64 characters).
inline constexpr std::size_t kMinPublishTokenLength = 16;

// The publish tokens (--publish_tokens): the secrets a publisher must send
// to POST /broadcast/orderbook (Authorization: Bearer) and to the gRPC ingest
// (metadata authorization: Bearer). Several at once, so that a token can be
// rotated without a moment where publishers are refused: add the new one,
// move the publishers, remove the old one.
//
// Owns only the SHA-256 digests of the tokens, never their text, so a core
// dump or a debugger shows no token. A presented token is hashed too and
// compared with every digest by CRYPTO_memcmp, without stopping at a match:
// the time taken says neither how much of a token was right nor which token
// matched (hashing first also hides the length of the tokens).
//
// Immutable once created: any thread may call it concurrently.
class PublishTokens {
 public:
  // Takes the configured tokens. Fails, with a one-line reason that names
  // the token by its position and never shows it, for an empty list, an
  // empty token, one shorter than kMinPublishTokenLength, or one with a
  // character that cannot travel in an HTTP header as a bearer token (only
  // visible ASCII, no space).
  static absl::StatusOr<PublishTokens> Create(const std::vector<std::string>& tokens);

  // Whether `presented` is one of the tokens; constant time (see above).
  bool Matches(std::string_view presented) const;

  // How many tokens are configured (for the start-up log line).
  std::size_t size() const { return digests_.size(); }

 private:
  using Digest = std::array<unsigned char, 32>;
  explicit PublishTokens(std::vector<Digest> digests) : digests_(std::move(digests)) {}
  static Digest Hash(std::string_view text);

  std::vector<Digest> digests_;
};

// The token of an Authorization value "Bearer <token>" (RFC 6750 section
// 2.1: the scheme is case-insensitive, one or more spaces follow it);
// nullopt for another scheme, no token, or a token with a space in it.
// Pure, any thread.
std::optional<std::string_view> BearerToken(std::string_view authorization);

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_AUTH_PUBLISH_TOKENS_H_
