// The command line every program shares (ingest/cli/command_line.h): --help
// and --version answer and exit 0, and the gateway's environment fallbacks
// reach the running server.

#include <cctype>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "gateway_process.h"
#include "http_test_client.h"
#include "test_util.h"
#include "ws_test_client.h"

namespace obgw::testing {
namespace {

using std::chrono::seconds;

const char* const kPrograms[] = {"orderbook-gateway", "orderbook-feed", "orderbook-loadgen"};

// One flag each program must list. That it lists all of them, each once, the
// program checks itself at startup (--help exits 70 otherwise).
const std::map<std::string, std::string> kSampleFlag = {{"orderbook-gateway", "http_port"},
                                                        {"orderbook-feed", "target"},
                                                        {"orderbook-loadgen", "clients"}};

struct ProgramRun {
  int status = -1;
  std::string output;
};

// Runs `<bin>/<program> args...` to its end (stdout and stderr together).
ProgramRun RunProgram(const std::string& program, const std::vector<std::string>& args,
                      const std::vector<std::string>& environment = {}) {
  std::string error;
  std::unique_ptr<Process> process =
      Process::Spawn(BinDir() + "/" + program, args, &error, environment);
  if (!process) return {.status = -1, .output = error};
  // Once it has exited, WaitForExit has also read the rest of its output.
  std::optional<int> status = process->WaitForExit(seconds(10));
  return {.status = status.value_or(-1), .output = process->Output()};
}

// Flag lines of a help text: "  --<name> (default ...".
std::map<std::string, std::vector<std::string>> FlagLines(const std::string& help) {
  std::map<std::string, std::vector<std::string>> lines;
  std::istringstream in(help);
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("  --")) continue;
    std::string name = line.substr(4, line.find(' ', 4) - 4);
    lines[name].push_back(line);
  }
  return lines;
}

std::string Upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

std::size_t Count(const std::string& text, const std::string& part) {
  std::size_t count = 0;
  for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) {
    ++count;
  }
  return count;
}

TEST(CliTest, HelpListsEachFlagOnceAndExitsZero) {
  for (const char* program : kPrograms) {
    ProgramRun run = RunProgram(program, {"--help"});
    EXPECT_EQ(run.status, 0) << program << ":\n" << run.output;
    EXPECT_EQ(Count(run.output, "Usage: "), 1u) << program << ":\n" << run.output;
    EXPECT_TRUE(run.output.starts_with(std::string("Usage: ") + program + " ")) << program << ":\n"
                                                                                << run.output;
    std::map<std::string, std::vector<std::string>> flags = FlagLines(run.output);
    EXPECT_TRUE(flags.contains(kSampleFlag.at(program))) << program << ":\n" << run.output;
    for (const auto& [name, lines] : flags) {
      EXPECT_EQ(lines.size(), 1u) << program << " lists --" << name << " " << lines.size()
                                  << " times";
      EXPECT_NE(lines.front().find("(default "), std::string::npos) << lines.front();
    }
    // No path of the build: neither tree, nor a source file name.
    EXPECT_EQ(run.output.find(OBGW_SOURCE_DIR), std::string::npos) << program << run.output;
    EXPECT_EQ(run.output.find(OBGW_BINARY_DIR), std::string::npos) << program << run.output;
    EXPECT_EQ(run.output.find(".cc"), std::string::npos) << program << run.output;
  }
}

TEST(CliTest, GatewayHelpGroupsFlagsAndNamesTheirEnvironmentVariables) {
  ProgramRun run = RunProgram("orderbook-gateway", {"--helpfull"});
  ASSERT_EQ(run.status, 0) << run.output;
  for (const char* heading : {"Listeners:", "Limits:", "Slow consumers:", "Freshness:",
                              "Heartbeats:", "Compression:", "Shutdown:", "Logging:"}) {
    EXPECT_EQ(Count(run.output, std::string("\n") + heading + "\n"), 1u) << heading << run.output;
  }
  for (const auto& [name, lines] : FlagLines(run.output)) {
    const std::string env = "env " + Upper(name);
    EXPECT_TRUE(lines.front().find(env + ")") != std::string::npos ||
                lines.front().find(env + " or " + Upper(name) + "_FILE)") != std::string::npos)
        << lines.front();
  }
  // Secrets may come from a file instead.
  EXPECT_NE(run.output.find("  --jwt_secret (default \"\"; env JWT_SECRET or JWT_SECRET_FILE)\n"),
            std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("  --max_subscriptions (default 50; env MAX_SUBSCRIPTIONS)\n"),
            std::string::npos)
      << run.output;
}

