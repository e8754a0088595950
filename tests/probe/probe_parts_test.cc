// The pieces orderbook-probe is made of: SequenceTracker (what a gap and an
// epoch change are, docs/protocol.md 2.4), ParseIsoTime (the frames'
// timestamps, for the age), ParseGatewayUrl and the REST test book.
#include "probe/probe.h"

#include <chrono>
#include <sstream>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

namespace obgw::probe {
namespace {

using Kind = SequenceTracker::Observation::Kind;

TEST(SequenceTrackerTest, FirstBookAfterConfirmationIsTheBaselineThenInOrder) {
  SequenceTracker tracker;
  tracker.Confirmed("AAPL", 77);
  SequenceTracker::Observation first = tracker.Update("AAPL", 41, std::nullopt);
  EXPECT_EQ(first.kind, Kind::kBaseline);
  EXPECT_EQ(first.epoch, 77u);
  EXPECT_EQ(tracker.Update("AAPL", 42, std::nullopt).kind, Kind::kInOrder);
  EXPECT_EQ(tracker.Update("AAPL", 43, std::nullopt).kind, Kind::kInOrder);
}

TEST(SequenceTrackerTest, ASeqJumpIsAGapWithTheMissedCount) {
  SequenceTracker tracker;
  tracker.Confirmed("AAPL", 1);
  tracker.Update("AAPL", 5, std::nullopt);
  SequenceTracker::Observation gap = tracker.Update("AAPL", 9, std::nullopt);
  EXPECT_EQ(gap.kind, Kind::kGap);
  EXPECT_EQ(gap.previous_seq, 5u);
  EXPECT_EQ(gap.missed, 3u);
  EXPECT_EQ(tracker.Update("AAPL", 10, std::nullopt).kind, Kind::kInOrder);
}

TEST(SequenceTrackerTest, SymbolsAreTrackedApart) {
  SequenceTracker tracker;
  tracker.Confirmed("AAPL", 1);
  tracker.Confirmed("MSFT", 1);
  tracker.Update("AAPL", 1, std::nullopt);
  EXPECT_EQ(tracker.Update("MSFT", 7, std::nullopt).kind, Kind::kBaseline);
  EXPECT_EQ(tracker.Update("AAPL", 2, std::nullopt).kind, Kind::kInOrder);
  EXPECT_EQ(tracker.Update("MSFT", 8, std::nullopt).kind, Kind::kInOrder);
}

TEST(SequenceTrackerTest, ANewEpochOnALiveBookIsAnEpochChangeNotAGap) {
  SequenceTracker tracker;
  tracker.Confirmed("AAPL", 100);
  tracker.Update("AAPL", 50, std::nullopt);
  SequenceTracker::Observation change = tracker.Update("AAPL", 1, 200);
  EXPECT_EQ(change.kind, Kind::kEpochChange);
  EXPECT_EQ(change.previous_epoch, 100u);
  EXPECT_EQ(change.epoch, 200u);
  EXPECT_EQ(tracker.Update("AAPL", 2, std::nullopt).kind, Kind::kInOrder);
  // The same epoch repeated is no change.
  EXPECT_EQ(tracker.Update("AAPL", 3, 200).kind, Kind::kInOrder);
}

TEST(SequenceTrackerTest, ASeqGoingBackWithoutAnEpochIsARegression) {
  SequenceTracker tracker;
  tracker.Confirmed("AAPL", 1);
  tracker.Update("AAPL", 5, std::nullopt);
  EXPECT_EQ(tracker.Update("AAPL", 5, std::nullopt).kind, Kind::kRegression);
  EXPECT_EQ(tracker.Update("AAPL", 3, std::nullopt).kind, Kind::kRegression);
}

TEST(SequenceTrackerTest, AReconfirmationStartsANewBaseline) {
  SequenceTracker tracker;
  tracker.Confirmed("AAPL", 1);
  tracker.Update("AAPL", 5, std::nullopt);
  tracker.Confirmed("AAPL", 1);
  EXPECT_EQ(tracker.Update("AAPL", 20, std::nullopt).kind, Kind::kBaseline);
}

TEST(ParseIsoTimeTest, ReadsTheGatewaysFormatAndItsVariants) {
  using std::chrono::system_clock;
  auto expected = system_clock::from_time_t(1704110400) + std::chrono::microseconds(123456);
  EXPECT_EQ(ParseIsoTime("2024-01-01T12:00:00.123456+00:00"), expected);
  EXPECT_EQ(ParseIsoTime("2024-01-01T12:00:00.123456Z"), expected);
  EXPECT_EQ(ParseIsoTime("2024-01-01T12:00:00Z"), system_clock::from_time_t(1704110400));
  EXPECT_EQ(ParseIsoTime("2024-01-01T14:00:00+02:00"), system_clock::from_time_t(1704110400));
  EXPECT_EQ(ParseIsoTime(""), std::nullopt);
  EXPECT_EQ(ParseIsoTime("2024-01-01 12:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseIsoTime("2024-01-01T12:00:00"), std::nullopt);
  EXPECT_EQ(ParseIsoTime("2024-13-01T12:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseIsoTime("2024-01-01T12:00:00.Z"), std::nullopt);
}

TEST(ParseGatewayUrlTest, HttpAndWsArePlainHttpsAndWssAreTls) {
  auto plain = ParseGatewayUrl("http://127.0.0.1:8002");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->tls);
  EXPECT_EQ(plain->host, "127.0.0.1");
  EXPECT_EQ(plain->port, "8002");
  auto ws = ParseGatewayUrl("ws://gateway/ws/x");
  ASSERT_TRUE(ws.ok());
  EXPECT_FALSE(ws->tls);
  EXPECT_EQ(ws->port, "80");
  auto tls = ParseGatewayUrl("wss://[::1]:8443");
  ASSERT_TRUE(tls.ok());
  EXPECT_TRUE(tls->tls);
  EXPECT_EQ(tls->host, "::1");
  EXPECT_EQ(tls->port, "8443");
  EXPECT_EQ(ParseGatewayUrl("https://example.com")->port, "443");
}

TEST(ParseGatewayUrlTest, RefusesWhatIsNotAGatewayUrl) {
  EXPECT_FALSE(ParseGatewayUrl("127.0.0.1:8002").ok());
  EXPECT_FALSE(ParseGatewayUrl("ftp://host").ok());
  EXPECT_FALSE(ParseGatewayUrl("not a url").ok());
  EXPECT_EQ(ParseGatewayUrl("ftp://host").status().message(),
            "--gateway=ftp://host: the scheme must be http, https, ws or wss");
}

TEST(RestTestBookTest, IsTheCompactArrayShapeWithATimestamp) {
  auto now = std::chrono::system_clock::from_time_t(1704110400);
  EXPECT_EQ(RestTestBook(2, now),
            R"({"bids":[[100,100,1],[99.5,200,2]],"asks":[[100.5,100,1],[101,200,2]],)"
            R"("timestamp":"2024-01-01T12:00:00Z"})");
  EXPECT_TRUE(boost::json::parse(RestTestBook(0, now)).is_object());
  EXPECT_EQ(RestTestBook(0, now), R"({"bids":[],"asks":[],"timestamp":"2024-01-01T12:00:00Z"})");
}

TEST(OutputTest, JsonLinesStartWithTheEventAndTextErrorsGoToStderr) {
  std::ostringstream out;
  std::ostringstream err;
  Output json(out, err, /*json=*/true);
  json.Event("gap", {{"symbol", "AAPL"}, {"missed", 3}}, "GAP AAPL");
  EXPECT_EQ(out.str(), "{\"event\":\"gap\",\"symbol\":\"AAPL\",\"missed\":3}\n");
  // Doubles in their shortest form, not Boost.JSON's 1E2.
  std::ostringstream numbers;
  Output(numbers, err, true).Event("update", {{"age_ms", 62.768}, {"best_bid", 100.0}}, "");
  EXPECT_EQ(numbers.str(), "{\"event\":\"update\",\"age_ms\":62.768,\"best_bid\":100}\n");
  std::ostringstream text_out;
  Output text(text_out, err, /*json=*/false);
  text.Event("update", {}, "update AAPL seq=1");
  text.Event("error", {{"message", "boom"}}, "cannot connect");
  EXPECT_EQ(text_out.str(), "update AAPL seq=1\n");
  EXPECT_EQ(err.str(), "orderbook-probe: cannot connect\n");
}

}  // namespace
}  // namespace obgw::probe
