#include "gateway/ws/reply_sequencer.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "gateway/fanout/frame.h"

namespace obgw::gateway {
namespace {

FramePtr Reply(const std::string& text) { return Frame::Text(text); }
FramePtr Book(const std::string& symbol) { return Frame::Text("book " + symbol, symbol); }

// What the session does with the sequencer's output: frames in the order
// released, then "close" when the close is due.
class ReplySequencerTest : public ::testing::Test {
 protected:
  std::vector<std::string> Release() {
    std::vector<std::string> out;
    bool close =
        sequencer_.Release([&](FramePtr frame) { out.push_back(std::string(frame->payload())); });
    if (close) out.push_back("close");
    return out;
  }

  ReplySequencer sequencer_;
};

using Strings = std::vector<std::string>;

TEST_F(ReplySequencerTest, ReadyRepliesGoOutAtOnceInOrder) {
  sequencer_.Add(Reply("pong 1"));
  sequencer_.Add(Reply("error 2"));
  EXPECT_EQ(Release(), (Strings{"pong 1", "error 2"}));
  EXPECT_EQ(sequencer_.waiting(), 0u);
  EXPECT_EQ(Release(), Strings{});
}

TEST_F(ReplySequencerTest, LaterRepliesWaitBehindAnOwedOne) {
  ReplySequencer::Ticket owed = sequencer_.Reserve();
  sequencer_.Add(Reply("pong 2"));
  sequencer_.Add(Reply("error 3"));
  EXPECT_EQ(Release(), Strings{});
  EXPECT_EQ(sequencer_.waiting(), 3u);
  EXPECT_FALSE(sequencer_.released(owed));
  sequencer_.Fill(owed, Reply("confirmed 1"));
  EXPECT_EQ(Release(), (Strings{"confirmed 1", "pong 2", "error 3"}));
  EXPECT_TRUE(sequencer_.released(owed));
}

// The snapshot defect: subscribe, ping, two invalid messages; the snapshot
// must come right after its confirmation, before the later replies.
TEST_F(ReplySequencerTest, SnapshotLeavesWithItsConfirmationBeforeLaterReplies) {
  ReplySequencer::Ticket subscribe = sequencer_.Reserve();
  sequencer_.Add(Reply("pong"));
  sequencer_.Add(Reply("error a"));
  sequencer_.Add(Reply("error b"));
  sequencer_.Fill(subscribe, Reply("confirmed"), Book("AAPL"));
  EXPECT_EQ(Release(), (Strings{"confirmed", "book AAPL", "pong", "error a", "error b"}));
}

// A restored session: session_restored, then each symbol's snapshot alone
// (or nothing when it has none), in order, before the later replies.
TEST_F(ReplySequencerTest, RestoredSlotsCarryTheirSnapshotAloneOrNothing) {
  sequencer_.Add(Reply("session_restored"));
  ReplySequencer::Ticket aapl = sequencer_.Reserve();
  ReplySequencer::Ticket msft = sequencer_.Reserve();
  sequencer_.Add(Reply("pong"));
  sequencer_.Fill(msft, nullptr, Book("MSFT"));
  EXPECT_EQ(Release(), Strings{"session_restored"});
  sequencer_.Fill(aapl, nullptr);
  EXPECT_EQ(Release(), (Strings{"book MSFT", "pong"}));
  EXPECT_EQ(sequencer_.waiting(), 0u);
}

TEST_F(ReplySequencerTest, OwedRepliesFilledOutOfOrderStillLeaveInRequestOrder) {
  ReplySequencer::Ticket first = sequencer_.Reserve();
  ReplySequencer::Ticket second = sequencer_.Reserve();
  sequencer_.Add(Reply("pong"));
  sequencer_.Fill(second, Reply("confirmed B"), Book("B"));
  EXPECT_EQ(Release(), Strings{});
  EXPECT_FALSE(sequencer_.released(first));
  EXPECT_FALSE(sequencer_.released(second));
  sequencer_.Fill(first, Reply("confirmed A"));
  EXPECT_EQ(Release(), (Strings{"confirmed A", "confirmed B", "book B", "pong"}));
}

TEST_F(ReplySequencerTest, TicketsStayValidAcrossReleases) {
  // Many rounds: a ticket names its slot after earlier slots were released.
  for (int round = 0; round < 100; ++round) {
    sequencer_.Add(Reply("pong " + std::to_string(round)));
    ReplySequencer::Ticket ticket = sequencer_.Reserve();
    EXPECT_EQ(Release(), Strings{"pong " + std::to_string(round)});
    sequencer_.Fill(ticket, Reply("confirmed " + std::to_string(round)));
    EXPECT_EQ(Release(), Strings{"confirmed " + std::to_string(round)});
  }
  EXPECT_EQ(sequencer_.waiting(), 0u);
}

// The close defect: a flood refused by the rate limit; the close must come
// after every reply queued before it.
TEST_F(ReplySequencerTest, CloseComesAfterEveryReplyQueuedBeforeIt) {
  std::vector<ReplySequencer::Ticket> subscribes;
  for (int i = 0; i < 3; ++i) subscribes.push_back(sequencer_.Reserve());
  sequencer_.Add(Reply("rate_limited 1"));
  sequencer_.Add(Reply("rate_limited 2"));
  sequencer_.QueueClose();
  EXPECT_TRUE(sequencer_.close_queued());
  EXPECT_EQ(Release(), Strings{});  // Nothing is due: the confirmations are owed.
  sequencer_.Fill(subscribes[0], Reply("confirmed 0"));
  sequencer_.Fill(subscribes[1], Reply("confirmed 1"));
  EXPECT_EQ(Release(), (Strings{"confirmed 0", "confirmed 1"}));
  sequencer_.Fill(subscribes[2], Reply("confirmed 2"));
  EXPECT_EQ(Release(), (Strings{"confirmed 2", "rate_limited 1", "rate_limited 2", "close"}));
}

TEST_F(ReplySequencerTest, NothingQueuedAfterTheCloseGoesOut) {
  sequencer_.Add(Reply("pong"));
  sequencer_.QueueClose();
  sequencer_.Add(Reply("too late"));
  EXPECT_EQ(Release(), (Strings{"pong", "close"}));
  // The close is due once.
  sequencer_.QueueClose();
  sequencer_.Add(Reply("later still"));
  EXPECT_EQ(Release(), Strings{});
}

TEST_F(ReplySequencerTest, CloseWithNothingQueuedIsDueAtOnce) {
  sequencer_.QueueClose();
  EXPECT_EQ(Release(), Strings{"close"});
}

}  // namespace
}  // namespace obgw::gateway
