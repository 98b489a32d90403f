#include "aggregator/summary_store.h"

#include <rocksdb/write_batch.h>

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "aggregator/codec.h"
#include "aggregator/ingest_metrics.h"
#include "common/db_recovery.h"
#include "common/log.h"
#include "common/rocksdb_util.h"
#include "common/status.h"

namespace ohfed::aggregator {
namespace {

// A leader takes at most this many summaries, so one commit stays bounded.
constexpr size_t kMaxGroupSummaries = 4096;

rocksdb::Slice ToSlice(absl::string_view s) {
  return rocksdb::Slice(s.data(), s.size());
}

SummaryStoreOptions WithDefaults(SummaryStoreOptions o) {
  if (o.catalogues == nullptr) {
    o.catalogues = std::make_shared<CatalogueVersions>(Catalogue::Default());
  }
  if (o.registry == nullptr) {
    o.registry = std::make_shared<RegistryHistory>(Registry::England());
  }
  if (o.clock == nullptr) o.clock = Clock::Real();
  return o;
}

// When a unit counts as first received: the earliest of what is held, this
// receipt, and the receipt time a regional aggregator carried with it
// (clamped to now, so a claim from the future counts as now).
int64_t FirstReceived(const HeldUnit* held, const v1::UnitSummary& s,
                      int64_t now) {
  int64_t first = now;
  if (s.first_received_unix_ms() > 0) {
    first = std::min(first, s.first_received_unix_ms());
  }
  if (held != nullptr) first = std::min(first, held->first_received_unix_ms);
  return first;
}

}  // namespace

struct SummaryStore::Writer {
  const std::vector<v1::UnitSummary>* summaries;
  std::vector<v1::Outcome> outcomes;
  absl::Status status;
  bool done = false;
  absl::CondVar cv;
};

absl::StatusOr<std::unique_ptr<SummaryStore>> SummaryStore::Open(
    const std::string& dir, SummaryStoreOptions options) {
  DbRecovery found;
  OHFED_ASSIGN_OR_RETURN(
      std::unique_ptr<rocksdb::DB> db,
      OpenDbRecovering(dir, DbFootprint::kServer, options.env, &found));
  std::unique_ptr<SummaryStore> store(
      new SummaryStore(std::move(db), WithDefaults(std::move(options))));
  OHFED_RETURN_IF_ERROR(store->Load());
  OHFED_RETURN_IF_ERROR(store->LoadUpstream());
  OHFED_RETURN_IF_ERROR(store->CheckRegistry());
  OHFED_RETURN_IF_ERROR(store->recovery_.Load());
  if (found.damaged()) {
    OHFED_RETURN_IF_ERROR(store->RecoverFromDamage(dir, found));
  }
  return store;
}

absl::Status SummaryStore::RecoverFromDamage(const std::string& dir,
                                             const DbRecovery& found) {
  // Rollups are derived: whatever survived of them, start from the units.
  OHFED_RETURN_IF_ERROR(Rebuild());
  OHFED_RETURN_IF_ERROR(recovery_.MarkDamaged(found.Describe()));
  recovery_report_ = absl::StrCat(
      "aggregator store ", dir,
      " was damaged and recovered: ", found.Describe(),
      "; rollups rebuilt from the ", stats().units_held,
      " units held; agents resend what was lost when they next sync (they "
      "compare their acknowledged revisions with those held here), and "
      "until each has, its trust is flagged unconfirmed in completeness and "
      "queries");
  LogWarning(recovery_report_);
  return absl::OkStatus();
}

SummaryStore::SummaryStore(std::unique_ptr<rocksdb::DB> db,
                           SummaryStoreOptions options)
    : db_(std::move(db)),
      options_(std::move(options)),
      recovery_(db_.get(), options_.clock),
      index_(options_.catalogues->current_ptr(), options_.registry),
      reference_{options_.catalogues, options_.registry, options_.disclosure} {
  index_.set_upstream(&upstream_);
  index_.set_recovery(&recovery_);
}

SummaryStore::~SummaryStore() {
  if (db_ != nullptr) db_->Close().PermitUncheckedError();
}

absl::Status SummaryStore::Load() {
  absl::WriterMutexLock l(&index_mu_);
  OHFED_RETURN_IF_ERROR(ScanPrefix(
      db_.get(), kUnitPrefix, [&](absl::string_view key, absl::string_view v) {
        OHFED_ASSIGN_OR_RETURN(UnitRecord r, DecodeUnit(key, v));
        absl::MutexLock h(&held_mu_);
        held_[key.substr(kUnitPrefix.size())] = r.summary.revision();
        if (!r.summary.retracted()) index_.PutUnit(ToHeldUnit(r));
        return absl::OkStatus();
      }));
  OHFED_RETURN_IF_ERROR(ScanPrefix(
      db_.get(), kRollupPrefix,
      [&](absl::string_view key, absl::string_view v) {
        OHFED_ASSIGN_OR_RETURN(RollupCell cell, DecodeRollup(key, v));
        index_.SetRollup(std::string(key.substr(kRollupPrefix.size())), cell);
        return absl::OkStatus();
      }));
  size_t units_held = index_.unit_count();
  absl::MutexLock s(&stats_mu_);
  stats_.units_held = units_held;
  return absl::OkStatus();
}

absl::Status SummaryStore::CheckRegistry() {
  const std::string current = RegistryFingerprint(*options_.registry);
  absl::MutexLock wl(&write_mu_);
  registry_fingerprint_ = current;
  absl::StatusOr<std::string> stored = GetValue(db_.get(), kRegistryKey);
  if (stored.ok() && *stored == current) return absl::OkStatus();
  if (!stored.ok() && !absl::IsNotFound(stored.status()))
    return stored.status();
  // Stored rollups follow the old placement of trusts; subtracting a unit
  // from its new nodes would corrupt them, so start from the units again.
  if (!HeldRevisions().empty()) {
    RollupMap fresh;
    {
      absl::ReaderMutexLock rl(&index_mu_);
      fresh = index_.ComputeRollups();
    }
    registry_changed_ = true;
    OHFED_RETURN_IF_ERROR(PersistRollups(fresh, current));
    absl::WriterMutexLock l(&index_mu_);
    index_.ReplaceRollups(fresh);
    return absl::OkStatus();
  }
  rocksdb::WriteBatch batch;
  batch.Put(ToSlice(kRegistryKey), current);
  return WriteSynced(db_.get(), &batch);
}

void SummaryStore::SetCommitListener(std::function<void()> f) {
  absl::MutexLock l(&listener_mu_);
  listener_ = std::move(f);
}

absl::StatusOr<std::vector<v1::Outcome>> SummaryStore::Commit(
    const std::vector<v1::UnitSummary>& summaries) {
  if (summaries.empty()) return std::vector<v1::Outcome>();
  Writer w;
  w.summaries = &summaries;
  queue_mu_.Lock();
  queue_.push_back(&w);
  while (!w.done && queue_.front() != &w) w.cv.Wait(&queue_mu_);
  if (w.done) {
    queue_mu_.Unlock();
    if (!w.status.ok()) return w.status;
    return std::move(w.outcomes);
  }
  // Leader: let followers gather, then commit everyone queued so far.
  if (options_.group_commit_delay > absl::ZeroDuration()) {
    queue_mu_.Unlock();
    absl::SleepFor(options_.group_commit_delay);
    queue_mu_.Lock();
  }
  std::vector<Writer*> group = TakeGroup();
  queue_mu_.Unlock();
  size_t group_summaries = 0;
  for (const Writer* g : group) group_summaries += g->summaries->size();
  ObserveCommitGroup(group.size(), group_summaries);

  std::vector<HeldRevision> changed;
  absl::Status s = CommitGroup(group, &changed);

  queue_mu_.Lock();
  for (Writer* g : group) {
    queue_.pop_front();  // the group is the head of the queue, in order
    g->status = s;
    g->done = true;
    if (g != &w) g->cv.Signal();
  }
  if (!queue_.empty()) queue_.front()->cv.Signal();  // the next leader
  queue_mu_.Unlock();

  if (s.ok() && !changed.empty()) {
    std::function<void()> listener;
    {
      absl::MutexLock l(&listener_mu_);
      listener = listener_;
    }
    if (listener) listener();
  }
  if (!s.ok()) return s;
  return std::move(w.outcomes);
}

std::vector<SummaryStore::Writer*> SummaryStore::TakeGroup() {
  std::vector<Writer*> group;
  size_t n = 0;
  for (Writer* w : queue_) {
    if (!group.empty() && n + w->summaries->size() > kMaxGroupSummaries) break;
    group.push_back(w);
    n += w->summaries->size();
  }
  return group;
}

// What one group commit changes, prepared under the reader lock.
struct SummaryStore::GroupResult {
  absl::flat_hash_map<std::string, UnitRecord> finals;  // by UnitId
  std::vector<std::string> order;                       // first-seen order
  uint64_t accepted = 0, stale = 0;
  std::vector<HeldUnit> units;      // the new held units, to publish
  std::vector<HeldUnit> retracted;  // units to forget (trust, period set)
  RollupMap touched;                // rollup cells after the delta
};

void SummaryStore::DecideOutcomes(const std::vector<Writer*>& group,
                                  int64_t now, GroupResult* r) const {
  absl::ReaderMutexLock h(&held_mu_);
  for (Writer* w : group) {
    w->outcomes.clear();
    for (const v1::UnitSummary& s : *w->summaries) {
      std::string id = UnitId(s.trust(), s.period());
      auto it = r->finals.find(id);
      auto held_it = held_.find(id);
      uint64_t current = it != r->finals.end() ? it->second.summary.revision()
                         : held_it != held_.end() ? held_it->second
                                                  : 0;
      if (s.revision() <= current) {
        w->outcomes.push_back(v1::OUTCOME_STALE);
        ++r->stale;
        continue;
      }
      if (it == r->finals.end()) r->order.push_back(id);
      UnitRecord& record = r->finals[id];
      record.first_received_unix_ms =
          FirstReceived(index_.Unit(s.trust(), s.period()), s, now);
      record.last_received_unix_ms = now;
      record.summary = s;
      // A tombstone keeps the revision and nothing else.
      if (s.retracted()) record.summary.clear_cells();
      w->outcomes.push_back(v1::OUTCOME_ACCEPTED);
      ++r->accepted;
    }
  }
}

void SummaryStore::PrepareWrites(GroupResult* r,
                                 rocksdb::WriteBatch* batch) const {
  auto cell_at = [&](const std::string& key) -> RollupCell& {
    auto [it, inserted] = r->touched.try_emplace(key);
    if (inserted) {
      if (const RollupCell* held = index_.RollupById(key)) it->second = *held;
    }
    return it->second;
  };
  for (const std::string& id : r->order) {
    const UnitRecord& record = r->finals[id];
    HeldUnit unit = ToHeldUnit(record);
    // The delta: subtract what is held, add what replaces it (nothing for a
    // retraction).
    std::vector<std::string> nodes = index_.NodesOf(unit.trust, unit.period);
    if (const HeldUnit* held = index_.Unit(unit.trust, unit.period)) {
      ApplyToRollups(*held, -1, nodes, cell_at);
    }
    batch->Put(ToSlice(absl::StrCat(kUnitPrefix, id)), EncodeUnit(record));
    if (record.summary.retracted()) {
      r->retracted.push_back(std::move(unit));
      continue;
    }
    ApplyToRollups(unit, +1, nodes, cell_at);
    r->units.push_back(std::move(unit));
  }
  for (const auto& [key, cell] : r->touched) {
    std::string db_key = absl::StrCat(kRollupPrefix, key);
    if (cell.n_units == 0) {
      batch->Delete(db_key);
    } else {
      batch->Put(db_key, EncodeRollup(cell));
    }
  }
}

absl::Status SummaryStore::CommitGroup(const std::vector<Writer*>& group,
                                       std::vector<HeldRevision>* changed) {
  absl::MutexLock wl(&write_mu_);
  GroupResult result;
  rocksdb::WriteBatch batch;
  {
    // Only the holder of write_mu_ changes the index, so what is read here
    // stays valid until the publish below.
    absl::ReaderMutexLock rl(&index_mu_);
    DecideOutcomes(group, absl::ToUnixMillis(options_.clock->Now()), &result);
    PrepareWrites(&result, &batch);
  }
  // Nothing new (all stale): what is held is already durable.
  if (batch.Count() > 0) OHFED_RETURN_IF_ERROR(WriteSynced(db_.get(), &batch));
  size_t units_held = 0;
  {
    absl::WriterMutexLock l(&index_mu_);
    for (HeldUnit& u : result.units) index_.PutUnit(std::move(u));
    for (const HeldUnit& u : result.retracted)
      index_.RemoveUnit(u.trust, u.period);
    for (const auto& [key, cell] : result.touched) index_.SetRollup(key, cell);
    units_held = index_.unit_count();
    if (batch.Count() > 0) PatternsChanged();
  }
  changed->clear();
  {
    absl::MutexLock h(&held_mu_);
    for (const std::string& id : result.order) {
      uint64_t revision = result.finals[id].summary.revision();
      held_[id] = revision;
      changed->emplace_back(id, revision);
    }
  }
  upstream_.OnCommit(*changed);
  absl::MutexLock sl(&stats_mu_);
  stats_.summaries_accepted += result.accepted;
  stats_.summaries_stale += result.stale;
  stats_.units_held = units_held;
  if (batch.Count() > 0) {
    ++stats_.commits;
    stats_.bytes_written += batch.GetDataSize();
  }
  return absl::OkStatus();
}

absl::Status SummaryStore::Rebuild() {
  absl::MutexLock wl(&write_mu_);
  RollupMap fresh;
  {
    absl::ReaderMutexLock rl(&index_mu_);
    fresh = index_.ComputeRollups();
  }
  OHFED_RETURN_IF_ERROR(PersistRollups(fresh, registry_fingerprint_));
  absl::WriterMutexLock l(&index_mu_);
  index_.ReplaceRollups(fresh);
  PatternsChanged();
  return absl::OkStatus();
}

absl::Status SummaryStore::PersistRollups(const RollupMap& rollups,
                                          const std::string& fingerprint) {
  rocksdb::WriteBatch batch;
  // '0' follows '/' in ASCII: the range covers every "r/" key.
  batch.DeleteRange(ToSlice(kRollupPrefix), "r0");
  for (const auto& [key, cell] : rollups) {
    batch.Put(absl::StrCat(kRollupPrefix, key), EncodeRollup(cell));
  }
  batch.Put(ToSlice(kRegistryKey), fingerprint);
  return WriteSynced(db_.get(), &batch);
}

absl::StatusOr<bool> SummaryStore::Reconfigure(ReferenceData next) {
  OHFED_RETURN_IF_ERROR(CheckDisclosureOptions(next.disclosure));
  absl::MutexLock wl(&write_mu_);
  const std::string fingerprint = RegistryFingerprint(*next.registry);
  const bool moved = fingerprint != registry_fingerprint_;
  if (moved) {
    // The rollups as the new history places the held units; readers go on
    // with the old ones, and commits wait, until they are durable.
    RollupMap fresh;
    {
      absl::ReaderMutexLock rl(&index_mu_);
      Index preview = index_;
      preview.SetReference(next.catalogues->current_ptr(), next.registry);
      fresh = preview.ComputeRollups();
    }
    OHFED_RETURN_IF_ERROR(PersistRollups(fresh, fingerprint));
    registry_fingerprint_ = fingerprint;
    absl::WriterMutexLock l(&index_mu_);
    index_.SetReference(next.catalogues->current_ptr(), next.registry);
    index_.ReplaceRollups(fresh);
  } else {
    absl::WriterMutexLock l(&index_mu_);
    index_.SetReference(next.catalogues->current_ptr(), next.registry);
  }
  {
    absl::MutexLock r(&reference_mu_);
    retired_.push_back(reference_);
    reference_ = std::move(next);
  }
  // Patterns follow the registry and the thresholds: a new cache once both
  // are in force (a query reads the thresholds after its snapshot, so none
  // taking this cache computes with the old ones).
  absl::WriterMutexLock l(&index_mu_);
  PatternsChanged();
  return moved;
}

const CatalogueVersions& SummaryStore::catalogues() const {
  absl::MutexLock r(&reference_mu_);
  return *reference_.catalogues;
}

const RegistryHistory& SummaryStore::registry() const {
  absl::MutexLock r(&reference_mu_);
  return *reference_.registry;
}

DisclosureOptions SummaryStore::disclosure() const {
  absl::MutexLock r(&reference_mu_);
  return reference_.disclosure;
}

uint64_t SummaryStore::DbIntProperty(const std::string& name) const {
  uint64_t value = 0;
  if (!db_->GetIntProperty(name, &value)) return 0;
  return value;
}

void SummaryStore::CountReceived(uint64_t bytes, uint64_t rejected) {
  absl::MutexLock l(&stats_mu_);
  ++stats_.batches_received;
  stats_.bytes_received += bytes;
  stats_.summaries_rejected += rejected;
}

std::shared_ptr<const View> SummaryStore::Snapshot() const {
  absl::ReaderMutexLock l(&index_mu_);
  return std::make_shared<const Index>(index_);
}

SummaryStore::QuerySnapshot SummaryStore::SnapshotForQuery() const {
  absl::ReaderMutexLock l(&index_mu_);
  return {std::make_shared<const Index>(index_), patterns_};
}

SummaryStoreStats SummaryStore::stats() const {
  absl::MutexLock l(&stats_mu_);
  return stats_;
}

RollupMap SummaryStore::Rollups() const {
  absl::ReaderMutexLock l(&index_mu_);
  return index_.AllRollups();
}

RollupMap SummaryStore::RecomputedRollups() const {
  absl::ReaderMutexLock l(&index_mu_);
  return index_.ComputeRollups();
}

std::vector<HeldRevision> SummaryStore::HeldRevisions() const {
  absl::ReaderMutexLock l(&held_mu_);
  return std::vector<HeldRevision>(held_.begin(), held_.end());
}

uint64_t SummaryStore::HeldRevisionOf(absl::string_view trust,
                                      absl::string_view period) const {
  absl::ReaderMutexLock l(&held_mu_);
  auto it = held_.find(UnitId(trust, period));
  return it == held_.end() ? 0 : it->second;
}

std::vector<std::pair<std::string, uint64_t>> SummaryStore::HeldOf(
    absl::string_view trust) const {
  std::vector<std::pair<std::string, uint64_t>> out;
  {
    absl::ReaderMutexLock l(&held_mu_);
    for (const auto& [id, revision] : held_) {
      std::string t, period;
      if (SplitUnitId(id, &t, &period) && t == trust) {
        out.emplace_back(std::move(period), revision);
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace ohfed::aggregator
