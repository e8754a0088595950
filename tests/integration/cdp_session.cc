#include "cdp_session.h"

#include <algorithm>

namespace obgw::testing {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxConsoleLines = 200;

// A short text for one Runtime.RemoteObject (a console argument).
std::string DescribeRemoteObject(const json::value& object) {
  if (!object.is_object()) return json::serialize(object);
  const json::object& o = object.as_object();
  if (const json::value* value = o.if_contains("value")) {
    return value->is_string() ? std::string(value->as_string()) : json::serialize(*value);
  }
  if (const json::value* description = o.if_contains("description");
      description != nullptr && description->is_string()) {
    return std::string(description->as_string());
  }
  if (const json::value* type = o.if_contains("type"); type != nullptr && type->is_string()) {
    return std::string(type->as_string());
  }
  return json::serialize(object);
}

// The most useful text in a Runtime.ExceptionDetails.
std::string DescribeException(const json::object& details) {
  if (const json::value* exception = details.if_contains("exception");
      exception != nullptr && exception->is_object()) {
    if (const json::value* description = exception->as_object().if_contains("description");
        description != nullptr && description->is_string()) {
      return std::string(description->as_string());
    }
    return DescribeRemoteObject(*exception);
  }
  return json::serialize(details);
}

}  // namespace

bool CdpSession::Connect(int devtools_port, std::string_view path, std::string* error,
                         Duration timeout) {
  if (ws_.ConnectTarget(devtools_port, path, timeout)) return true;
  if (error != nullptr) {
    *error = "DevTools WebSocket ws://127.0.0.1:" + std::to_string(devtools_port) +
             std::string(path) + ": " + ws_.error();
  }
  return false;
}

std::optional<json::object> CdpSession::Call(std::string_view method, json::object params,
                                             std::string* error, Duration timeout) {
  std::string ignored;
  if (error == nullptr) error = &ignored;
  auto deadline = Clock::now() + timeout;
  const std::int64_t id = next_id_++;
  json::object command;
  command["id"] = id;
  command["method"] = method;
  command["params"] = std::move(params);
  if (!ws_.SendJson(command, timeout)) {
    *error = std::string(method) + ": send: " + ws_.error();
    return std::nullopt;
  }
  for (;;) {
    auto left = std::chrono::duration_cast<Duration>(deadline - Clock::now());
    if (left.count() <= 0) {
      *error =
          std::string(method) + ": no answer within " + std::to_string(timeout.count()) + " ms";
      return std::nullopt;
    }
    std::optional<std::string> text = ws_.Read(left);
    if (!text) {
      if (ws_.closed()) {
        *error = std::string(method) + ": DevTools connection closed: " + ws_.error();
        return std::nullopt;
      }
      continue;  // Timed out: the check at the top reports it.
    }
    boost::system::error_code ec;
    json::value message = json::parse(*text, ec);
    if (ec || !message.is_object()) continue;
    json::object& m = message.as_object();
    const json::value* answer_id = m.if_contains("id");
    if (answer_id == nullptr) {
      NoteEvent(m);
      continue;
    }
    if (!answer_id->is_number() || answer_id->to_number<std::int64_t>() != id) continue;
    if (const json::value* protocol_error = m.if_contains("error")) {
      *error = std::string(method) + ": " + json::serialize(*protocol_error);
      return std::nullopt;
    }
    json::value* result = m.if_contains("result");
    if (result == nullptr || !result->is_object()) return json::object();
    return std::move(result->as_object());
  }
}

std::optional<json::value> CdpSession::Evaluate(std::string_view expression, std::string* error,
                                                Duration timeout) {
  std::string ignored;
  if (error == nullptr) error = &ignored;
  json::object params;
  params["expression"] = expression;
  params["awaitPromise"] = true;
  params["returnByValue"] = true;
  std::optional<json::object> result = Call("Runtime.evaluate", std::move(params), error, timeout);
  if (!result) return std::nullopt;
  if (const json::value* details = result->if_contains("exceptionDetails");
      details != nullptr && details->is_object()) {
    *error = "Runtime.evaluate threw: " + DescribeException(details->as_object());
    return std::nullopt;
  }
  const json::value* remote = result->if_contains("result");
  if (remote == nullptr || !remote->is_object()) {
    *error = "Runtime.evaluate: no result in " + json::serialize(*result);
    return std::nullopt;
  }
  const json::object& r = remote->as_object();
  if (const json::value* value = r.if_contains("value")) return *value;
  // undefined (no "value"), or a value JSON cannot carry (NaN, -0, bigint).
  if (const json::value* unserializable = r.if_contains("unserializableValue")) {
    *error = "Runtime.evaluate: unserializable result " + json::serialize(*unserializable);
    return std::nullopt;
  }
  return json::value();  // undefined -> null
}

void CdpSession::NoteEvent(const json::object& message) {
  const json::value* method = message.if_contains("method");
  const json::value* params = message.if_contains("params");
  if (method == nullptr || !method->is_string() || params == nullptr || !params->is_object()) {
    return;
  }
  const json::object& p = params->as_object();
  std::string line;
  if (*method == "Runtime.consoleAPICalled") {
    const json::value* type = p.if_contains("type");
    line = "console.";
    line += type != nullptr && type->is_string() ? std::string_view(type->as_string()) : "?";
    line += ':';
    if (const json::value* args = p.if_contains("args"); args != nullptr && args->is_array()) {
      for (const json::value& arg : args->as_array()) {
        line += ' ';
        line += DescribeRemoteObject(arg);
      }
    }
  } else if (*method == "Runtime.exceptionThrown") {
    const json::value* details = p.if_contains("exceptionDetails");
    line = "uncaught: " + (details != nullptr && details->is_object()
                               ? DescribeException(details->as_object())
                               : json::serialize(p));
  } else if (*method == "Log.entryAdded") {  // Browser-side messages (network errors).
    const json::value* entry = p.if_contains("entry");
    if (entry == nullptr || !entry->is_object()) return;
    const json::value* text = entry->as_object().if_contains("text");
    line = "log: " + (text != nullptr && text->is_string() ? std::string(text->as_string())
                                                           : json::serialize(*entry));
  } else {
    return;
  }
  console_.push_back(std::move(line));
  while (console_.size() > kMaxConsoleLines) console_.pop_front();
}

std::string CdpSession::ConsoleLog() const {
  std::string out;
  for (const std::string& line : console_) out += line + "\n";
  return out.empty() ? "(no console output)\n" : out;
}

}  // namespace obgw::testing