TEST(CliTest, VersionNamesTheProjectVersionAndBuildType) {
  for (const char* program : kPrograms) {
    ProgramRun run = RunProgram(program, {"--version"});
    EXPECT_EQ(run.status, 0) << program << ":\n" << run.output;
    EXPECT_EQ(run.output,
              std::string(program) + " " OBGW_PROJECT_VERSION " (" OBGW_BUILD_TYPE " build)\n");
  }
}

TEST(CliTest, HealthReportsTheVersion) {
  OBGW_START_GATEWAY(gw, {});
  HttpResponse health = HttpGet(gw->http_port(), "/health");
  ASSERT_EQ(health.status, 200) << health.Describe();
  EXPECT_EQ(Field(health.Json().as_object(), "version"), boost::json::value(OBGW_PROJECT_VERSION))
      << health.Describe();
}

// Subscribes `client` to `count` symbols; the number confirmed before the
// first refusal (or all).
int SubscribeUpTo(WsTestClient& client, int count) {
  for (int i = 0; i < count; ++i) {
    if (!Subscribe(client, "SYM" + std::to_string(i))) return i;
  }
  return count;
}

TEST(CliTest, EnvironmentSetsAFlag) {
  std::string error;
  std::unique_ptr<GatewayProcess> gw = StartGateway({}, {"MAX_SUBSCRIPTIONS=1"}, &error);
  ASSERT_NE(gw, nullptr) << error;
  WsTestClient client;
  ASSERT_TRUE(client.Connect(gw->http_port(), "env-limit")) << client.error();
  EXPECT_EQ(SubscribeUpTo(client, 2), 1);
}

TEST(CliTest, CommandLineWinsOverEnvironment) {
  std::string error;
  std::unique_ptr<GatewayProcess> gw =
      StartGateway({"--max_subscriptions=2"}, {"MAX_SUBSCRIPTIONS=1"}, &error);
  ASSERT_NE(gw, nullptr) << error;
  WsTestClient client;
  ASSERT_TRUE(client.Connect(gw->http_port(), "env-limit")) << client.error();
  EXPECT_EQ(SubscribeUpTo(client, 3), 2);
}

TEST(CliTest, InvalidEnvironmentValueExitsTwoWithOneLine) {
  ProgramRun run =
      RunProgram("orderbook-gateway", {"--http_port=0", "--grpc_port=0"}, {"HTTP_PORT=notanumber"});
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_EQ(Count(run.output, "\n"), 1u) << run.output;
  EXPECT_TRUE(run.output.starts_with("orderbook-gateway: invalid HTTP_PORT='notanumber'"))
      << run.output;
}

TEST(CliTest, SecretFromItsFileVariableTurnsAuthOn) {
  std::string path = ::testing::TempDir() + "cli_test_jwt_secret";
  std::ofstream(path) << "a-secret-of-at-least-thirty-two-bytes\n";
  std::string error;
  std::unique_ptr<GatewayProcess> gw = StartGateway({}, {"JWT_SECRET_FILE=" + path}, &error);
  ASSERT_NE(gw, nullptr) << error;
  WsTestClient client;
  ASSERT_TRUE(client.Connect(gw->http_port(), "no-token")) << client.error();
  ASSERT_TRUE(client.SendText(R"({"action":"subscribe","symbol":"AAPL"})"));
  std::optional<boost::json::object> reply = client.ReadJson();
  ASSERT_TRUE(reply) << client.error();
  EXPECT_EQ(Field(*reply, "code"), boost::json::value("unauthenticated")) << Str(*reply);
}

TEST(CliTest, UnreadableSecretFileExitsTwoWithOneLineNamingTheVariable) {
  ProgramRun run = RunProgram("orderbook-gateway", {"--http_port=0", "--grpc_port=0"},
                              {"JWT_SECRET_FILE=/nonexistent/jwt.secret"});
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_EQ(Count(run.output, "\n"), 1u) << run.output;
  EXPECT_TRUE(run.output.starts_with(
      "orderbook-gateway: JWT_SECRET_FILE='/nonexistent/jwt.secret': cannot read the file"))
      << run.output;
}

}  // namespace
}  // namespace obgw::testing
