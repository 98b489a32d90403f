#include "agent/store.h"

#include <rocksdb/write_batch.h>

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "agent/outliers.h"
#include "agent/overrides.h"
#include "agent/summary.h"
#include "agent/values.h"
#include "common/period.h"
#include "common/rocksdb_util.h"
#include "common/status.h"

namespace ohfed::agent {
namespace {

constexpr absl::string_view kSumPrefix = "sum/";
constexpr absl::string_view kAckPrefix = "ack/";
constexpr absl::string_view kHoldPrefix = "hold/";
constexpr Source kSources[] = {Source::kStaffing, Source::kActivity,
                               Source::kProfile, Source::kManual};
// Bounds what a malformed period echoes back.
constexpr size_t kMaxEchoedPeriod = 24;
constexpr absl::string_view kLastAckKey = "meta/last_ack_ms";

std::string RawKey(const std::string& period, Source source) {
  return absl::StrCat("raw/", period, "/", SourceName(source));
}
std::string SumKey(const std::string& period) {
  return absl::StrCat(kSumPrefix, period);
}
std::string AckKey(const std::string& period) {
  return absl::StrCat(kAckPrefix, period);
}
std::string HoldKey(const std::string& period) {
  return absl::StrCat(kHoldPrefix, period);
}

bool IsMonth(const std::string& period) { return period.size() == 7; }

// A period the agent keeps: exactly "YYYY-MM", or "YYYY" for the profile.
absl::Status CheckLocalPeriod(const std::string& period) {
  absl::StatusOr<Period> p = Period::Parse(period);
  std::string why = "expected YYYY-MM, or YYYY for the annual profile";
  if (p.ok() && p->ToString() == period &&
      (p->kind() == Period::Kind::kMonth || p->kind() == Period::Kind::kYear)) {
    return absl::OkStatus();
  }
  if (!p.ok()) {
    // Period's message quotes the text; keep only its reason.
    absl::string_view m = p.status().message();
    size_t quote = m.find("': ");
    if (quote != absl::string_view::npos) {
      why = std::string(m.substr(quote + 3));
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "invalid period '", period.substr(0, kMaxEchoedPeriod), "': ", why));
}

// Years sort after their months: "2026" -> "2026-~" ('~' > any digit).
std::string DisplayKey(const std::string& period) {
  return IsMonth(period) ? period : period + "-~";
}

std::vector<std::string> Codes(const Answers& answers) {
  std::vector<std::string> out;
  for (const auto& [code, value] : answers) out.push_back(code);
  return out;
}

// Why a period is held, bounded: the first warning and how many more.
std::string HoldReason(const std::string& period,
                       const std::vector<std::string>& warnings) {
  std::string first = warnings.front().substr(0, 200);
  return absl::StrCat(
      "outlier warning: ", first,
      warnings.size() > 1
          ? absl::StrCat(" (and ", warnings.size() - 1, " more)")
          : "",
      "; check, then `ohfed confirm ", period, "` to send");
}

std::string CellBytes(const v1::UnitSummary& s) {
  v1::UnitSummary cells_only;
  *cells_only.mutable_cells() = s.cells();
  return cells_only.SerializeAsString();
}

std::string EncodeMarks(uint64_t acked, uint64_t rejected,
                        const std::string& reason) {
  return nlohmann::json{{"acked", acked}, {"rejected", rejected},
                        {"reason", reason}}.dump();
}

// periods.find(period), or kNotFound naming the period.
template <class Map>
auto FindPeriod(Map& periods, const std::string& period)
    -> absl::StatusOr<decltype(periods.begin())> {
  auto it = periods.find(period);
  if (it == periods.end()) {
    return absl::NotFoundError(
        absl::StrCat("no data for period '", period, "'"));
  }
  return it;
}

// Checks a period's form against the measure's frequency and the clock.
absl::Status CheckPeriodFor(const Target& target, const std::string& period,
                            Month now) {
  OHFED_RETURN_IF_ERROR(CheckLocalPeriod(period));
  if (target.frequency == Frequency::kYear) {
    int year = 0;
    if (period.size() != 4 || !absl::SimpleAtoi(period, &year)) {
      return absl::InvalidArgumentError(absl::StrCat(
          target.code, " is annual: give the period as a year, e.g. 2026"));
    }
    if (year > now.year()) {
      return absl::InvalidArgumentError(absl::StrCat(period, " is in the future"));
    }
    return absl::OkStatus();
  }
  absl::StatusOr<Month> m = Month::Parse(period);
  if (!m.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        target.code, " is monthly: give the period as YYYY-MM, e.g. 2026-03"));
  }
  if (*m > now) {
    return absl::InvalidArgumentError(absl::StrCat(period, " is in the future"));
  }
  return absl::OkStatus();
}

}  // namespace

