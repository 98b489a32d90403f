// Completeness and timeliness (SPEC §6): the reporting status every page
// shows, and the section with the trusts x months grid and the counts per
// child unit. Completeness is about who reported, not what they reported, so
// its counts are public and are tallied here from the per-trust answer.
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "dashboard/pages_internal.h"

namespace ohfed::dashboard::internal {
namespace {

using TrustRows = std::map<std::string, const v1::TrustCompleteness*>;

absl::StatusOr<v1::CompletenessResponse> AskCompleteness(const PageContext& ctx,
                                                         const Period& period) {
  v1::CompletenessRequest request;
  request.set_scope(ctx.scope.ToString());
  request.set_period(period.ToString());
  request.set_by("trust");
  return ctx.source.Completeness(request);
}

// "on-time", "late", "missing" or "silent" (missing, and nothing heard from
// the trust for a long time): the marks of the grid.
std::string MarkOf(const v1::TrustCompleteness& t) {
  if (t.reported()) return t.on_time() ? "on-time" : "late";
  return t.sync_state() == "silent" ? "silent" : "missing";
}

std::string MarkText(const std::string& mark) {
  if (mark == "on-time") return "On time";
  if (mark == "late") return "Late";
  if (mark == "silent") return "Silent";
  return "Missing";
}

// The trust's code at `level` (its region, ICS, or itself).
std::string UnitOf(const v1::TrustCompleteness& t, Scope::Level level) {
  switch (level) {
    case Scope::Level::kRegion:
      return t.region();
    case Scope::Level::kIcs:
      return t.ics();
    default:
      return t.trust();
  }
}

Table Grid(const PageContext& ctx, const v1::CompletenessResponse& answer) {
  Table table;
  table.id = "completeness_grid";
  table.caption = absl::StrCat("Reporting by trust and month, ",
                               ctx.registry.NameOf(ctx.scope));
  table.columns.push_back({"Trust", false});
  std::vector<TrustRows> months;
  for (const v1::PeriodCompleteness& p : answer.periods()) {
    table.columns.push_back({p.period(), false});
    TrustRows& rows = months.emplace_back();
    for (const v1::TrustCompleteness& t : p.trusts()) rows[t.trust()] = &t;
  }
  if (answer.periods().empty()) return table;
  for (const v1::TrustCompleteness& t : answer.periods().rbegin()->trusts()) {
    std::vector<Cell> row = {
        LinkCell(ctx.registry, {Scope::Level::kTrust, t.trust()}, ctx.period)};
    for (const TrustRows& month : months) {
      auto it = month.find(t.trust());
      Cell cell;
      if (it != month.end()) {
        cell.mark = MarkOf(*it->second);
        cell.text = MarkText(cell.mark);
        // After a damaged store was recovered: what is shown may be an
        // older revision, or missing, until the trust resends.
        if (it->second->unconfirmed()) cell.text += ", unconfirmed";
      }
      row.push_back(std::move(cell));
    }
    table.rows.push_back(std::move(row));
  }
  table.note =
      "On time: received by the 15th of the following month. Silent: "
      "missing, and nothing received from the trust for over 62 days.";
  if (!answer.warning().empty()) {
    table.note +=
        " Unconfirmed: this aggregator's store was damaged and recovered, "
        "and the trust has not yet resent its data, so its figures may be "
        "missing or out of date.";
  }
  return table;
}

// Counts of trust-months in the period by mark, per unit code.
using Counts = std::map<std::string, std::map<std::string, int>>;

Counts CountMarks(const v1::CompletenessResponse& answer, const Period& period,
                  Scope::Level level) {
  Counts counts;
  for (const v1::PeriodCompleteness& p : answer.periods()) {
    auto month = Month::Parse(p.period());
    if (!month.ok() || !period.Contains(*month)) continue;
    for (const v1::TrustCompleteness& t : p.trusts()) {
      ++counts[UnitOf(t, level)][MarkOf(t)];
      ++counts[""][MarkOf(t)];  // the whole scope
    }
  }
  return counts;
}

std::vector<Cell> CountRow(Cell label, std::map<std::string, int> counts) {
  int expected = 0;
  for (const auto& [mark, n] : counts) expected += n;
  std::vector<Cell> row = {std::move(label)};
  for (int n : {expected, counts["on-time"], counts["late"], counts["missing"],
                counts["silent"]}) {
    Cell cell = TextCell(absl::StrCat(n));
    cell.value = n;
    row.push_back(std::move(cell));
  }
  return row;
}

Table CountTable(const PageContext& ctx,
                 const v1::CompletenessResponse& answer) {
  std::vector<Scope::Level> levels = ChildLevels(ctx.scope.level);
  Scope::Level level = levels.empty() ? ctx.scope.level : levels.front();
  Counts counts = CountMarks(answer, ctx.period, level);
  const std::string name = ctx.registry.NameOf(ctx.scope);
  std::string what = ctx.period.months() == 1 ? "Trusts" : "Trust-months";
  Table table;
  table.id = "completeness_counts";
  table.caption =
      levels.empty()
          ? absl::StrCat("Reporting of ", ctx.period.ToString(), ", ", name)
          : absl::StrCat("Reporting of ", ctx.period.ToString(), " by ",
                         LevelNoun(level), ", ", name);
  table.columns = {{"Unit", false},
                   {absl::StrCat(what, " expected"), true},
                   {"Reported on time", true},
                   {"Reported late", true},
                   {"Missing", true},
                   {"Silent", true}};
  if (!levels.empty()) {
    for (const Scope& child : ctx.registry.Children(ctx.scope, level)) {
      table.rows.push_back(CountRow(LinkCell(ctx.registry, child, ctx.period),
                                    counts[child.code]));
    }
  }
  table.rows.push_back(
      CountRow(TextCell(levels.empty() ? name : "All " + name), counts[""]));
  if (ctx.period.months() > 1) {
    table.note = "Each trust counts once per month of the period.";
  }
  return table;
}

}  // namespace

absl::StatusOr<ReportingStatus> StatusOf(const PageContext& ctx) {
  absl::StatusOr<v1::CompletenessResponse> answer =
      AskCompleteness(ctx, ctx.period);
  if (!answer.ok()) return answer.status();
  std::map<std::string, int> months_reported;  // by trust
  int on_time = 0;
  ReportingStatus status;
  for (const v1::PeriodCompleteness& p : answer->periods()) {
    status.expected = static_cast<int>(p.expected());  // the latest month's
    for (const v1::TrustCompleteness& t : p.trusts()) {
      months_reported[t.trust()] += t.reported() ? 1 : 0;
      on_time += t.on_time() ? 1 : 0;
    }
  }
  status.warning = answer->warning();
  if (!answer->periods().empty()) {
    for (const v1::TrustCompleteness& t :
         answer->periods().rbegin()->trusts()) {
      status.unconfirmed += t.unconfirmed() ? 1 : 0;
    }
  }
  const int months = answer->periods_size();
  for (const auto& [trust, n] : months_reported) {
    if (n == months && n > 0) ++status.reported;
    if (n > 0 && n < months) ++status.partial;
  }
  const std::string period = ctx.period.ToString();
  if (months == 1) {
    status.text = absl::StrCat(status.reported, " of ", status.expected,
                               " trusts have reported ", period, " (", on_time,
                               " on time)");
  } else {
    status.text = absl::StrCat(status.reported, " of ", status.expected,
                               " trusts have reported every month of ", period,
                               " and ", status.partial, " some of it");
  }
  if (!status.warning.empty()) {
    // Never "complete": a unit lost with the damaged store looks reported.
    absl::StrAppend(
        &status.text, "; the figures may be incomplete until ",
        status.unconfirmed,
        status.unconfirmed == 1 ? " trust resends" : " trusts resend",
        " what this aggregator lost.");
  } else if (status.reported < status.expected) {
    absl::StrAppend(&status.text,
                    "; the figures are partial until the rest report.");
  } else {
    absl::StrAppend(&status.text, "; the figures are complete.");
  }
  return status;
}

absl::StatusOr<Section> CompletenessSection(const PageContext& ctx) {
  std::vector<Month> months = TrendMonths(ctx.period);
  absl::StatusOr<v1::CompletenessResponse> answer =
      AskCompleteness(ctx, Period::Between(months.front(), months.back()));
  if (!answer.ok()) return answer.status();
  Section section;
  section.id = "completeness";
  section.heading = "Completeness and timeliness";
  section.intro =
      "Which trusts have reported each month, whether by the deadline (the "
      "15th of the following month), and which have gone silent.";
  section.tables.push_back(CountTable(ctx, *answer));
  section.tables.push_back(Grid(ctx, *answer));
  return section;
}

}  // namespace ohfed::dashboard::internal
