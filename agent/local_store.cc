#include "agent/local_store.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "absl/strings/str_cat.h"
#include "agent/activity_chunks.h"
#include "agent/activity_tally.h"
#include "agent/overrides.h"
#include "agent/store_format.h"
#include "agent/values.h"
#include "common/db_recovery.h"
#include "common/log.h"
#include "common/rocksdb_bulk.h"
#include "common/rocksdb_util.h"
#include "common/status.h"

namespace ohfed::agent {
namespace {

// A month's chunks, written to the import's bulk file.
class BulkSink final : public ChunkSink {
 public:
  explicit BulkSink(BulkWrite* bulk) : bulk_(bulk) {}
  absl::Status Put(absl::string_view key, absl::string_view value) override {
    return bulk_->Put(key, value);
  }
  absl::Status Delete(absl::string_view key) override {
    return bulk_->Delete(key);
  }

 private:
  BulkWrite* const bulk_;
};

// Bounds what a malformed period echoes back.
constexpr size_t kMaxEchoedPeriod = 24;

// A period the agent keeps: exactly "YYYY-MM", or "YYYY" for the profile.
absl::StatusOr<Period> CheckLocalPeriod(const std::string& period) {
  absl::StatusOr<Period> p = Period::Parse(period);
  std::string why = "expected YYYY-MM, or YYYY for the annual profile";
  if (p.ok() && p->ToString() == period &&
      (p->kind() == Period::Kind::kMonth || p->kind() == Period::Kind::kYear)) {
    return p;
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
  return IsMonthPeriod(period) ? period : period + "-~";
}

// The period's entry, or kNotFound naming the period.
absl::StatusOr<const PeriodSummary*> FindPeriod(const Summaries& summaries,
                                                const std::string& period) {
  const PeriodSummary* entry = summaries.Find(period);
  if (entry == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("no data for period '", period, "'"));
  }
  return entry;
}

// Checks a period's form against the measure's frequency and the clock.
absl::Status CheckPeriodFor(const Target& target, const std::string& period,
                            Month now) {
  OHFED_ASSIGN_OR_RETURN(Period p, CheckLocalPeriod(period));
  if (target.frequency == Frequency::kYear) {
    if (p.kind() != Period::Kind::kYear) {
      return absl::InvalidArgumentError(absl::StrCat(
          target.code, " is annual: give the period as a year, e.g. 2026"));
    }
    if (p.first().year() > now.year()) {
      return absl::InvalidArgumentError(
          absl::StrCat(period, " is in the future"));
    }
    return absl::OkStatus();
  }
  if (p.kind() != Period::Kind::kMonth) {
    return absl::InvalidArgumentError(absl::StrCat(
        target.code, " is monthly: give the period as YYYY-MM, e.g. 2026-03"));
  }
  if (p.first() > now) {
    return absl::InvalidArgumentError(
        absl::StrCat(period, " is in the future"));
  }
  return absl::OkStatus();
}

}  // namespace

LocalStore::LocalStore(LocalStoreOptions options, std::unique_ptr<StoreDb> db)
    : options_(std::move(options)),
      staging_dir_(options_.dir + "/import-staging"),
      db_(std::move(db)),
      raw_(db_.get()),
      summaries_(db_.get(), options_.catalogue.get(), options_.clock),
      outbox_(db_.get(), options_.trust, options_.clock) {}

absl::StatusOr<std::unique_ptr<LocalStore>> LocalStore::Open(
    LocalStoreOptions options) {
  DbRecovery found;
  auto db =
      StoreDb::Open(options.dir, DbFootprint::kSmall, options.env, &found);
  if (!db.ok()) return db.status();
  OHFED_RETURN_IF_ERROR(PrepareStoreFormat(db->get(), options.dir));
  const std::string dir = options.dir;
  // What an interrupted import left is of no use.
  const std::string staging = options.dir + "/import-staging";
  std::error_code ec;
  std::filesystem::remove_all(staging, ec);
  std::filesystem::create_directories(staging, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot create import staging directory ", staging, ": ",
                     ec.message()));
  }
  std::unique_ptr<LocalStore> store(
      new LocalStore(std::move(options), std::move(*db)));
  {
    absl::MutexLock l(&store->mu_);
    OHFED_RETURN_IF_ERROR(store->Load());
  }
  if (!found.damaged()) return store;
  std::string done =
      "; the change being written when it was damaged is lost: check "
      "`ohfed status` and import it again if missing";
  if (found.repaired) {
    OHFED_ASSIGN_OR_RETURN(done, store->RebuildSummaries());
  }
  store->recovery_ =
      absl::StrCat("agent store ", dir,
                   " was damaged and recovered: ", found.Describe(), done);
  LogWarning(store->recovery_);
  return store;
}

