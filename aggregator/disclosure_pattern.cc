#include "aggregator/disclosure_pattern.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"

namespace ohfed::aggregator {
namespace {

// The data span is looked for between these years (national rollups).
constexpr int kFirstYear = 2000;
constexpr int kLastYear = 2100;

std::string CellKey(const std::string& unit, const Period& p) {
  return absl::StrCat(unit, "|", p.first().index(), "|", p.last().index());
}

Period Quarter(int year, int q) {
  return Period::Between(Month::Of(year, 3 * q - 2), Month::Of(year, 3 * q));
}

Period AprilToDecember(int year) {
  return Period::Between(Month::Of(year, 4), Month::Of(year, 12));
}

Period FinancialYear(int year) {
  return Period::Between(Month::Of(year, 4), Month::Of(year + 1, 3));
}

// Calendar years holding the measure, as [first, last]; first > last if none.
std::pair<int, int> DataYears(const View& view, const Measure& m) {
  int first = kLastYear + 1, last = kFirstYear - 1;
  for (int y = kFirstYear; y <= kLastYear; ++y) {
    for (int mo = 1; mo <= 12; ++mo) {
      if (view.Rollup("national", Month::Of(y, mo).ToString(), m.code)) {
        first = std::min(first, y);
        last = y;
        break;
      }
    }
  }
  return {first, last};
}

class TableBuilder {
 public:
  TableBuilder(const View& view, const Measure& m, int y0, int y1,
               const Scope& root)
      : view_(view), m_(m), y0_(y0), y1_(y1), root_(root) {}

  void Build() {
    std::vector<Period> quarters;
    for (int y = y0_; y <= y1_; ++y) {
      for (int q = 1; q <= 4; ++q) {
        Period quarter = Quarter(y, q);
        quarters.push_back(quarter);
        std::vector<Period> months;
        for (Month mo : quarter.Months()) months.push_back(Period::OfMonth(mo));
        for (const Period& p : months) AddOrgCells(p);
        AddOrgCells(quarter);
        AddTimeEquations(quarter, months);
      }
    }
    for (int y = y0_; y <= y1_; ++y) {
      Period year = Period::OfYear(y);
      AddOrgCells(year);
      AddTimeEquations(year, Within(quarters, year));
      // April to December, never published: the calendar year is its first
      // quarter plus this, the financial year this plus the next first
      // quarter, so their difference pins first quarters unless propagation
      // sees it.
      internal_ = true;
      Period rest = AprilToDecember(y);
      AddOrgCells(rest);
      internal_ = false;
      AddTimeEquations(rest, Within(quarters, rest));
      AddTimeEquations(year, {Quarter(y, 1), rest});
    }
    for (int y = y0_ - 1; y <= y1_; ++y) {
      Period fy = FinancialYear(y);
      AddOrgCells(fy);
      AddTimeEquations(fy, Within(quarters, fy));
      if (y >= y0_ && y < y1_) {
        AddTimeEquations(fy, {AprilToDecember(y), Quarter(y + 1, 1)});
      } else if (y == y1_) {  // nothing is held after the last year
        AddTimeEquations(fy, {AprilToDecember(y)});
      }
    }
  }

  Table& table() { return table_; }
  const std::vector<std::string>& keys() const { return keys_; }
  const absl::flat_hash_map<std::string, int>& index() const { return index_; }

 private:
  static std::vector<Period> Within(const std::vector<Period>& ps,
                                    const Period& outer) {
    std::vector<Period> out;
    for (const Period& p : ps) {
      if (outer.Contains(p)) out.push_back(p);
    }
    return out;
  }

  double TrustValue(const std::string& trust, const Period& p) {
    double total = 0;
    for (Month mo : p.Months()) {
      const HeldUnit* u = view_.Unit(trust, mo.ToString());
      if (u == nullptr) continue;
      if (const UnitCell* c = u->cells.Find(m_.code)) total += c->value();
    }
    return total;
  }

  int AddCell(const std::string& unit, const Period& p, double value,
              bool exact) {
    int index = static_cast<int>(table_.values.size());
    table_.values.push_back(value);
    table_.exact.push_back(exact);
    table_.internal.push_back(internal_);
    keys_.push_back(CellKey(unit, p));
    index_[keys_.back()] = index;
    return index;
  }

