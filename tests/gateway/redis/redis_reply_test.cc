#include "gateway/redis/redis_reply.h"

#include <hiredis/hiredis.h>

#include <gtest/gtest.h>

namespace obgw::gateway {
namespace {

TEST(RedisReplyTest, AccessorsCheckTheType) {
  RedisReply integer = RedisReply::Integer(42);
  EXPECT_EQ(integer.integer(), 42);
  EXPECT_EQ(integer.AsInteger(), 42);
  EXPECT_FALSE(integer.text());
  EXPECT_FALSE(integer.error());
  EXPECT_EQ(integer.at(0), nullptr);

  RedisReply text = RedisReply::String("17");
  EXPECT_FALSE(text.integer());
  EXPECT_EQ(text.AsInteger(), 17);
  EXPECT_EQ(text.text(), "17");
  EXPECT_FALSE(RedisReply::String("17x").AsInteger());

  RedisReply error = RedisReply::Error("ERR no");
  EXPECT_TRUE(error.is_error());
  EXPECT_EQ(error.error(), "ERR no");
  EXPECT_FALSE(error.text());

  RedisReply array = RedisReply::Array({RedisReply::Nil(), RedisReply::Status("OK")});
  ASSERT_NE(array.at(1), nullptr);
  EXPECT_EQ(array.at(1)->text(), "OK");
  EXPECT_TRUE(array.at(0)->is_nil());
  EXPECT_EQ(array.at(2), nullptr);
  EXPECT_EQ(array.Describe(), "array[2]");
}

// Builds hiredis replies by hand: what a server could send.
redisReply* Make(int type) {
  auto* reply = static_cast<redisReply*>(calloc(1, sizeof(redisReply)));
  reply->type = type;
  return reply;
}

redisReply* Nest(int depth) {
  redisReply* reply = Make(REDIS_REPLY_ARRAY);
  if (depth == 0) return reply;
  reply->elements = 1;
  reply->element = static_cast<redisReply**>(calloc(1, sizeof(redisReply*)));
  reply->element[0] = Nest(depth - 1);
  return reply;
}

TEST(RedisReplyTest, CopiesHiredisRepliesBinarySafe) {
  redisReply* reply = Make(REDIS_REPLY_STRING);
  reply->str = static_cast<char*>(malloc(3));
  memcpy(reply->str, "a\0b", 3);
  reply->len = 3;
  auto copy = RedisReply::FromHiredis(reply);
  freeReplyObject(reply);
  ASSERT_TRUE(copy);
  EXPECT_EQ(copy->text(), std::string_view("a\0b", 3));
}

TEST(RedisReplyTest, RefusesDeepNestingUnknownTypesAndNull) {
  redisReply* ok = Nest(RedisReply::kMaxDepth);
  EXPECT_TRUE(RedisReply::FromHiredis(ok));
  freeReplyObject(ok);
  redisReply* deep = Nest(RedisReply::kMaxDepth + 1);
  EXPECT_FALSE(RedisReply::FromHiredis(deep));
  freeReplyObject(deep);
  redisReply* unknown = Make(99);
  EXPECT_FALSE(RedisReply::FromHiredis(unknown));
  free(unknown);
  EXPECT_FALSE(RedisReply::FromHiredis(nullptr));
}

}  // namespace
}  // namespace obgw::gateway