bool AgentStore::PeriodInfo::pending(Month current) const {
  if (!unacked() || rejected == summary.revision() || !held.empty()) {
    return false;
  }
  if (!IsMonth(summary.period())) return true;
  absl::StatusOr<Month> m = Month::Parse(summary.period());
  return m.ok() && *m < current;
}

// One change being assembled: raw values written so far (read back before
// the commit), the periods' new index entries and the batch itself.
struct AgentStore::Staged {
  std::map<std::string, std::string> raw;
  std::map<std::string, PeriodInfo> periods;
  std::set<std::string> touched;
  rocksdb::WriteBatch batch;
};

absl::StatusOr<std::unique_ptr<AgentStore>> AgentStore::Open(
    StoreOptions options) {
  auto db = OpenDb(options.dir, DbFootprint::kSmall);
  if (!db.ok()) return db.status();
  std::unique_ptr<AgentStore> store(
      new AgentStore(std::move(options), std::move(*db)));
  OHFED_RETURN_IF_ERROR(store->Load());
  return store;
}

absl::Status AgentStore::Load() {
  absl::MutexLock l(&mu_);
  OHFED_RETURN_IF_ERROR(ScanPrefix(
      db_.get(), kSumPrefix,
      [&](absl::string_view key, absl::string_view v) ABSL_NO_THREAD_SAFETY_ANALYSIS {
        std::string period(key.substr(kSumPrefix.size()));
        if (!periods_[period].summary.ParseFromArray(v.data(),
                                                     static_cast<int>(v.size()))) {
          return absl::DataLossError(absl::StrCat("corrupt summary of ", period));
        }
        return absl::OkStatus();
      }));
  OHFED_RETURN_IF_ERROR(ScanPrefix(
      db_.get(), kAckPrefix,
      [&](absl::string_view key, absl::string_view v) ABSL_NO_THREAD_SAFETY_ANALYSIS {
        std::string period(key.substr(kAckPrefix.size()));
        auto j = nlohmann::json::parse(v.begin(), v.end(), nullptr, false);
        auto it = periods_.find(period);
        if (j.is_discarded() || !j.is_object()) {
          return absl::DataLossError(absl::StrCat("corrupt marks of ", period));
        }
        if (it == periods_.end()) return absl::OkStatus();
        it->second.acked = j.value("acked", uint64_t{0});
        it->second.rejected = j.value("rejected", uint64_t{0});
        it->second.reason = j.value("reason", std::string());
        return absl::OkStatus();
      }));
  OHFED_RETURN_IF_ERROR(ScanPrefix(
      db_.get(), kHoldPrefix,
      [&](absl::string_view key,
          absl::string_view v) ABSL_NO_THREAD_SAFETY_ANALYSIS {
        auto it = periods_.find(std::string(key.substr(kHoldPrefix.size())));
        if (it != periods_.end()) it->second.held = std::string(v);
        return absl::OkStatus();
      }));
  for (auto& [period, info] : periods_) {
    absl::StatusOr<std::string> manual =
        GetValue(db_.get(), RawKey(period, Source::kManual));
    if (absl::IsNotFound(manual.status())) continue;
    if (!manual.ok()) return manual.status();
    OHFED_ASSIGN_OR_RETURN(Answers answers, DecodeAnswers(*manual));
    info.manual = Codes(answers);
  }
  absl::StatusOr<std::string> last = GetValue(db_.get(), kLastAckKey);
  if (last.ok()) (void)absl::SimpleAtoi(*last, &last_ack_ms_);
  return absl::OkStatus();
}

