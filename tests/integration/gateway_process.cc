#include "gateway_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace obgw::testing {
namespace {

using Clock = std::chrono::steady_clock;

// Tests write to sockets the gateway may have closed; a SIGPIPE would kill the
// whole test binary instead of failing one test.
const bool kSigpipeIgnored = [] {
  signal(SIGPIPE, SIG_IGN);
  return true;
}();

int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Parses "<host>:<port>" after `key` in `line`; -1 when absent.
int PortAfter(std::string_view line, std::string_view key) {
  size_t pos = line.find(key);
  if (pos == std::string_view::npos) return -1;
  std::string_view rest = line.substr(pos + key.size());
  size_t end = rest.find(' ');
  std::string_view hostport = rest.substr(0, end);
  size_t colon = hostport.rfind(':');
  if (colon == std::string_view::npos) return -1;
  std::string_view digits = hostport.substr(colon + 1);
  if (digits.empty() || digits.size() > 5) return -1;
  int port = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return -1;
    port = port * 10 + (c - '0');
  }
  return port > 0 && port < 65536 ? port : -1;
}

}  // namespace

std::string BinDir() {
  if (const char* env = std::getenv("OBGW_BIN_DIR"); env != nullptr && *env != '\0') return env;
#ifdef OBGW_BIN_DIR
  return OBGW_BIN_DIR;
#else
  return "bin";
#endif
}

std::string GatewayPath() { return BinDir() + "/orderbook-gateway"; }

std::unique_ptr<Process> Process::Spawn(const std::string& path,
                                        const std::vector<std::string>& args, std::string* error,
                                        const std::vector<std::string>& environment) {
  (void)kSigpipeIgnored;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    if (error) *error = std::string("pipe2: ") + std::strerror(errno);
    return nullptr;
  }
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(path.c_str()));
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  // The child's environment, built before fork: ours minus the variables
  // `environment` sets, then those.
  std::vector<char*> envp;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string_view variable(*entry);
    std::string_view name = variable.substr(0, variable.find('='));
    bool replaced = false;
    for (const std::string& added : environment) {
      replaced = replaced || std::string_view(added).substr(0, added.find('=')) == name;
    }
    if (!replaced) envp.push_back(*entry);
  }
  for (const std::string& added : environment) envp.push_back(const_cast<char*>(added.c_str()));
  envp.push_back(nullptr);
  const pid_t parent = getpid();

  // Between fork and exec only async-signal-safe calls (the test process has
  // threads).
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    if (error) *error = std::string("fork: ") + std::strerror(errno);
    return nullptr;
  }
  if (pid == 0) {
    // Dies with the test process, even when that is killed (a CTest
    // timeout): no gateway outlives its test.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
    // The child gets default SIGPIPE handling and an empty signal mask back.
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    sigaction(SIGPIPE, &default_action, nullptr);
    sigset_t empty;
    sigemptyset(&empty);
    sigprocmask(SIG_SETMASK, &empty, nullptr);
    execve(path.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  close(fds[1]);
  return std::unique_ptr<Process>(new Process(pid, fds[0]));
}

Process::Process(pid_t pid, int read_fd) : pid_(pid), read_fd_(read_fd) {
  reader_ = std::thread([this] { ReadLoop(); });
}

Process::~Process() {
  Stop();
  if (reader_.joinable()) reader_.join();
  close(read_fd_);
}

void Process::ReadLoop() {
  char buf[4096];
  for (;;) {
    ssize_t n = read(read_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    gateway::MutexLock lock(mu_);
    if (n <= 0) {
      eof_ = true;
      cv_.notify_all();
      return;
    }
    output_.append(buf, static_cast<size_t>(n));
    cv_.notify_all();
  }
}

std::optional<std::string> Process::WaitForLine(std::string_view prefix,
                                                std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  gateway::MutexLock lock(mu_);
  size_t scanned = 0;  // Start of the first line not yet checked.
  auto more_to_scan = [this, &scanned]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return eof_ || output_.find('\n', scanned) != std::string::npos;
  };
  for (;;) {
    for (;;) {
      size_t nl = output_.find('\n', scanned);
      if (nl == std::string::npos) break;
      std::string_view line(output_.data() + scanned, nl - scanned);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      scanned = nl + 1;
      if (line.substr(0, prefix.size()) == prefix) return std::string(line);
    }
    if (eof_) return std::nullopt;
    if (!cv_.wait_until(mu_, deadline, more_to_scan)) return std::nullopt;
  }
}

std::string Process::Output() const {
  gateway::MutexLock lock(mu_);
  return output_;
}

bool Process::WaitForOutputEnd(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return eof_; });
}

std::optional<int> Process::ExitCode() {
  if (status_) return status_;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) status_ = DecodeStatus(status);
  return status_;
}

std::optional<int> Process::WaitForExit(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    if (auto code = ExitCode()) {
      // The reader thread may not have drained the pipe yet: callers read
      // Output() next (a loadgen's result line was missing once). Bounded,
      // since a grandchild could hold the pipe open.
      WaitForOutputEnd(std::chrono::seconds(5));
      return code;
    }
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

int Process::Stop(std::chrono::milliseconds grace) {
  if (auto code = ExitCode()) return *code;
  kill(pid_, SIGTERM);
  if (auto code = WaitForExit(grace)) return *code;
  kill(pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  status_ = DecodeStatus(status);
  return *status_;
}

bool ParseReadyLine(std::string_view line, int* http_port, int* grpc_port) {
  if (line.substr(0, kReadyPrefix.size()) != kReadyPrefix) return false;
  int http = PortAfter(line, "http=");
  int grpc = PortAfter(line, "grpc=");
  if (http < 0 || grpc < 0) return false;
  *http_port = http;
  *grpc_port = grpc;
  return true;
}

std::unique_ptr<GatewayProcess> StartGateway(const std::vector<std::string>& extra_args,
                                             std::string* error) {
  return StartGateway(extra_args, {}, error);
}

std::unique_ptr<GatewayProcess> StartGateway(const std::vector<std::string>& extra_args,
                                             const std::vector<std::string>& environment,
                                             std::string* error) {
  std::vector<std::string> args = {"--bind=127.0.0.1", "--http_port=0", "--grpc_port=0",
                                   "--threads=2"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::string spawn_error;
  std::unique_ptr<Process> process = Process::Spawn(GatewayPath(), args, &spawn_error, environment);
  if (!process) {
    if (error) *error = spawn_error;
    return nullptr;
  }
  std::optional<std::string> line = process->WaitForLine(kReadyPrefix, std::chrono::seconds(10));
  int http_port = 0;
  int grpc_port = 0;
  if (!line || !ParseReadyLine(*line, &http_port, &grpc_port)) {
    std::optional<int> code = process->ExitCode();
    if (error) {
      *error = std::string(line ? "unparsable ready line: " + *line : "no ready line within 10 s") +
               (code ? " (exited with status " + std::to_string(*code) + ")" : "") +
               "\n--- gateway output ---\n" + process->Output();
    }
    return nullptr;
  }
  return std::make_unique<GatewayProcess>(std::move(process), http_port, grpc_port);
}

}  // namespace obgw::testing
