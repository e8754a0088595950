#include "redis_server.h"

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace obgw::testing {

int FreeTcpPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  return port;
}

std::unique_ptr<RedisServer> RedisServer::Start(std::string* error) {
  return StartWithPassword("", error);
}

std::unique_ptr<RedisServer> RedisServer::StartWithPassword(const std::string& password,
                                                            std::string* error) {
  int port = FreeTcpPort();
  if (port <= 0) {
    if (error) *error = "no free port";
    return nullptr;
  }
  std::unique_ptr<RedisServer> server(new RedisServer(port, password));
  if (!server->Launch(error)) return nullptr;
  return server;
}

RedisServer::~RedisServer() { Kill(); }

std::string RedisServer::url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

bool RedisServer::Launch(std::string* error) {
  std::string spawn_error;
  std::vector<std::string> args = {"--port", std::to_string(port_), "--bind", "127.0.0.1"};
  for (const char* arg : {"--save", "", "--appendonly", "no", "--protected-mode", "no"}) {
    args.emplace_back(arg);
  }
  if (!password_.empty()) {
    args.push_back("--requirepass");
    args.push_back(password_);
  }
  process_ = Process::Spawn("/usr/bin/redis-server", args, &spawn_error);
  if (!process_) {
    if (error) *error = "cannot start redis-server: " + spawn_error;
    return false;
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    if (Run({"PING"}, std::chrono::milliseconds(200)) == "PONG") return true;
    if (process_->ExitCode()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (error) *error = "redis-server did not answer PING: " + process_->Output();
  Kill();
  return false;
}

void RedisServer::Kill() {
  if (!process_) return;
  ::kill(process_->pid(), SIGKILL);
  process_->WaitForExit(std::chrono::seconds(5));
  process_.reset();
  paused_ = false;
}

bool RedisServer::Restart(std::string* error) {
  Kill();
  return Launch(error);
}

void RedisServer::Pause() {
  if (process_ && !paused_) ::kill(process_->pid(), SIGSTOP);
  paused_ = true;
}

void RedisServer::Resume() {
  if (process_ && paused_) ::kill(process_->pid(), SIGCONT);
  paused_ = false;
}

std::optional<std::string> RedisServer::Run(const std::vector<std::string>& argv,
                                            std::chrono::milliseconds timeout) const {
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  redisContext* context = redisConnectWithTimeout("127.0.0.1", port_, tv);
  if (context == nullptr) return std::nullopt;
  std::optional<std::string> result;
  bool ready = context->err == 0 && redisSetTimeout(context, tv) == REDIS_OK;
  if (ready && !password_.empty()) {
    auto* reply = static_cast<redisReply*>(redisCommand(context, "AUTH %s", password_.c_str()));
    ready = reply != nullptr && reply->type == REDIS_REPLY_STATUS;
    if (reply != nullptr) freeReplyObject(reply);
  }
  if (ready) {
    std::vector<const char*> pointers;
    std::vector<size_t> lengths;
    for (const std::string& arg : argv) {
      pointers.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    auto* reply = static_cast<redisReply*>(
        redisCommandArgv(context, static_cast<int>(argv.size()), pointers.data(), lengths.data()));
    if (reply != nullptr) {
      auto text = [](const redisReply* r) -> std::optional<std::string> {
        switch (r->type) {
          case REDIS_REPLY_STRING:
          case REDIS_REPLY_STATUS:
            return std::string(r->str, r->len);
          case REDIS_REPLY_INTEGER:
            return std::to_string(r->integer);
          case REDIS_REPLY_NIL:
            return std::string("(nil)");
          default:
            return std::nullopt;
        }
      };
      if (reply->type == REDIS_REPLY_ARRAY) {
        std::string joined;
        for (size_t i = 0; i < reply->elements; ++i) {
          if (i > 0) joined += '\n';
          joined += text(reply->element[i]).value_or("?");
        }
        result = joined;
      } else {
        result = text(reply);
      }
      freeReplyObject(reply);
    }
  }
  redisFree(context);
  return result;
}

}  // namespace obgw::testing
