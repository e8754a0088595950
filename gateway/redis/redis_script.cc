#include "gateway/redis/redis_script.h"

#include <cstdio>

#include <boost/uuid/detail/sha1.hpp>

namespace obgw::gateway {

RedisScript::RedisScript(std::string source) : source_(std::move(source)) {
  boost::uuids::detail::sha1 hash;
  hash.process_bytes(source_.data(), source_.size());
  boost::uuids::detail::sha1::digest_type digest;
  hash.get_digest(digest);
  char hex[41];
  for (int i = 0; i < 5; ++i) std::snprintf(hex + 8 * i, 9, "%08x", digest[i]);
  sha1_.assign(hex, 40);
}

}  // namespace obgw::gateway
