#ifndef OBGW_TESTS_INTEGRATION_CHROMIUM_PROCESS_H_
#define OBGW_TESTS_INTEGRATION_CHROMIUM_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>

namespace obgw::testing {

// Path of the Chromium binary: $OBGW_CHROMIUM if set, else /usr/bin/chromium
// (Debian's package, installed by deploy/install-deps.sh).
std::string ChromiumPath();

// A headless Chromium with remote debugging on a free port, in its own
// session and process group, with a fresh temporary profile.
//
// The destructor SIGKILLs the whole process group (the browser and all its
// helper processes; the profile is thrown away, so nothing needs a clean
// shutdown), reaps the browser, waits up to 2 s for the helpers to die and
// removes the temporary directory. Every wait is bounded.
//
// Thread-compatible: use one ChromiumProcess from one test thread.
class ChromiumProcess {
 public:
  using Duration = std::chrono::milliseconds;

  // Starts Chromium and waits up to `timeout` for it to write
  // <profile>/DevToolsActivePort. Returns null and the reason (with the
  // browser's output) in `error` on failure, including when the binary is
  // missing.
  static std::unique_ptr<ChromiumProcess> Start(std::string* error,
                                                Duration timeout = std::chrono::seconds(10));

  ChromiumProcess(const ChromiumProcess&) = delete;
  ChromiumProcess& operator=(const ChromiumProcess&) = delete;
  ~ChromiumProcess();

  pid_t pid() const { return pid_; }
  // The DevTools HTTP/WebSocket port on 127.0.0.1.
  int devtools_port() const { return devtools_port_; }

  // Polls GET /json/list until a target with "type":"page" and
  // "url":"about:blank" appears and returns the path of its
  // webSocketDebuggerUrl ("/devtools/page/<id>"); empty (and the reason in
  // `error`) on timeout.
  std::string PageWebSocketPath(std::string* error,
                                Duration timeout = std::chrono::seconds(10)) const;

  // What the browser printed so far (stdout and stderr), for failure messages.
  std::string Output() const;

  // Whether the browser process has exited (reaps it if so). Non-blocking.
  bool Exited();

 private:
  ChromiumProcess(pid_t pid, std::string temp_dir);

  pid_t pid_;
  bool reaped_ = false;
  int devtools_port_ = 0;
  std::string temp_dir_;  // Holds profile/ and chromium.log.
};

}  // namespace obgw::testing

#endif  // OBGW_TESTS_INTEGRATION_CHROMIUM_PROCESS_H_
