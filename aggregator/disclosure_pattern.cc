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
  TableBuilder(const View& view, const Measure& m, int y0, int y1)
      : view_(view), m_(m), y0_(y0), y1_(y1) {}

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
    }
    for (int y = y0_ - 1; y <= y1_; ++y) {
      Period fy = Period::Between(Month::Of(y, 4), Month::Of(y + 1, 3));
      AddOrgCells(fy);
      AddTimeEquations(fy, Within(quarters, fy));
    }
  }

  Table& table() { return table_; }
  const std::vector<std::string>& keys() const { return keys_; }

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
      auto it = u->cells.find(m_.code);
      if (it != u->cells.end()) total += it->second.value();
    }
    return total;
  }

  int AddCell(const std::string& unit, const Period& p, double value,
              bool exact) {
    int index = static_cast<int>(table_.values.size());
    table_.values.push_back(value);
    table_.exact.push_back(exact);
    keys_.push_back(CellKey(unit, p));
    index_[keys_.back()] = index;
    return index;
  }

  // National, region, ICS and trust cells of one period and the equations
  // joining them, per the registry in effect at the period's end.
  void AddOrgCells(const Period& p) {
    const Registry& reg = view_.RegistryAt(p.last());
    Equation national;
    double national_total = 0;
    std::vector<int> region_cells;
    for (const Region& region : reg.regions()) {
      Equation re;
      double region_total = 0;
      for (const std::string& ics_code : region.icss) {
        const Ics* ics = reg.FindIcs(ics_code);
        Equation ie;
        double ics_total = 0;
        for (const std::string& trust : ics->trusts) {
          double v = TrustValue(trust, p);
          ics_total += v;
          ie.children.push_back(AddCell("trust:" + trust, p, v, false));
        }
        ie.parent = AddCell("ics:" + ics_code, p, ics_total, false);
        table_.equations.push_back(std::move(ie));
        region_total += ics_total;
        re.children.push_back(table_.equations.back().parent);
      }
      re.parent = AddCell("region:" + region.code, p, region_total, false);
      table_.equations.push_back(std::move(re));
      national_total += region_total;
      national.children.push_back(table_.equations.back().parent);
    }
    national.parent = AddCell("national", p, national_total, true);
    table_.equations.push_back(std::move(national));
  }

  // For every unit of `parent`'s period: parent = Σ parts, where the unit
  // exists with the same trusts in every part (only flows and pools add up
  // over time).
  void AddTimeEquations(const Period& parent, const std::vector<Period>& parts) {
    if (m_.across_time != TimeAggregation::kSum &&
        m_.across_time != TimeAggregation::kPool) {
      return;
    }
    const Registry& reg = view_.RegistryAt(parent.last());
    std::vector<Scope> units = {Scope::National()};
    for (Scope::Level level :
         {Scope::Level::kRegion, Scope::Level::kIcs, Scope::Level::kTrust}) {
      for (Scope& s : reg.Children(Scope::National(), level)) {
        units.push_back(std::move(s));
      }
    }
    // Registry versions of the parts other than the parent's: a unit must
    // hold the same trusts in those too.
    std::vector<const Registry*> others;
    for (const Period& part : parts) {
      const Registry* r = &view_.RegistryAt(part.last());
      if (r != &reg && std::find(others.begin(), others.end(), r) == others.end()) {
        others.push_back(r);
      }
    }
    for (const Scope& unit : units) {
      bool same = true;
      if (!others.empty()) {
        std::vector<std::string> trusts = reg.TrustsIn(unit);
        for (const Registry* r : others) same = same && r->TrustsIn(unit) == trusts;
      }
      const std::string name = unit.ToString();
      Equation e;
      e.parent = index_.at(CellKey(name, parent));
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
  Table table_;
  std::vector<std::string> keys_;
  absl::flat_hash_map<std::string, int> index_;
};

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
                                               const DisclosureOptions& o) {
  SuppressionPattern pattern;
  auto [y0, y1] = DataYears(view, m);
  if (y0 > y1) return pattern;
  TableBuilder builder(view, m, y0, y1);
  builder.Build();
  std::vector<bool> suppressed = ProtectTable(builder.table(), o);
  for (size_t i = 0; i < suppressed.size(); ++i) {
    if (suppressed[i]) pattern.suppressed_[builder.keys()[i]] = true;
  }
  return pattern;
}

bool SuppressionPattern::Suppressed(const Scope& unit,
                                    const Period& period) const {
  return suppressed_.contains(CellKey(unit.ToString(), period));
}

}  // namespace ohfed::aggregator
