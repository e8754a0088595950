// libFuzzer target for ParseClientMessage (gateway/client_message.h), the
// parser of every WebSocket text message a browser sends. For any input it
// checks that the parser returns (no crash, hang, exception or sanitizer
// report) and that:
//   - action is kInvalid exactly when error_code is non-empty;
//   - an auth request carries a non-empty token;
//   - error_message is valid UTF-8 (it is echoed to the browser in a text
//     frame, and browsers drop the connection on invalid UTF-8).
// Only action / error_code / error_message / token are used, so the target keeps
// building while the rest of ClientRequest evolves.
//
//   build-asan/bin/client_message_fuzz -dict=tests/fuzz/json.dict tests/fuzz/corpus/client_message
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string_view>

#include "gateway/ws/client_message.h"
#include "gateway/ws/utf8.h"

namespace {

[[noreturn]] void Fail(const char* what, const obgw::gateway::ClientRequest& request) {
  std::fprintf(stderr, "client_message_fuzz: invariant violated: %s (action=%d code='%s')\n", what,
               static_cast<int>(request.action), request.error_code.c_str());
  __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using obgw::gateway::ClientRequest;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const ClientRequest request = obgw::gateway::ParseClientMessage(text);

  const bool invalid = request.action == ClientRequest::Action::kInvalid;
  if (invalid && request.error_code.empty()) Fail("kInvalid without an error_code", request);
  if (!invalid && !request.error_code.empty()) Fail("error_code on a valid request", request);
  if (request.action == ClientRequest::Action::kAuth && request.token.empty()) {
    Fail("auth without a token", request);
  }
  if (!obgw::gateway::IsValidUtf8(request.error_message)) {
    Fail("error_message is not valid UTF-8", request);
  }
  return 0;
}
