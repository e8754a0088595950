#include "gateway/auth/publish_tokens.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstdlib>
#include <utility>

#include <absl/strings/ascii.h>
#include <absl/strings/str_cat.h>

namespace obgw::gateway {

absl::StatusOr<PublishTokens> PublishTokens::Create(const std::vector<std::string>& tokens) {
  if (tokens.empty()) return absl::InvalidArgumentError("--publish_tokens: no token given");
  std::vector<Digest> digests;
  digests.reserve(tokens.size());
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const std::string& token = tokens[i];
    // Position, never text: the reason goes to stderr and logs.
    std::string which = absl::StrCat("--publish_tokens: token ", i + 1, " of ", tokens.size());
    if (token.empty()) return absl::InvalidArgumentError(which + " is empty");
    if (token.size() < kMinPublishTokenLength) {
      return absl::InvalidArgumentError(
          absl::StrCat(which, " is shorter than ", kMinPublishTokenLength,
                       " characters (make one with: openssl rand -hex 32)"));
    }
    for (char c : token) {
      if (c <= ' ' || c > '~') {
        return absl::InvalidArgumentError(
            which +
            " has a space, a control or a non-ASCII character (an HTTP header "
            "cannot carry it as a bearer token)");
      }
    }
    digests.push_back(Hash(token));
  }
  return PublishTokens(std::move(digests));
}

PublishTokens::Digest PublishTokens::Hash(std::string_view text) {
  Digest digest{};
  unsigned int length = 0;
  // SHA-256 cannot fail on a valid input and an in-memory buffer; if OpenSSL
  // ever did, comparing an unset digest would accept a zero-filled one.
  if (EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1 ||
      length != digest.size()) {
    std::abort();
  }
  return digest;
}

bool PublishTokens::Matches(std::string_view presented) const {
  const Digest digest = Hash(presented);
  // Every digest is compared, also after a match: no early exit.
  int matched = 0;
  for (const Digest& candidate : digests_) {
    matched |= CRYPTO_memcmp(candidate.data(), digest.data(), digest.size()) == 0;
  }
  return matched != 0;
}

std::optional<std::string_view> BearerToken(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() || authorization[kScheme.size()] != ' ') {
    return std::nullopt;
  }
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (absl::ascii_tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) {
      return std::nullopt;
    }
  }
  std::string_view token = authorization.substr(kScheme.size());
  auto blank = [](char c) { return c == ' ' || c == '\t'; };
  while (!token.empty() && blank(token.front())) token.remove_prefix(1);
  while (!token.empty() && blank(token.back())) token.remove_suffix(1);
  if (token.empty() || token.find_first_of(" \t") != std::string_view::npos) return std::nullopt;
  return token;
}

}  // namespace obgw::gateway
