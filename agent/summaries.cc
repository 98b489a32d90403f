#include "agent/summaries.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "agent/outliers.h"
#include "agent/overrides.h"
#include "agent/store_format.h"
#include "agent/summary.h"
#include "common/period.h"
#include "common/rocksdb_util.h"
#include "common/status.h"
#include "ohfed/agent_store/v1/agent_store.pb.h"

namespace ohfed::agent {
namespace {

namespace pb = ::ohfed::agent_store::v1;

std::string SumKey(const std::string& period) {
  return absl::StrCat(kSumPrefix, period);
}
std::string HoldKey(const std::string& period) {
  return absl::StrCat(kHoldPrefix, period);
}

std::string CellBytes(const v1::UnitSummary& s) {
  v1::UnitSummary cells_only;
  *cells_only.mutable_cells() = s.cells();
  return cells_only.SerializeAsString();
}

}  // namespace

bool IsMonthPeriod(const std::string& period) {
  absl::StatusOr<Period> p = Period::Parse(period);
  return p.ok() && p->kind() == Period::Kind::kMonth;
}

std::string Summaries::HoldReason(const std::string& period,
                                  const std::vector<std::string>& warnings) {
  std::string first = warnings.front().substr(0, 200);
  return absl::StrCat(
      "outlier warning: ", first,
      warnings.size() > 1
          ? absl::StrCat(" (and ", warnings.size() - 1, " more)")
          : "",
      "; check, then `ohfed confirm ", period, "` to send");
}

absl::Status Summaries::Load(
    std::map<std::string, std::vector<std::string>> manual) {
  periods_.clear();
  OHFED_RETURN_IF_ERROR(ScanPrefix(
      db_, kSumPrefix, [&](absl::string_view key, absl::string_view v) {
        std::string period(key.substr(kSumPrefix.size()));
        if (!periods_[period].summary.ParseFromArray(
                v.data(), static_cast<int>(v.size()))) {
          return absl::DataLossError(
              absl::StrCat("corrupt summary of ", period));
        }
        return absl::OkStatus();
      }));
  OHFED_RETURN_IF_ERROR(ScanPrefix(
      db_, kHoldPrefix, [&](absl::string_view key, absl::string_view v) {
        std::string period(key.substr(kHoldPrefix.size()));
        pb::Hold hold;
        if (!hold.ParseFromArray(v.data(), static_cast<int>(v.size()))) {
          return absl::DataLossError(absl::StrCat("corrupt hold of ", period));
        }
        auto it = periods_.find(period);
        if (it != periods_.end()) it->second.held = hold.reason();
        return absl::OkStatus();
      }));
  for (auto& [period, codes] : manual) {
    auto it = periods_.find(period);
    if (it != periods_.end()) it->second.manual = std::move(codes);
  }
  return absl::OkStatus();
}

const PeriodSummary* Summaries::Find(const std::string& period,
                                     const Staged* st) const {
  if (st != nullptr) {
    if (auto it = st->periods.find(period); it != st->periods.end()) {
      return &it->second;
    }
  }
  if (auto it = periods_.find(period); it != periods_.end()) return &it->second;
  return nullptr;
}

absl::Status Summaries::Recompute(const std::string& period,
                                  const PeriodRecords& records,
                                  Staged& st) const {
  absl::StatusOr<std::vector<v1::Cell>> cells =
      ComputeCells(*catalogue_, records);
  if (!cells.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(period, ": ", cells.status().message()));
  }
  OHFED_RETURN_IF_ERROR(CheckOverrides(period, records, *cells));
  PeriodSummary entry;
  if (const PeriodSummary* old = Find(period, &st)) entry = *old;
  if (entry.summary.revision() == 0 && cells->empty()) return absl::OkStatus();
  const std::vector<std::string> manual = AnswerCodes(records.manual);
  v1::UnitSummary next;
  next.set_period(period);
  for (v1::Cell& c : *cells) *next.add_cells() = std::move(c);
  // Nothing left (the last hand-entered value cleared): withdrawn.
  next.set_retracted(next.cells_size() == 0);
  if (entry.summary.revision() != 0 &&
      CellBytes(next) == CellBytes(entry.summary) &&
      next.retracted() == entry.summary.retracted()) {
    if (entry.manual != manual) {
      entry.manual = manual;
      st.periods[period] = std::move(entry);
    }
    return absl::OkStatus();
  }
  entry.manual = manual;
  StageRevision(period, std::move(entry), std::move(next), st);
  return absl::OkStatus();
}

