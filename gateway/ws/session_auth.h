#ifndef OBGW_GATEWAY_WS_SESSION_AUTH_H_
#define OBGW_GATEWAY_WS_SESSION_AUTH_H_

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/auth/jwt_verifier.h"
#include "gateway/fanout/clock.h"
#include "gateway/metrics/gateway_stats.h"

namespace obgw::gateway {

// Counts a refused token in `stats` (one ws_auth_rejected counter per
// reason), wherever it was refused: the HTTP upgrade (?token=) or an auth
// message.
void CountRejection(ShardStats& stats, JwtError error);

// One WebSocket connection's authentication (docs/protocol.md "auth"): who
// it is (the token's claims), until when (exp + leeway, on the shard's
// steady clock), which symbols it may follow, and the deadline of the first
// auth message. With no verifier (auth off) it is authenticated from the
// start and allows every symbol. Owns only its state; the caller passes the
// time, so tests run it on simulated time. Thread-compatible: used by one
// WebSocketSession on its shard thread.
class SessionAuth {
 public:
  enum class Verdict {
    kNothing,
    kAuthTimeout,  // No valid auth message before the deadline.
    kExpired,      // The token's exp (plus leeway) has passed.
  };

  // `verifier` null: auth off. It must outlive this object (the gateway's
  // config owns it).
  SessionAuth(const JwtVerifier* verifier, std::string_view client_id);

  bool required() const { return verifier_ != nullptr; }
  bool authenticated() const { return !required() || claims_.has_value(); }
  const std::optional<JwtClaims>& claims() const { return claims_; }

  // Claims verified already (?token= on the upgrade, for this client_id).
  void Accept(JwtClaims claims, Clock::time_point now, std::chrono::system_clock::time_point wall);
  // Reading starts: an unauthenticated connection must authenticate by
  // `deadline`.
  void Arm(Clock::time_point deadline) { deadline_ = deadline; }
  // The token of an auth message: verified for this client_id; when valid it
  // replaces the claims (a refresh: new exp and symbols), otherwise nothing
  // changes and the caller closes the connection.
  JwtVerdict Authenticate(std::string_view token, Clock::time_point now,
                          std::chrono::system_clock::time_point wall);

  bool Allows(std::string_view symbol) const;
  // The periodic check (the shard's sweep).
  Verdict Check(Clock::time_point now) const;

 private:
  const JwtVerifier* verifier_;
  const std::string client_id_;
  std::optional<JwtClaims> claims_;
  // Set by Arm while unauthenticated.
  std::optional<Clock::time_point> deadline_;
  // While authenticated: when the token stops being valid.
  Clock::time_point expires_at_;
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_WS_SESSION_AUTH_H_
