#include "ingest/cli/command_line.h"

#include <algorithm>
#include <string>
#include <vector>

#include <absl/flags/flag.h>
#include <gtest/gtest.h>

#include "ingest/cli/build_info.h"

ABSL_FLAG(int32_t, cli_test_port, 8002, "A port.");
ABSL_FLAG(std::string, cli_test_name, "gw", "A name.");

namespace obgw::cli {
namespace {

bool Contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

TEST(CommandLineTest, AFlagMissingFromTheListIsReported) {
  Program program{.name = "test", .groups = {{"Only", Flags(FLAGS_cli_test_port)}}};
  std::vector<std::string> unlisted = UnlistedFlags(program);
  EXPECT_TRUE(Contains(unlisted, "cli_test_name"));
  EXPECT_FALSE(Contains(unlisted, "cli_test_port"));
  // Abseil's own flags need no listing.
  EXPECT_FALSE(Contains(unlisted, "flagfile"));
  EXPECT_FALSE(Contains(unlisted, "help"));
}

TEST(CommandLineTest, AFlagListedTwiceIsReported) {
  Program program{.name = "test",
                  .groups = {{"A", Flags(FLAGS_cli_test_port, FLAGS_cli_test_name)},
                             {"B", Flags(FLAGS_cli_test_port)}}};
  std::vector<std::string> wrong = UnlistedFlags(program);
  EXPECT_TRUE(Contains(wrong, "cli_test_port"));
  EXPECT_FALSE(Contains(wrong, "cli_test_name"));
}

TEST(CommandLineTest, ACompleteListIsAccepted) {
  Program program{.name = "test",
                  .groups = {{"A", Flags(FLAGS_cli_test_port, FLAGS_cli_test_name)}}};
  EXPECT_TRUE(UnlistedFlags(program).empty());
}

TEST(CommandLineTest, HelpShowsHeadingsDefaultsAndEnvironmentNames) {
  Program program{
      .name = "test",
      .summary = "Does a test.",
      .groups = {{"Network", Flags(FLAGS_cli_test_port)}, {"Naming", Flags(FLAGS_cli_test_name)}},
      .environment_fallback = true};
  EXPECT_EQ(HelpText(program),
            "Usage: test [--flag=value ...]\n"
            "Does a test.\n"
            "\n"
            "Network:\n"
            "  --cli_test_port (default 8002; env CLI_TEST_PORT)\n"
            "      A port.\n"
            "\n"
            "Naming:\n"
            "  --cli_test_name (default \"gw\"; env CLI_TEST_NAME)\n"
            "      A name.\n"
            "\n"
            "Every program also takes --help, --version and --flagfile=<file> (one\n"
            "--flag=value per line).\n");
  program.environment_fallback = false;
  EXPECT_EQ(HelpText(program).find("env "), std::string::npos);
}

TEST(CommandLineTest, VersionNamesProgramVersionAndBuildType) {
  EXPECT_EQ(VersionText("test"), std::string("test ") + kVersion + " (" + kBuildType + " build)");
}

}  // namespace
}  // namespace obgw::cli