namespace {

// "2026-01, 2026-02 and 3 more".
std::string FewPeriods(const std::vector<std::string>& periods) {
  constexpr size_t kShown = 6;
  std::string out;
  for (size_t i = 0; i < periods.size() && i < kShown; ++i) {
    absl::StrAppend(&out, i == 0 ? "" : ", ", periods[i]);
  }
  if (periods.size() > kShown) {
    absl::StrAppend(&out, " and ", periods.size() - kShown, " more");
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string> LocalStore::RebuildSummaries() {
  absl::MutexLock l(&mu_);
  OHFED_ASSIGN_OR_RETURN(std::set<std::string> with_records, raw_.Periods());
  std::vector<std::string> kept, rebuilt, failed;
  for (const auto& [period, entry] : summaries_.periods()) {
    if (!with_records.contains(period) && !entry.summary.retracted()) {
      kept.push_back(period);
    }
  }
  Change c;
  for (const std::string& period : with_records) {
    const PeriodSummary* entry = summaries_.Find(period);
    if (entry != nullptr && entry->summary.retracted()) continue;
    const uint64_t before = entry == nullptr ? 0 : entry->summary.revision();
    // A period whose records no longer add up (e.g. a hand-entered value
    // lost) keeps its summary; the manager sees it in the log.
    if (!Recompute(period, c).ok()) {
      failed.push_back(period);
      continue;
    }
    const PeriodSummary* after = summaries_.Find(period, &c.summaries);
    if (after != nullptr && after->summary.revision() != before) {
      rebuilt.push_back(period);
    }
  }
  OHFED_RETURN_IF_ERROR(Commit(c));
  std::string out =
      rebuilt.empty()
          ? std::string("; every summary agrees with its raw records")
          : absl::StrCat("; ", rebuilt.size(),
                         " period summaries rebuilt from raw records (",
                         FewPeriods(rebuilt), "), to be sent again");
  if (!kept.empty()) {
    absl::StrAppend(&out, "; ", kept.size(),
                    " periods kept as last computed, their raw records lost (",
                    FewPeriods(kept), "): import them again");
  }
  if (!failed.empty()) {
    absl::StrAppend(&out, "; ", failed.size(),
                    " periods not rebuilt, their records inconsistent (",
                    FewPeriods(failed), ")");
  }
  return out;
}

absl::Status LocalStore::Load() {
  OHFED_ASSIGN_OR_RETURN(auto manual, raw_.ManualCodes());
  OHFED_RETURN_IF_ERROR(summaries_.Load(std::move(manual)));
  return outbox_.Load();
}

absl::Status LocalStore::Recover() {
  absl::MutexLock l(&mu_);
  return Usable();
}

absl::Status LocalStore::Usable() {
  OHFED_ASSIGN_OR_RETURN(bool reopened, db_->Recover());
  if (!reopened) return absl::OkStatus();
  // What the disk says now, the failed write included if it got there.
  absl::Status loaded = Load();
  if (!loaded.ok()) {
    return absl::Status(loaded.code(),
                        absl::StrCat("reloading the store after it was "
                                     "reopened: ",
                                     loaded.message()));
  }
  return absl::OkStatus();
}

absl::Status LocalStore::Recompute(const std::string& period, Change& c) {
  OHFED_ASSIGN_OR_RETURN(PeriodRecords records,
                         raw_.LoadCounted(period, &c.raw, Tally()));
  return summaries_.Recompute(period, records, c.summaries);
}

absl::Status LocalStore::Commit(Change& c) {
  if (c.batch.Count() == 0) return absl::OkStatus();
  OHFED_RETURN_IF_ERROR(db_->SyncedWrite(&c.batch));
  summaries_.Apply(c.summaries);
  return absl::OkStatus();
}

absl::Status LocalStore::StageImportRows(const ImportedRecords& records,
                                         Change& c, ImportOutcome& out) {
  // Staffing and activity: the file's months replace what is stored.
  auto count = [&](const std::string& period, bool changed, size_t rows) {
    (changed ? out.rows_imported : out.rows_unchanged) += rows;
    if (changed) c.touched.insert(period);
  };
  for (const auto& [month, rows] : records.staffing) {
    OHFED_ASSIGN_OR_RETURN(bool changed,
                           raw_.ReplaceStaffing(month, rows, c.raw));
    count(month, changed, rows.size());
  }
  for (const auto& [month, rows] : records.activity) {
    OHFED_ASSIGN_OR_RETURN(bool changed,
                           raw_.ReplaceActivity(month, rows, c.raw));
    count(month, changed, rows.size());
  }
  for (const auto& [year, answers] : records.profile) {
    OHFED_ASSIGN_OR_RETURN(
        RawRecords::MergeCount merged,
        raw_.MergeAnswers(year, Source::kProfile, answers, c.raw));
    out.rows_imported += merged.changed;
    out.rows_unchanged += merged.unchanged;
    c.touched.insert(year);
  }
  return absl::OkStatus();
}

absl::StatusOr<ImportOutcome> LocalStore::ApplyImport(
    const ImportedRecords& records, bool accept_outliers) {
  absl::MutexLock l(&mu_);
  OHFED_RETURN_IF_ERROR(Usable());
  Change c;
  ImportOutcome out;
  OHFED_RETURN_IF_ERROR(StageImportRows(records, c, out));
  for (const std::string& period : c.touched) {
    OHFED_RETURN_IF_ERROR(Recompute(period, c));
  }
  std::vector<v1::RowProblem> hidden;
  for (const std::string& period : c.touched) {
    OHFED_ASSIGN_OR_RETURN(PeriodRecords records,
                           raw_.LoadCounted(period, &c.raw, Tally()));
    for (v1::RowProblem& w :
         HiddenImports(*options_.catalogue, period, records)) {
      hidden.push_back(std::move(w));
    }
  }
  OHFED_RETURN_IF_ERROR(
      FinishImport(c, accept_outliers, std::move(hidden), out));
  OHFED_RETURN_IF_ERROR(Commit(c));
  return out;
}

absl::Status LocalStore::FinishImport(Change& c, bool accept_outliers,
                                      std::vector<v1::RowProblem> hidden,
                                      ImportOutcome& out) {
  for (const auto& [period, entry] : c.summaries.periods) {
    const PeriodSummary* old = summaries_.Find(period);
    if (old == nullptr || old->summary.revision() != entry.summary.revision()) {
      out.periods_changed.push_back(period);
    }
  }
  Summaries::PeriodWarnings flagged;
  out.warnings = summaries_.Outliers(c.summaries, &flagged);
  for (v1::RowProblem& w : hidden) out.warnings.push_back(std::move(w));
  for (const std::string& period : out.periods_changed) {
    const PeriodSummary& entry = *summaries_.Find(period, &c.summaries);
    auto warnings = flagged.find(period);
    if (warnings != flagged.end() && !accept_outliers) {
      summaries_.StageHold(
          period, Summaries::HoldReason(period, warnings->second), c.summaries);
      out.periods_held.push_back(period);
    } else if (accept_outliers && !entry.held.empty()) {
      summaries_.StageHold(period, "", c.summaries);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ImportOutcome> LocalStore::ApplyActivityImport(
    ActivityStage& stage, bool accept_outliers) {
  absl::MutexLock l(&mu_);
  Change c;
  ImportOutcome out;
  BulkWrite bulk(db_.get(), staging_dir_);
  BulkSink sink(&bulk);
  std::vector<v1::RowProblem> hidden;
  for (Month month : stage.Months()) {  // in order: bulk keys increase
    const std::string period = month.ToString();
    OHFED_ASSIGN_OR_RETURN(
        std::unique_ptr<ActivityMonthWriter> writer,
        ActivityMonthWriter::Start(db_.get(), period, &sink));
    TallyOptions options = Tally();
    options.expected_rows = stage.rows(month);
    ActivityTally tally(std::move(options));
    OHFED_RETURN_IF_ERROR(
        stage.ForEachSorted(month, [&](const ActivityView& row) {
          OHFED_RETURN_IF_ERROR(writer->Add(row));
          return tally.Add(row);
        }));
    OHFED_ASSIGN_OR_RETURN(bool changed, writer->Finish());
    if (!changed) {
      out.rows_unchanged += writer->rows();
      continue;
    }
    out.rows_imported += writer->rows();
    // The period's other records as stored, with the new activity.
    OHFED_ASSIGN_OR_RETURN(PeriodRecords records, raw_.LoadOthers(period));
    OHFED_ASSIGN_OR_RETURN(records.activity_counts, tally.Finish());
    OHFED_RETURN_IF_ERROR(summaries_.Recompute(period, records, c.summaries));
    for (v1::RowProblem& w :
         HiddenImports(*options_.catalogue, period, records)) {
      hidden.push_back(std::move(w));
    }
  }
  OHFED_RETURN_IF_ERROR(
      FinishImport(c, accept_outliers, std::move(hidden), out));
  if (c.batch.Count() == 0 && bulk.empty()) return out;
  OHFED_RETURN_IF_ERROR(bulk.Commit(&c.batch));
  summaries_.Apply(c.summaries);
  return out;
}

absl::StatusOr<v1::SetValueResponse> LocalStore::SetValue(
    const std::string& period, const std::string& code,
    const std::string& value) {
  OHFED_ASSIGN_OR_RETURN(Target target,
                         ResolveTarget(*options_.catalogue, code));
  OHFED_RETURN_IF_ERROR(CheckPeriodFor(target, period, CurrentMonth()));
  absl::StatusOr<std::vector<v1::Cell>> cells =
      CellsForValue(*options_.catalogue, target, value);
  if (!cells.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(code, ": ", cells.status().message()));
  }
  absl::MutexLock l(&mu_);
  OHFED_RETURN_IF_ERROR(Usable());
  Change c;
  OHFED_RETURN_IF_ERROR(
      raw_.MergeAnswers(period, Source::kManual, {{target.code, value}}, c.raw)
          .status());
  OHFED_RETURN_IF_ERROR(Recompute(period, c));
  v1::SetValueResponse response;
  for (v1::RowProblem& w : summaries_.Outliers(c.summaries)) {
    *response.add_warnings() = std::move(w);
  }
  OHFED_RETURN_IF_ERROR(Commit(c));
  response.set_revision(summaries_.Find(period)->summary.revision());
  return response;
}

absl::StatusOr<PeriodChange> LocalStore::UnsetValue(const std::string& period,
                                                    const std::string& code) {
  OHFED_RETURN_IF_ERROR(CheckLocalPeriod(period).status());
  absl::MutexLock l(&mu_);
  OHFED_RETURN_IF_ERROR(Usable());
  OHFED_ASSIGN_OR_RETURN(const PeriodSummary* entry,
                         FindPeriod(summaries_, period));
  PeriodChange change{.revision = entry->summary.revision()};
  // Set values are stored under the catalogue's spelling of the code.
  absl::StatusOr<Target> target = ResolveTarget(*options_.catalogue, code);
  if (absl::IsNotFound(target.status())) return target.status();
  const std::string canonical = target.ok() ? target->code : code;
  const std::vector<std::string>& manual = entry->manual;
  if (std::find(manual.begin(), manual.end(), canonical) == manual.end()) {
    return change;  // a known code that was not set by hand
  }
  Change c;
  OHFED_RETURN_IF_ERROR(
      raw_.RemoveAnswer(period, Source::kManual, canonical, c.raw).status());
  OHFED_RETURN_IF_ERROR(Recompute(period, c));
  OHFED_RETURN_IF_ERROR(Commit(c));
  change.revision = summaries_.Find(period)->summary.revision();
  change.changed = true;
  return change;
}

absl::StatusOr<PeriodChange> LocalStore::Retract(const std::string& period) {
  OHFED_RETURN_IF_ERROR(CheckLocalPeriod(period).status());
  absl::MutexLock l(&mu_);
  OHFED_RETURN_IF_ERROR(Usable());
  OHFED_ASSIGN_OR_RETURN(const PeriodSummary* entry,
                         FindPeriod(summaries_, period));
  if (entry->summary.retracted()) {
    return PeriodChange{.revision = entry->summary.revision()};
  }
  Change c;
  OHFED_RETURN_IF_ERROR(raw_.DeletePeriod(period, c.raw));
  summaries_.StageRetraction(period, c.summaries);
  OHFED_RETURN_IF_ERROR(Commit(c));
  return PeriodChange{.revision = summaries_.Find(period)->summary.revision(),
                      .changed = true};
}

absl::StatusOr<PeriodChange> LocalStore::Confirm(const std::string& period) {
  OHFED_RETURN_IF_ERROR(CheckLocalPeriod(period).status());
  absl::MutexLock l(&mu_);
  OHFED_RETURN_IF_ERROR(Usable());
  OHFED_ASSIGN_OR_RETURN(const PeriodSummary* entry,
                         FindPeriod(summaries_, period));
  PeriodChange change{.revision = entry->summary.revision()};
  if (entry->held.empty()) return change;
  Change c;
  summaries_.StageHold(period, "", c.summaries);
  OHFED_RETURN_IF_ERROR(Commit(c));
  change.changed = true;
  return change;
}

v1::UnitSummary LocalStore::Stamped(const v1::UnitSummary& s) const {
  v1::UnitSummary out = s;
  out.set_trust(options_.trust);
  return out;
}

absl::StatusOr<v1::UnitSummary> LocalStore::Summary(
    const std::string& period) const {
  OHFED_RETURN_IF_ERROR(CheckLocalPeriod(period).status());
  absl::MutexLock l(&mu_);
  OHFED_ASSIGN_OR_RETURN(const PeriodSummary* entry,
                         FindPeriod(summaries_, period));
  return Stamped(entry->summary);
}

absl::StatusOr<PeriodRecords> LocalStore::Records(
    const std::string& period) const {
  OHFED_RETURN_IF_ERROR(CheckLocalPeriod(period).status());
  absl::MutexLock l(&mu_);
  // Reading needs an open database, not a recovered one.
  if (!db_->open()) {
    return absl::UnavailableError(
        absl::StrCat("store ", db_->dir(), " is failing: ", db_->failure()));
  }
  return raw_.Load(period);
}

std::vector<v1::PeriodState> LocalStore::States() const {
  absl::MutexLock l(&mu_);
  const Month current = CurrentMonth();
  std::map<std::string, v1::PeriodState> by_key;
  for (const auto& [period, entry] : summaries_.periods()) {
    by_key[DisplayKey(period)] = outbox_.State(period, entry, current);
  }
  std::vector<v1::PeriodState> out;
  for (auto& [key, s] : by_key) out.push_back(std::move(s));
  return out;
}

uint64_t LocalStore::DbIntProperty(const std::string& name) const {
  absl::MutexLock l(&mu_);
  uint64_t value = 0;
  if (!db_->open() || !db_->GetIntProperty(name, &value)) return 0;
  return value;
}

absl::Time LocalStore::last_ack() const {
  absl::MutexLock l(&mu_);
  return outbox_.last_ack();
}

bool LocalStore::AwaitDrained(absl::Duration timeout) {
  absl::MutexLock l(&mu_);
  auto done = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return waits_cancelled_ || outbox_.Drained(summaries_, CurrentMonth());
  };
  mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
  return outbox_.Drained(summaries_, CurrentMonth());
}

bool LocalStore::waits_cancelled() const {
  absl::MutexLock l(&mu_);
  return waits_cancelled_;
}

void LocalStore::CancelWaits() {
  absl::MutexLock l(&mu_);
  waits_cancelled_ = true;
}

absl::StatusOr<std::vector<v1::UnitSummary>> LocalStore::Pending(size_t max) {
  absl::MutexLock l(&mu_);
  std::vector<v1::UnitSummary> out =
      outbox_.Pending(summaries_, CurrentMonth(), max);
  for (v1::UnitSummary& s : out) s.set_trust(options_.trust);
  return out;
}

absl::Status LocalStore::OnAcks(const std::vector<v1::Ack>& acks) {
  absl::MutexLock l(&mu_);
  OHFED_RETURN_IF_ERROR(Usable());
  Change c;
  Outbox::Staged marks = outbox_.StageAcks(acks, summaries_, &c.batch);
  for (const auto& [period, revision] : marks.reassert) {
    summaries_.StageReassertion(period, revision, c.summaries);
  }
  OHFED_RETURN_IF_ERROR(Commit(c));
  outbox_.Apply(marks);
  return absl::OkStatus();
}

absl::Status LocalStore::OnUpstreamFeedback(
    const std::vector<v1::Ack>& refused) {
  absl::MutexLock l(&mu_);
  outbox_.SetUpstreamRefusals(refused);
  return absl::OkStatus();
}

absl::StatusOr<size_t> LocalStore::OnReceiverHolds(
    const std::vector<v1::Ack>& held) {
  absl::MutexLock l(&mu_);
  rocksdb::WriteBatch batch;
  Outbox::Staged lost = outbox_.StageLost(held, summaries_, &batch);
  if (lost.marks.empty()) return 0;
  OHFED_RETURN_IF_ERROR(WriteSynced(db_.get(), &batch));
  const size_t n = lost.marks.size();
  outbox_.Apply(lost);
  return n;
}

}  // namespace ohfed::agent
