#include "chromium_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include "http_test_client.h"

namespace obgw::testing {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

constexpr auto kPollInterval = std::chrono::milliseconds(50);

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Makes a fresh directory under $TMPDIR (or /tmp); empty on failure.
std::string MakeTempDir(std::string* error) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/obgw-chromium-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) {
    *error = "mkdtemp(" + pattern + "): " + std::strerror(errno);
    return {};
  }
  return buffer.data();
}

// The DevTools port from the first line of DevToolsActivePort, once the
// line is complete; 0 while it is not there yet.
int ReadDevToolsPort(const std::string& path) {
  std::string text = ReadFile(path);
  std::size_t newline = text.find('\n');
  if (newline == std::string::npos || newline == 0) return 0;
  int port = 0;
  for (std::size_t i = 0; i < newline; ++i) {
    char c = text[i];
    if (c < '0' || c > '9') return 0;
    port = port * 10 + (c - '0');
    if (port > 65535) return 0;
  }
  return port;
}

// Whether a process in group `pgid` is still alive (not a zombie), from
// /proc/<pid>/stat: "<pid> (<comm>) <state> <ppid> <pgrp> ...".
bool GroupHasLiveMember(pid_t pgid) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string stat = ReadFile(entry.path().string() + "/stat");
    std::size_t paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream fields(stat.substr(paren + 1));
    char state = 0;
    long ppid = 0;
    long pgrp = 0;
    if (!(fields >> state >> ppid >> pgrp)) continue;
    if (pgrp == pgid && state != 'Z' && state != 'X') return true;
  }
  return false;
}

}  // namespace

std::string ChromiumPath() {
  if (const char* env = std::getenv("OBGW_CHROMIUM"); env != nullptr && *env != '\0') return env;
  return "/usr/bin/chromium";
}

ChromiumProcess::ChromiumProcess(pid_t pid, std::string temp_dir)
    : pid_(pid), temp_dir_(std::move(temp_dir)) {}

std::unique_ptr<ChromiumProcess> ChromiumProcess::Start(std::string* error, Duration timeout) {
  std::string ignored;
  if (error == nullptr) error = &ignored;
  const std::string path = ChromiumPath();
  if (::access(path.c_str(), X_OK) != 0) {
    *error = "Chromium not found at " + path + " (" + std::strerror(errno) +
             "); the browser tests need Debian's chromium package: run "
             "deploy/install-deps.sh (or set OBGW_CHROMIUM to a Chromium binary)";
    return nullptr;
  }
  std::string temp_dir = MakeTempDir(error);
  if (temp_dir.empty()) return nullptr;
  const std::string profile = temp_dir + "/profile";
  const std::string log_path = temp_dir + "/chromium.log";
  if (::mkdir(profile.c_str(), 0700) != 0) {
    *error = "mkdir(" + profile + "): " + std::strerror(errno);
    std::error_code ec;
    std::filesystem::remove_all(temp_dir, ec);
    return nullptr;
  }

  std::vector<std::string> args = {
      path,
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-extensions",
      "--user-data-dir=" + profile,
      "--remote-debugging-address=127.0.0.1",
      "--remote-debugging-port=0",
      "about:blank",
  };
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  // Everything the child touches is prepared before fork(): between fork and
  // exec only async-signal-safe calls.
  pid_t pid = ::fork();
  if (pid < 0) {
    *error = std::string("fork: ") + std::strerror(errno);
    std::error_code ec;
    std::filesystem::remove_all(temp_dir, ec);
    return nullptr;
  }
  if (pid == 0) {
    ::setsid();  // Own session and process group: teardown kills the tree.
    // And it dies with the test process, even when that is killed.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    if (log_fd >= 0) {
      ::dup2(log_fd, STDOUT_FILENO);
      ::dup2(log_fd, STDERR_FILENO);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }

  std::unique_ptr<ChromiumProcess> chromium(new ChromiumProcess(pid, temp_dir));
  const std::string port_file = profile + "/DevToolsActivePort";
  auto deadline = Clock::now() + timeout;
  for (;;) {
    int port = ReadDevToolsPort(port_file);
    if (port > 0) {
      chromium->devtools_port_ = port;
      return chromium;
    }
    if (chromium->Exited()) {
      *error = "Chromium (" + path + ") exited before writing DevToolsActivePort; output:\n" +
               chromium->Output();
      return nullptr;
    }
    if (Clock::now() >= deadline) {
      *error = "Chromium (" + path + ") wrote no DevToolsActivePort within " +
               std::to_string(timeout.count()) + " ms; output:\n" + chromium->Output();
      return nullptr;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

ChromiumProcess::~ChromiumProcess() {
  // SIGKILL to the whole group at once: the browser plus its zygote,
  // renderer and utility processes, which are not our children and would
  // otherwise linger. The profile is thrown away, so nothing needs a clean
  // shutdown, and SIGKILL cannot be ignored: the waits below end quickly.
  ::kill(-pid_, SIGKILL);
  if (!reaped_) {
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
  }
  // Give the rest of the group a moment to die before removing the profile
  // under it. Orphaned children stay in the group as zombies until init
  // reaps them, so wait for "no live member" rather than "no member"
  // (bounded; removal is best effort either way).
  auto deadline = Clock::now() + std::chrono::seconds(2);
  while (GroupHasLiveMember(pid_) && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::error_code ec;
  std::filesystem::remove_all(temp_dir_, ec);
}

bool ChromiumProcess::Exited() {
  if (reaped_) return true;
  int status = 0;
  pid_t result = ::waitpid(pid_, &status, WNOHANG);
  if (result == pid_ || (result < 0 && errno == ECHILD)) reaped_ = true;
  return reaped_;
}

std::string ChromiumProcess::Output() const { return ReadFile(temp_dir_ + "/chromium.log"); }

std::string ChromiumProcess::PageWebSocketPath(std::string* error, Duration timeout) const {
  std::string ignored;
  if (error == nullptr) error = &ignored;
  auto deadline = Clock::now() + timeout;
  std::string last;
  for (;;) {
    HttpResponse response =
        HttpRequest(devtools_port_, "GET", "/json/list", {}, {}, std::chrono::seconds(2));
    last = response.Describe();
    json::value targets = response.status == 200 ? response.Json() : json::value();
    if (targets.is_array()) {
      for (const json::value& target : targets.as_array()) {
        if (!target.is_object()) continue;
        const json::object& t = target.as_object();
        const json::value* type = t.if_contains("type");
        const json::value* url = t.if_contains("url");
        const json::value* ws_url = t.if_contains("webSocketDebuggerUrl");
        if (type == nullptr || url == nullptr || ws_url == nullptr || !ws_url->is_string()) {
          continue;
        }
        if (*type != "page" || *url != "about:blank") continue;
        auto parsed = boost::urls::parse_uri(ws_url->as_string());
        if (!parsed) {
          *error = "bad webSocketDebuggerUrl: " + json::serialize(*ws_url);
          return {};
        }
        return std::string(parsed->encoded_path());
      }
    }
    if (Clock::now() >= deadline) {
      *error = "no about:blank page target on http://127.0.0.1:" + std::to_string(devtools_port_) +
               "/json/list within " + std::to_string(timeout.count()) + " ms; last answer: " + last;
      return {};
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

}  // namespace obgw::testing