absl::StatusOr<std::string> AgentStore::ReadRaw(Staged& st,
                                                const std::string& key) {
  auto staged = st.raw.find(key);
  if (staged != st.raw.end()) return staged->second;
  absl::StatusOr<std::string> v = GetValue(db_.get(), key);
  if (absl::IsNotFound(v.status())) return std::string();
  return v;
}

absl::StatusOr<PeriodRecords> AgentStore::LoadRecords(
    Staged& st, const std::string& period) {
  PeriodRecords r;
  OHFED_ASSIGN_OR_RETURN(std::string staffing,
                         ReadRaw(st, RawKey(period, Source::kStaffing)));
  OHFED_ASSIGN_OR_RETURN(std::string activity,
                         ReadRaw(st, RawKey(period, Source::kActivity)));
  OHFED_ASSIGN_OR_RETURN(std::string profile,
                         ReadRaw(st, RawKey(period, Source::kProfile)));
  OHFED_ASSIGN_OR_RETURN(std::string manual,
                         ReadRaw(st, RawKey(period, Source::kManual)));
  if (!staffing.empty()) {
    OHFED_ASSIGN_OR_RETURN(r.staffing, DecodeStaffing(staffing));
  }
  if (!activity.empty()) {
    OHFED_ASSIGN_OR_RETURN(r.activity, DecodeActivity(activity));
  }
  if (!profile.empty()) { OHFED_ASSIGN_OR_RETURN(r.profile, DecodeAnswers(profile)); }
  if (!manual.empty()) { OHFED_ASSIGN_OR_RETURN(r.manual, DecodeAnswers(manual)); }
  return r;
}

// Recomputes one period from its raw records; stages a new revision only if
// the cells differ from the current summary.
absl::Status AgentStore::Recompute(Staged& st, const std::string& period) {
  OHFED_ASSIGN_OR_RETURN(PeriodRecords records, LoadRecords(st, period));
  absl::StatusOr<std::vector<v1::Cell>> cells =
      ComputeCells(*options_.catalogue, records);
  if (!cells.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(period, ": ", cells.status().message()));
  }
  OHFED_RETURN_IF_ERROR(CheckOverrides(period, records, *cells));
  PeriodInfo info;
  if (const PeriodInfo* old = Find(st, period)) info = *old;
  if (info.summary.revision() == 0 && cells->empty()) return absl::OkStatus();
  const std::vector<std::string> manual = Codes(records.manual);
  v1::UnitSummary next;
  next.set_period(period);
  for (v1::Cell& c : *cells) *next.add_cells() = std::move(c);
  // Nothing left (the last hand-entered value cleared): withdrawn.
  next.set_retracted(next.cells_size() == 0);
  if (info.summary.revision() != 0 &&
      CellBytes(next) == CellBytes(info.summary) &&
      next.retracted() == info.summary.retracted()) {
    if (info.manual != manual) {
      info.manual = manual;
      st.periods[period] = std::move(info);
    }
    return absl::OkStatus();
  }
  info.manual = manual;
  StageRevision(st, period, std::move(info), std::move(next));
  return absl::OkStatus();
}

void AgentStore::StageRevision(Staged& st, const std::string& period,
                               PeriodInfo info, v1::UnitSummary next) {
  const int64_t now_ms = absl::ToUnixMillis(options_.clock->Now());
  next.set_revision(std::max<uint64_t>(info.summary.revision() + 1,
                                       static_cast<uint64_t>(std::max<int64_t>(now_ms, 0))));
  next.set_produced_unix_ms(now_ms);
  next.set_catalogue_version(options_.catalogue->version());
  info.summary = std::move(next);
  st.batch.Put(SumKey(period), info.summary.SerializeAsString());
  st.periods[period] = std::move(info);
}

void AgentStore::StageHold(Staged& st, const std::string& period,
                           std::string reason) {
  PeriodInfo info = *Find(st, period);
  if (reason.empty()) {
    st.batch.Delete(HoldKey(period));
  } else {
    st.batch.Put(HoldKey(period), reason);
  }
  info.held = std::move(reason);
  st.periods[period] = std::move(info);
}

const AgentStore::PeriodInfo* AgentStore::Find(
    const Staged& st, const std::string& period) const {
  if (auto it = st.periods.find(period); it != st.periods.end()) {
    return &it->second;
  }
  if (auto it = periods_.find(period); it != periods_.end()) return &it->second;
  return nullptr;
}

