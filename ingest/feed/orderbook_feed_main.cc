// orderbook-feed: publishes generated order books to an orderbook-gateway over
// the gRPC ingest API (one Publish client stream, or with --batch=N one
// PublishBatch stream of N books per message), paced at a fixed total rate. Used to demo the
// gateway, to feed it during tests, and as a load generator.
//
// Threads: the main thread connects, generates and writes; a signal thread
// turns SIGINT/SIGTERM into a clean stop (WritesDone + summary), and cancels
// the call if the server does not answer within a grace period (a server that
// stopped reading would otherwise block Write/Finish forever).

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/flags/flag.h"
#include "gateway/fanout/mutex.h"
#include "ingest/cli/command_line.h"
#include "ingest/cli/log_flags.h"
#include "ingest/feed/book_generator.h"
#include "ingest/feed/publish_stream.h"
#include "ingest/feed/publish_token.h"
#include "orderbook/v1/orderbook.grpc.pb.h"
#include "spdlog/spdlog.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051", "gRPC address of the gateway (host:port)");
ABSL_FLAG(std::uint32_t, symbols, 10,
          "number of symbols to publish, round-robin (real tickers first, then SYM<n>)");
ABSL_FLAG(double, rate, 50,
          "updates per second in total, over all symbols; 0 = as fast as possible");
ABSL_FLAG(std::uint32_t, levels, 10, "price levels per side in every book (1..1000)");
ABSL_FLAG(std::uint64_t, count, 0, "stop after this many updates; 0 = unlimited");
ABSL_FLAG(std::uint32_t, batch, 0,
          "books per message: 0 or 1 = one Publish message per book; N > 1 = a PublishBatch "
          "stream of N books per OrderBookBatch (the last one shorter if --count says so)");
ABSL_FLAG(double, duration_s, 0, "stop after this many seconds; 0 = unlimited");
ABSL_FLAG(std::uint64_t, seed, 1, "random seed of the generated books (same seed, same books)");
ABSL_FLAG(double, report_every_s, 5,
          "print progress (sent, rate) every this many seconds; 0 = never");
ABSL_FLAG(std::string, publish_token, "",
          "Publish token the gateway wants (its --publish_tokens), sent as metadata "
          "'authorization: Bearer <token>'; empty: $PUBLISH_TOKEN if set, else none.");
ABSL_FLAG(double, wait_for_server_s, 10,
          "keep trying to connect for this many seconds before giving up, so the feed can start "
          "next to the gateway");

namespace {

using Clock = std::chrono::steady_clock;

// How long after SIGINT/SIGTERM the server gets to answer before the call is
// cancelled.
constexpr std::chrono::seconds kStopGrace{5};
// Longest sleep between stop checks, so a signal is noticed promptly even at
// low rates.
constexpr std::chrono::milliseconds kMaxSleep{100};

Clock::duration Seconds(double seconds) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

// Owns the signal thread. SIGINT/SIGTERM are blocked in every thread (the
// mask is set before any other thread starts, gRPC's included) and received
// with sigwait, so no async-signal-safety constraints apply.
class StopSignals {
 public:
  StopSignals() {
    sigemptyset(&signals_);
    sigaddset(&signals_, SIGINT);
    sigaddset(&signals_, SIGTERM);
    sigaddset(&signals_, SIGUSR1);  // Internal: "main is done, exit".
    pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
    thread_ = std::thread([this] { WaitForSignal(); });
  }
  ~StopSignals() { Finished(); }

  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // The call to cancel if the server does not answer within kStopGrace of a
  // stop signal; must stay alive until Finished().
  void AttachCall(grpc::ClientContext* context) {
    obgw::gateway::MutexLock lock(mutex_);
    context_ = context;
  }

  bool stop_requested() const { return stop_.load(std::memory_order_relaxed); }
  bool timed_out() const { return timed_out_.load(std::memory_order_relaxed); }

  // Main thread, once the call is over (or never started): releases the
  // signal thread and waits for it. Idempotent.
  void Finished() {
    {
      obgw::gateway::MutexLock lock(mutex_);
      finished_ = true;
      context_ = nullptr;
    }
    finished_cv_.notify_all();
    if (thread_.joinable()) {
      // After a stop signal the thread ends by itself (finished_ is set).
      if (!stop_requested()) pthread_kill(thread_.native_handle(), SIGUSR1);
      thread_.join();
    }
  }

 private:
  void WaitForSignal() {
    int signal_number = 0;
    sigwait(&signals_, &signal_number);
    if (signal_number == SIGUSR1) return;
    spdlog::info("received {}, closing the stream", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
    stop_.store(true, std::memory_order_relaxed);
    obgw::gateway::MutexLock lock(mutex_);
    auto finished = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) { return finished_; };
    if (finished_cv_.wait_for(mutex_, kStopGrace, finished)) return;
    spdlog::error("the server did not answer within {} s of the stop signal, cancelling",
                  kStopGrace.count());
    timed_out_.store(true, std::memory_order_relaxed);
    if (context_ != nullptr) context_->TryCancel();
  }

