#include "gateway/ws/outbox.h"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/socket_base.hpp>

#include "gateway/fanout/clock.h"
#include "gateway/fanout/frame.h"
#include "gateway/fanout/thread_affinity.h"
#include "gateway/fanout/update_frame.h"

namespace obgw::gateway {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

std::string Book(const std::string& symbol, int n) {
  return R"({"symbol":")" + symbol + R"(","n":)" + std::to_string(n) + "}";
}

// A connected loopback pair: the Outbox writes `server_`, the test reads
// `client_` with blocking reads (on its own io_context, never run). The
// Outbox reads the time from `clock_`, which moves only when the test says.
class OutboxTest : public ::testing::Test {
 protected:
  OutboxTest() {
    tcp::acceptor acceptor(io_, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    client_.connect(acceptor.local_endpoint());
    acceptor.accept(server_);
  }

  PlainOutbox& MakeOutbox(std::size_t max_frames, std::size_t max_bytes = SIZE_MAX,
                          Clock::duration max_age = Clock::duration::zero()) {
    outbox_.emplace(server_, max_frames, max_bytes, stats_, clock_, thread_, max_age);
    outbox_->SetOwner(owner_);
    return *outbox_;
  }

  // Runs the Outbox's handlers until no write is in flight.
  void RunIo() {
    io_.restart();
    io_.run();
  }

  // Reads exactly `size` bytes the Outbox sent.
  std::string Read(std::size_t size) {
    std::string bytes(size, '\0');
    asio::read(client_, asio::buffer(bytes));
    return bytes;
  }

  // A new pair whose buffers hold little (the kernel rounds them up), so that
  // the Outbox's writes come back short while the test does not read.
  void SmallBuffers() {
    server_.close();
    client_.close();
    tcp::acceptor acceptor(io_, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    client_.open(tcp::v4());
    client_.set_option(asio::socket_base::receive_buffer_size(4096));
    client_.connect(acceptor.local_endpoint());
    acceptor.accept(server_);
    server_.set_option(asio::socket_base::send_buffer_size(4096));
  }

  // Runs the Outbox's handlers until it waits for the peer to read.
  void RunUntilBlocked() {
    io_.restart();
    io_.poll();
  }

  // Reads whole frames (the Outbox sends unmasked text frames) until nothing
  // more arrives within a moment of the Outbox having nothing left to send:
  // each payload, in order. Fails the test on a malformed frame.
  std::vector<std::string> ReadFrames(PlainOutbox& outbox) {
    std::vector<std::string> payloads;
    std::string bytes;
    std::vector<char> chunk(1 << 16);
    for (;;) {
      io_.restart();
      io_.poll();
      boost::system::error_code ec;
      std::size_t n = client_.available(ec) > 0 ? client_.read_some(asio::buffer(chunk), ec) : 0;
      EXPECT_FALSE(ec) << ec.message();
      if (ec) return payloads;
      bytes.append(chunk.data(), n);
      for (;;) {  // Whole frames only: a frame split across writes waits.
        if (bytes.size() < 2) break;
        EXPECT_EQ(static_cast<unsigned char>(bytes[0]), 0x81) << "frame " << payloads.size();
        std::size_t length = static_cast<unsigned char>(bytes[1]) & 0x7F;
        std::size_t header = 2;
        if (length == 126) {
          if (bytes.size() < 4) break;
          length =
              (static_cast<unsigned char>(bytes[2]) << 8) | static_cast<unsigned char>(bytes[3]);
          header = 4;
        } else if (length == 127) {
          ADD_FAILURE() << "no test frame is that large";
          return payloads;
        }
        if (bytes.size() < header + length) break;
        payloads.push_back(bytes.substr(header, length));
        bytes.erase(0, header + length);
      }
      if (n == 0 && outbox.pending() == 0 && outbox.StalledFor(clock_.Now()) == Clock::duration{} &&
          client_.available() == 0) {
        // Nothing queued, nothing in flight, nothing unread: done.
        EXPECT_TRUE(bytes.empty()) << bytes.size() << " bytes of an unfinished frame";
        return payloads;
      }
      if (n == 0) std::this_thread::yield();
    }
  }

  // True when nothing more has arrived (the Outbox's writes are complete).
  bool NothingMore() { return client_.available() == 0; }

  asio::io_context io_;
  asio::io_context client_io_;
  tcp::socket server_{io_};
  tcp::socket client_{client_io_};
  ShardStats stats_;
  ManualClock clock_;
  ThreadAffinity thread_;  // Unbound: the test thread is the shard thread.
  std::shared_ptr<int> owner_ = std::make_shared<int>(0);
  std::optional<PlainOutbox> outbox_;
};

TEST_F(OutboxTest, FramesArriveInOrderByteExact) {
  PlainOutbox& outbox = MakeOutbox(64);
  std::vector<FramePtr> frames = {Frame::Text(Book("A", 1), "A"), Frame::Text(R"({"type":"pong"})"),
                                  Frame::Text(Book("B", 1), "B"),
                                  Frame::Text(std::string(70000, 'x'), "C"),
                                  Frame::Text(Book("A", 2), "A")};
  std::string expected;
  for (const FramePtr& frame : frames) {
    outbox.Push(frame);
    expected += frame->wire();
  }
  EXPECT_EQ(outbox.pending(), frames.size());
  outbox.Flush();
  // The 70 kB frame may not fit the socket buffers: read while writing.
  std::string received;
  std::thread reader([&] { received = Read(expected.size()); });
  RunIo();
  reader.join();
  EXPECT_EQ(received, expected);
  EXPECT_TRUE(NothingMore());
  EXPECT_EQ(outbox.pending(), 0u);
  EXPECT_FALSE(outbox.failed());
  EXPECT_EQ(stats_.messages_sent.load(), frames.size());
  EXPECT_EQ(stats_.bytes_sent.load(), expected.size());
  EXPECT_EQ(stats_.messages_dropped.load(), 0u);
  EXPECT_EQ(stats_.messages_conflated.load(), 0u);
}

TEST_F(OutboxTest, NothingIsWrittenBeforeFlush) {
  PlainOutbox& outbox = MakeOutbox(8);
  outbox.Push(Frame::Text("x", "A"));
  RunIo();
  EXPECT_EQ(stats_.socket_writes.load(), 0u);
  EXPECT_EQ(outbox.pending(), 1u);
  EXPECT_TRUE(NothingMore());
}

TEST_F(OutboxTest, CoalescesPendingFramesIntoOneWrite) {
  PlainOutbox& outbox = MakeOutbox(1000);
  std::string expected;
  for (int i = 0; i < 64; ++i) {
    FramePtr frame = Frame::Text(Book("S" + std::to_string(i), i), "S" + std::to_string(i));
    expected += frame->wire();
    outbox.Push(frame);
  }
  outbox.Flush();
  outbox.Flush();  // A second Flush while writing adds no write.
  RunIo();
  EXPECT_EQ(stats_.socket_writes.load(), 1u);
  EXPECT_EQ(stats_.messages_sent.load(), 64u);
  EXPECT_EQ(Read(expected.size()), expected);
  EXPECT_TRUE(NothingMore());
}

TEST_F(OutboxTest, TimesStampedBooksWhenTheirWriteCompletes) {
  PlainOutbox& outbox = MakeOutbox(64);
  // Two books that arrived 2 ms ago; a reply and an unstamped book (a
  // snapshot) are written but not timed.
  std::int64_t arrived_ns = (clock_.Now() - std::chrono::milliseconds(2)).time_since_epoch() /
                            std::chrono::nanoseconds(1);
  outbox.Push(RenderUpdateFrame("A", 1, "T", "{}", {}, arrived_ns));
  outbox.Push(RenderUpdateFrame("B", 1, "T", "{}", {}, arrived_ns));
  outbox.Push(Frame::Text(R"({"type":"pong"})"));
  outbox.Push(RenderUpdateFrame("C", 1, "T", "{}"));
  outbox.Flush();
  RunIo();
  EXPECT_EQ(stats_.delivery_latency.Count(), 2u);
  // The Outbox's clock stands still: each book waited exactly 2 ms.
  EXPECT_EQ(stats_.delivery_latency.Sum(), 2 * 2'000'000u);
  // One write, four frames.
  EXPECT_EQ(stats_.frames_per_write.Count(), 1u);
  EXPECT_EQ(stats_.frames_per_write.Sum(), 4u);
}

TEST_F(OutboxTest, OneWriteCarriesAtMost64Frames) {
  PlainOutbox& outbox = MakeOutbox(2000);
  std::string expected;
  for (int i = 0; i < 1000; ++i) {
    FramePtr frame = Frame::Text(std::to_string(i), "S" + std::to_string(i));
    expected += frame->wire();
    outbox.Push(frame);
  }
  outbox.Flush();
  RunIo();
  // What one sendmsg takes from Asio; the rest goes in the next writes,
  // automatically.
  EXPECT_EQ(stats_.socket_writes.load(), (1000u + 63) / 64);
  EXPECT_EQ(stats_.socket_buffer_full.load(), 0u);
  EXPECT_EQ(stats_.messages_sent.load(), 1000u);
  EXPECT_EQ(Read(expected.size()), expected);
}

TEST_F(OutboxTest, FramesPushedDuringAWriteFollowAutomatically) {
  PlainOutbox& outbox = MakeOutbox(64);
  FramePtr first = Frame::Text("first", "A");
  FramePtr second = Frame::Text("second", "B");
  FramePtr third = Frame::Text("third", "C");
  outbox.Push(first);
  outbox.Flush();  // Write in flight.
  outbox.Push(second);
  outbox.Push(third);
  outbox.Flush();  // No-op: the completion of the first write sends them.
  RunIo();
  EXPECT_EQ(stats_.socket_writes.load(), 2u);
  EXPECT_EQ(stats_.messages_sent.load(), 3u);
  EXPECT_EQ(Read(first->wire().size() + second->wire().size() + third->wire().size()),
            std::string(first->wire()) + std::string(second->wire()) + std::string(third->wire()));
}

TEST_F(OutboxTest, ConflatesBooksOfOneSymbolKeepingTheNewest) {
  PlainOutbox& outbox = MakeOutbox(4);
  std::vector<FramePtr> books;
  for (int i = 1; i <= 10; ++i) {
    books.push_back(Frame::Text(Book("A", i), "A"));
    outbox.Push(books.back());
    EXPECT_LE(outbox.pending(), 4u);
  }
  EXPECT_GT(stats_.messages_conflated.load(), 0u);
  EXPECT_EQ(stats_.messages_dropped.load(), 0u);
  std::size_t queued = outbox.pending();
  EXPECT_EQ(queued + stats_.messages_conflated.load(), 10u);
  outbox.Flush();
  RunIo();
  EXPECT_EQ(stats_.messages_sent.load(), queued);

  // What was sent: the books in their original order, ending with the newest.
  std::vector<int> sent;
  while (sent.size() < queued) {
    std::string header = Read(2);
    ASSERT_EQ(static_cast<unsigned char>(header[0]), 0x81);
    std::string payload = Read(static_cast<unsigned char>(header[1]));
    bool found = false;
    for (int i = 1; i <= 10; ++i) {
      if (payload == Book("A", i)) {
        sent.push_back(i);
        found = true;
      }
    }
    ASSERT_TRUE(found) << payload;
  }
  EXPECT_TRUE(NothingMore());
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(sent.back(), 10);
  EXPECT_TRUE(std::is_sorted(sent.begin(), sent.end()));
}

TEST_F(OutboxTest, ConflationNeverReplacesControlReplies) {
  PlainOutbox& outbox = MakeOutbox(2);                // Two books; replies do not count.
  FramePtr pong = Frame::Text(R"({"type":"pong"})");  // No symbol: never replaced.
  FramePtr a1 = Frame::Text(Book("A", 1), "A");
  FramePtr a2 = Frame::Text(Book("A", 2), "A");
  FramePtr a3 = Frame::Text(Book("A", 3), "A");
  outbox.Push(pong);
  outbox.Push(a1);
  outbox.Push(a2);
  outbox.Push(a3);  // Full: a3 takes a2's place.
  EXPECT_EQ(stats_.messages_conflated.load(), 1u);
  EXPECT_EQ(stats_.messages_dropped.load(), 0u);
  outbox.Flush();
  RunIo();
  std::string expected =
      std::string(pong->wire()) + std::string(a1->wire()) + std::string(a3->wire());
  EXPECT_EQ(Read(expected.size()), expected);
  EXPECT_TRUE(NothingMore());
}

TEST_F(OutboxTest, ControlRepliesAreNeverDropped) {
  PlainOutbox& outbox = MakeOutbox(2);
  std::string expected;
  for (int i = 0; i < 5; ++i) {
    FramePtr reply = Frame::Text(R"({"type":"pong","n":)" + std::to_string(i) + "}");
    outbox.Push(reply);
    expected += reply->wire();
  }
  EXPECT_EQ(outbox.pending(), 5u);
  EXPECT_EQ(stats_.messages_dropped.load(), 0u);
  outbox.Flush();
  RunIo();
  EXPECT_EQ(Read(expected.size()), expected);
}

// With [B1, A1] queued and the queue full, a newer A2 takes A1's place; B1,
// the only book of B, stays.
TEST_F(OutboxTest, NewBookReplacesTheQueuedBookOfItsSymbol) {
  PlainOutbox& outbox = MakeOutbox(2);
  FramePtr b1 = Frame::Text(Book("B", 1), "B");
  FramePtr a1 = Frame::Text(Book("A", 1), "A");
  FramePtr a2 = Frame::Text(Book("A", 2), "A");
  outbox.Push(b1);
  outbox.Push(a1);
  outbox.Push(a2);
  EXPECT_EQ(stats_.messages_dropped.load(), 0u);
  EXPECT_EQ(stats_.messages_conflated.load(), 1u);
  outbox.Flush();
  RunIo();
  std::string expected = std::string(b1->wire()) + std::string(a2->wire());
  EXPECT_EQ(Read(expected.size()), expected);
}

TEST_F(OutboxTest, DropsTheOldestBookWhenSymbolsAreDistinct) {
  PlainOutbox& outbox = MakeOutbox(2);
  FramePtr a = Frame::Text(Book("A", 1), "A");
  FramePtr b = Frame::Text(Book("B", 1), "B");
  FramePtr c = Frame::Text(Book("C", 1), "C");
  outbox.Push(a);
  outbox.Push(b);
  outbox.Push(c);
  EXPECT_EQ(stats_.messages_dropped.load(), 1u);
  EXPECT_EQ(stats_.messages_conflated.load(), 0u);
  EXPECT_EQ(outbox.pending(), 2u);
  outbox.Flush();
  RunIo();
  EXPECT_EQ(stats_.messages_sent.load(), 2u);
  std::string expected = std::string(b->wire()) + std::string(c->wire());
  EXPECT_EQ(Read(expected.size()), expected);
  EXPECT_TRUE(NothingMore());
}

// A book of `symbol` whose payload says its version and is `size` bytes.
FramePtr SizedBook(const std::string& symbol, int version, std::size_t size) {
  std::string payload = Book(symbol, version);
  payload.resize(std::max(size, payload.size() + 1), ' ');
  return Frame::Text(payload, symbol);
}

// "A:3" for {"symbol":"A","n":3}.
std::string Key(const std::string& payload) {
  std::size_t s = payload.find(R"("symbol":")") + 10;
  std::size_t e = payload.find('"', s);
  std::size_t n = payload.find(R"("n":)") + 4;
  return payload.substr(s, e - s) + ":" + std::to_string(std::stoi(payload.substr(n)));
}

// The age bound: once the oldest queued book has waited longer than max_age
// (from the Flush that stamped it), the queue keeps only the newest book per
// symbol, and later books replace their symbol's queued one in place.
TEST_F(OutboxTest, AgeBoundKeepsTheNewestBookPerSymbolOnceTheOldestIsTooOld) {
  SmallBuffers();
  PlainOutbox& outbox = MakeOutbox(1000, SIZE_MAX, std::chrono::milliseconds(20));
  // Fill the socket: a write that cannot complete unread.
  outbox.Push(SizedBook("Z", 1, 60000));
  outbox.Flush();
  RunUntilBlocked();
  ASSERT_GT(outbox.StalledFor(clock_.Now() + std::chrono::seconds(1)), Clock::duration{});

  outbox.Push(Frame::Text(Book("A", 1), "A"));
  outbox.Flush();  // Stamped now.
  clock_.Advance(std::chrono::milliseconds(10));
  outbox.Push(Frame::Text(Book("B", 1), "B"));
  outbox.Push(Frame::Text(R"({"type":"pong"})"));
  outbox.Push(Frame::Text(Book("A", 2), "A"));
  outbox.Flush();
  EXPECT_FALSE(outbox.aged());  // The oldest waited 10 ms.
  EXPECT_EQ(stats_.messages_conflated_age.load(), 0u);
  clock_.Advance(std::chrono::milliseconds(11));
  outbox.Push(Frame::Text(Book("A", 3), "A"));
  outbox.Flush();  // A:1 waited 21 ms: A:1 and A:2 go, A:3 stays.
  EXPECT_TRUE(outbox.aged());
  EXPECT_EQ(stats_.messages_conflated_age.load(), 2u);
  outbox.Push(Frame::Text(Book("A", 4), "A"));  // Takes A:3's place.
  outbox.Push(Frame::Text(Book("C", 1), "C"));  // A new symbol queues.
  outbox.Push(Frame::Text(Book("B", 2), "B"));  // Takes B:1's place.
  EXPECT_EQ(stats_.messages_conflated_age.load(), 4u);
  EXPECT_EQ(stats_.messages_conflated.load(), 0u);  // The other bounds were not reached.

  std::vector<std::string> keys;
  for (const std::string& payload : ReadFrames(outbox)) {
    keys.push_back(payload.starts_with(R"({"type")") ? "pong" : Key(payload));
  }
  // Each symbol's newest, in the order of the slots, the reply kept.
  EXPECT_EQ(keys, (std::vector<std::string>{"Z:1", "B:2", "pong", "A:4", "C:1"}));
  EXPECT_FALSE(outbox.aged());  // Caught up.
  EXPECT_EQ(stats_.messages_dropped.load(), 0u);
}

TEST_F(OutboxTest, NoAgeBoundWhileTheQueueKeepsUp) {
  PlainOutbox& outbox = MakeOutbox(1000, SIZE_MAX, std::chrono::milliseconds(20));
  for (int i = 1; i <= 5; ++i) {
    outbox.Push(Frame::Text(Book("A", i), "A"));
    outbox.Flush();
    RunIo();
    clock_.Advance(std::chrono::milliseconds(30));  // Idle time is not age.
  }
  EXPECT_EQ(stats_.messages_sent.load(), 5u);
  EXPECT_EQ(stats_.messages_conflated_age.load(), 0u);
  EXPECT_FALSE(outbox.aged());
}

// A write the kernel takes only part of: the frame it cut is completed first,
// the frames it did not start go back to the queue, where newer books of
// their symbols still replace them; every symbol's seq only moves forward and
// the newest of each arrives.
TEST_F(OutboxTest, ShortWriteHandsUnstartedFramesBackForConflation) {
  SmallBuffers();
  PlainOutbox& outbox = MakeOutbox(1000, SIZE_MAX, std::chrono::milliseconds(20));
  constexpr int kSymbols = 40;
  // 40 books of 1.5 KB: one write offers them all (under 64 frames, 64 KiB).
  for (int i = 0; i < kSymbols; ++i) outbox.Push(SizedBook("S" + std::to_string(i), 1, 1500));
  outbox.Flush();
  RunUntilBlocked();
  EXPECT_GE(stats_.socket_buffer_full.load(), 1u);
  // Back in the queue, not held by the wait for room.
  const std::size_t handed_back = outbox.pending();
  ASSERT_GT(handed_back, 0u);
  ASSERT_LT(stats_.messages_sent.load() + handed_back, static_cast<std::size_t>(kSymbols + 1));
  clock_.Advance(std::chrono::milliseconds(25));
  for (int i = 0; i < kSymbols; ++i) outbox.Push(SizedBook("S" + std::to_string(i), 2, 1500));
  outbox.Flush();  // The handed-back books are too old: their version 2 replaces them.
  EXPECT_TRUE(outbox.aged());
  // Only version 2 of every symbol is queued; the cut frame is in flight.
  EXPECT_EQ(outbox.pending(), static_cast<std::size_t>(kSymbols));
  EXPECT_EQ(stats_.messages_conflated_age.load(), handed_back);

  std::vector<std::string> payloads = ReadFrames(outbox);
  std::map<std::string, int> last;
  for (const std::string& payload : payloads) {
    std::string key = Key(payload);
    std::string symbol = key.substr(0, key.find(':'));
    int version = std::stoi(key.substr(key.find(':') + 1));
    EXPECT_GT(version, last[symbol]) << symbol << " went back";
    last[symbol] = version;
  }
  ASSERT_EQ(last.size(), static_cast<std::size_t>(kSymbols));
  for (const auto& [symbol, version] : last) EXPECT_EQ(version, 2) << symbol;
  // Fewer than both versions of every symbol: the handed-back ones were
  // replaced, not sent.
  EXPECT_EQ(payloads.size(), 2u * kSymbols - handed_back);
  EXPECT_EQ(stats_.messages_sent.load(), payloads.size());
  EXPECT_EQ(outbox.queued_bytes(), 0u);
}

// A frame cut by a short write is completed before anything else, even a
// reply or raw bytes queued after the cut: the byte stream stays whole frames.
TEST_F(OutboxTest, CutFrameIsCompletedBeforeAnyOtherBytes) {
  SmallBuffers();
  PlainOutbox& outbox = MakeOutbox(1000);
  FramePtr big = SizedBook("A", 1, 60000);
  outbox.Push(big);
  outbox.Flush();
  RunUntilBlocked();
  EXPECT_GE(stats_.socket_buffer_full.load(), 1u);
  EXPECT_EQ(outbox.pending(), 0u);  // The cut frame stays in flight.
  FramePtr pong = Frame::Text(R"({"type":"pong"})");
  outbox.Push(pong);
  bool raw_done = false;
  const std::string ping("\x89\x00", 2);
  outbox.PushRaw(ping, [&](boost::system::error_code ec, std::size_t) { raw_done = !ec; });
  outbox.Push(Frame::Text(Book("B", 1), "B"));
  outbox.DiscardBooks();  // A slow consumer's books go; the cut one must still end.
  std::string expected = std::string(big->wire()) + std::string(pong->wire()) + ping;
  std::string received;
  std::thread reader([&] { received = Read(expected.size()); });
  RunIo();
  reader.join();
  EXPECT_EQ(received, expected);
  EXPECT_TRUE(raw_done);
  EXPECT_TRUE(NothingMore());
  EXPECT_EQ(stats_.messages_dropped.load(), 1u);
}

TEST_F(OutboxTest, StopFramesIgnoresLaterFrames) {
  PlainOutbox& outbox = MakeOutbox(8);
  FramePtr before = Frame::Text("before", "A");
  outbox.Push(before);
  outbox.StopFrames();
  outbox.Push(Frame::Text("after", "A"));
  outbox.Push(Frame::Text(R"({"type":"pong"})"));
  EXPECT_EQ(outbox.pending(), 1u);
  outbox.Flush();
  RunIo();
  EXPECT_EQ(Read(before->wire().size()), before->wire());
  EXPECT_TRUE(NothingMore());
}

TEST_F(OutboxTest, CloseFrameEndsTheFrameStream) {
  PlainOutbox& outbox = MakeOutbox(8);
  FramePtr before = Frame::Text("before", "A");
  outbox.Push(before);
  // Close 1001 as Beast writes it: FIN + opcode 8, length 2, code.
  const std::string close("\x88\x02\x03\xE9", 4);
  boost::system::error_code close_ec = asio::error::operation_aborted;
  std::size_t close_size = 0;
  outbox.PushRaw(close, [&](boost::system::error_code ec, std::size_t n) {
    close_ec = ec;
    close_size = n;
  });
  outbox.Push(Frame::Text("after", "A"));
  outbox.Flush();
  RunIo();
  EXPECT_FALSE(close_ec);
  EXPECT_EQ(close_size, close.size());
  EXPECT_EQ(Read(before->wire().size() + close.size()), std::string(before->wire()) + close);
  EXPECT_TRUE(NothingMore());
}

TEST_F(OutboxTest, OtherRawBytesDoNotStopFrames) {
  PlainOutbox& outbox = MakeOutbox(8);
  const std::string pong("\x8A\x00", 2);  // A WebSocket pong from Beast.
  outbox.PushRaw(pong, [](boost::system::error_code, std::size_t) {});
  FramePtr after = Frame::Text("after", "A");
  outbox.Push(after);
  outbox.Flush();
  RunIo();
  EXPECT_EQ(Read(pong.size() + after->wire().size()), pong + std::string(after->wire()));
}

TEST_F(OutboxTest, RawBytesKeepTheirPlaceAmongFrames) {
  PlainOutbox& outbox = MakeOutbox(8);
  FramePtr first = Frame::Text("first", "A");
  FramePtr last = Frame::Text("last", "B");
  const std::string raw = "HTTP/1.1 101 Switching Protocols\r\n\r\n";
  outbox.Push(first);
  outbox.PushRaw(raw, [](boost::system::error_code, std::size_t) {});  // Flushes.
  outbox.Push(last);
  outbox.Flush();
  RunIo();
  std::string expected = std::string(first->wire()) + raw + std::string(last->wire());
  EXPECT_EQ(Read(expected.size()), expected);
  EXPECT_EQ(stats_.messages_sent.load(), 2u);  // Raw bytes are not messages.
}

TEST_F(OutboxTest, RawCompletionRunsAfterTheBytesAreWritten) {
  PlainOutbox& outbox = MakeOutbox(8);
  const std::string raw(3000, 'r');
  int calls = 0;
  boost::system::error_code result = asio::error::operation_aborted;
  std::size_t result_size = 0;
  std::size_t available_at_completion = 0;
  outbox.PushRaw(raw, [&](boost::system::error_code ec, std::size_t n) {
    ++calls;
    result = ec;
    result_size = n;
    available_at_completion = client_.available();
  });
  EXPECT_EQ(calls, 0);  // Never inline from PushRaw (Beast's contract).
  RunIo();
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(result) << result.message();
  EXPECT_EQ(result_size, raw.size());
  EXPECT_EQ(available_at_completion, raw.size());  // Already on the wire.
  EXPECT_EQ(Read(raw.size()), raw);
}

TEST_F(OutboxTest, OwnerIsHeldWhileAWriteIsInFlight) {
  PlainOutbox& outbox = MakeOutbox(8);
  outbox.Push(Frame::Text("x", "A"));
  EXPECT_EQ(owner_.use_count(), 1);
  outbox.Flush();
  EXPECT_GT(owner_.use_count(), 1);  // The session outlives its write.
  RunIo();
  EXPECT_EQ(owner_.use_count(), 1);
}

TEST_F(OutboxTest, NoWriteWithoutALiveOwner) {
  PlainOutbox& outbox = MakeOutbox(8);
  outbox.Push(Frame::Text("x", "A"));
  owner_.reset();
  outbox.Flush();
  RunIo();
  EXPECT_EQ(stats_.socket_writes.load(), 0u);
  EXPECT_TRUE(NothingMore());
}

TEST_F(OutboxTest, WritesFailAfterThePeerClosed) {
  PlainOutbox& outbox = MakeOutbox(8);
  // Abortive close: the peer answers further data with RST.
  client_.set_option(asio::socket_base::linger(true, 0));
  client_.close();

  std::vector<boost::system::error_code> results;
  std::vector<std::size_t> sizes;
  auto done = [&](boost::system::error_code ec, std::size_t n) {
    results.push_back(ec);
    sizes.push_back(n);
  };
  // The first write after the close may still be accepted by the kernel;
  // the failure shows on a later one.
  for (int i = 0; i < 50 && !outbox.failed(); ++i) {
    outbox.Push(Frame::Text("book", "A"));
    outbox.PushRaw(std::string(1000, 'r'), done);
    RunIo();
  }
  ASSERT_TRUE(outbox.failed());
  ASSERT_FALSE(results.empty());
  EXPECT_TRUE(results.back()) << "the failing write's raw completion carries the error";
  EXPECT_EQ(sizes.back(), 0u);
  EXPECT_EQ(outbox.pending(), 0u);

  // After the failure: frames are ignored, raw writes complete with an
  // error, asynchronously.
  outbox.Push(Frame::Text("late", "A"));
  EXPECT_EQ(outbox.pending(), 0u);
  std::size_t before = results.size();
  std::uint64_t writes = stats_.socket_writes.load();
  outbox.PushRaw("late", done);
  EXPECT_EQ(results.size(), before);  // Not inline.
  RunIo();
  ASSERT_EQ(results.size(), before + 1);
  EXPECT_TRUE(results.back());
  EXPECT_EQ(sizes.back(), 0u);
  EXPECT_EQ(stats_.socket_writes.load(), writes);
}

TEST_F(OutboxTest, QueuedRawBytesFailWithTheWriteAhead) {
  PlainOutbox& outbox = MakeOutbox(8);
  server_.shutdown(tcp::socket::shutdown_send);  // Every write now fails (EPIPE).
  std::vector<boost::system::error_code> results;
  outbox.Push(Frame::Text("book", "A"));
  outbox.Flush();  // In flight.
  outbox.PushRaw("queued behind", [&](boost::system::error_code ec, std::size_t n) {
    results.push_back(ec);
    EXPECT_EQ(n, 0u);
  });
  EXPECT_EQ(outbox.pending(), 1u);
  RunIo();
  EXPECT_TRUE(outbox.failed());
  ASSERT_EQ(results.size(), 1u);  // Completed exactly once, with the error.
  EXPECT_TRUE(results[0]);
  EXPECT_EQ(outbox.pending(), 0u);
  EXPECT_EQ(stats_.socket_writes.load(), 1u);
}

TEST_F(OutboxTest, ByteBudgetConflatesBeforeTheFrameBound) {
  FramePtr a1 = Frame::Text(Book("A", 1), "A");
  FramePtr b1 = Frame::Text(Book("B", 1), "B");
  FramePtr a2 = Frame::Text(Book("A", 2), "A");
  // Room for 1,000 books but bytes for two.
  PlainOutbox& outbox = MakeOutbox(1000, a1->wire().size() + b1->wire().size());
  outbox.Push(a1);
  outbox.Push(b1);
  EXPECT_EQ(outbox.queued_bytes(), a1->wire().size() + b1->wire().size());
  outbox.Push(a2);  // Would exceed the budget: takes A1's place.
  EXPECT_EQ(stats_.messages_conflated.load(), 1u);
  EXPECT_EQ(outbox.pending(), 2u);
  EXPECT_FALSE(outbox.over_budget_since());
  outbox.Flush();
  RunIo();
  std::string expected = std::string(a2->wire()) + std::string(b1->wire());
  EXPECT_EQ(Read(expected.size()), expected);
  EXPECT_EQ(outbox.queued_bytes(), 0u);
}

TEST_F(OutboxTest, OverBudgetWhenConflationCannotHelpUntilWritten) {
  FramePtr a = Frame::Text(Book("A", 1), "A");
  FramePtr b = Frame::Text(Book("B", 1), "B");
  PlainOutbox& outbox = MakeOutbox(1000, a->wire().size());
  outbox.Push(a);
  EXPECT_FALSE(outbox.over_budget_since());
  const Clock::time_point exceeded_at = clock_.Now();
  outbox.Push(b);  // Another symbol: nothing to conflate, the budget is exceeded.
  ASSERT_TRUE(outbox.over_budget_since());
  EXPECT_EQ(*outbox.over_budget_since(), exceeded_at);
  // Still over: the time it started stays.
  clock_.Advance(std::chrono::seconds(3));
  outbox.Push(Frame::Text(Book("C", 1), "C"));
  EXPECT_EQ(outbox.over_budget_since(), exceeded_at);
  EXPECT_EQ(stats_.messages_dropped.load(), 0u);
  outbox.Flush();
  RunIo();
  EXPECT_FALSE(outbox.over_budget_since());
  EXPECT_EQ(outbox.queued_bytes(), 0u);
}

TEST_F(OutboxTest, DiscardBooksKeepsRepliesAndCountsTheDrops) {
  PlainOutbox& outbox = MakeOutbox(8);
  FramePtr confirmed = Frame::Text(R"({"type":"subscription_confirmed","symbol":"A"})");
  FramePtr a = Frame::Text(Book("A", 1), "A");
  FramePtr b = Frame::Text(Book("B", 1), "B");
  FramePtr pong = Frame::Text(R"({"type":"pong"})");
  outbox.Push(confirmed);
  outbox.Push(a);
  outbox.Push(b);
  outbox.Push(pong);
  outbox.DiscardBooks();
  EXPECT_EQ(stats_.messages_dropped.load(), 2u);
  EXPECT_EQ(outbox.pending(), 2u);
  EXPECT_EQ(outbox.queued_bytes(), confirmed->wire().size() + pong->wire().size());
  outbox.Flush();
  RunIo();
  std::string expected = std::string(confirmed->wire()) + std::string(pong->wire());
  EXPECT_EQ(Read(expected.size()), expected);
  EXPECT_TRUE(NothingMore());
}

TEST_F(OutboxTest, StalledForMeasuresAWriteThePeerDoesNotRead) {
  PlainOutbox& outbox = MakeOutbox(1000);
  EXPECT_EQ(outbox.StalledFor(clock_.Now()), Clock::duration::zero());
  // Far more than loopback buffers hold: the write cannot finish unread.
  std::string payload(256 * 1024, 'x');
  for (int i = 0; i < 200; ++i) outbox.Push(Frame::Text(payload, "S" + std::to_string(i)));
  const Clock::time_point started = clock_.Now();
  outbox.Flush();
  // Writes until the kernel buffers are full; every byte moved at `started`.
  io_.restart();
  io_.poll();
  clock_.Advance(std::chrono::seconds(5));
  EXPECT_EQ(outbox.StalledFor(clock_.Now()), std::chrono::seconds(5));
  EXPECT_EQ(outbox.StalledFor(started + std::chrono::seconds(7)), std::chrono::seconds(7));
  // The peer reads: the write moves again, and the stall restarts from then.
  const Clock::time_point resumed = clock_.Now();
  std::string sink(1 << 20, '\0');
  while (outbox.StalledFor(resumed) != Clock::duration::zero()) {
    boost::system::error_code ec;
    client_.read_some(asio::buffer(sink), ec);
    ASSERT_FALSE(ec) << ec.message();
    io_.restart();
    io_.poll();
  }
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_EQ(outbox.StalledFor(clock_.Now()), std::chrono::seconds(1));
}

// A new write starts its stall clock at its start, not at the last write's
// progress.
TEST_F(OutboxTest, StalledForCountsFromTheStartOfTheWrite) {
  PlainOutbox& outbox = MakeOutbox(8);
  outbox.Push(Frame::Text("x", "A"));
  outbox.Flush();
  RunIo();  // Written at once.
  EXPECT_EQ(outbox.StalledFor(clock_.Now() + std::chrono::seconds(9)), Clock::duration::zero());
  clock_.Advance(std::chrono::seconds(30));
  outbox.Push(Frame::Text("y", "A"));
  outbox.Flush();  // In flight until the io_context runs.
  clock_.Advance(std::chrono::milliseconds(250));
  EXPECT_EQ(outbox.StalledFor(clock_.Now()), std::chrono::milliseconds(250));
  RunIo();
  EXPECT_EQ(outbox.StalledFor(clock_.Now()), Clock::duration::zero());
}

}  // namespace
}  // namespace obgw::gateway
