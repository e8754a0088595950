#include "gateway/redis/redis_reply.h"

#include <hiredis/hiredis.h>

#include <absl/strings/numbers.h>
#include <absl/strings/str_cat.h>

namespace obgw::gateway {

RedisReply RedisReply::Integer(std::int64_t value) {
  RedisReply reply(Type::kInteger);
  reply.integer_ = value;
  return reply;
}

RedisReply RedisReply::Text(Type type, std::string value) {
  RedisReply reply(type);
  reply.text_ = std::move(value);
  return reply;
}

RedisReply RedisReply::Array(std::vector<RedisReply> elements) {
  RedisReply reply(Type::kArray);
  reply.elements_ = std::move(elements);
  return reply;
}

std::optional<RedisReply> RedisReply::FromHiredis(const redisReply* reply) {
  return Copy(reply, 0);
}

std::optional<RedisReply> RedisReply::Copy(const redisReply* reply, int depth) {
  if (reply == nullptr || depth > kMaxDepth) return std::nullopt;
  auto text = [reply] { return reply->str ? std::string(reply->str, reply->len) : std::string(); };
  switch (reply->type) {
    case REDIS_REPLY_NIL:
      return Nil();
    case REDIS_REPLY_INTEGER:
      return Integer(reply->integer);
    case REDIS_REPLY_STRING:
      return String(text());
    case REDIS_REPLY_STATUS:
      return Status(text());
    case REDIS_REPLY_ERROR:
      return Error(text());
    case REDIS_REPLY_ARRAY: {
      std::vector<RedisReply> elements;
      elements.reserve(reply->elements);
      for (std::size_t i = 0; i < reply->elements; ++i) {
        std::optional<RedisReply> element = Copy(reply->element[i], depth + 1);
        if (!element) return std::nullopt;
        elements.push_back(std::move(*element));
      }
      return Array(std::move(elements));
    }
    default:
      return std::nullopt;
  }
}

std::optional<std::int64_t> RedisReply::integer() const {
  if (type_ != Type::kInteger) return std::nullopt;
  return integer_;
}

std::optional<std::string_view> RedisReply::text() const {
  if (type_ != Type::kString && type_ != Type::kStatus) return std::nullopt;
  return std::string_view(text_);
}

std::optional<std::string_view> RedisReply::error() const {
  if (type_ != Type::kError) return std::nullopt;
  return std::string_view(text_);
}

std::optional<std::int64_t> RedisReply::AsInteger() const {
  if (type_ == Type::kInteger) return integer_;
  std::int64_t value = 0;
  if (type_ == Type::kString && absl::SimpleAtoi(text_, &value)) return value;
  return std::nullopt;
}

const RedisReply* RedisReply::at(std::size_t i) const {
  if (type_ != Type::kArray || i >= elements_.size()) return nullptr;
  return &elements_[i];
}

std::string RedisReply::Describe() const {
  switch (type_) {
    case Type::kNil:
      return "nil";
    case Type::kInteger:
      return absl::StrCat("integer ", integer_);
    case Type::kString:
      return absl::StrCat("string of ", text_.size(), " bytes");
    case Type::kStatus:
      return absl::StrCat("status ", text_);
    case Type::kError:
      return absl::StrCat("error: ", text_);
    case Type::kArray:
      return absl::StrCat("array[", elements_.size(), "]");
  }
  return "?";
}

}  // namespace obgw::gateway
