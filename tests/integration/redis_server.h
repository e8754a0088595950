#ifndef OBGW_TESTS_INTEGRATION_REDIS_SERVER_H_
#define OBGW_TESTS_INTEGRATION_REDIS_SERVER_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gateway_process.h"

namespace obgw::testing {

// A real redis-server for one test, on a free port, without persistence
// (--save "" --appendonly no): killing it loses every key, as a Redis restart
// without persistence does. The destructor kills it (SIGKILL) and reaps it.
//
// Thread-compatible: use one RedisServer from one test thread.
class RedisServer {
 public:
  // Starts redis-server on a free port and waits until it answers PING.
  // Null (and why in `error`) when it cannot.
  static std::unique_ptr<RedisServer> Start(std::string* error = nullptr);
  // As Start, with --requirepass `password` (also after Restart): clients
  // must AUTH; Run does.
  static std::unique_ptr<RedisServer> StartWithPassword(const std::string& password,
                                                        std::string* error = nullptr);

  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;
  ~RedisServer();

  int port() const { return port_; }
  // redis://127.0.0.1:<port>
  std::string url() const;
  pid_t pid() const { return process_ ? process_->pid() : -1; }
  bool running() const { return process_ != nullptr; }

  // SIGKILL now (a crash: no shutdown, no save) and reap.
  void Kill();
  // After Kill: starts again on the same port and waits for PING.
  bool Restart(std::string* error = nullptr);
  // SIGSTOP / SIGCONT: a Redis that stops answering without closing sockets.
  void Pause();
  void Resume();

  // Runs one command on a fresh blocking connection (setup and checks, never
  // under test): the reply as text (string, status, integer, or "(nil)";
  // arrays joined by '\n'); nullopt when Redis cannot be reached or answers an
  // error.
  std::optional<std::string> Run(const std::vector<std::string>& argv,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(2)) const;

 private:
  RedisServer(int port, std::string password) : port_(port), password_(std::move(password)) {}
  bool Launch(std::string* error);

  int port_;
  std::string password_;  // --requirepass; empty: none.
  std::unique_ptr<Process> process_;
  bool paused_ = false;
};

// A TCP port on 127.0.0.1 nothing listens on now (bound to port 0, then closed).
int FreeTcpPort();

}  // namespace obgw::testing

#endif  // OBGW_TESTS_INTEGRATION_REDIS_SERVER_H_