  sigset_t signals_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> timed_out_{false};
  obgw::gateway::Mutex mutex_;
  std::condition_variable_any finished_cv_;
  bool finished_ ABSL_GUARDED_BY(mutex_) = false;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mutex_) = nullptr;
  std::thread thread_;  // Last: starts once everything above is initialised.
};

// Waits for the channel to connect, in short slices so a stop signal is
// noticed. gRPC keeps retrying in between (backoff capped at 1 s below).
bool WaitForServer(grpc::Channel& channel, double wait_s, const StopSignals& stop) {
  const auto give_up = std::chrono::system_clock::now() +
                       std::chrono::duration_cast<std::chrono::system_clock::duration>(
                           std::chrono::duration<double>(wait_s));
  do {
    const auto slice =
        std::min(give_up, std::chrono::system_clock::now() + std::chrono::milliseconds(200));
    if (channel.WaitForConnected(slice)) return true;
  } while (std::chrono::system_clock::now() < give_up && !stop.stop_requested());
  return false;
}

// The feed's command line: every flag above, once, under its --help heading.
obgw::cli::Program CommandLine() {
  using obgw::cli::Flags;
  return {
      .name = "orderbook-feed",
      .summary = "Publishes generated order books to orderbook-gateway over gRPC.",
      .groups =
          {
              {"Server", Flags(FLAGS_target, FLAGS_wait_for_server_s, FLAGS_publish_token)},
              {"Books", Flags(FLAGS_symbols, FLAGS_levels, FLAGS_seed, FLAGS_batch)},
              {"Pace", Flags(FLAGS_rate, FLAGS_count, FLAGS_duration_s)},
              {"Output", Flags(FLAGS_report_every_s)},
              // --log_level, --log_format, --log_tag (issue 13, logs).
              obgw::cli::LoggingFlags(),
          },
  };
}

// What Run validated from the flags, for Stream.
struct FeedPlan {
  std::string target;
  std::uint32_t symbols = 0;
  std::uint32_t levels = 0;
  double rate = 0;
  std::uint64_t count = 0;
  double duration_s = 0;
  double report_every_s = 0;
  std::uint64_t seed = 0;
  // Books per message; 1 for Publish.
  std::uint64_t batch = 1;
  // Sent with the call when not empty; never logged.
  std::string publish_token;
};

// Writes `books` fresh books into `message` (one for Publish; a batch keeps
// its updates between messages and the generator rewrites them in place).
template <typename Message>
void Fill(obgw::ingest::BookGenerator& generator, std::uint64_t first, std::uint64_t books,
          Message& message) {
  obgw::ingest::KeepBooks(message, books);  // A shorter last batch (--count).
  for (std::uint64_t i = 0; i < books; ++i) {
    generator.NextInto((first + i) % generator.symbol_count(), obgw::ingest::BookAt(message, i));
  }
}

// Generates and writes books until --count, --duration_s or a stop signal,
// `plan.batch` per message, then prints the summary. Paced, a message goes out
// when its last book is due, so the books of a batch are as fresh as they
// can be and the rate over time is --rate.
template <typename Message>
int Stream(orderbook::v1::OrderBookIngest::Stub& stub, StopSignals& stop, const FeedPlan& plan) {
  grpc::ClientContext context;
  obgw::ingest::AttachPublishToken(context, plan.publish_token);
  orderbook::v1::PublishSummary summary;
  stop.AttachCall(&context);
  std::unique_ptr<grpc::ClientWriter<Message>> writer =
      obgw::ingest::PublishStream<Message>::Open(stub, &context, &summary);

  obgw::ingest::BookGenerator generator(plan.symbols, plan.levels, plan.seed);
  Message message;
  const double rate = plan.rate;
  const std::uint64_t count = plan.count;
  const Clock::time_point start = Clock::now();
  const Clock::time_point end =
      plan.duration_s > 0 ? start + Seconds(plan.duration_s) : Clock::time_point::max();
  const Clock::duration report_every = Seconds(plan.report_every_s);
  Clock::time_point next_report =
      plan.report_every_s > 0 ? start + report_every : Clock::time_point::max();
  std::uint64_t sent = 0;
  std::uint64_t sent_at_last_report = 0;
  Clock::time_point last_report = start;
  bool stream_broken = false;

  while (!stop.stop_requested() && (count == 0 || sent < count)) {
    const Clock::time_point now = Clock::now();
    if (now >= end) break;
    if (now >= next_report) {
      const double interval_s = std::chrono::duration<double>(now - last_report).count();
      spdlog::info("sent {} updates, {:.0f}/s", sent,
                   static_cast<double>(sent - sent_at_last_report) / interval_s);
      sent_at_last_report = sent;
      last_report = now;
      next_report += report_every;
    }
    const std::uint64_t books = count == 0 ? plan.batch : std::min(plan.batch, count - sent);
    if (rate > 0) {
      // Due times come from the start, not from the previous send, so
      // pacing does not drift (and catches up after a stall).
      const Clock::time_point due = start + Seconds(static_cast<double>(sent + books - 1) / rate);
      if (due > now) {
        std::this_thread::sleep_until(std::min({due, now + kMaxSleep, next_report, end}));
        continue;
      }
    }
    // When the next message is already due too (unlimited rate, or catching
    // up), let gRPC batch this one with it: one flush per batch instead of
    // one per message. The last write of a burst goes out unhinted.
    const bool next_due =
        rate == 0 || start + Seconds(static_cast<double>(sent + books + books - 1) / rate) <= now;
    const bool last = count != 0 && sent + books == count;
    grpc::WriteOptions options;
    if (next_due && !last) options.set_buffer_hint();
    Fill(generator, sent, books, message);
    if (!writer->Write(message, options)) {
      stream_broken = true;  // Finish below says why.
      break;
    }
    sent += books;
  }
  if (!stream_broken) writer->WritesDone();
  const grpc::Status status = writer->Finish();
  stop.Finished();
  const double elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();

  if (!status.ok()) {
    if (stop.timed_out()) {
      spdlog::error("stopped after {} updates; the server did not confirm them", sent);
    } else {
      spdlog::error("{} to {} failed after {} updates: {} (code {})",
                    plan.batch > 1 ? "PublishBatch" : "Publish", plan.target, sent,
                    status.error_message(), static_cast<int>(status.error_code()));
    }
    return 1;
  }
  spdlog::info("sent {} updates in {:.1f} s ({:.0f}/s); server accepted {}, rejected {}", sent,
               elapsed_s, elapsed_s > 0 ? static_cast<double>(sent) / elapsed_s : 0.0,
               summary.accepted(), summary.rejected());
  for (const std::string& error : summary.errors()) spdlog::warn("rejected: {}", error);
  return 0;
}

