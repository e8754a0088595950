#include "gateway/ws/session_auth.h"

#include <utility>

namespace obgw::gateway {

void CountRejection(ShardStats& stats, JwtError error) {
  Counter* counter = nullptr;
  switch (error) {
    case JwtError::kMalformed:
      counter = &stats.ws_auth_rejected_malformed;
      break;
    case JwtError::kWrongAlgorithm:
      counter = &stats.ws_auth_rejected_wrong_algorithm;
      break;
    case JwtError::kBadSignature:
      counter = &stats.ws_auth_rejected_bad_signature;
      break;
    case JwtError::kExpired:
      counter = &stats.ws_auth_rejected_expired;
      break;
    case JwtError::kNotYetValid:
      counter = &stats.ws_auth_rejected_not_yet_valid;
      break;
    case JwtError::kMissingSub:
      counter = &stats.ws_auth_rejected_missing_sub;
      break;
    case JwtError::kBadClaims:
      counter = &stats.ws_auth_rejected_bad_claims;
      break;
    case JwtError::kWrongSub:
      counter = &stats.ws_auth_rejected_wrong_sub;
      break;
    case JwtError::kUnknownKey:
      counter = &stats.ws_auth_rejected_unknown_key;
      break;
  }
  if (counter != nullptr) counter->fetch_add(1, std::memory_order_relaxed);
}

SessionAuth::SessionAuth(const JwtVerifier* verifier, std::string_view client_id)
    : verifier_(verifier), client_id_(client_id) {}

void SessionAuth::Accept(JwtClaims claims, Clock::time_point now,
                         std::chrono::system_clock::time_point wall) {
  expires_at_ =
      now + std::chrono::duration_cast<Clock::duration>(verifier_->ExpiresIn(claims, wall));
  claims_ = std::move(claims);
  deadline_.reset();
}

JwtVerdict SessionAuth::Authenticate(std::string_view token, Clock::time_point now,
                                     std::chrono::system_clock::time_point wall) {
  JwtVerdict verdict = verifier_->VerifyFor(token, client_id_, wall);
  if (verdict.ok()) Accept(*verdict.claims, now, wall);
  return verdict;
}

bool SessionAuth::Allows(std::string_view symbol) const {
  if (!required()) return true;
  return claims_.has_value() && claims_->symbols.Allows(symbol);
}

SessionAuth::Verdict SessionAuth::Check(Clock::time_point now) const {
  if (!required()) return Verdict::kNothing;
  if (!claims_) return deadline_ && now >= *deadline_ ? Verdict::kAuthTimeout : Verdict::kNothing;
  return now >= expires_at_ ? Verdict::kExpired : Verdict::kNothing;
}

}  // namespace obgw::gateway
