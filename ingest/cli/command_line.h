#ifndef OBGW_INGEST_CLI_COMMAND_LINE_H_
#define OBGW_INGEST_CLI_COMMAND_LINE_H_

#include <absl/strings/string_view.h>
#include <string>
#include <vector>

#include <absl/flags/commandlineflag.h>
#include <absl/flags/flag.h>

namespace obgw::cli {

// The flags under one heading of --help.
struct FlagGroup {
  absl::string_view heading;
  std::vector<const absl::CommandLineFlag*> flags;
};

// The flag list of a FlagGroup, from the flags themselves (a misspelt flag
// does not compile): Flags(FLAGS_bind, FLAGS_http_port).
template <typename... T>
std::vector<const absl::CommandLineFlag*> Flags(const absl::Flag<T>&... flags) {
  return {&absl::GetFlagReflectionHandle(flags)...};
}

// One program's command line: its name, what it does and every flag it
// defines, grouped. The one list both --help and the environment fallback
// read; ParseCommandLine refuses to run a binary with a flag not in it.
struct Program {
  absl::string_view name = {};     // "orderbook-gateway"
  absl::string_view summary = {};  // printed under the usage line
  std::vector<FlagGroup> groups = {};
  // Each flag may also be set by the environment variable named like it in
  // upper case (--http_port: HTTP_PORT); the command line wins.
  bool environment_fallback = false;
  // Flags holding secrets (keys, tokens, passwords), each also listed in a
  // group. With the environment fallback, each may instead be read from the
  // file named by NAME_FILE (Docker and Kubernetes secrets; one trailing
  // newline dropped), so that it appears neither in `ps` nor in the
  // environment; NAME and NAME_FILE together are refused. A secret's value
  // is never echoed in an error.
  std::vector<const absl::CommandLineFlag*> secrets = {};
};

// Exit status of a binary whose flags are not all listed (a programming
// error: EX_SOFTWARE of sysexits.h).
inline constexpr int kExitUnlistedFlag = 70;
// Exit status for an invalid environment value (or an unreadable NAME_FILE).
inline constexpr int kExitBadEnvironment = 2;

// Parses the command line the way every program of the project does, and
// exits for what is not a run:
// - a flag defined in the binary but not listed in `program` (or listed
//   twice): a one-line reason on stderr, exit kExitUnlistedFlag;
// - --help (or --helpfull, --helpshort): HelpText on stdout, exit 0;
// - --version: VersionText on stdout, exit 0;
// - an environment value a flag cannot parse, a secret's NAME_FILE that
//   cannot be read, or both NAME and NAME_FILE set: a one-line reason, exit
//   kExitBadEnvironment.
// Then applies the environment fallbacks and absl::ParseCommandLine (which
// exits 1 on an unknown flag or a bad value). Returns the positional
// arguments, argv[0] first.
std::vector<char*> ParseCommandLine(const Program& program, int argc, char** argv);

// "Usage: <name> [--flag=value ...]", the summary, then each flag once under
// its heading with its default (and environment variable), then the flags
// every program takes.
std::string HelpText(const Program& program);

// "<name> 0.1.0 (Release build)".
std::string VersionText(absl::string_view program_name);

// The environment variable of a flag: its name in upper case.
std::string EnvironmentName(absl::string_view flag_name);

// The environment variable naming a file that holds a secret flag's value:
// EnvironmentName + "_FILE".
std::string SecretFileEnvironmentName(absl::string_view flag_name);

// Names of the flags the binary defines that `program` does not list, and
// of those it lists more than once; abseil's own flags (--flagfile, --help,
// ...) need no listing. Empty when the list is complete.
std::vector<std::string> UnlistedFlags(const Program& program);

}  // namespace obgw::cli

#endif  // OBGW_INGEST_CLI_COMMAND_LINE_H_