void Summaries::StageRevision(const std::string& period, PeriodSummary entry,
                              v1::UnitSummary next, Staged& st) const {
  const int64_t now_ms = absl::ToUnixMillis(clock_->Now());
  next.set_revision(
      std::max<uint64_t>(entry.summary.revision() + 1,
                         static_cast<uint64_t>(std::max<int64_t>(now_ms, 0))));
  next.set_produced_unix_ms(now_ms);
  next.set_catalogue_version(catalogue_->version());
  entry.summary = std::move(next);
  st.batch->Put(SumKey(period), entry.summary.SerializeAsString());
  st.periods[period] = std::move(entry);
}

void Summaries::StageRetraction(const std::string& period, Staged& st) const {
  PeriodSummary entry = *Find(period, &st);
  if (!entry.held.empty()) st.batch->Delete(HoldKey(period));
  entry.held.clear();
  entry.manual.clear();
  v1::UnitSummary next;
  next.set_period(period);
  next.set_retracted(true);
  StageRevision(period, std::move(entry), std::move(next), st);
}

void Summaries::StageHold(const std::string& period, std::string reason,
                          Staged& st) const {
  PeriodSummary entry = *Find(period, &st);
  if (reason.empty()) {
    st.batch->Delete(HoldKey(period));
  } else {
    pb::Hold hold;
    hold.set_reason(reason);
    st.batch->Put(HoldKey(period), hold.SerializeAsString());
  }
  entry.held = std::move(reason);
  st.periods[period] = std::move(entry);
}

void Summaries::StageReassertion(const std::string& period, uint64_t revision,
                                 Staged& st) const {
  PeriodSummary entry = *Find(period, &st);
  entry.summary.set_revision(revision);
  entry.summary.set_produced_unix_ms(absl::ToUnixMillis(clock_->Now()));
  st.batch->Put(SumKey(period), entry.summary.SerializeAsString());
  st.periods[period] = std::move(entry);
}

std::vector<v1::RowProblem> Summaries::Outliers(const Staged& st,
                                                PeriodWarnings* flagged) const {
  std::map<std::string, const v1::UnitSummary*> view;
  for (const auto& [p, entry] : periods_) view[p] = &entry.summary;
  for (const auto& [p, entry] : st.periods) view[p] = &entry.summary;
  std::vector<v1::RowProblem> out;
  for (const auto& [period, entry] : st.periods) {
    if (!IsMonthPeriod(period)) continue;
    std::vector<const v1::UnitSummary*> earlier;
    for (const auto& [p, s] : view) {
      if (IsMonthPeriod(p) && p < period) earlier.push_back(s);
    }
    // Only cells this change altered: an activity import must not repeat
    // warnings about staffing figures of the same month.
    v1::UnitSummary changed = entry.summary;
    changed.clear_cells();
    std::map<std::string, double> before;
    if (auto it = periods_.find(period); it != periods_.end()) {
      for (const v1::Cell& c : it->second.summary.cells()) {
        before[c.measure()] = c.value();
      }
    }
    for (const v1::Cell& c : entry.summary.cells()) {
      auto b = before.find(c.measure());
      if (b == before.end() || b->second != c.value()) *changed.add_cells() = c;
    }
    for (v1::RowProblem& w : OutlierWarnings(changed, earlier)) {
      if (flagged != nullptr) (*flagged)[period].push_back(w.reason());
      out.push_back(std::move(w));
    }
  }
  return out;
}

void Summaries::Apply(Staged& st) {
  for (auto& [period, entry] : st.periods) periods_[period] = std::move(entry);
  st.periods.clear();
}

}  // namespace ohfed::agent
