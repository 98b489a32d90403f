#include "aggregator/summary_store.h"

#include <rocksdb/write_batch.h>

#include <algorithm>
#include <optional>

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

// A group takes at most this many summaries, so one commit stays bounded.
constexpr size_t kMaxGroupSummaries = 4096;
// The committing WriteBatch is kept for the next commit unless it grew
// past this (a group of thousands of summaries), so its memory is bounded.
constexpr size_t kMaxKeptBatchBytes = 16 << 20;

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
                      bool forwarded, int64_t now) {
  int64_t first = now;
  if (forwarded && s.first_received_unix_ms() > 0) {
    first = std::min(first, s.first_received_unix_ms());
  }
  if (held != nullptr) first = std::min(first, held->first_received_unix_ms);
  return first;
}

}  // namespace

// What a committer prepares from one of its summaries in its own thread
// before it queues, so the group's serial section does less: the record's
// body and the unit as the index will hold it. Only the receipt times and
// the decision (stale or not) wait for the group.
struct SummaryStore::Prepared {
  // Set only when what is held differs from the summary received: a
  // retraction sent with cells (a tombstone keeps the revision and nothing
  // else), or a first_received_unix_ms not to be honoured. Rare.
  std::optional<v1::UnitSummary> edited;
  StoredUnitBody stored;  // the body as the record holds it (codec.h)
  HeldUnit unit;          // receipt times still 0; empty for a retraction

  const v1::UnitSummary& summary(const Incoming& in) const {
    return edited.has_value() ? *edited : *in.summary;
  }
};

void SummaryStore::Prepare(const Incoming& in, Prepared* p) {
  const v1::UnitSummary& s = *in.summary;
  const bool drop_cells = s.retracted() && s.cells_size() > 0;
  const bool drop_first = !in.forwarded && s.first_received_unix_ms() != 0;
  if (drop_cells || drop_first) {
    p->edited = s;
    if (drop_cells) p->edited->clear_cells();
    if (drop_first) p->edited->clear_first_received_unix_ms();
  }
  // The bytes received when nothing is dropped: no serialization.
  if (!p->edited.has_value() && !in.received.empty()) {
    p->stored = CompressUnitBody(in.received);
  } else {
    p->stored = CompressUnitBody(p->summary(in).SerializeAsString());
  }
  if (s.retracted()) return;
  p->unit = in.read_cells.has_value() ? ToHeldUnit(s, *in.read_cells, 0, 0)
                                      : ToHeldUnit(s, 0, 0);
}

// One caller's batch in the queue, prepared, and its answer.
struct SummaryStore::Writer {
  absl::Span<const Incoming> summaries;
  std::vector<Prepared> prepared;  // one per summary
  Committed committed;             // filled by the group's commit
  CommitDone done;
};

absl::StatusOr<std::unique_ptr<SummaryStore>> SummaryStore::Open(
    const std::string& dir, SummaryStoreOptions options) {
  DbRecovery found;
  OHFED_ASSIGN_OR_RETURN(
      std::unique_ptr<StoreDb> db,
      StoreDb::Open(dir,
                    options.write_mostly ? DbFootprint::kServerWriteMostly
                                         : DbFootprint::kServer,
                    options.env, &found));
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
  // Rollups are derived, and Load recomputed them from the surviving units.
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

SummaryStore::SummaryStore(std::unique_ptr<StoreDb> db,
                           SummaryStoreOptions options)
    : db_(std::move(db)),
      options_(std::move(options)),
      recovery_(db_.get(), options_.clock),
      index_(options_.catalogues->current_ptr(), options_.registry),
      reference_{options_.catalogues, options_.registry, options_.disclosure},
      committers_(std::make_unique<WorkPool>(
          "ohfed-commit", std::max(1, options_.commit_threads))) {
  index_.set_upstream(&upstream_);
  index_.set_recovery(&recovery_);
}

SummaryStore::~SummaryStore() = default;  // StoreDb closes the database

absl::Status SummaryStore::Load() {
  absl::MutexLock wl(&write_mu_);
  return LoadUnits();
}

absl::Status SummaryStore::LoadUnits() {
  OHFED_RETURN_IF_ERROR(ScanPrefix(
      db_.get(), kUnitPrefix,
      [&](absl::string_view key, absl::string_view v) {
        OHFED_ASSIGN_OR_RETURN(UnitRecord r, DecodeUnit(key, v));
        absl::MutexLock h(&held_mu_);
        held_[key.substr(kUnitPrefix.size())] = r.summary.revision();
        if (!r.summary.retracted()) index_.PutUnit(ToHeldUnit(r));
        return absl::OkStatus();
      },
      /*fill_cache=*/false));
  index_.RecomputeRollups();
  Publish(/*data_changed=*/true);
  size_t units_held = index_.unit_count();
  absl::MutexLock s(&stats_mu_);
  stats_.units_held = units_held;
  return absl::OkStatus();
}

bool SummaryStore::HasStoredRollups() const {
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions()));
  it->Seek(ToSlice(kRollupPrefix));
  return it->Valid() && it->key().starts_with(ToSlice(kRollupPrefix));
}

