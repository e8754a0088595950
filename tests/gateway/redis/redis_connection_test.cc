#include "gateway/redis/redis_connection.h"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "redis_test.h"

namespace obgw::gateway {
namespace {

using namespace std::chrono_literals;
using obgw::testing::RedisServer;

// Drives the io_context on the test thread: the connection's thread.
class RedisConnectionTest : public obgw::testing::RedisTest {
 protected:
  void TearDown() override {
    OnIo([this] {
      for (auto& connection : connections_) connection->Stop();
    });
  }

  RedisConnection::Options Options(const std::string& url) {
    RedisConnection::Options options;
    auto endpoint = ParseRedisUrl(url);
    EXPECT_TRUE(endpoint.ok()) << endpoint.status();
    options.endpoint = *endpoint;
    options.name = "test";
    options.connect_timeout = 500ms;
    options.command_timeout = 300ms;
    options.backoff_min = 10ms;
    options.backoff_max = 100ms;
    return options;
  }

  // A connection to the test's server, started; its state changes recorded.
  RedisConnection& Connect(std::optional<RedisConnection::Options> options = std::nullopt) {
    connections_.push_back(std::make_unique<RedisConnection>(
        io_, options ? *options : Options(server_->url()), stats_));
    RedisConnection* connection = connections_.back().get();
    OnIo([this, connection] {
      connection->Start([this](bool up, const std::string& reason) {
        states_.push_back(up ? "up" : "down: " + reason);
      });
    });
    return *connection;
  }

  // Sends `argv` and runs until the reply: its Describe()d text, its text or
  // integer, or "null".
  std::string Call(RedisConnection& connection, std::vector<std::string> argv) {
    std::optional<std::string> answer;
    OnIo([&] {
      connection.Command(std::move(argv), [&](const RedisReply* reply) {
        if (reply == nullptr) {
          answer = "null";
        } else if (reply->text()) {
          answer = std::string(*reply->text());
        } else if (reply->integer()) {
          answer = std::to_string(*reply->integer());
        } else {
          answer = reply->Describe();
        }
      });
    });
    EXPECT_TRUE(RunUntil([&] { return answer.has_value(); }));
    return answer.value_or("no answer");
  }

