#ifndef OBGW_TESTS_INTEGRATION_GATEWAY_PROCESS_H_
#define OBGW_TESTS_INTEGRATION_GATEWAY_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <absl/base/thread_annotations.h>
#include "gateway/fanout/mutex.h"

namespace obgw::testing {

// Directory holding the project's binaries (<build>/bin), fixed at build time;
// the environment variable OBGW_BIN_DIR overrides it.
std::string BinDir();

// A child process with stdout and stderr merged into one pipe. A background
// thread reads the pipe and keeps everything (for failure messages); tests
// wait for lines on it. The destructor sends SIGTERM, waits up to 5 s, then
// SIGKILL, and always reaps the child.
//
// Thread-compatible: use one Process from one test thread.
class Process {
 public:
  // Starts `path` with `args` (argv[1..]) and the test's environment plus
  // `environment` ("NAME=value" entries, which replace variables of the same
  // name). Returns null and sets `error` when the process cannot be spawned.
  static std::unique_ptr<Process> Spawn(const std::string& path,
                                        const std::vector<std::string>& args,
                                        std::string* error = nullptr,
                                        const std::vector<std::string>& environment = {});

  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();

  pid_t pid() const { return pid_; }

  // Waits until a complete output line starts with `prefix` and returns it;
  // nullopt on timeout or when the output ends (process gone) first.
  std::optional<std::string> WaitForLine(std::string_view prefix,
                                         std::chrono::milliseconds timeout);

  // Everything the process printed so far.
  std::string Output() const;

  // Waits up to `timeout` for the output to end (the process closed it,
  // usually by exiting); true when it did, and Output() is then complete.
  bool WaitForOutputEnd(std::chrono::milliseconds timeout);

  // Exit status if the process has exited: the exit code, or 128 + signal
  // number when killed by a signal. Non-blocking.
  std::optional<int> ExitCode();

  // Waits up to `timeout` for the process to exit; its exit status or nullopt.
  // Once it has exited, also waits (up to 5 s) for the end of its output, so
  // that Output() then holds everything it printed.
  std::optional<int> WaitForExit(std::chrono::milliseconds timeout);

  // SIGTERM, up to `grace` to exit, then SIGKILL. Returns the exit status.
  int Stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

 private:
  Process(pid_t pid, int read_fd);
  void ReadLoop();

  pid_t pid_;
  int read_fd_;
  std::optional<int> status_;
  std::thread reader_;
  mutable gateway::Mutex mu_;
  std::condition_variable_any cv_;
  std::string output_ ABSL_GUARDED_BY(mu_);
  bool eof_ ABSL_GUARDED_BY(mu_) = false;
};

// A running orderbook-gateway on free ports.
class GatewayProcess {
 public:
  GatewayProcess(std::unique_ptr<Process> process, int http_port, int grpc_port)
      : process_(std::move(process)), http_port_(http_port), grpc_port_(grpc_port) {}

  int http_port() const { return http_port_; }
  int grpc_port() const { return grpc_port_; }
  std::string grpc_target() const { return "127.0.0.1:" + std::to_string(grpc_port_); }
  Process& process() { return *process_; }
  std::string Output() const { return process_->Output(); }

 private:
  std::unique_ptr<Process> process_;
  int http_port_;
  int grpc_port_;
};

// The ready line the gateway prints on stdout, followed by
// "http=127.0.0.1:<port> grpc=127.0.0.1:<port>".
inline constexpr std::string_view kReadyPrefix = "orderbook-gateway ready ";

// Path of the gateway binary.
std::string GatewayPath();

// Runs `<bin>/orderbook-gateway --bind=127.0.0.1 --http_port=0 --grpc_port=0
// --threads=2 <extra_args...>` and waits up to 10 s for the ready line.
// Returns null (and the reason plus the output in `error`) on failure.
std::unique_ptr<GatewayProcess> StartGateway(const std::vector<std::string>& extra_args = {},
                                             std::string* error = nullptr);
// The same with `environment` added to the gateway's ("NAME=value" entries,
// as Process::Spawn takes them).
std::unique_ptr<GatewayProcess> StartGateway(const std::vector<std::string>& extra_args,
                                             const std::vector<std::string>& environment,
                                             std::string* error);

// Parses "orderbook-gateway ready http=127.0.0.1:<p1> grpc=127.0.0.1:<p2>".
bool ParseReadyLine(std::string_view line, int* http_port, int* grpc_port);

}  // namespace obgw::testing

#endif  // OBGW_TESTS_INTEGRATION_GATEWAY_PROCESS_H_
