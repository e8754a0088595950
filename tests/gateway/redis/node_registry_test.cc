#include "gateway/redis/node_registry.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "redis_test.h"
#include "redis_test_node.h"

namespace obgw::gateway {
namespace {

using namespace std::chrono_literals;
using NodeRegistryTest = obgw::testing::RedisTest;

std::vector<std::string> Ids(const NodeRegistry& registry) {
  std::vector<std::string> ids;
  for (const NodeRegistry::Node& node : registry.live_nodes()) ids.push_back(node.id);
  std::sort(ids.begin(), ids.end());  // Redis lists them by lease expiry.
  return ids;
}

TEST_F(NodeRegistryTest, NodesSeeEachOtherAndForgetADeadOneWhenItsLeaseExpires) {
  RedisTestNode a(io_, server_->url(), "node-a", 10, 60s, 400ms);
  RedisTestNode b(io_, server_->url(), "node-b", 10, 60s, 400ms);
  OnIo([&] {
    a.Start();
    b.Start();
  });
  ASSERT_TRUE(RunUntil([&] { return Ids(a.registry).size() == 2 && Ids(b.registry).size() == 2; }));
  EXPECT_EQ(Ids(a.registry), (std::vector<std::string>{"node-a", "node-b"}));
  OnIo([&] { EXPECT_TRUE(a.registry.has_view()); });
  EXPECT_EQ(b.stats.nodes.load(), 2u);
  EXPECT_EQ(server_->Run({"HGET", "obgw:{nodes}:info", "node-a"}), "0 127.0.0.1:0");

  // Connections are reported: one admitted on A.
  bool opened = false;
  OnIo([&] {
    a.sessions.Open("alice", io_.get_executor(), [&](SessionStore::Opened) { opened = true; });
  });
  ASSERT_TRUE(RunUntil([&] { return opened && b.stats.connections.load() == 1; }))
      << b.stats.connections.load();

  // A dies (stops renewing): gone from B's view within a lease.
  const auto died = std::chrono::steady_clock::now();
  OnIo([&] { a.registry.Stop(); });
  ASSERT_TRUE(RunUntil([&] { return Ids(b.registry).size() == 1; }, 2s));
  EXPECT_LT(std::chrono::steady_clock::now() - died, 400ms + 200ms);
  EXPECT_EQ(Ids(b.registry), std::vector<std::string>{"node-b"});
  EXPECT_EQ(b.registry.dead_nodes(), std::vector<std::string>{"node-a"});
  EXPECT_EQ(server_->Run({"HEXISTS", "obgw:{nodes}:info", "node-a"}), "0");
  EXPECT_EQ(b.stats.connections.load(), 0u);
  OnIo([&] {
    a.Stop();
    b.Stop();
  });
}

TEST(NodeRegistryParseTest, AnswersOfAnotherShapeAreRefused) {
  using R = RedisReply;
  auto parse = [](std::vector<R> live, std::vector<R> dead) {
    return NodeRegistry::ParseView(
        R::Array({R::Array(std::move(live)), R::Array(std::move(dead))}));
  };
  EXPECT_FALSE(NodeRegistry::ParseView(R::Integer(3)));
  EXPECT_FALSE(NodeRegistry::ParseView(R::Array({R::Array({})})));  // No dead list.
  EXPECT_FALSE(parse({R::String("a")}, {}));                        // Odd.
  EXPECT_FALSE(parse({R::Integer(1), R::String("1 x")}, {}));
  EXPECT_FALSE(parse({R::String(""), R::String("1 x")}, {}));
  EXPECT_FALSE(parse({}, {R::Integer(2)}));
  auto view = parse({R::String("a"), R::String("7 host:1"), R::String("b"), R::String("junk")},
                    {R::String("c")});
  ASSERT_TRUE(view);
  ASSERT_EQ(view->live.size(), 2u);
  EXPECT_EQ(view->live[0].connections, 7u);
  EXPECT_EQ(view->live[1].connections, 0u);  // A foreign entry counts as a node with none.
  EXPECT_EQ(view->dead, std::vector<std::string>{"c"});
  EXPECT_TRUE(parse({}, {}));
}

}  // namespace
}  // namespace obgw::gateway