absl::Status SummaryStore::CheckRegistry() {
  absl::MutexLock wl(&write_mu_);
  registry_fingerprint_ = RegistryFingerprint(*options_.registry);
  return ReconcileRegistry();
}

absl::Status SummaryStore::ReconcileRegistry() {
  const std::string current = registry_fingerprint_;
  absl::StatusOr<std::string> stored = GetValue(db_.get(), kRegistryKey);
  if (stored.ok() && *stored == current && !HasStoredRollups()) {
    return absl::OkStatus();
  }
  if (!stored.ok() && !absl::IsNotFound(stored.status()))
    return stored.status();
  // Load computed the rollups with the current placement; the flag only
  // reports that the placement moved since the last run (a reload after a
  // failed write keeps what Open found).
  registry_changed_ =
      registry_changed_ ||
      (!(stored.ok() && *stored == current) && !HeldRevisions().empty());
  return PersistFingerprint(current);
}

absl::Status SummaryStore::Recover() {
  absl::MutexLock wl(&write_mu_);
  return Usable();
}

absl::Status SummaryStore::Usable() {
  if (!db_->failing()) return absl::OkStatus();
  absl::MutexLock serial(&upstream_write_mu_);
  bool reopened = false;
  {
    absl::WriterMutexLock l(&db_mu_);
    OHFED_ASSIGN_OR_RETURN(reopened, db_->Recover());
  }
  if (!reopened) return absl::OkStatus();
  absl::Status s = Reload();
  if (s.ok()) return s;
  return absl::Status(
      s.code(),
      absl::StrCat("reloading the store after it was reopened: ", s.message()));
}

absl::Status SummaryStore::Reload() {
  // What the disk holds now, the failed write included if it got there.
  ReferenceData reference;
  {
    absl::MutexLock r(&reference_mu_);
    reference = reference_;
  }
  index_ = Index(reference.catalogues->current_ptr(), reference.registry);
  index_.set_upstream(&upstream_);
  index_.set_recovery(&recovery_);
  {
    absl::MutexLock h(&held_mu_);
    held_.clear();
  }
  OHFED_RETURN_IF_ERROR(LoadUnits());
  OHFED_RETURN_IF_ERROR(LoadUpstream());
  return ReconcileRegistry();
}

void SummaryStore::SetCommitListener(std::function<void()> f) {
  absl::MutexLock l(&listener_mu_);
  listener_ = std::move(f);
}

absl::StatusOr<std::vector<v1::Outcome>> SummaryStore::Commit(
    const std::vector<v1::UnitSummary>& summaries) {
  std::vector<Incoming> incoming;
  incoming.reserve(summaries.size());
  for (const v1::UnitSummary& s : summaries) {
    incoming.push_back({&s, /*forwarded=*/true, /*received=*/{}});
  }
  return CommitReceived(incoming);
}