  // The root's cells of one period, and those of every ICS and trust below
  // it, with the equations joining them, per the registry in effect at the
  // period's end.
  void AddOrgCells(const Period& p) {
    const Registry& reg = view_.RegistryAt(p.last());
    if (!reg.Check(root_).ok()) return;  // the root did not exist then
    Equation national;
    double national_total = 0;
    for (const Region& region : reg.regions()) {
      if (root_.level == Scope::Level::kRegion && region.code != root_.code) {
        continue;
      }
      Equation re;
      double region_total = 0;
      for (const std::string& ics_code : region.icss) {
        if (root_.level == Scope::Level::kIcs && ics_code != root_.code) {
          continue;
        }
        auto [ics_cell, ics_total] = AddIcsCells(reg, ics_code, p);
        region_total += ics_total;
        re.children.push_back(ics_cell);
      }
      if (root_.level == Scope::Level::kIcs) continue;
      re.parent = AddCell("region:" + region.code, p, region_total, false);
      table_.equations.push_back(std::move(re));
      national_total += region_total;
      national.children.push_back(table_.equations.back().parent);
    }
    if (root_.level != Scope::Level::kNational) return;
    national.parent = AddCell("national", p, national_total, true);
    table_.equations.push_back(std::move(national));
  }

  // An ICS's cell and its trusts' for one period: (the ICS's cell, its
  // value).
  std::pair<int, double> AddIcsCells(const Registry& reg,
                                     const std::string& ics_code,
                                     const Period& p) {
    Equation ie;
    double ics_total = 0;
    for (const std::string& trust : reg.FindIcs(ics_code)->trusts) {
      double v = TrustValue(trust, p);
      ics_total += v;
      ie.children.push_back(AddCell("trust:" + trust, p, v, false));
    }
    ie.parent = AddCell("ics:" + ics_code, p, ics_total, false);
    table_.equations.push_back(std::move(ie));
    return {table_.equations.back().parent, ics_total};
  }

  // For every unit of `parent`'s period: parent = Σ parts, where the unit
  // exists with the same trusts in every part (only flows and pools add up
  // over time).
  void AddTimeEquations(const Period& parent,
                        const std::vector<Period>& parts) {
    if (m_.across_time != TimeAggregation::kSum &&
        m_.across_time != TimeAggregation::kPool) {
      return;
    }
    const Registry& reg = view_.RegistryAt(parent.last());
    if (!reg.Check(root_).ok()) return;
    std::vector<Scope> units = {root_};
    for (Scope::Level level :
         {Scope::Level::kRegion, Scope::Level::kIcs, Scope::Level::kTrust}) {
      if (level <= root_.level) continue;
      for (Scope& s : reg.Children(root_, level)) {
        units.push_back(std::move(s));
      }
    }
    // Registry versions of the parts other than the parent's: a unit must
    // hold the same trusts in those too.
    std::vector<const Registry*> others;
    for (const Period& part : parts) {
      const Registry* r = &view_.RegistryAt(part.last());
      if (r != &reg &&
          std::find(others.begin(), others.end(), r) == others.end()) {
        others.push_back(r);
      }
    }
    for (const Scope& unit : units) {
      bool same = true;
      if (!others.empty()) {
        std::vector<std::string> trusts = reg.TrustsIn(unit);
        for (const Registry* r : others)
          same = same && r->TrustsIn(unit) == trusts;
      }
      const std::string name = unit.ToString();
      auto parent_cell = index_.find(CellKey(name, parent));
      if (parent_cell == index_.end()) continue;
      Equation e;
      e.parent = parent_cell->second;
      for (const Period& part : parts) {
        auto it = index_.find(CellKey(name, part));
        if (it == index_.end()) same = false;
        if (!same) break;
        e.children.push_back(it->second);
      }
      if (same) table_.equations.push_back(std::move(e));
    }
  }

