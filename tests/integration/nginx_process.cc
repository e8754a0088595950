#include "nginx_process.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "http_test_client.h"
#include "redis_server.h"  // FreeTcpPort

namespace obgw::testing {
namespace {

using Clock = std::chrono::steady_clock;

// deploy/cluster of the source tree, fixed at build time.
std::string ClusterDeployDir() {
#ifdef OBGW_CLUSTER_DEPLOY_DIR
  return OBGW_CLUSTER_DEPLOY_DIR;
#else
  return "deploy/cluster";
#endif
}

}  // namespace

bool NginxProcess::Installed() { return access(kNginxPath, X_OK) == 0; }

std::unique_ptr<NginxProcess> NginxProcess::Start(const std::vector<int>& node_http_ports,
                                                  std::string* error,
                                                  const std::vector<int>& node_grpc_ports) {
  std::string reason;
  // The port is picked before nginx binds it, so another process may take it
  // in between: a few attempts, each in a fresh prefix.
  for (int attempt = 0; attempt < 3; ++attempt) {
    char prefix[] = "/tmp/obgw-nginx-XXXXXX";
    if (mkdtemp(prefix) == nullptr) {
      if (error) *error = "mkdtemp failed";
      return nullptr;
    }
    const int port = FreeTcpPort();
    int grpc_port = 0;
    while (!node_grpc_ports.empty() && (grpc_port == 0 || grpc_port == port)) {
      grpc_port = FreeTcpPort();
    }
    std::unique_ptr<NginxProcess> nginx(new NginxProcess(prefix, port, grpc_port));
    if (nginx->Launch(node_http_ports, node_grpc_ports, &reason)) return nginx;
    if (reason.find("Address already in use") == std::string::npos) break;
  }
  if (error) *error = reason;
  return nullptr;
}

bool NginxProcess::Launch(const std::vector<int>& node_http_ports,
                          const std::vector<int>& node_grpc_ports, std::string* error) {
  std::vector<std::string> args = {ClusterDeployDir() + "/render-nginx-conf.sh"};
  if (!node_grpc_ports.empty()) {
    args.push_back("--grpc-listen=127.0.0.1:" + std::to_string(grpc_port_));
    for (int port : node_grpc_ports) {
      args.push_back("--grpc-node=127.0.0.1:" + std::to_string(port));
    }
  }
  args.push_back(prefix_);
  args.push_back("127.0.0.1:" + std::to_string(port_));
  for (int port : node_http_ports) args.push_back("127.0.0.1:" + std::to_string(port));
  std::unique_ptr<Process> render = Process::Spawn("/bin/bash", args, error);
  if (render == nullptr) return false;
  bool ended = render->WaitForOutputEnd(std::chrono::seconds(10));
  std::optional<int> code = render->WaitForExit(std::chrono::seconds(1));
  if (!ended || code != 0) {
    *error = "render-nginx-conf.sh failed: " + render->Output();
    return false;
  }

  process_ = Process::Spawn(
      kNginxPath, {"-p", prefix_, "-c", prefix_ + "/nginx.conf", "-e", prefix_ + "/error.log"},
      error);
  if (process_ == nullptr) return false;
  // Ready once a request makes the round trip to a node: nginx listens, and
  // its upstream configuration reaches the gateways.
  auto deadline = Clock::now() + std::chrono::seconds(10);
  HttpResponse health;
  while (Clock::now() < deadline) {
    if (std::optional<int> exit_code = process_->ExitCode()) {
      *error = "nginx exited with " + std::to_string(*exit_code) + ": " + process_->Output() +
               ErrorLog();
      return false;
    }
    health = HttpRequest(port_, "GET", "/health", {}, {}, std::chrono::seconds(1));
    if (health.status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  *error = "GET /health through nginx on port " + std::to_string(port_) +
           " never answered 200 (last: " + health.Describe() + "); error log: " + ErrorLog();
  return false;
}

NginxProcess::~NginxProcess() {
  process_.reset();  // SIGTERM, wait, SIGKILL if needed
  std::error_code ignored;
  std::filesystem::remove_all(prefix_, ignored);
}

std::string NginxProcess::ErrorLog() const {
  std::ifstream file(prefix_ + "/error.log");
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

}  // namespace obgw::testing