absl::StatusOr<std::vector<v1::Outcome>> SummaryStore::CommitReceived(
    absl::Span<const Incoming> summaries) {
  OHFED_ASSIGN_OR_RETURN(Committed c, CommitAndWait(summaries));
  return std::move(c.outcomes);
}

absl::StatusOr<SummaryStore::Committed> SummaryStore::CommitAndWait(
    absl::Span<const Incoming> summaries) {
  absl::Mutex mu;
  bool answered = false;
  absl::StatusOr<Committed> result;
  CommitAsync(summaries, [&](absl::StatusOr<Committed> r) {
    absl::MutexLock l(&mu);
    result = std::move(r);
    answered = true;
  });
  absl::MutexLock l(&mu);
  mu.Await(absl::Condition(&answered));
  return result;
}

void SummaryStore::CommitAsync(absl::Span<const Incoming> summaries,
                               CommitDone done, bool more_follow) {
  if (summaries.empty()) {
    done(Committed());
    return;
  }
  auto w = std::make_unique<Writer>();
  w->summaries = summaries;
  w->done = std::move(done);
  w->prepared.resize(summaries.size());
  for (size_t i = 0; i < summaries.size(); ++i) {
    Prepare(summaries[i], &w->prepared[i]);
  }
  Enqueue(std::move(w), more_follow);
}

void SummaryStore::Enqueue(std::unique_ptr<Writer> w, bool more_follow) {
  bool lead = false;
  {
    absl::MutexLock l(&queue_mu_);
    queue_.push_back(std::move(w));
    // The turn posted will take it; or the caller's next batch will see to
    // a turn.
    if (turn_posted_ || more_follow) return;
    turn_posted_ = true;
    // Nothing under way: a hand-off to a committing thread would only add
    // its wake-up to this batch's acknowledgement. With a group commit
    // delay the caller would sleep through it: a committing thread does.
    lead = !committing_ && options_.group_commit_delay <= absl::ZeroDuration();
  }
  if (lead) return CommitQueued();
  committers_->Post([this] { CommitQueued(); });
}

void SummaryStore::CommitQueued() {
  // Lets more writers gather first (PostgreSQL's commit_delay).
  if (options_.group_commit_delay > absl::ZeroDuration()) {
    absl::SleepFor(options_.group_commit_delay);
  }
  std::vector<std::unique_ptr<Writer>> group;
  std::vector<HeldRevision> changed;
  std::shared_ptr<const Index> retired;
  absl::Status s;
  {
    // Held once the commit before is done: what was queued meanwhile is
    // this group.
    absl::MutexLock wl(&write_mu_);
    bool rest = false;
    {
      absl::MutexLock l(&queue_mu_);
      group = TakeGroup();
      // What is queued from now on posts a turn of its own; more than one
      // group's worth already queued needs one now.
      rest = !queue_.empty();
      turn_posted_ = rest;
      committing_ = !group.empty();
    }
    if (rest) committers_->Post([this] { CommitQueued(); });
    if (group.empty()) return;
    size_t group_summaries = 0;
    for (const auto& w : group) group_summaries += w->summaries.size();
    ObserveCommitGroup(group.size(), group_summaries);
    s = CommitGroup(group, &changed, &retired);
    // Whoever comes next may lead while this turn answers its callers.
    absl::MutexLock l(&queue_mu_);
    committing_ = false;
  }
  for (const auto& w : group) {
    if (s.ok()) {
      w->done(std::move(w->committed));
    } else {
      w->done(s);
    }
  }
  // The listener (a regional's forwarder) before the version readers saw
  // before is freed: freeing copies of the shards a large commit changed
  // took 72-137 ms under load, during which the committed units waited.
  if (s.ok() && !changed.empty()) {
    std::function<void()> listener;
    {
      absl::MutexLock l(&listener_mu_);
      listener = listener_;
    }
    if (listener) listener();
  }
  // Freed (unless a reader still holds it) once everyone is answered.
  retired.reset();
}

