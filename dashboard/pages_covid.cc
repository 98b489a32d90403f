// The service profile section: the survey's yes/no questions (seed 000's
// results) and the Covid-19 involvement grid in the style of its Table 2
// (topic x level of involvement, at the host trust and at other NHS trusts,
// "yes/answered (pct%)").
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "dashboard/pages_internal.h"

namespace ohfed::dashboard::internal {
namespace {

constexpr char kCovid[] = "profile.covid";

struct Level {
  const char* code;
  const char* header;
};
// Table 2's columns, in its order.
constexpr Level kLevels[] = {
    {"strategic", "Strategic planning"},
    {"coordination", "Coordination and operational delivery"},
    {"policy", "Policy and standard operating procedures"},
    {"indirect", "Only indirectly involved"},
    {"none", "No involvement"},
};
constexpr Level kWheres[] = {{"host", "at host trust"},
                             {"other", "at other NHS trusts"}};

// "43/63 (68%)" from the yes, answered and pct rows of one measure; "*" if
// any of them is suppressed, "" if nobody answered.
Cell YesOfAnswered(const Answers& a, const std::string& unit,
                   const std::string& code) {
  const v1::Row* yes = a.Find(unit, code, "yes");
  const v1::Row* answered = a.Find(unit, code, "answered");
  const v1::Row* pct = a.Find(unit, code, "pct");
  if (yes == nullptr || answered == nullptr || pct == nullptr) return Cell();
  if (yes->suppressed() || answered->suppressed() || pct->suppressed()) {
    return SuppressedCell();
  }
  Cell cell = FigureCell(pct, 0);
  cell.text =
      absl::StrCat(FormatNumber(yes->value(), 0), "/",
                   FormatNumber(answered->value(), 0), " (", cell.text, "%)");
  return cell;
}

// The Table 2 topics the catalogue has, in its order ("risk_assessment").
std::vector<std::string> CovidTopics(const Catalogue& catalogue) {
  std::vector<std::string> topics;
  for (const Measure* m : catalogue.WithPrefix(kCovid)) {
    std::vector<std::string> parts = absl::StrSplit(m->code, '.');
    if (parts.size() != 5) continue;
    if (topics.empty() || topics.back() != parts[2]) topics.push_back(parts[2]);
  }
  return topics;
}

// "Covid-19 outbreak management in the workplace", from the label of the
// topic's first measure (the part before ": ").
std::string TopicLabel(const Catalogue& catalogue, const std::string& topic) {
  const Measure* m = catalogue.Find(
      absl::StrCat(kCovid, ".", topic, ".", kLevels[0].code, ".host"));
  if (m == nullptr) return topic;
  std::string label = m->label.substr(0, m->label.find(": "));
  if (!label.empty() && label[0] >= 'a' && label[0] <= 'z') label[0] -= 32;
  return label;
}

Table CovidTable(const PageContext& ctx, const Answers& a) {
  const Catalogue& catalogue = ctx.source.catalogue();
  Table table;
  table.id = "covid";
  table.caption = absl::StrCat(
      "Involvement of OH services in the trust-wide Covid-19 response, ",
      ctx.registry.NameOf(ctx.scope), ", ", ctx.period.ToString());
  table.columns.push_back({"Topic", false});
  for (const Level& level : kLevels) {
    for (const Level& where : kWheres) {
      table.columns.push_back({absl::StrCat(level.header, ", ", where.header),
                               /*numeric=*/true});
    }
  }
  const std::string unit = UnitKey(ctx.scope);
  for (const std::string& topic : CovidTopics(catalogue)) {
    std::vector<Cell> row = {TextCell(TopicLabel(catalogue, topic))};
    for (const Level& level : kLevels) {
      for (const Level& where : kWheres) {
        row.push_back(YesOfAnswered(a, unit,
                                    absl::StrCat(kCovid, ".", topic, ".",
                                                 level.code, ".", where.code)));
      }
    }
    table.rows.push_back(std::move(row));
  }
  table.note =
      "Services answering yes of those that answered, as in the survey's "
      "Table 2; each service's answer for the latest year of the period.";
  return table;
}

// Every other yes/no profile question: host type, reporting line, and the
// survey's service questions.
Table ProfileTable(const PageContext& ctx, const Answers& a) {
  const Catalogue& catalogue = ctx.source.catalogue();
  Table table;
  table.id = "profile";
  table.caption =
      absl::StrCat("OH service profile, ", ctx.registry.NameOf(ctx.scope), ", ",
                   ctx.period.ToString());
  table.columns = {{"Question", false},
                   {"Services answering yes", true},
                   {"Services answering", true},
                   {"Per cent yes", true}};
  const std::string unit = UnitKey(ctx.scope);
  for (const Measure* m : catalogue.WithPrefix("profile")) {
    if (!m->is_yes_no() || MeasureHasPrefix(m->code, kCovid)) continue;
    const v1::Row* answered = a.Find(unit, m->code, "answered");
    table.rows.push_back(
        {TextCell(m->label), FigureCell(a.Find(unit, m->code, "yes"), 0),
         FigureCell(answered, 0), FigureCell(a.Find(unit, m->code, "pct"), 0)});
  }
  return table;
}

}  // namespace

absl::StatusOr<Section> CovidSection(const PageContext& ctx) {
  absl::StatusOr<Answers> answers =
      Ask(ctx, ctx.scope, ctx.period, ctx.scope.level, "profile",
          {"yes", "answered", "pct"});
  if (!answers.ok()) return answers.status();
  Section section;
  section.id = "covid";
  section.heading = "Service profile and Covid-19 involvement";
  section.intro =
      "The annual service return: how services are hosted and run, and how "
      "far they were involved in their trust's Covid-19 response (the "
      "survey's Table 2).";
  section.tables.push_back(CovidTable(ctx, *answers));
  section.tables.push_back(ProfileTable(ctx, *answers));
  return section;
}

}  // namespace ohfed::dashboard::internal
