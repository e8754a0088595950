#include "ingest/cli/command_line.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <absl/flags/flag.h>
#include <gtest/gtest.h>

#include "ingest/cli/build_info.h"

ABSL_FLAG(int32_t, cli_test_port, 8002, "A port.");
ABSL_FLAG(std::string, cli_test_name, "gw", "A name.");
ABSL_FLAG(std::string, cli_test_secret, "", "A secret.");

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
  Program program{
      .name = "test",
      .groups = {{"A", Flags(FLAGS_cli_test_port, FLAGS_cli_test_name, FLAGS_cli_test_secret)}}};
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

// Every flag of this test binary, the secret one marked.
Program SecretProgram() {
  return Program{
      .name = "test",
      .groups = {{"All", Flags(FLAGS_cli_test_port, FLAGS_cli_test_name, FLAGS_cli_test_secret)}},
      .environment_fallback = true,
      .secrets = Flags(FLAGS_cli_test_secret)};
}

std::string WriteTempFile(const std::string& name, const std::string& content) {
  std::string path = (std::filesystem::temp_directory_path() / name).string();
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

void Parse(const Program& program) {
  char name[] = "test";
  char* argv[] = {name, nullptr};
  ParseCommandLine(program, 1, argv);
}

TEST(CommandLineTest, HelpNamesTheFileVariableOfASecret) {
  EXPECT_NE(HelpText(SecretProgram()).find("env CLI_TEST_SECRET or CLI_TEST_SECRET_FILE)"),
            std::string::npos);
}

TEST(CommandLineTest, ASecretNotListedInAGroupIsReported) {
  Program program = SecretProgram();
  program.groups = {{"A", Flags(FLAGS_cli_test_port, FLAGS_cli_test_name)}};
  EXPECT_TRUE(Contains(UnlistedFlags(program), "cli_test_secret"));
}

TEST(CommandLineTest, SecretIsReadFromTheFileItsFileVariableNamesWithoutTheNewline) {
  std::string path = WriteTempFile("cli_test_secret", "s3cret\n");
  ::setenv("CLI_TEST_SECRET_FILE", path.c_str(), 1);
  Parse(SecretProgram());
  ::unsetenv("CLI_TEST_SECRET_FILE");
  EXPECT_EQ(absl::GetFlag(FLAGS_cli_test_secret), "s3cret");
  absl::SetFlag(&FLAGS_cli_test_secret, "");
}

TEST(CommandLineDeathTest, SecretAndItsFileTogetherAreRefused) {
  std::string path = WriteTempFile("cli_test_secret_both", "a");
  ::setenv("CLI_TEST_SECRET_FILE", path.c_str(), 1);
  ::setenv("CLI_TEST_SECRET", "b", 1);
  EXPECT_EXIT(Parse(SecretProgram()), ::testing::ExitedWithCode(kExitBadEnvironment),
              "test: set CLI_TEST_SECRET or CLI_TEST_SECRET_FILE, not both");
  ::unsetenv("CLI_TEST_SECRET_FILE");
  ::unsetenv("CLI_TEST_SECRET");
}

TEST(CommandLineDeathTest, UnreadableSecretFileIsRefusedWithItsVariable) {
  ::setenv("CLI_TEST_SECRET_FILE", "/nonexistent/secret", 1);
  EXPECT_EXIT(Parse(SecretProgram()), ::testing::ExitedWithCode(kExitBadEnvironment),
              "test: CLI_TEST_SECRET_FILE='/nonexistent/secret': cannot read the file");
  ::unsetenv("CLI_TEST_SECRET_FILE");
}

TEST(CommandLineTest, VersionNamesProgramVersionAndBuildType) {
  EXPECT_EQ(VersionText("test"), std::string("test ") + kVersion + " (" + kBuildType + " build)");
}

}  // namespace
}  // namespace obgw::cli