std::vector<std::unique_ptr<SummaryStore::Writer>> SummaryStore::TakeGroup() {
  std::vector<std::unique_ptr<Writer>> group;
  size_t n = 0;
  while (!queue_.empty()) {
    const size_t next = queue_.front()->summaries.size();
    if (!group.empty() && n + next > kMaxGroupSummaries) break;
    n += next;
    group.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return group;
}

// What one group commit changes.
struct SummaryStore::GroupResult {
  // The revision of a unit to hold: the committer's summary, referred to
  // rather than copied (a summary is ~6 KB of cells), and what it prepared.
  struct Final {
    std::string id;  // UnitId
    const Incoming* in = nullptr;
    Prepared* prepared = nullptr;
    int64_t first_received_unix_ms = 0;
    int64_t last_received_unix_ms = 0;
    const v1::UnitSummary& summary() const { return prepared->summary(*in); }
  };
  std::vector<Final> finals;  // one per unit, first seen first
  absl::flat_hash_map<std::string, size_t> at;  // UnitId -> place in finals
  uint64_t accepted = 0, stale = 0;
};

void SummaryStore::DecideOutcomes(
    const std::vector<std::unique_ptr<Writer>>& group, int64_t now,
    GroupResult* r) const {
  // Per summary, the final of its unit once decided (-1: none then).
  std::vector<std::vector<int64_t>> final_of(group.size());
  {
    absl::ReaderMutexLock h(&held_mu_);
    for (size_t g = 0; g < group.size(); ++g) {
      Writer& w = *group[g];
      std::vector<v1::Outcome>& outcomes = w.committed.outcomes;
      std::vector<uint64_t>& held = w.committed.held_revisions;
      outcomes.assign(w.summaries.size(), v1::OUTCOME_STALE);
      held.assign(w.summaries.size(), 0);
      final_of[g].assign(w.summaries.size(), -1);
      for (size_t i = 0; i < w.summaries.size(); ++i) {
        const Incoming& in = w.summaries[i];
        const v1::UnitSummary& s = *in.summary;
        std::string id = UnitId(s.trust(), s.period());
        auto it = r->at.find(id);
        uint64_t current = 0;
        if (it != r->at.end()) {
          current = r->finals[it->second].summary().revision();
          final_of[g][i] = static_cast<int64_t>(it->second);
        } else if (auto h = held_.find(id); h != held_.end()) {
          current = h->second;
        }
        held[i] = current;
        if (s.revision() <= current) {
          ++r->stale;
          continue;
        }
        if (it == r->at.end()) {
          final_of[g][i] = static_cast<int64_t>(r->finals.size());
          r->at.emplace(id, r->finals.size());
          r->finals.emplace_back();
          r->finals.back().id = std::move(id);
        }
        GroupResult::Final& f = r->finals[static_cast<size_t>(final_of[g][i])];
        f.in = &in;
        f.prepared = &w.prepared[i];
        f.first_received_unix_ms = FirstReceived(
            index_.Unit(s.trust(), s.period()), s, in.forwarded, now);
        f.last_received_unix_ms = now;
        outcomes[i] = v1::OUTCOME_ACCEPTED;
        ++r->accepted;
      }
    }
  }
  // The revision each summary's unit holds once the group is made: its
  // final's (a later summary in the group may have replaced it), or what
  // was held if the group has none for it.
  for (size_t g = 0; g < group.size(); ++g) {
    Writer& w = *group[g];
    for (size_t i = 0; i < w.summaries.size(); ++i) {
      int64_t f = final_of[g][i];
      if (f < 0) {
        // Stale against what was held: a later summary of the group may
        // still have replaced it (rare; looked up again).
        const v1::UnitSummary& s = *w.summaries[i].summary;
        auto it = r->at.find(UnitId(s.trust(), s.period()));
        if (it == r->at.end()) continue;
        f = static_cast<int64_t>(it->second);
      }
      w.committed.held_revisions[i] =
          r->finals[static_cast<size_t>(f)].summary().revision();
    }
  }
}

void SummaryStore::PrepareWrites(const GroupResult& r,
                                 rocksdb::WriteBatch* batch) const {
  for (const GroupResult::Final& f : r.finals) {
    const std::string key = absl::StrCat(kUnitPrefix, f.id);
    const std::string header = EncodeUnitHeader(
        f.first_received_unix_ms, f.last_received_unix_ms, f.prepared->stored);
    // The record is the header, then the body: put in place, not joined.
    const rocksdb::Slice key_slice = ToSlice(key);
    const rocksdb::Slice value[2] = {ToSlice(header),
                                     ToSlice(f.prepared->stored.bytes)};
    batch->Put(rocksdb::SliceParts(&key_slice, 1),
               rocksdb::SliceParts(value, 2));
  }
}

std::shared_ptr<const Index> SummaryStore::Publish(
    bool data_changed, const ChangedMeasures* committed) {
  std::shared_ptr<const Index> next = std::make_shared<const Index>(index_);
  std::shared_ptr<PatternCache> patterns;
  if (data_changed) {
    // Only this writer replaces published_ and patterns_: read outside the
    // lock, what they hold stays valid while the pointers are held.
    std::shared_ptr<const Index> previous;
    std::shared_ptr<PatternCache> previous_patterns;
    {
      absl::MutexLock l(&index_mu_);
      previous = published_;
      previous_patterns = patterns_;
    }
    patterns =
        committed == nullptr || previous == nullptr
            ? std::make_shared<PatternCache>()
            : PatternCache::CarryOver(*previous_patterns, committed->Codes());
  }
  {
    absl::MutexLock l(&index_mu_);
    published_.swap(next);
    if (data_changed) patterns_ = std::move(patterns);
  }
  // `next` now holds the previous version: freed by the caller, outside the
  // lock, unless a reader still holds it.
  return next;
}

absl::Status SummaryStore::CommitGroup(
    const std::vector<std::unique_ptr<Writer>>& group,
    std::vector<HeldRevision>* changed, std::shared_ptr<const Index>* retired) {
  OHFED_RETURN_IF_ERROR(Usable());
  GroupResult result;
  // Reused: its buffer keeps its size from one commit to the next, rather
  // than growing (and faulting in) ~75 KB a batch afresh each time.
  if (batch_.GetDataSize() > kMaxKeptBatchBytes) batch_ = rocksdb::WriteBatch();
  batch_.Clear();
  DecideOutcomes(group, absl::ToUnixMillis(options_.clock->Now()), &result);
  PrepareWrites(result, &batch_);
  const bool wrote = batch_.Count() > 0;
  // Nothing new (all stale): what is held is already durable.
  if (wrote) OHFED_RETURN_IF_ERROR(db_->SyncedWrite(&batch_));
  // Durable: now into the working index (rollups follow), then to readers.
  // What the published version held is what index_ held before this group,
  // so the measures the index's changes report are those changed for
  // readers.
  ChangedMeasures measures;
  for (GroupResult::Final& f : result.finals) {
    const v1::UnitSummary& s = f.summary();
    if (s.retracted()) {
      index_.RetractUnit(s.trust(), s.period(), &measures);
    } else {
      HeldUnit& unit = f.prepared->unit;  // each Final's own
      unit.first_received_unix_ms = f.first_received_unix_ms;
      unit.last_received_unix_ms = f.last_received_unix_ms;
      index_.ReplaceUnit(std::move(unit), &measures);
    }
  }
  const size_t units_held = index_.unit_count();
  if (wrote) *retired = Publish(/*data_changed=*/true, &measures);
  changed->clear();
  changed->reserve(result.finals.size());
  {
    absl::MutexLock h(&held_mu_);
    for (const GroupResult::Final& f : result.finals) {
      const uint64_t revision = f.summary().revision();
      held_[f.id] = revision;
      changed->emplace_back(f.id, revision);
    }
  }
  upstream_.OnCommit(*changed);
  absl::MutexLock sl(&stats_mu_);
  stats_.summaries_accepted += result.accepted;
  stats_.summaries_stale += result.stale;
  stats_.units_held = units_held;
  if (wrote) {
    ++stats_.commits;
    stats_.bytes_written += batch_.GetDataSize();
  }
  return absl::OkStatus();
}

absl::Status SummaryStore::Rebuild() {
  absl::MutexLock wl(&write_mu_);
  index_.RecomputeRollups();
  Publish(/*data_changed=*/true);
  return absl::OkStatus();
}

absl::Status SummaryStore::PersistFingerprint(const std::string& fingerprint) {
  rocksdb::WriteBatch batch;
  // '0' follows '/' in ASCII: the range covers every "r/" key.
  batch.DeleteRange(ToSlice(kRollupPrefix), "r0");
  batch.Put(ToSlice(kRegistryKey), fingerprint);
  return db_->SyncedWrite(&batch);
}

absl::StatusOr<bool> SummaryStore::Reconfigure(ReferenceData next) {
  OHFED_RETURN_IF_ERROR(CheckDisclosureOptions(next.disclosure));
  absl::MutexLock wl(&write_mu_);
  const std::string fingerprint = RegistryFingerprint(*next.registry);
  const bool moved = fingerprint != registry_fingerprint_;
  if (moved) OHFED_RETURN_IF_ERROR(Usable());  // it writes the fingerprint
  // The index as the new reference data places the held units; readers go
  // on with the published one, and commits wait, until it is in force.
  Index next_index = index_;
  next_index.SetReference(next.catalogues->current_ptr(), next.registry);
  if (moved) {
    next_index.RecomputeRollups();
    OHFED_RETURN_IF_ERROR(PersistFingerprint(fingerprint));
    registry_fingerprint_ = fingerprint;
  }
  index_ = std::move(next_index);
  {
    absl::MutexLock r(&reference_mu_);
    retired_.push_back(reference_);
    reference_ = std::move(next);
  }
  // Patterns follow the registry and the thresholds: a new cache once both
  // are in force (a query reads the thresholds after its snapshot, so none
  // taking this cache computes with the old ones).
  Publish(/*data_changed=*/true);
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
  absl::ReaderMutexLock l(&db_mu_);
  uint64_t value = 0;
  if (!db_->open() || !db_->GetIntProperty(name, &value)) return 0;
  return value;
}

absl::Status SummaryStore::ReleaseIdleMemory(size_t min_memtable_bytes) {
  absl::MutexLock wl(&write_mu_);  // no commit, and no reopen, meanwhile
  batch_ = rocksdb::WriteBatch();
  if (db_->failing() || !db_->open()) return absl::OkStatus();
  uint64_t memtables = 0;
  if (!db_->GetIntProperty(rocksdb::DB::Properties::kCurSizeAllMemTables,
                           &memtables) ||
      memtables < min_memtable_bytes) {
    return absl::OkStatus();
  }
  rocksdb::FlushOptions flush;
  flush.wait = true;
  return FromRocks(db_->Flush(flush),
                   absl::StrCat("flush the memtables of ", db_->dir()));
}

void SummaryStore::CountReceived(uint64_t bytes, uint64_t rejected) {
  absl::MutexLock l(&stats_mu_);
  ++stats_.batches_received;
  stats_.bytes_received += bytes;
  stats_.summaries_rejected += rejected;
}

std::shared_ptr<const View> SummaryStore::Snapshot() const {
  absl::MutexLock l(&index_mu_);
  return published_;
}

SummaryStore::QuerySnapshot SummaryStore::SnapshotForQuery() const {
  absl::MutexLock l(&index_mu_);
  return {published_, patterns_};
}

SummaryStoreStats SummaryStore::stats() const {
  absl::MutexLock l(&stats_mu_);
  return stats_;
}

std::shared_ptr<const Index> SummaryStore::Published() const {
  absl::MutexLock l(&index_mu_);
  return published_;
}

RollupMap SummaryStore::Rollups() const { return Published()->AllRollups(); }

RollupMap SummaryStore::RecomputedRollups() const {
  return Published()->ComputeRollups();
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
