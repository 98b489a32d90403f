#include "common/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ohfed::metrics {

struct Registry::Series {
  Labels labels;
  std::unique_ptr<Counter> counter;
  std::unique_ptr<Gauge> gauge;
  std::unique_ptr<Histogram> histogram;
};

struct Registry::InstrumentFamily {
  std::string help, type;
  std::vector<double> bounds;  // histograms
  std::map<Labels, std::unique_ptr<Series>> series;
};

Registry::Registry() = default;
Registry::~Registry() = default;

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i] = 0;
}

void Histogram::Observe(double v) {
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) -
             bounds_.begin();  // the first bound >= v: `le` is inclusive
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::counts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = buckets_[i].load(std::memory_order_relaxed);
  }
  return out;
}

std::vector<double> LatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
          0.1,    0.25,  0.5,    1,     2.5,  5,     10};
}

std::vector<double> PowersOfTwo(double max) {
  std::vector<double> out;
  for (double b = 1; b <= max; b *= 2) out.push_back(b);
  return out;
}

Registry::InstrumentFamily& Registry::FamilyLocked(const std::string& name,
                                                   const std::string& help,
                                                   const std::string& type) {
  std::unique_ptr<InstrumentFamily>& f = families_[name];
  if (f == nullptr) {
    f = std::make_unique<InstrumentFamily>();
    f->help = help;
    f->type = type;
  }
  return *f;
}

Registry::Series& Registry::SeriesLocked(InstrumentFamily& family,
                                         const Labels& labels) {
  auto it = family.series.find(labels);
  if (it != family.series.end()) return *it->second;
  Labels key = labels;
  if (family.series.size() >= kMaxSeriesPerFamily) {
    for (auto& [name, value] : key) value = "other";
    it = family.series.find(key);
    if (it != family.series.end()) return *it->second;
  }
  auto s = std::make_unique<Series>();
  s->labels = key;
  Series& out = *s;
  family.series.emplace(std::move(key), std::move(s));
  return out;
}

Counter& Registry::GetCounter(const std::string& name, const std::string& help,
                              const Labels& labels) {
  absl::MutexLock l(&mu_);
  Series& s = SeriesLocked(FamilyLocked(name, help, "counter"), labels);
  if (s.counter == nullptr) s.counter = std::make_unique<Counter>();
  return *s.counter;
}

Gauge& Registry::GetGauge(const std::string& name, const std::string& help,
                          const Labels& labels) {
  absl::MutexLock l(&mu_);
  Series& s = SeriesLocked(FamilyLocked(name, help, "gauge"), labels);
  if (s.gauge == nullptr) s.gauge = std::make_unique<Gauge>();
  return *s.gauge;
}

Histogram& Registry::GetHistogram(const std::string& name,
                                  const std::string& help,
                                  const std::vector<double>& bounds,
                                  const Labels& labels) {
  absl::MutexLock l(&mu_);
  InstrumentFamily& f = FamilyLocked(name, help, "histogram");
  if (f.bounds.empty()) f.bounds = bounds;  // the first caller's bounds win
  Series& s = SeriesLocked(f, labels);
  if (s.histogram == nullptr)
    s.histogram = std::make_unique<Histogram>(f.bounds);
  return *s.histogram;
}

Registry::CollectorHandle::~CollectorHandle() {
  registry_->RemoveCollector(id_);
}

std::unique_ptr<Registry::CollectorHandle> Registry::AddCollector(
    Collector collector) {
  absl::MutexLock l(&collectors_mu_);
  int id = next_id_++;
  collectors_.emplace(id, std::move(collector));
  return std::make_unique<CollectorHandle>(this, id);
}

void Registry::RemoveCollector(int id) {
  absl::MutexLock l(&collectors_mu_);
  collectors_.erase(id);
}

std::string EscapeLabelValue(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    return absl::StrFormat("%.0f", v);
  }
  // The shortest form that reads back exactly: 0.0005, not
  // 0.00050000000000000001.
  for (int precision = 6; precision < 17; ++precision) {
    std::string text = absl::StrFormat("%.*g", precision, v);
    if (std::strtod(text.c_str(), nullptr) == v) return text;
  }
  return absl::StrFormat("%.17g", v);
}

namespace {

// HELP text escapes only backslash and newline.
std::string EscapeHelp(const std::string& help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string LabelText(const Labels& labels, const std::string& extra_name = "",
                      const std::string& extra_value = "") {
  std::vector<std::string> parts;
  for (const auto& [name, value] : labels) {
    parts.push_back(absl::StrCat(name, "=\"", EscapeLabelValue(value), "\""));
  }
  if (!extra_name.empty()) {
    parts.push_back(absl::StrCat(extra_name, "=\"", extra_value, "\""));
  }
  if (parts.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += ",";
    out += parts[i];
  }
  return out + "}";
}

// One family being written: its header and sample lines.
struct Text {
  std::string help, type;
  std::vector<std::string> lines;
  std::set<std::string> series;  // name + labels already written
  void Add(const std::string& name, const std::string& labels, double v) {
    if (!series.insert(name + labels).second) return;
    lines.push_back(absl::StrCat(name, labels, " ", FormatValue(v), "\n"));
  }
};

void AddHistogram(const std::string& name, const Labels& labels,
                  const Histogram& h, Text& text) {
  std::vector<uint64_t> counts = h.counts();
  uint64_t cumulative = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    cumulative += counts[i];
    std::string le =
        i < h.bounds().size() ? FormatValue(h.bounds()[i]) : "+Inf";
    text.Add(name + "_bucket", LabelText(labels, "le", le),
             static_cast<double>(cumulative));
  }
  // _count from the buckets, so that it always equals the +Inf bucket.
  text.Add(name + "_sum", LabelText(labels), h.sum());
  text.Add(name + "_count", LabelText(labels), static_cast<double>(cumulative));
}

}  // namespace

std::string Registry::Expose() const {
  std::vector<Family> collected;
  {
    absl::MutexLock l(&collectors_mu_);
    for (const auto& [id, collector] : collectors_) collector(collected);
  }
  std::map<std::string, Text> texts;
  {
    absl::MutexLock l(&mu_);
    for (const auto& [name, family] : families_) {
      Text& t = texts[name];
      t.help = family->help;
      t.type = family->type;
      for (const auto& [labels, s] : family->series) {
        if (s->counter) {
          t.Add(name, LabelText(labels),
                static_cast<double>(s->counter->value()));
        } else if (s->gauge) {
          t.Add(name, LabelText(labels), s->gauge->value());
        } else if (s->histogram) {
          AddHistogram(name, labels, *s->histogram, t);
        }
      }
    }
  }
  for (const Family& f : collected) {
    auto [it, fresh] = texts.try_emplace(f.name);
    Text& t = it->second;
    if (fresh) {
      t.help = f.help;
      t.type = f.type;
    }
    for (const auto& [labels, v] : f.samples)
      t.Add(f.name, LabelText(labels), v);
  }
  std::string out;
  for (const auto& [name, t] : texts) {
    absl::StrAppend(&out, "# HELP ", name, " ", EscapeHelp(t.help), "\n",
                    "# TYPE ", name, " ", t.type, "\n");
    for (const std::string& line : t.lines) out += line;
  }
  return out;
}

Registry& Global() {
  static Registry* registry = new Registry();
  return *registry;
}

}  // namespace ohfed::metrics
