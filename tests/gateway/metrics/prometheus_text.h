#ifndef OBGW_TESTS_GATEWAY_METRICS_PROMETHEUS_TEXT_H_
#define OBGW_TESTS_GATEWAY_METRICS_PROMETHEUS_TEXT_H_

#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace obgw::gateway {

// One sample line of the Prometheus text format: name{labels} value.
struct PrometheusSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// The sample lines of `text` (comments skipped); nullopt if a line does not
// parse. Label values must not contain '"' or ',' (the gateway's do not).
inline std::optional<std::vector<PrometheusSample>> ParsePrometheusSamples(
    const std::string& text) {
  std::vector<PrometheusSample> samples;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::size_t space = line.rfind(' ');
    if (space == std::string::npos) return std::nullopt;
    PrometheusSample sample;
    std::string series = line.substr(0, space);
    try {
      sample.value = std::stod(line.substr(space + 1));
    } catch (...) {
      return std::nullopt;
    }
    std::size_t brace = series.find('{');
    sample.name = series.substr(0, brace);
    if (brace != std::string::npos) {
      if (series.back() != '}') return std::nullopt;
      std::string labels = series.substr(brace + 1, series.size() - brace - 2);
      std::istringstream pairs(labels);
      std::string pair;
      while (std::getline(pairs, pair, ',')) {
        std::size_t eq = pair.find("=\"");
        if (eq == std::string::npos || pair.back() != '"') return std::nullopt;
        sample.labels[pair.substr(0, eq)] = pair.substr(eq + 2, pair.size() - eq - 3);
      }
    }
    samples.push_back(std::move(sample));
  }
  return samples;
}

}  // namespace obgw::gateway

#endif  // OBGW_TESTS_GATEWAY_METRICS_PROMETHEUS_TEXT_H_
