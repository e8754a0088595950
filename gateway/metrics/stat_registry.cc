#include "gateway/metrics/stat_registry.h"

#include <charconv>
#include <optional>

#include <absl/container/flat_hash_map.h>

namespace obgw::gateway {
namespace {

constexpr double kNanosecondsPerSecond = 1e9;

std::string FamilyName(const StatInfo& info) {
  std::string name(kMetricPrefix);
  name += info.metric;
  if (info.kind == StatKind::kCounter) name += "_total";
  return name;
}

// HELP text escaping of the text format: backslash and line feed.
std::string EscapeHelp(std::string_view help) {
  std::string escaped;
  for (char c : help) {
    if (c == '\\') {
      escaped += "\\\\";
    } else if (c == '\n') {
      escaped += "\\n";
    } else {
      escaped += c;
    }
  }
  return escaped;
}

void AppendHeader(std::string& out, std::string_view name, std::string_view help,
                  std::string_view type) {
  out.append("# HELP ").append(name).append(" ").append(EscapeHelp(help)).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

// {constant,shard="N",le="B"}, or nothing when there is no label.
std::string Labels(std::string_view constant, std::optional<std::size_t> shard,
                   std::string_view le = {}) {
  std::string labels(constant);
  auto add = [&labels](std::string_view name, std::string_view value) {
    if (!labels.empty()) labels += ',';
    labels.append(name).append("=\"").append(value).append("\"");
  };
  if (shard) add("shard", std::to_string(*shard));
  if (!le.empty()) add("le", le);
  return labels.empty() ? labels : "{" + labels + "}";
}

void AppendSample(std::string& out, std::string_view name, std::string_view labels,
                  std::string_view value) {
  out.append(name).append(labels).append(" ").append(value).append("\n");
}

// The shortest decimal that reads back as `value`, without an exponent
// ("0.00001", not "1e-05").
std::string FormatDouble(double value) {
  char text[64];
  auto [end, ec] = std::to_chars(text, text + sizeof(text), value, std::chars_format::fixed);
  if (ec != std::errc()) {
    end = std::to_chars(text, text + sizeof(text), value).ptr;
  }
  return std::string(text, end);
}

// A value in observed units as /metrics shows it.
std::string FormatInUnit(std::uint64_t value, HistogramUnit unit) {
  if (unit == HistogramUnit::kNanoseconds) {
    return FormatDouble(static_cast<double>(value) / kNanosecondsPerSecond);
  }
  return std::to_string(value);
}

// One histogram read: per-bucket counts (bounds.size() + 1, the last is
// +Inf; not cumulative) and the sum, in observed units.
struct HistogramReading {
  std::vector<std::uint64_t> counts;
  std::uint64_t sum = 0;
};

// The sum over every shard of `histogram`, or only shard `shard`'s.
HistogramReading Read(const RegisteredHistogram& histogram,
                      std::optional<std::size_t> shard = std::nullopt) {
  HistogramReading reading;
  reading.counts.assign(histogram.bounds.size() + 1, 0);
  for (std::size_t i = 0; i < histogram.shards.size(); ++i) {
    if (!shard || *shard == i) histogram.shards[i](reading.counts, reading.sum);
  }
  return reading;
}

void AppendHistogram(std::string& out, const std::string& name, const RegisteredHistogram& h,
                     const HistogramReading& reading, std::optional<std::size_t> shard) {
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < reading.counts.size(); ++i) {
    cumulative += reading.counts[i];
    std::string le = i < h.bounds.size() ? FormatInUnit(h.bounds[i], h.info.unit) : "+Inf";
    AppendSample(out, name + "_bucket", Labels("", shard, le), std::to_string(cumulative));
  }
  AppendSample(out, name + "_sum", Labels("", shard), FormatInUnit(reading.sum, h.info.unit));
  AppendSample(out, name + "_count", Labels("", shard), std::to_string(cumulative));
}

}  // namespace

std::uint64_t RegisteredStat::Total() const {
  if (compute) return compute();
  std::uint64_t total = 0;
  for (const Counter* counter : shards) total += counter->load(std::memory_order_relaxed);
  return total;
}

void StatRegistry::Add(std::vector<RegisteredStat> stats) {
  for (RegisteredStat& stat : stats) stats_.push_back(std::move(stat));
}

void StatRegistry::AddComputed(StatInfo info, std::function<std::uint64_t()> compute) {
  stats_.push_back(RegisteredStat{info, {}, false, std::move(compute)});
}

boost::json::object StatRegistry::RenderJson() const {
  boost::json::object body;
  auto put = [&body](std::string_view json_name, std::uint64_t value) {
    std::size_t dot = json_name.find('.');
    if (dot == std::string_view::npos) {
      body[json_name] = value;
      return;
    }
    boost::json::value& section = body[json_name.substr(0, dot)];
    if (!section.is_object()) section.emplace_object();
    section.as_object()[json_name.substr(dot + 1)] = value;
  };
  // Top-level keys first, nested objects ("ingest") after them.
  for (bool nested : {false, true}) {
    auto is_nested = [](std::string_view json_name) {
      return json_name.find('.') != std::string_view::npos;
    };
    for (const RegisteredStat& stat : stats_) {
      if (is_nested(stat.info.json_name) == nested) put(stat.info.json_name, stat.Total());
    }
    for (const RegisteredHistogram& histogram : histograms_) {
      std::string_view json_name = histogram.info.json_sum_name;
      if (!json_name.empty() && is_nested(json_name) == nested) {
        put(json_name, Read(histogram).sum);
      }
    }
  }
  return body;
}

std::string StatRegistry::RenderPrometheus() const {
  // Stats of one family (same name, different labels) must be one block.
  std::vector<std::string> families;
  absl::flat_hash_map<std::string, std::vector<const RegisteredStat*>> members;
  for (const RegisteredStat& stat : stats_) {
    std::string name = FamilyName(stat.info);
    auto& family = members[name];
    if (family.empty()) families.push_back(name);
    family.push_back(&stat);
  }
  std::string out;
  for (const std::string& name : families) {
    const auto& family = members[name];
    const StatInfo& first = family.front()->info;
    AppendHeader(out, name, first.help, first.kind == StatKind::kCounter ? "counter" : "gauge");
    for (const RegisteredStat* stat : family) {
      if (!stat->by_shard) {
        AppendSample(out, name, Labels(stat->info.labels, std::nullopt),
                     std::to_string(stat->Total()));
        continue;
      }
      for (std::size_t shard = 0; shard < stat->shards.size(); ++shard) {
        AppendSample(out, name, Labels(stat->info.labels, shard),
                     std::to_string(stat->shards[shard]->load(std::memory_order_relaxed)));
      }
    }
  }
  for (const RegisteredHistogram& histogram : histograms_) {
    std::string name = std::string(kMetricPrefix) + std::string(histogram.info.metric);
    AppendHeader(out, name, histogram.info.help, "histogram");
    if (!histogram.by_shard) {
      AppendHistogram(out, name, histogram, Read(histogram), std::nullopt);
      continue;
    }
    for (std::size_t shard = 0; shard < histogram.shards.size(); ++shard) {
      AppendHistogram(out, name, histogram, Read(histogram, shard), shard);
    }
  }
  return out;
}

}  // namespace obgw::gateway
