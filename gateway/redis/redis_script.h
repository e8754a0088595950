#ifndef OBGW_GATEWAY_REDIS_REDIS_SCRIPT_H_
#define OBGW_GATEWAY_REDIS_REDIS_SCRIPT_H_

#include <string>

namespace obgw::gateway {

// A Lua script and its SHA-1 (what EVALSHA names it by), computed once here
// so a connection can send EVALSHA before Redis told it the digest.
// Immutable after construction; any thread.
class RedisScript {
 public:
  explicit RedisScript(std::string source);

  const std::string& source() const { return source_; }
  // 40 lowercase hex digits, as SCRIPT LOAD answers.
  const std::string& sha1() const { return sha1_; }

 private:
  std::string source_;
  std::string sha1_;
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_REDIS_REDIS_SCRIPT_H_
