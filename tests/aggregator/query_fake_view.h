// An in-memory View for query engine tests: held units in a map, rollups
// recomputed naively (by summing every held cell into its national, region
// and ICS nodes) after each change, independently of the engine's own
// arithmetic, plus a hook to override a rollup so a test can tell whether
// the engine read it.
#ifndef OHFED_TESTS_AGGREGATOR_QUERY_FAKE_VIEW_H_
#define OHFED_TESTS_AGGREGATOR_QUERY_FAKE_VIEW_H_

#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "aggregator/view.h"
#include "common/catalogue.h"
#include "common/registry.h"
#include "ohfed/v1/ohfed.pb.h"

namespace ohfed::aggregator::testing {

// Two regions, three ICSs, five trusts (one name needs CSV quoting).
inline constexpr char kTestRegistry[] =
    "# version: test-1\n# effective_from: 2020-01\n"
    "region_code,region_name,ics_code,ics_name,trust_code,trust_name\n"
    "R1,North,I1,ICS One,T1,Trust One\n"
    "R1,North,I1,ICS One,T2,Trust Two\n"
    "R1,North,I2,ICS Two,T3,Trust Three\n"
    "R2,South,I3,ICS Three,T4,Trust Four\n"
    "R2,South,I3,ICS Three,T5,\"Trust Five, Ltd\"\n";

// kTestRegistry as version test-2, in effect from 2026-03, with `from`
// (its first occurrence) replaced by `to`: "" removes it.
inline std::shared_ptr<const Registry> TestRegistryFrom2026_03(
    const std::string& from, const std::string& to) {
  std::string later = kTestRegistry;
  later.replace(later.find("2020-01"), 7, "2026-03");
  later.replace(later.find("test-1"), 6, "test-2");
  later.replace(later.find(from), from.size(), to);
  return *Registry::Parse(later, "test registry from 2026-03");
}

inline std::shared_ptr<const Registry> TestRegistry() {
  static auto* reg = new std::shared_ptr<const Registry>(
      *Registry::Parse(kTestRegistry, "test registry"));
  return *reg;
}

class FakeView : public View {
 public:
  explicit FakeView(
      std::shared_ptr<const Registry> registry = TestRegistry(),
      std::shared_ptr<const Catalogue> catalogue = Catalogue::Default())
      : registry_(std::move(registry)), catalogue_(std::move(catalogue)) {}

  const Catalogue& catalogue() const override { return *catalogue_; }
  const Registry& registry() const override {
    return later_.empty() ? *registry_ : *later_.rbegin()->second;
  }
  const Registry& RegistryAt(Month m) const override {
    auto it = later_.upper_bound(m);
    return it == later_.begin() ? *registry_ : *std::prev(it)->second;
  }
  // A later registry version, in effect from its effective_from month.
  void AddLaterVersion(std::shared_ptr<const Registry> r) {
    later_[r->effective_from()] = std::move(r);
  }

  const HeldUnit* Unit(absl::string_view trust,
                       absl::string_view period) const override {
    auto it = units_.find({std::string(trust), std::string(period)});
    return it == units_.end() ? nullptr : &it->second;
  }
  const RollupCell* Rollup(absl::string_view node, absl::string_view period,
                           absl::string_view measure) const override {
    auto it = rollups_.find(
        {std::string(node), std::string(period), std::string(measure)});
    return it == rollups_.end() ? nullptr : &it->second;
  }
  int64_t LastReceived(absl::string_view trust) const override {
    auto it = last_received_.find(std::string(trust));
    return it == last_received_.end() ? 0 : it->second;
  }

  // A scalar cell of the trust's summary for `period` ("YYYY-MM"/"YYYY").
  void Set(const std::string& trust, const std::string& period,
           const std::string& measure, double value) {
    v1::Cell c;
    c.set_measure(measure);
    c.set_value(value);
    MutableUnit(trust, period).cells.Set(c);
    RebuildRollups();
  }
  // A distribution cell: (value, count) buckets; value = event count.
  void SetBuckets(const std::string& trust, const std::string& period,
                  const std::string& measure,
                  const std::vector<std::pair<double, uint64_t>>& buckets) {
    v1::Cell c;
    c.set_measure(measure);
    uint64_t events = 0;
    for (const auto& [value, count] : buckets) {
      v1::Bucket* b = c.add_buckets();
      b->set_value(value);
      b->set_count(count);
      events += count;
    }
    c.set_value(static_cast<double>(events));
    MutableUnit(trust, period).cells.Set(c);
    RebuildRollups();
  }
  // Receipt times and revision of a held unit.
  void SetReceived(const std::string& trust, const std::string& period,
                   int64_t first_ms, int64_t last_ms, uint64_t revision) {
    HeldUnit& u = MutableUnit(trust, period);
    u.first_received_unix_ms = first_ms;
    u.last_received_unix_ms = last_ms;
    u.revision = revision;
    RebuildRollups();
  }
  void SetLastReceived(const std::string& trust, int64_t ms) {
    last_received_[trust] = ms;
  }
  // Overrides a rollup until the next change (a test double's lever).
  RollupCell& MutableRollup(const std::string& node, const std::string& period,
                            const std::string& measure) {
    return rollups_[{node, period, measure}];
  }

 private:
  HeldUnit& MutableUnit(const std::string& trust, const std::string& period) {
    HeldUnit& u = units_[{trust, period}];
    u.trust = trust;
    u.period = period;
    if (u.revision == 0) u.revision = 1;
    return u;
  }

  void RebuildRollups() {
    rollups_.clear();
    for (const auto& [key, unit] : units_) {
      const Trust* t = registry_->FindTrust(unit.trust);
      if (t == nullptr) continue;
      for (const std::string& node :
           {std::string("national"), "region:" + t->region, "ics:" + t->ics}) {
        for (const UnitCell& cell : unit.cells) {
          RollupCell& r = rollups_[{node, unit.period, cell.measure()}];
          r.sum += cell.value();
          ++r.n_units;
          for (const UnitCell::Bucket& b : cell.buckets())
            r.buckets[b.value()] += b.count();
        }
      }
    }
  }

  std::shared_ptr<const Registry> registry_;

  std::map<Month, std::shared_ptr<const Registry>> later_;
  std::shared_ptr<const Catalogue> catalogue_;
  std::map<std::pair<std::string, std::string>, HeldUnit> units_;
  std::map<std::tuple<std::string, std::string, std::string>, RollupCell>
      rollups_;
  std::map<std::string, int64_t> last_received_;
};

// A query request; `stats` empty asks for the defaults.
inline v1::QueryRequest Request(const std::string& scope,
                                const std::string& period,
                                const std::string& prefix,
                                std::vector<std::string> stats = {},
                                const std::string& by = "") {
  v1::QueryRequest r;
  r.set_scope(scope);
  r.set_period(period);
  r.set_measure_prefix(prefix);
  r.set_by(by);
  for (const std::string& s : stats) r.add_stats(s);
  return r;
}

}  // namespace ohfed::aggregator::testing

#endif  // OHFED_TESTS_AGGREGATOR_QUERY_FAKE_VIEW_H_
