#include "ingest/cli/command_line.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include <absl/flags/parse.h>
#include <absl/flags/reflection.h>
#include <absl/strings/match.h>
#include <absl/strings/str_cat.h>
#include <absl/strings/str_join.h>
#include <absl/strings/str_split.h>

#include "ingest/cli/build_info.h"

namespace obgw::cli {
namespace {

constexpr std::size_t kHelpWidth = 80;
constexpr absl::string_view kFlagHelpIndent = "      ";

// Abseil defines a few flags of its own (--flagfile, --fromenv, --help...);
// they live in its sources, not in any program's list.
bool IsAbseilFlag(const absl::CommandLineFlag& flag) {
  return absl::StrContains(flag.Filename(), "absl/flags/");
}

// The argument before which absl stops reading flags.
bool IsEndOfFlags(absl::string_view arg) { return arg == "--"; }

bool IsFlag(absl::string_view arg, absl::string_view name) {
  return arg == absl::StrCat("--", name) || arg == absl::StrCat("-", name);
}

bool AsksForHelp(absl::string_view arg) {
  return IsFlag(arg, "help") || IsFlag(arg, "helpfull") || IsFlag(arg, "helpshort");
}

[[noreturn]] void Exit(const Program& program, int status, absl::string_view reason) {
  std::fprintf(stderr, "%.*s: %.*s\n", static_cast<int>(program.name.size()), program.name.data(),
               static_cast<int>(reason.size()), reason.data());
  std::exit(status);
}

// Word-wraps `text`, each line starting with `indent`.
void AppendWrapped(std::string& out, absl::string_view text, absl::string_view indent) {
  std::size_t column = 0;
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (column > 0 && column + 1 + word.size() > kHelpWidth) {
      out += '\n';
      column = 0;
    }
    if (column == 0) {
      absl::StrAppend(&out, indent);
      column = indent.size();
    } else {
      out += ' ';
      ++column;
    }
    absl::StrAppend(&out, word);
    column += word.size();
  }
  out += '\n';
}

std::string DefaultText(const absl::CommandLineFlag& flag) {
  if (flag.IsOfType<std::string>()) return absl::StrCat("\"", flag.DefaultValue(), "\"");
  return flag.DefaultValue();
}

bool IsSecret(const Program& program, const absl::CommandLineFlag& flag) {
  return std::find(program.secrets.begin(), program.secrets.end(), &flag) != program.secrets.end();
}

// A secret's NAME_FILE: the file's content, one trailing newline (\n or
// \r\n) dropped, as `echo secret > file` leaves one.
std::string ReadSecretFile(const Program& program, const std::string& env_name, const char* path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  if (!in || !(content << in.rdbuf())) {
    Exit(program, kExitBadEnvironment,
         absl::StrCat(env_name, "='", path, "': cannot read the file"));
  }
  std::string value = std::move(content).str();
  if (value.ends_with('\n')) value.pop_back();
  if (value.ends_with('\r')) value.pop_back();
  return value;
}

// Environment fallbacks: applied before the command line, which wins.
void ApplyEnvironment(const Program& program) {
  for (const FlagGroup& group : program.groups) {
    for (const absl::CommandLineFlag* listed : group.flags) {
      const bool secret = IsSecret(program, *listed);
      std::string env_name = EnvironmentName(listed->Name());
      const char* env_value = std::getenv(env_name.c_str());
      std::string value;
      if (secret) {
        std::string file_env = SecretFileEnvironmentName(listed->Name());
        if (const char* path = std::getenv(file_env.c_str()); path != nullptr) {
          if (env_value != nullptr) {
            Exit(program, kExitBadEnvironment,
                 absl::StrCat("set ", env_name, " or ", file_env, ", not both"));
          }
          env_name = file_env;
          value = ReadSecretFile(program, file_env, path);
          env_value = value.c_str();
        }
      }
      if (env_value == nullptr) continue;
      // ParseFrom is not const: look the flag up in the registry, as absl's
      // own parser does.
      absl::CommandLineFlag* flag = absl::FindCommandLineFlag(listed->Name());
      std::string error;
      if (flag == nullptr || !flag->ParseFrom(env_value, &error)) {
        Exit(program, kExitBadEnvironment,
             secret ? absl::StrCat("invalid ", env_name, " (value not shown: a secret): ", error)
                    : absl::StrCat("invalid ", env_name, "='", env_value, "': ", error));
      }
    }
  }
}

}  // namespace

std::string EnvironmentName(absl::string_view flag_name) {
  std::string name(flag_name);
  for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

std::string SecretFileEnvironmentName(absl::string_view flag_name) {
  return absl::StrCat(EnvironmentName(flag_name), "_FILE");
}

std::vector<std::string> UnlistedFlags(const Program& program) {
  std::map<std::string, int, std::less<>> listed;
  for (const FlagGroup& group : program.groups) {
    for (const absl::CommandLineFlag* flag : group.flags) ++listed[std::string(flag->Name())];
  }
  std::vector<std::string> wrong;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (IsAbseilFlag(*flag)) continue;
    auto it = listed.find(std::string(name));
    if (it == listed.end() || it->second != 1) wrong.emplace_back(name);
  }
  for (const absl::CommandLineFlag* secret : program.secrets) {
    if (!listed.contains(secret->Name())) wrong.emplace_back(secret->Name());
  }
  return wrong;
}

std::string HelpText(const Program& program) {
  std::string out = absl::StrCat("Usage: ", program.name, " [--flag=value ...]\n");
  if (!program.summary.empty()) AppendWrapped(out, program.summary, "");
  for (const FlagGroup& group : program.groups) {
    absl::StrAppend(&out, "\n", group.heading, ":\n");
    for (const absl::CommandLineFlag* flag : group.flags) {
      absl::StrAppend(&out, "  --", flag->Name(), " (default ", DefaultText(*flag));
      if (program.environment_fallback) {
        absl::StrAppend(&out, "; env ", EnvironmentName(flag->Name()));
        if (IsSecret(program, *flag)) {
          absl::StrAppend(&out, " or ", SecretFileEnvironmentName(flag->Name()));
        }
      }
      out += ")\n";
      AppendWrapped(out, flag->Help(), kFlagHelpIndent);
    }
  }
  out += '\n';
  AppendWrapped(out,
                "Every program also takes --help, --version and --flagfile=<file> (one "
                "--flag=value per line).",
                "");
  return out;
}

std::string VersionText(absl::string_view program_name) {
  return absl::StrCat(program_name, " ", kVersion, " (", kBuildType, " build)");
}

std::vector<char*> ParseCommandLine(const Program& program, int argc, char** argv) {
  if (std::vector<std::string> wrong = UnlistedFlags(program); !wrong.empty()) {
    Exit(program, kExitUnlistedFlag,
         absl::StrCat("internal error: flags missing from the program's flag list or listed "
                      "twice: --",
                      absl::StrJoin(wrong, ", --")));
  }
  for (int i = 1; i < argc && !IsEndOfFlags(argv[i]); ++i) {
    if (AsksForHelp(argv[i])) {
      std::fputs(HelpText(program).c_str(), stdout);
      std::exit(0);
    }
    if (IsFlag(argv[i], "version")) {
      std::printf("%s\n", VersionText(program.name).c_str());
      std::exit(0);
    }
  }
  if (program.environment_fallback) ApplyEnvironment(program);
  return absl::ParseCommandLine(argc, argv);
}

}  // namespace obgw::cli
