// A small Prometheus metrics registry and its text exposition (format 0.0.4,
// https://prometheus.io/docs/instrumenting/exposition_formats/).
//
// Two kinds of series:
//  - instruments (Counter, Gauge, Histogram) updated where things happen;
//    lock-free atomics on the hot path. Get*() finds or creates one under a
//    lock: callers on hot paths keep the reference (it never moves).
//  - collectors: callbacks run at each scrape that report values read from
//    the daemon's own state (store counters, outbox size, RocksDB
//    properties), so nothing is counted twice.
//
// Cardinality is bounded: a family holds at most kMaxSeriesPerFamily label
// sets from Get*(); further label sets share one series whose label values
// are all "other". Collectors bound their own (one series per registry
// trust at most).
//
// Global() is process-wide: a daemon is one process. Thread-safe.
#ifndef OHFED_COMMON_METRICS_H_
#define OHFED_COMMON_METRICS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace ohfed::metrics {

// Label names and values, in the order given.
using Labels = std::vector<std::pair<std::string, std::string>>;

inline constexpr size_t kMaxSeriesPerFamily = 256;

class Counter {
 public:
  void Inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Fixed upper bounds (ascending, without +Inf), cumulative in exposition.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);
  const std::vector<double>& bounds() const { return bounds_; }
  // Per bucket (not cumulative), the last one is +Inf.
  std::vector<uint64_t> counts() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1
  std::atomic<double> sum_{0};
  std::atomic<uint64_t> count_{0};
};

// Bucket bounds for latencies in seconds: 0.5 ms .. 10 s.
std::vector<double> LatencyBuckets();
// Powers of two from 1 to `max` (for sizes).
std::vector<double> PowersOfTwo(double max);

// What a collector reports: one family and its samples.
struct Family {
  std::string name;  // e.g. "ohfed_outbox_pending"
  std::string help;
  std::string type;  // "counter" or "gauge"
  std::vector<std::pair<Labels, double>> samples;
};

class Registry {
 public:
  using Collector = std::function<void(std::vector<Family>&)>;

  Registry();
  ~Registry();  // collector handles must be gone first
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  Counter& GetCounter(const std::string& name, const std::string& help,
                      const Labels& labels = {});
  Gauge& GetGauge(const std::string& name, const std::string& help,
                  const Labels& labels = {});
  Histogram& GetHistogram(const std::string& name, const std::string& help,
                          const std::vector<double>& bounds,
                          const Labels& labels = {});

  // Runs `collector` at every Expose() until the returned handle is
  // destroyed (the collector may refer to objects that outlive the handle).
  class CollectorHandle {
   public:
    CollectorHandle(Registry* r, int id) : registry_(r), id_(id) {}
    ~CollectorHandle();
    CollectorHandle(const CollectorHandle&) = delete;
    CollectorHandle& operator=(const CollectorHandle&) = delete;

   private:
    Registry* registry_;
    int id_;
  };
  std::unique_ptr<CollectorHandle> AddCollector(Collector collector);

  // Every family, sorted by name, in the text format 0.0.4. Families
  // reported twice (two collectors, or a collector and an instrument) are
  // merged; a series reported twice keeps the first value.
  std::string Expose() const;

 private:
  struct Series;
  struct InstrumentFamily;
  InstrumentFamily& FamilyLocked(const std::string& name,
                                 const std::string& help,
                                 const std::string& type)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Series& SeriesLocked(InstrumentFamily& family, const Labels& labels)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RemoveCollector(int id);

  mutable absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<InstrumentFamily>> families_
      ABSL_GUARDED_BY(mu_);
  // Run without mu_ held, so a collector may use Get*().
  mutable absl::Mutex collectors_mu_;
  std::map<int, Collector> collectors_ ABSL_GUARDED_BY(collectors_mu_);
  int next_id_ ABSL_GUARDED_BY(collectors_mu_) = 0;
};

// The process-wide registry the daemons expose.
Registry& Global();

// Text-format helpers, exposed for tests: a label value with \, " and
// newline escaped; a sample value ("+Inf", "NaN", integers without a dot).
std::string EscapeLabelValue(const std::string& value);
std::string FormatValue(double v);

}  // namespace ohfed::metrics

#endif  // OHFED_COMMON_METRICS_H_