  const View& view_;
  const Measure& m_;
  const int y0_, y1_;
  const Scope root_;
  bool internal_ = false;  // cells being added are never published
  Table table_;
  std::vector<std::string> keys_;
  absl::flat_hash_map<std::string, int> index_;
};

// The units one level below `root` in any registry version in effect over
// the data years (a merger can move an ICS to another region).
std::vector<Scope> ChildUnits(const View& view, const Scope& root, int y0,
                              int y1) {
  const Scope::Level level =
      static_cast<Scope::Level>(static_cast<int>(root.level) + 1);
  std::vector<Scope> children;
  const Registry* last = nullptr;
  for (Month mo = Month::Of(y0 - 1, 4); mo <= Month::Of(y1, 12); mo = mo + 1) {
    const Registry& reg = view.RegistryAt(mo);
    if (&reg == last) continue;
    last = &reg;
    if (!reg.Check(root).ok()) continue;
    for (Scope& child : reg.Children(root, level)) {
      if (std::find(children.begin(), children.end(), child) ==
          children.end()) {
        children.push_back(std::move(child));
      }
    }
  }
  return children;
}

// The suppressed cells of `root`'s subtree: its children's patterns (down
// to ICSs, each protected on its own), then the complements the root's own
// table needs on top of them.
absl::flat_hash_set<std::string> SubtreePattern(const View& view,
                                                const Measure& m,
                                                const DisclosureOptions& o,
                                                int y0, int y1,
                                                const Scope& root) {
  absl::flat_hash_set<std::string> below;
  if (o.secondary && root.level < Scope::Level::kIcs) {
    for (const Scope& child : ChildUnits(view, root, y0, y1)) {
      below.merge(SubtreePattern(view, m, o, y0, y1, child));
    }
  }
  TableBuilder builder(view, m, y0, y1, root);
  builder.Build();
  Table& table = builder.table();
  table.preset.assign(table.values.size(), false);
  for (const std::string& key : below) {
    auto it = builder.index().find(key);
    if (it != builder.index().end()) table.preset[it->second] = true;
  }
  std::vector<bool> suppressed = ProtectTable(table, o);
  absl::flat_hash_set<std::string> out;
  for (size_t i = 0; i < suppressed.size(); ++i) {
    if (suppressed[i]) out.insert(builder.keys()[i]);
  }
  return out;
}

}  // namespace

bool IsStandardPeriod(const Period& p) {
  const int first_month = p.first().month();
  switch (p.months()) {
    case 1:
      return true;
    case 3:
      return first_month % 3 == 1;  // Jan, Apr, Jul, Oct
    case 12:
      return first_month == 1 || first_month == 4;  // year, financial year
    default:
      return false;
  }
}

SuppressionPattern SuppressionPattern::Compute(const View& view,
                                               const Measure& m,
                                               const DisclosureOptions& o,
                                               const Scope& coverage) {
  SuppressionPattern pattern;
  auto [y0, y1] = DataYears(view, m);
  if (y0 > y1) return pattern;
  pattern.suppressed_ = SubtreePattern(view, m, o, y0, y1, coverage);
  return pattern;
}

bool SuppressionPattern::Suppressed(const Scope& unit,
                                    const Period& period) const {
  // Most patterns are empty (exact thresholds, or no small counts): no key.
  if (suppressed_.empty()) return false;
  return suppressed_.contains(CellKey(unit.ToString(), period));
}

std::shared_ptr<const SuppressionPattern> PatternCache::Get(
    const std::string& measure,
    absl::FunctionRef<SuppressionPattern()> compute) {
  return GetCounted(measure, compute, /*in_advance=*/false);
}

void PatternCache::Warm(const std::string& measure,
                        absl::FunctionRef<SuppressionPattern()> compute) {
  GetCounted(measure, compute, /*in_advance=*/true);
}

PatternCache::Counts PatternCache::counts() const {
  return {lineage_->on_demand.load(), lineage_->in_advance.load()};
}

std::shared_ptr<const SuppressionPattern> PatternCache::GetCounted(
    const std::string& measure, absl::FunctionRef<SuppressionPattern()> compute,
    bool in_advance) {
  {
    absl::MutexLock lock(&mu_);
    auto it = patterns_.find(measure);
    if (it != patterns_.end()) return it->second;
  }
  // Computed outside the lock: it can take long, and other measures'
  // lookups should not wait for it.
  auto computed = std::make_shared<const SuppressionPattern>(compute());
  ++(in_advance ? lineage_->in_advance : lineage_->on_demand);
  std::shared_ptr<const SuppressionPattern> kept;
  {
    absl::MutexLock lock(&mu_);
    kept = patterns_.try_emplace(measure, std::move(computed)).first->second;
  }
  if (std::shared_ptr<PatternCache> newer = NewerToShare(measure)) {
    absl::MutexLock lock(&newer->mu_);
    newer->patterns_.try_emplace(measure, kept);
  }
  return kept;
}

std::shared_ptr<PatternCache> PatternCache::NewerToShare(
    const std::string& measure) const {
  absl::MutexLock lock(&lineage_->mu);
  std::shared_ptr<PatternCache> newest = lineage_->newest.lock();
  if (newest == nullptr || newest.get() == this) return nullptr;
  auto it = lineage_->changed_at.find(measure);
  if (it != lineage_->changed_at.end() && it->second > version_) return nullptr;
  return newest;
}

std::shared_ptr<PatternCache> PatternCache::CarryOver(
    const PatternCache& previous,
    const absl::flat_hash_set<std::string>& changed) {
  auto next = std::make_shared<PatternCache>();
  Lineage& lineage = *previous.lineage_;
  // Held while copying, so that what an older cache passes on lands either
  // in `previous` before the copy or in `next`.
  absl::MutexLock lineage_lock(&lineage.mu);
  if (previous.version_ == lineage.version) {  // the newest: next follows it
    ++lineage.version;
    for (const std::string& measure : changed) {
      lineage.changed_at[measure] = lineage.version;
    }
    lineage.newest = next;
    next->lineage_ = previous.lineage_;
    next->version_ = lineage.version;
  }  // else an older one: next starts a lineage of its own
  absl::MutexLock lock(&previous.mu_);
  for (const auto& [measure, pattern] : previous.patterns_) {
    if (!changed.contains(measure)) next->patterns_.emplace(measure, pattern);
  }
  for (const auto& [measure, sums] : previous.sums_) {
    if (!changed.contains(measure)) next->sums_.emplace(measure, sums);
  }
  return next;
}

int WarmPatterns(const View& view, const DisclosureOptions& options,
                 const Scope& coverage, PatternCache& cache,
                 absl::FunctionRef<bool()> stop, size_t* next) {
  const std::vector<const Measure*> measures = view.catalogue().WithPrefix("");
  if (!options.secondary) *next = measures.size();
  int computed = 0;
  for (; *next < measures.size(); ++*next) {
    const Measure& m = *measures[*next];
    if (!m.disclosive || cache.Find(m.code) != nullptr) continue;
    if (stop()) break;
    cache.Warm(m.code, [&] {
      return SuppressionPattern::Compute(view, m, options, coverage);
    });
    ++computed;
  }
  return computed;
}

std::shared_ptr<const SuppressionPattern> PatternCache::Find(
    const std::string& measure) const {
  absl::MutexLock lock(&mu_);
  auto it = patterns_.find(measure);
  return it == patterns_.end() ? nullptr : it->second;
}

std::shared_ptr<PatternCache::MeasureSums> PatternCache::SumsOf(
    const std::string& measure) {
  std::shared_ptr<MeasureSums> sums;
  {
    absl::MutexLock lock(&mu_);
    std::shared_ptr<MeasureSums>& slot = sums_[measure];
    if (slot != nullptr) return slot;
    slot = sums = std::make_shared<MeasureSums>();
  }
  // New here: shared with the newest cache, as CarryOver would have.
  if (std::shared_ptr<PatternCache> newer = NewerToShare(measure)) {
    absl::MutexLock lock(&newer->mu_);
    newer->sums_.try_emplace(measure, sums);
  }
  return sums;
}

PatternCache::PeriodTotal PatternCache::Total(
    const std::string& measure, const std::string& node, const Period& period,
    absl::FunctionRef<PeriodTotal()> compute) {
  std::shared_ptr<MeasureSums> sums = SumsOf(measure);
  std::tuple<std::string, int, int> key(node, period.first().index(),
                                        period.last().index());
  {
    absl::MutexLock lock(&sums->mu);
    auto it = sums->by_node_period.find(key);
    if (it != sums->by_node_period.end()) return it->second;
  }
  PeriodTotal computed = compute();
  absl::MutexLock lock(&sums->mu);
  return sums->by_node_period.try_emplace(std::move(key), computed)
      .first->second;
}

PatternCache::YearSums PatternCache::Sums(
    const std::string& measure, const std::string& node, int year,
    absl::FunctionRef<YearSums()> compute) {
  std::shared_ptr<MeasureSums> sums = SumsOf(measure);
  const std::pair<std::string, int> key(node, year);
  {
    absl::MutexLock lock(&sums->mu);
    auto it = sums->by_node_year.find(key);
    if (it != sums->by_node_year.end()) return it->second;
  }
  YearSums computed = compute();
  absl::MutexLock lock(&sums->mu);
  return sums->by_node_year.try_emplace(key, computed).first->second;
}

size_t PatternCache::size() const {
  absl::MutexLock lock(&mu_);
  return patterns_.size();
}

}  // namespace ohfed::aggregator