  RedisStats stats_;
  std::vector<std::unique_ptr<RedisConnection>> connections_;
  std::vector<std::string> states_;
};

TEST_F(RedisConnectionTest, PipelinesCommandsInOrderBinarySafe) {
  RedisConnection& connection = Connect();
  ASSERT_TRUE(RunUntil([&] { return connection.up(); }));
  EXPECT_EQ(states_, std::vector<std::string>{"up"});
  std::vector<std::int64_t> replies;
  OnIo([&] {
    for (int i = 0; i < 200; ++i) {
      connection.Command({"INCR", "counter"}, [&](const RedisReply* reply) {
        replies.push_back(reply && reply->integer() ? *reply->integer() : -1);
      });
    }
  });
  ASSERT_TRUE(RunUntil([&] { return replies.size() == 200; }));
  for (int i = 0; i < 200; ++i) EXPECT_EQ(replies[i], i + 1);

  std::string binary("a\0b\r\nc", 6);
  EXPECT_EQ(Call(connection, {"SET", "key with spaces", binary}), "OK");
  EXPECT_EQ(Call(connection, {"GET", "key with spaces"}), binary);
  EXPECT_EQ(Call(connection, {"NOSUCHCOMMAND"}).rfind("error: ERR", 0), 0u);
  EXPECT_EQ(stats_.errors.load(), 1u);
  EXPECT_EQ(stats_.connects.load(), 1u);
  EXPECT_EQ(stats_.connections_up.load(), 1u);
}

TEST_F(RedisConnectionTest, NotUpAnswersNullLaterAndRetries) {
  int port = obgw::testing::FreeTcpPort();
  RedisConnection& connection = Connect(Options("redis://127.0.0.1:" + std::to_string(port)));
  ASSERT_TRUE(RunUntil([&] { return !states_.empty(); }));
  EXPECT_EQ(states_[0].rfind("down: ", 0), 0u) << states_[0];
  bool called = false;
  const RedisReply* seen = reinterpret_cast<const RedisReply*>(1);
  OnIo([&] {
    connection.Command({"PING"}, [&](const RedisReply* reply) {
      called = true;
      seen = reply;
    });
    EXPECT_FALSE(called);  // Posted, never run inside Command.
  });
  ASSERT_TRUE(RunUntil([&] { return called; }));
  EXPECT_EQ(seen, nullptr);
  // Retries with backoff, reported once.
  ASSERT_TRUE(RunUntil([&] { return stats_.connect_failures.load() >= 3; }));
  EXPECT_EQ(states_.size(), 1u);
}

TEST_F(RedisConnectionTest, ReconnectsAfterRedisRestarts) {
  RedisConnection& connection = Connect();
  ASSERT_TRUE(RunUntil([&] { return connection.up(); }));
  server_->Kill();
  ASSERT_TRUE(RunUntil([&] { return !connection.up(); }));
  EXPECT_EQ(Call(connection, {"PING"}), "null");
  ASSERT_TRUE(server_->Restart());
  ASSERT_TRUE(RunUntil([&] { return connection.up(); }));
  EXPECT_EQ(Call(connection, {"PING"}), "PONG");
  ASSERT_EQ(states_.size(), 3u);
  EXPECT_EQ(states_[0], "up");
  EXPECT_EQ(states_[1].rfind("down: ", 0), 0u);
  EXPECT_EQ(states_[2], "up");
  EXPECT_EQ(stats_.connects.load(), 2u);
  EXPECT_EQ(stats_.disconnects.load(), 1u);
}

TEST_F(RedisConnectionTest, SlowRedisTimesOutAndComesBack) {
  RedisConnection& connection = Connect();
  ASSERT_TRUE(RunUntil([&] { return connection.up(); }));
  server_->Pause();
  int nulls = 0;
  auto sent = std::chrono::steady_clock::now();
  OnIo([&] {
    for (int i = 0; i < 3; ++i) {
      connection.Command({"PING"}, [&](const RedisReply* reply) { nulls += reply == nullptr; });
    }
  });
  ASSERT_TRUE(RunUntil([&] { return nulls == 3; }));
  auto waited = std::chrono::steady_clock::now() - sent;
  EXPECT_GE(waited, 300ms);
  EXPECT_LT(waited, 600ms);
  EXPECT_FALSE(connection.up());
  EXPECT_EQ(states_.back(), "down: redis timeout");
  EXPECT_EQ(stats_.timeouts.load(), 1u);
  server_->Resume();
  ASSERT_TRUE(RunUntil([&] { return connection.up(); }));
  EXPECT_EQ(Call(connection, {"PING"}), "PONG");
}

TEST_F(RedisConnectionTest, StopAnswersPendingCommandsWithNull) {
  RedisConnection& connection = Connect();
  ASSERT_TRUE(RunUntil([&] { return connection.up(); }));
  server_->Pause();
  bool null_before_stop_returned = false;
  OnIo([&] {
    bool answered = false;
    connection.Command({"PING"}, [&](const RedisReply* reply) { answered = reply == nullptr; });
    connection.Stop();
    null_before_stop_returned = answered;
  });
  EXPECT_TRUE(null_before_stop_returned);
  server_->Resume();
}

TEST_F(RedisConnectionTest, SubscribesAgainAfterARestart) {
  RedisConnection& commands = Connect();
  RedisConnection& pubsub = Connect();
  std::vector<std::string> messages;
  OnIo([&] {
    pubsub.OnMessage([&](std::string_view channel, std::string_view payload) {
      messages.push_back(std::string(channel) + "=" + std::string(payload));
    });
    pubsub.Subscribe("obgw:{s:A}:books");
    pubsub.Subscribe("obgw:{s:B}:books");
  });
  ASSERT_TRUE(RunUntil([&] { return stats_.channels.load() == 2 && commands.up(); }));
  EXPECT_EQ(Call(commands, {"PUBLISH", "obgw:{s:A}:books", "one"}), "1");
  ASSERT_TRUE(RunUntil([&] { return messages.size() == 1; }));
  EXPECT_EQ(messages[0], "obgw:{s:A}:books=one");

  OnIo([&] { pubsub.Unsubscribe("obgw:{s:B}:books"); });
  ASSERT_TRUE(RunUntil([&] { return stats_.channels.load() == 1; }));
  EXPECT_EQ(pubsub.channel_count(), 1u);

  server_->Kill();
  ASSERT_TRUE(server_->Restart());
  ASSERT_TRUE(RunUntil([&] {
    return stats_.connects.load() == 4 && pubsub.up() && commands.up() &&
           stats_.channels.load() == 1;
  }));
  EXPECT_EQ(Call(commands, {"PUBLISH", "obgw:{s:A}:books", "two"}), "1");
  EXPECT_EQ(Call(commands, {"PUBLISH", "obgw:{s:B}:books", "gone"}), "0");
  ASSERT_TRUE(RunUntil([&] { return messages.size() == 2; }));
  EXPECT_EQ(messages[1], "obgw:{s:A}:books=two");

  // Subscribe, unsubscribe, subscribe again before Redis confirms: one
  // subscription, which receives.
  OnIo([&] {
    pubsub.Subscribe("obgw:{s:C}:books");
    pubsub.Unsubscribe("obgw:{s:C}:books");
    pubsub.Subscribe("obgw:{s:C}:books");
  });
  ASSERT_TRUE(RunUntil([&] { return stats_.channels.load() == 2; }));
  EXPECT_EQ(Call(commands, {"PUBLISH", "obgw:{s:C}:books", "three"}), "1");
  ASSERT_TRUE(RunUntil([&] { return messages.size() == 3; }));
  EXPECT_EQ(messages[2], "obgw:{s:C}:books=three");
}

TEST_F(RedisConnectionTest, EvalShaFallsBackToEvalOnNoscript) {
  RedisScript script("return {KEYS[1], ARGV[1]}");
  RedisConnection& connection = Connect();
  ASSERT_TRUE(RunUntil([&] { return connection.up(); }));
  auto eval = [&] {
    std::optional<std::string> answer;
    OnIo([&] {
      connection.EvalSha(script, {"k"}, {"v"}, [&](const RedisReply* reply) {
        answer = reply && reply->at(1) && reply->at(1)->text()
                     ? std::string(*reply->at(0)->text()) + std::string(*reply->at(1)->text())
                     : (reply ? reply->Describe() : "null");
      });
    });
    EXPECT_TRUE(RunUntil([&] { return answer.has_value(); }));
    return answer.value_or("");
  };
  EXPECT_EQ(eval(), "kv");  // Unknown before: NOSCRIPT, then EVAL.
  EXPECT_EQ(stats_.noscript.load(), 1u);
  EXPECT_EQ(eval(), "kv");  // EVAL cached it.
  EXPECT_EQ(stats_.noscript.load(), 1u);
  ASSERT_EQ(server_->Run({"SCRIPT", "FLUSH"}), "OK");
  EXPECT_EQ(eval(), "kv");
  EXPECT_EQ(stats_.noscript.load(), 2u);
  // Registered now: loaded at the next connect, before anything else.
  server_->Kill();
  ASSERT_TRUE(server_->Restart());
  ASSERT_TRUE(RunUntil([&] { return connection.up() && stats_.connects.load() == 2; }));
  EXPECT_EQ(server_->Run({"SCRIPT", "EXISTS", script.sha1()}), "1");
  EXPECT_EQ(eval(), "kv");
  EXPECT_EQ(stats_.noscript.load(), 2u);
}

TEST_F(RedisConnectionTest, BadReplyShapeIsCountedNotFatal) {
  RedisConnection& connection = Connect();
  ASSERT_TRUE(RunUntil([&] { return connection.up(); }));
  // Nested deeper than RedisReply::kMaxDepth: an error reply, counted.
  std::string answer = Call(connection, {"EVAL", "return {{{{{{1}}}}}}", "0"});
  EXPECT_EQ(answer.rfind("error: ", 0), 0u) << answer;
  EXPECT_EQ(stats_.bad_replies.load(), 1u);
  EXPECT_EQ(Call(connection, {"PING"}), "PONG");
  EXPECT_TRUE(connection.up());
  // Deeper than hiredis reads: a protocol error drops the connection, which
  // comes back.
  EXPECT_EQ(Call(connection, {"EVAL", "return {{{{{{{{{{{{1}}}}}}}}}}}}", "0"}), "null");
  ASSERT_TRUE(RunUntil([&] { return connection.up(); }));
  EXPECT_EQ(Call(connection, {"PING"}), "PONG");
  EXPECT_NE(states_[1].find("nested"), std::string::npos) << states_[1];
}

TEST_F(RedisConnectionTest, AuthAndSelectFromTheUrl) {
  ASSERT_EQ(server_->Run({"CONFIG", "SET", "requirepass", "hunter2"}), "OK");
  std::string base = "127.0.0.1:" + std::to_string(server_->port());
  RedisConnection& wrong = Connect(Options("redis://:nope@" + base));
  ASSERT_TRUE(RunUntil([&] { return !states_.empty(); }));
  EXPECT_NE(states_[0].find("AUTH failed"), std::string::npos) << states_[0];
  EXPECT_FALSE(wrong.up());

  RedisConnection& right = Connect(Options("redis://:hunter2@" + base + "/2"));
  ASSERT_TRUE(RunUntil([&] { return right.up(); }));
  EXPECT_EQ(Call(right, {"SET", "in-two", "yes"}), "OK");
  for (const std::string& state : states_) EXPECT_EQ(state.find("hunter2"), std::string::npos);
}

TEST_F(RedisConnectionTest, AuthIsSentAgainOnEveryReconnect) {
  std::string error;
  server_ = RedisServer::StartWithPassword("hunter2-right", &error);
  ASSERT_TRUE(server_) << error;
  RedisConnection& connection =
      Connect(Options("redis://:hunter2-right@127.0.0.1:" + std::to_string(server_->port())));
  ASSERT_TRUE(RunUntil([&] { return connection.up(); }));
  server_->Kill();
  ASSERT_TRUE(RunUntil([&] { return !connection.up(); }));
  // The restarted Redis knows nobody: the new connection must AUTH again.
  ASSERT_TRUE(server_->Restart(&error)) << error;
  ASSERT_TRUE(RunUntil([&] { return connection.up(); }));
  EXPECT_EQ(Call(connection, {"SET", "after-restart", "yes"}), "OK");
  EXPECT_EQ(server_->Run({"GET", "after-restart"}), "yes");
  EXPECT_EQ(stats_.connects.load(), 2u);
  for (const std::string& state : states_) {
    EXPECT_EQ(state.find("hunter2"), std::string::npos) << state;
  }
}

TEST_F(RedisConnectionTest, AclUserAndPasswordFromTheUrl) {
  ASSERT_EQ(server_->Run({"ACL", "SETUSER", "gateway", "on", ">s3cret-pass", "~*", "&*", "+@all"}),
            "OK");
  std::string base = "127.0.0.1:" + std::to_string(server_->port());
  RedisConnection& wrong = Connect(Options("redis://gateway:not-it@" + base));
  ASSERT_TRUE(RunUntil([&] { return !states_.empty(); }));
  EXPECT_EQ(states_[0].rfind("down: AUTH failed: WRONGPASS", 0), 0u) << states_[0];
  EXPECT_FALSE(wrong.up());

  RedisConnection& right = Connect(Options("redis://gateway:s3cret-pass@" + base));
  ASSERT_TRUE(RunUntil([&] { return right.up(); }));
  EXPECT_EQ(Call(right, {"ACL", "WHOAMI"}), "gateway");
  for (const std::string& state : states_) {
    EXPECT_EQ(state.find("s3cret"), std::string::npos) << state;
    EXPECT_EQ(state.find("not-it"), std::string::npos) << state;
  }
}

}  // namespace
}  // namespace obgw::gateway