std::vector<v1::RowProblem> AgentStore::Outliers(const Staged& st,
                                                 PeriodWarnings* flagged) {
  std::map<std::string, const v1::UnitSummary*> view;
  for (const auto& [p, info] : periods_) view[p] = &info.summary;
  for (const auto& [p, info] : st.periods) view[p] = &info.summary;
  std::vector<v1::RowProblem> out;
  for (const auto& [period, info] : st.periods) {
    if (!IsMonth(period)) continue;
    std::vector<const v1::UnitSummary*> earlier;
    for (const auto& [p, s] : view) {
      if (IsMonth(p) && p < period) earlier.push_back(s);
    }
    // Only cells this change altered: an activity import must not repeat
    // warnings about staffing figures of the same month.
    v1::UnitSummary changed = info.summary;
    changed.clear_cells();
    std::map<std::string, double> before;
    if (auto it = periods_.find(period); it != periods_.end()) {
      for (const v1::Cell& c : it->second.summary.cells()) before[c.measure()] = c.value();
    }
    for (const v1::Cell& c : info.summary.cells()) {
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

absl::Status AgentStore::Commit(Staged& st) {
  if (st.batch.Count() == 0) return absl::OkStatus();
  OHFED_RETURN_IF_ERROR(WriteSynced(db_.get(), &st.batch));
  for (auto& [period, info] : st.periods) periods_[period] = std::move(info);
  return absl::OkStatus();
}

// Merges answers into one raw answers record (profile or manual).
absl::Status AgentStore::StageAnswers(const std::string& key,
                                      const Answers& answers, Staged& st,
                                      ImportOutcome* out) {
  OHFED_ASSIGN_OR_RETURN(std::string old_bytes, ReadRaw(st, key));
  Answers merged;
  if (!old_bytes.empty()) { OHFED_ASSIGN_OR_RETURN(merged, DecodeAnswers(old_bytes)); }
  bool changed = false;
  for (const auto& [code, value] : answers) {
    auto it = merged.find(code);
    bool same = it != merged.end() && it->second == value;
    if (out) ++(same ? out->rows_unchanged : out->rows_imported);
    if (!same) merged[code] = value, changed = true;
  }
  if (!changed) return absl::OkStatus();
  std::string bytes = EncodeAnswers(merged);
  st.batch.Put(key, bytes);
  st.raw[key] = std::move(bytes);
  return absl::OkStatus();
}

absl::Status AgentStore::StageImportRows(const ParsedImport& parsed,
                                         Staged& st, ImportOutcome& out) {
  // Staffing and activity: the file's months replace what is stored.
  auto replace = [&](const std::string& period, Source source, std::string bytes,
                     uint32_t rows) -> absl::Status {
    std::string key = RawKey(period, source);
    OHFED_ASSIGN_OR_RETURN(std::string old_bytes, ReadRaw(st, key));
    if (old_bytes == bytes) {
      out.rows_unchanged += rows;
      return absl::OkStatus();
    }
    out.rows_imported += rows;
    st.batch.Put(key, bytes);
    st.raw[key] = std::move(bytes);
    st.touched.insert(period);
    return absl::OkStatus();
  };
  for (const auto& [period, rows] : parsed.staffing) {
    OHFED_RETURN_IF_ERROR(replace(period, Source::kStaffing,
                                  EncodeStaffing(rows), rows.size()));
  }
  for (const auto& [period, rows] : parsed.activity) {
    OHFED_RETURN_IF_ERROR(replace(period, Source::kActivity,
                                  EncodeActivity(rows), rows.size()));
  }
  for (const auto& [year, answers] : parsed.profile) {
    OHFED_RETURN_IF_ERROR(
        StageAnswers(RawKey(year, Source::kProfile), answers, st, &out));
    st.touched.insert(year);
  }
  return absl::OkStatus();
}

absl::StatusOr<ImportOutcome> AgentStore::ApplyImport(
    const ParsedImport& parsed, bool accept_outliers) {
  absl::MutexLock l(&mu_);
  Staged st;
  ImportOutcome out;
  OHFED_RETURN_IF_ERROR(StageImportRows(parsed, st, out));
  for (const std::string& period : st.touched) {
    OHFED_RETURN_IF_ERROR(Recompute(st, period));
  }
  for (const auto& [period, info] : st.periods) {
    auto old = periods_.find(period);
    if (old == periods_.end() ||
        old->second.summary.revision() != info.summary.revision()) {
      out.periods_changed.push_back(period);
    }
  }
  PeriodWarnings flagged;
  out.warnings = Outliers(st, &flagged);
  for (const std::string& period : st.touched) {
    OHFED_ASSIGN_OR_RETURN(PeriodRecords records, LoadRecords(st, period));
    for (v1::RowProblem& w :
         HiddenImports(*options_.catalogue, period, records)) {
      out.warnings.push_back(std::move(w));
    }
  }
  for (const std::string& period : out.periods_changed) {
    const PeriodInfo& info = *Find(st, period);
    auto warnings = flagged.find(period);
    if (warnings != flagged.end() && !accept_outliers) {
      StageHold(st, period, HoldReason(period, warnings->second));
      out.periods_held.push_back(period);
    } else if (accept_outliers && !info.held.empty()) {
      StageHold(st, period, "");
    }
  }
  OHFED_RETURN_IF_ERROR(Commit(st));
  return out;
}

absl::StatusOr<v1::SetValueResponse> AgentStore::SetValue(
    const std::string& period, const std::string& code,
    const std::string& value) {
  OHFED_ASSIGN_OR_RETURN(Target target,
                         ResolveTarget(*options_.catalogue, code));
  OHFED_RETURN_IF_ERROR(
      CheckPeriodFor(target, period, Month::Containing(options_.clock->Now())));
  absl::StatusOr<std::vector<v1::Cell>> cells =
      CellsForValue(*options_.catalogue, target, value);
  if (!cells.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(code, ": ", cells.status().message()));
  }
  absl::MutexLock l(&mu_);
  Staged st;
  OHFED_RETURN_IF_ERROR(StageAnswers(RawKey(period, Source::kManual),
                                     {{target.code, value}}, st, nullptr));
  OHFED_RETURN_IF_ERROR(Recompute(st, period));
  v1::SetValueResponse response;
  for (v1::RowProblem& w : Outliers(st)) *response.add_warnings() = std::move(w);
  OHFED_RETURN_IF_ERROR(Commit(st));
  response.set_revision(periods_.at(period).summary.revision());
  return response;
}

absl::StatusOr<PeriodChange> AgentStore::UnsetValue(const std::string& period,
                                                    const std::string& code) {
  OHFED_RETURN_IF_ERROR(CheckLocalPeriod(period));
  absl::MutexLock l(&mu_);
  OHFED_ASSIGN_OR_RETURN(auto it, FindPeriod(periods_, period));
  PeriodChange change{.revision = it->second.summary.revision()};
  // Set values are stored under the catalogue's spelling of the code.
  absl::StatusOr<Target> target = ResolveTarget(*options_.catalogue, code);
  if (absl::IsNotFound(target.status())) return target.status();
  const std::string canonical = target.ok() ? target->code : code;
  const std::vector<std::string>& manual = it->second.manual;
  if (std::find(manual.begin(), manual.end(), canonical) == manual.end()) {
    return change;  // a known code that was not set by hand
  }
  Staged st;
  const std::string key = RawKey(period, Source::kManual);
  OHFED_ASSIGN_OR_RETURN(std::string bytes, ReadRaw(st, key));
  OHFED_ASSIGN_OR_RETURN(Answers answers, DecodeAnswers(bytes));
  answers.erase(canonical);
  std::string next = answers.empty() ? std::string() : EncodeAnswers(answers);
  if (answers.empty()) {
    st.batch.Delete(key);
  } else {
    st.batch.Put(key, next);
  }
  st.raw[key] = std::move(next);
  OHFED_RETURN_IF_ERROR(Recompute(st, period));
  OHFED_RETURN_IF_ERROR(Commit(st));
  change.revision = periods_.at(period).summary.revision();
  change.changed = true;
  return change;
}

absl::StatusOr<PeriodChange> AgentStore::Retract(const std::string& period) {
  OHFED_RETURN_IF_ERROR(CheckLocalPeriod(period));
  absl::MutexLock l(&mu_);
  OHFED_ASSIGN_OR_RETURN(auto it, FindPeriod(periods_, period));
  if (it->second.summary.retracted()) {
    return PeriodChange{.revision = it->second.summary.revision()};
  }
  Staged st;
  for (Source source : kSources) st.batch.Delete(RawKey(period, source));
  st.batch.Delete(HoldKey(period));
  PeriodInfo info = it->second;
  info.held.clear();
  info.manual.clear();
  v1::UnitSummary next;
  next.set_period(period);
  next.set_retracted(true);
  StageRevision(st, period, std::move(info), std::move(next));
  OHFED_RETURN_IF_ERROR(Commit(st));
  return PeriodChange{.revision = periods_.at(period).summary.revision(),
                      .changed = true};
}

absl::StatusOr<PeriodChange> AgentStore::Confirm(const std::string& period) {
  OHFED_RETURN_IF_ERROR(CheckLocalPeriod(period));
  absl::MutexLock l(&mu_);
  OHFED_ASSIGN_OR_RETURN(auto it, FindPeriod(periods_, period));
  PeriodChange change{.revision = it->second.summary.revision()};
  if (it->second.held.empty()) return change;
  Staged st;
  StageHold(st, period, "");
  OHFED_RETURN_IF_ERROR(Commit(st));
  change.changed = true;
  return change;
}

v1::UnitSummary AgentStore::Stamped(const v1::UnitSummary& s) const {
  v1::UnitSummary out = s;
  out.set_trust(options_.trust);
  return out;
}

absl::StatusOr<v1::UnitSummary> AgentStore::Summary(
    const std::string& period) const {
  OHFED_RETURN_IF_ERROR(CheckLocalPeriod(period));
  absl::MutexLock l(&mu_);
  OHFED_ASSIGN_OR_RETURN(auto it, FindPeriod(periods_, period));
  return Stamped(it->second.summary);
}

std::vector<v1::PeriodState> AgentStore::States() const {
  absl::MutexLock l(&mu_);
  const Month current = CurrentMonth();
  std::map<std::string, v1::PeriodState> by_key;
  for (const auto& [period, info] : periods_) {
    v1::PeriodState s;
    s.set_period(period);
    s.set_revision(info.summary.revision());
    s.set_acked_revision(info.acked);
    s.set_measures(info.summary.cells_size());
    s.set_retracted(info.summary.retracted());
    for (const std::string& code : info.manual) s.add_manual(code);
    if (!info.unacked()) {
      s.set_state("current");
    } else if (!info.held.empty()) {
      s.set_state("held");
      s.set_reason(info.held);
    } else if (info.rejected == info.summary.revision()) {
      s.set_state("rejected");
      s.set_reason(info.reason);
    } else if (!info.pending(current)) {
      s.set_state("open");
      s.set_reason("the month has not ended; sent once it has");
    } else {
      s.set_state("pending");
    }
    // A note such as a reassertion (a reason with no rejected revision).
    if (s.reason().empty() && info.rejected == 0) s.set_reason(info.reason);
    auto up = upstream_.find(period);
    if (up != upstream_.end() && up->second.first == info.summary.revision()) {
      s.set_upstream_reason(up->second.second);
    }
    by_key[DisplayKey(period)] = std::move(s);
  }
  std::vector<v1::PeriodState> out;
  for (auto& [key, s] : by_key) out.push_back(std::move(s));
  return out;
}

absl::Time AgentStore::last_ack() const {
  absl::MutexLock l(&mu_);
  return last_ack_ms_ == 0 ? absl::InfinitePast()
                           : absl::FromUnixMillis(last_ack_ms_);
}

bool AgentStore::DrainedLocked() const {
  const Month current = CurrentMonth();
  return std::none_of(periods_.begin(), periods_.end(), [&](const auto& kv) {
    return kv.second.pending(current);
  });
}

bool AgentStore::AwaitDrained(absl::Duration timeout) {
  absl::MutexLock l(&mu_);
  auto done = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return waits_cancelled_ || DrainedLocked();
  };
  mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
  return DrainedLocked();
}

bool AgentStore::waits_cancelled() const {
  absl::MutexLock l(&mu_);
  return waits_cancelled_;
}

void AgentStore::CancelWaits() {
  absl::MutexLock l(&mu_);
  waits_cancelled_ = true;
}

absl::StatusOr<std::vector<v1::UnitSummary>> AgentStore::Pending(size_t max) {
  absl::MutexLock l(&mu_);
  const Month current = CurrentMonth();
  std::vector<const v1::UnitSummary*> due;
  for (const auto& [period, info] : periods_) {
    if (info.pending(current)) due.push_back(&info.summary);
  }
  // Oldest change first.
  std::sort(due.begin(), due.end(), [](const auto* a, const auto* b) {
    return a->produced_unix_ms() < b->produced_unix_ms();
  });
  std::vector<v1::UnitSummary> out;
  for (size_t i = 0; i < due.size() && i < max; ++i) out.push_back(Stamped(*due[i]));
  return out;
}

absl::Status AgentStore::OnAcks(const std::vector<v1::Ack>& acks) {
  absl::MutexLock l(&mu_);
  std::map<std::string, PeriodInfo> next;
  std::set<std::string> reasserted;
  for (const v1::Ack& ack : acks) {
    auto it = periods_.find(ack.period());
    if (ack.trust() != options_.trust || it == periods_.end()) continue;
    auto [slot, fresh] = next.try_emplace(ack.period(), it->second);
    PeriodInfo& info = slot->second;
    if (ack.outcome() == v1::OUTCOME_REJECTED) {
      // A reason only matters for the revision it was given for.
      if (ack.revision() != info.summary.revision()) continue;
      if (info.rejected != ack.revision()) {
        LogLine(absl::StrCat("aggregator rejected ", ack.period(), " revision ",
                             ack.revision(), ": ", ack.reason()));
      }
      info.rejected = ack.revision();
      info.reason = ack.reason();
    } else if (ack.outcome() == v1::OUTCOME_STALE &&
               ack.revision() == info.summary.revision() &&
               ack.held_revision() > ack.revision()) {
      // The aggregator holds a newer revision than this agent ever made:
      // this agent's data is the trust's, so it goes above that revision.
      info.reason = absl::StrCat(
          "the aggregator held revision ", ack.held_revision(),
          ", newer than this agent's ", ack.revision(),
          " (restored backup or clock gone back?); resent as revision ",
          ack.held_revision() + 1);
      LogLine(absl::StrCat(ack.period(), ": ", info.reason));
      info.rejected = 0;
      info.summary.set_revision(ack.held_revision() + 1);
      info.summary.set_produced_unix_ms(
          absl::ToUnixMillis(options_.clock->Now()));
      reasserted.insert(ack.period());
    } else if (ack.outcome() == v1::OUTCOME_ACCEPTED ||
               ack.outcome() == v1::OUTCOME_STALE) {
      info.acked = std::max(info.acked, ack.revision());
      if (info.rejected != 0 && info.acked >= info.rejected) {
        info.reason.clear();
        info.rejected = 0;
      }
    }
  }
  if (acks.empty()) return absl::OkStatus();
  rocksdb::WriteBatch batch;
  for (const std::string& period : reasserted) {
    batch.Put(SumKey(period), next.at(period).summary.SerializeAsString());
  }
  for (const auto& [period, info] : next) {
    batch.Put(AckKey(period), EncodeMarks(info.acked, info.rejected, info.reason));
  }
  const int64_t now_ms = absl::ToUnixMillis(options_.clock->Now());
  batch.Put(std::string(kLastAckKey), absl::StrCat(now_ms));
  OHFED_RETURN_IF_ERROR(WriteSynced(db_.get(), &batch));
  last_ack_ms_ = now_ms;
  for (auto& [period, info] : next) periods_[period] = std::move(info);
  return absl::OkStatus();
}

absl::Status AgentStore::OnUpstreamFeedback(const std::vector<v1::Ack>& refused) {
  absl::MutexLock l(&mu_);
  upstream_.clear();
  for (const v1::Ack& ack : refused) {
    if (ack.trust() != options_.trust) continue;
    if (ack.outcome() != v1::OUTCOME_REJECTED) continue;
    upstream_[ack.period()] = {ack.revision(), ack.reason()};
  }
  return absl::OkStatus();
}

}  // namespace ohfed::agent
