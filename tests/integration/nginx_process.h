#ifndef OBGW_TESTS_INTEGRATION_NGINX_PROCESS_H_
#define OBGW_TESTS_INTEGRATION_NGINX_PROCESS_H_

#include <memory>
#include <string>
#include <vector>

#include "gateway_process.h"

namespace obgw::testing {

// Debian's nginx in front of gateway nodes, configured exactly as the
// two-node example is: deploy/cluster/render-nginx-conf.sh fills
// deploy/cluster/nginx.conf.template, so the test exercises the shipped
// configuration. nginx runs in the foreground with its pid, logs and temp
// files in a private temporary prefix, on free ports of 127.0.0.1 (HTTP and,
// when the nodes' gRPC ports are given, gRPC). The
// destructor stops it (SIGTERM: nginx's fast shutdown) and removes the prefix.
//
// Thread-compatible: use one NginxProcess from one test thread.
class NginxProcess {
 public:
  static constexpr const char* kNginxPath = "/usr/sbin/nginx";

  // Whether kNginxPath exists and is executable.
  static bool Installed();

  // Starts nginx balancing over the nodes' HTTP ports on 127.0.0.1 (and
  // over their gRPC ports on grpc_port(), unless node_grpc_ports is empty)
  // and waits (up to 10 s) until GET /health through it answers 200. Null,
  // with the reason and nginx's error log in `error`, on failure.
  static std::unique_ptr<NginxProcess> Start(const std::vector<int>& node_http_ports,
                                             std::string* error,
                                             const std::vector<int>& node_grpc_ports = {});

  NginxProcess(const NginxProcess&) = delete;
  NginxProcess& operator=(const NginxProcess&) = delete;
  ~NginxProcess();

  int port() const { return port_; }
  // nginx's gRPC listener; 0 when no gRPC ports were given.
  int grpc_port() const { return grpc_port_; }
  std::string grpc_target() const { return "127.0.0.1:" + std::to_string(grpc_port_); }
  // nginx's error log so far, for failure messages.
  std::string ErrorLog() const;

 private:
  NginxProcess(std::string prefix, int port, int grpc_port)
      : prefix_(std::move(prefix)), port_(port), grpc_port_(grpc_port) {}

  // Renders the configuration and runs nginx on port_ (and grpc_port_);
  // false with the reason.
  bool Launch(const std::vector<int>& node_http_ports, const std::vector<int>& node_grpc_ports,
              std::string* error);

  std::string prefix_;
  int port_;
  int grpc_port_;
  std::unique_ptr<Process> process_;
};

}  // namespace obgw::testing

#endif  // OBGW_TESTS_INTEGRATION_NGINX_PROCESS_H_
