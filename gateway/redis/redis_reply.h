#ifndef OBGW_GATEWAY_REDIS_REDIS_REPLY_H_
#define OBGW_GATEWAY_REDIS_REDIS_REPLY_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct redisReply;

namespace obgw::gateway {

// An owned copy of one Redis reply, so that no caller ever touches hiredis'
// redisReply (freed as soon as its callback returns) and every access is
// checked: each accessor answers nullopt/null when the reply is not of the
// asked shape, and the caller counts that as a bad reply.
// A plain value; any thread.
class RedisReply {
 public:
  enum class Type { kNil, kInteger, kString, kStatus, kError, kArray };

  // Deepest nesting copied (the broker's replies nest 1 deep); deeper replies
  // are refused by FromHiredis. (hiredis itself fails the connection on
  // nesting deeper than 7, a protocol error.)
  static constexpr int kMaxDepth = 4;

  // Copies `reply`; nullopt when it is null, of an unknown type or nested
  // deeper than kMaxDepth.
  static std::optional<RedisReply> FromHiredis(const redisReply* reply);

  static RedisReply Nil() { return RedisReply(Type::kNil); }
  static RedisReply Integer(std::int64_t value);
  static RedisReply String(std::string value) { return Text(Type::kString, std::move(value)); }
  static RedisReply Status(std::string value) { return Text(Type::kStatus, std::move(value)); }
  static RedisReply Error(std::string value) { return Text(Type::kError, std::move(value)); }
  static RedisReply Array(std::vector<RedisReply> elements);

  Type type() const { return type_; }
  bool is_nil() const { return type_ == Type::kNil; }
  bool is_error() const { return type_ == Type::kError; }
  bool is_array() const { return type_ == Type::kArray; }

  // An integer reply.
  std::optional<std::int64_t> integer() const;
  // A string (bulk) or status reply's text.
  std::optional<std::string_view> text() const;
  // An error reply's message ("NOSCRIPT No matching script...").
  std::optional<std::string_view> error() const;
  // An integer reply, or a string one holding a decimal integer (HGET of a
  // counter); nullopt otherwise.
  std::optional<std::int64_t> AsInteger() const;
  // An array's elements; empty for any other type.
  const std::vector<RedisReply>& elements() const { return elements_; }
  // Element `i` of an array; null when not an array or out of range.
  const RedisReply* at(std::size_t i) const;

  // For logs and test failures: "error: ERR ...", "array[3]", "integer 4"...
  std::string Describe() const;

 private:
  explicit RedisReply(Type type) : type_(type) {}
  static RedisReply Text(Type type, std::string value);
  static std::optional<RedisReply> Copy(const redisReply* reply, int depth);

  Type type_;
  std::int64_t integer_ = 0;
  std::string text_;
  std::vector<RedisReply> elements_;
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_REDIS_REDIS_REPLY_H_