int Run(StopSignals& stop) {
  const std::string target = absl::GetFlag(FLAGS_target);
  const std::uint32_t symbols = absl::GetFlag(FLAGS_symbols);
  const double rate = absl::GetFlag(FLAGS_rate);
  const std::uint32_t levels = absl::GetFlag(FLAGS_levels);
  const std::uint64_t count = absl::GetFlag(FLAGS_count);
  const double duration_s = absl::GetFlag(FLAGS_duration_s);
  const double report_every_s = absl::GetFlag(FLAGS_report_every_s);
  if (symbols == 0 || levels == 0 || levels > 1000 || !(rate >= 0) || !(duration_s >= 0) ||
      !(report_every_s >= 0)) {
    spdlog::error(
        "invalid flags: need --symbols >= 1, 1 <= --levels <= 1000, and --rate, "
        "--duration_s, --report_every_s >= 0");
    return 2;
  }

  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  if (!WaitForServer(*channel, absl::GetFlag(FLAGS_wait_for_server_s), stop)) {
    if (stop.stop_requested()) return 0;
    spdlog::error("cannot reach the gRPC server at {} within {} s", target,
                  absl::GetFlag(FLAGS_wait_for_server_s));
    return 1;
  }
  spdlog::info("connected to {}: {} symbols, {} levels, rate {}, {}", target, symbols, levels,
               rate > 0 ? fmt::format("{:g}/s", rate) : std::string("unlimited"),
               absl::GetFlag(FLAGS_batch) > 1
                   ? fmt::format("PublishBatch of {} books", absl::GetFlag(FLAGS_batch))
                   : std::string("Publish"));

  FeedPlan plan{.target = target,
                .symbols = symbols,
                .levels = levels,
                .rate = rate,
                .count = count,
                .duration_s = duration_s,
                .report_every_s = report_every_s,
                .seed = absl::GetFlag(FLAGS_seed),
                .batch = std::max<std::uint64_t>(1, absl::GetFlag(FLAGS_batch)),
                .publish_token = obgw::ingest::PublishTokenOr(absl::GetFlag(FLAGS_publish_token))};
  auto stub = orderbook::v1::OrderBookIngest::NewStub(channel);
  if (plan.batch > 1) return Stream<orderbook::v1::OrderBookBatch>(*stub, stop, plan);
  return Stream<orderbook::v1::OrderBookUpdate>(*stub, stop, plan);
}

}  // namespace

int main(int argc, char** argv) {
  obgw::cli::ParseCommandLine(CommandLine(), argc, argv);
  // Tagged "feed", so that its lines are told apart from the gateway's in
  // one terminal (deploy/run-demo.sh).
  if (absl::Status status = obgw::cli::SetUpLoggingFromFlags("feed"); !status.ok()) {
    std::fprintf(stderr, "orderbook-feed: %s\n", std::string(status.message()).c_str());
    return 2;
  }
  // Before any thread exists, so every thread inherits the blocked mask.
  StopSignals stop;
  return Run(stop);
}
