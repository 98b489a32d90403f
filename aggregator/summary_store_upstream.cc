// SummaryStore's UpstreamQueue: the upstream records ("f/" keys,
// aggregator/codec.h) and the pending set (UpstreamLedger) beside the units.
#include <rocksdb/iterator.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "aggregator/codec.h"
#include "aggregator/summary_store.h"
#include "common/rocksdb_util.h"
#include "common/status.h"
#include "common/summary_wire.h"

namespace ohfed::aggregator {
namespace {

// How far ReadForward walks before it seeks: a step costs a small fraction
// of a lookup in a memtable of a census's units.
constexpr int kMaxSteps = 16;

// The value of `key`, read with `it`, which the caller moves only forward,
// through keys in order: a few steps when `key` is near (the pending units
// of a census or a backlog are neighbours), a Seek otherwise, instead of a
// lookup from the top for each. What the iterator does not find is asked
// for with a Get, so that a missing or unreadable record fails as it would
// have (kNotFound, kUnavailable).
absl::StatusOr<std::string> ReadForward(rocksdb::DB* db, rocksdb::Iterator* it,
                                        absl::string_view key) {
  const rocksdb::Slice target(key.data(), key.size());
  for (int steps = 0;
       it->Valid() && it->key().compare(target) < 0 && steps < kMaxSteps;
       ++steps) {
    it->Next();
  }
  if (!it->Valid() || it->key().compare(target) < 0) it->Seek(target);
  if (it->Valid() && it->key() == target) return it->value().ToString();
  return GetValue(db, key);
}

}  // namespace

absl::Status SummaryStore::LoadUpstream() {
  UpstreamRecords records;
  OHFED_RETURN_IF_ERROR(ScanPrefix(
      db_.get(), kForwardPrefix,
      [&](absl::string_view key, absl::string_view value) {
        OHFED_ASSIGN_OR_RETURN(UpstreamRecord r, DecodeForward(key, value));
        records[key.substr(kForwardPrefix.size())] = std::move(r);
        return absl::OkStatus();
      }));
  upstream_.Load(HeldRevisions(), std::move(records));
  return absl::OkStatus();
}

template <typename T>
absl::StatusOr<std::vector<T>> SummaryStore::ReadPendingUpstream(
    size_t max, size_t max_bytes, const absl::flat_hash_set<std::string>& skip,
    absl::FunctionRef<absl::StatusOr<T>(
        const std::string& id, const std::string& key, std::string value)>
        decode,
    absl::FunctionRef<size_t(const T&)> size_of) const {
  std::vector<T> out;
  size_t bytes = 0;
  absl::ReaderMutexLock l(&db_mu_);
  if (!db_->open()) {
    return absl::UnavailableError(
        absl::StrCat("store ", db_->dir(), " is failing: ", db_->failure()));
  }
  const std::vector<std::string> ids = upstream_.PendingIds(max, skip);
  if (ids.empty()) return out;
  // The ids are in key order (UnitIds sort as their unit keys do).
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions()));
  for (const std::string& id : ids) {
    std::string key = absl::StrCat(kUnitPrefix, id);
    OHFED_ASSIGN_OR_RETURN(std::string value,
                           ReadForward(db_.get(), it.get(), key));
    OHFED_ASSIGN_OR_RETURN(T unit, decode(id, key, std::move(value)));
    const size_t size = size_of(unit);
    // The rest stays pending for the next call.
    if (!out.empty() && bytes + size > max_bytes) break;
    bytes += size;
    out.push_back(std::move(unit));
  }
  return out;
}

absl::StatusOr<std::vector<v1::UnitSummary>> SummaryStore::PendingUpstream(
    size_t max, size_t max_bytes,
    const absl::flat_hash_set<std::string>& skip) const {
  return ReadPendingUpstream<v1::UnitSummary>(
      max, max_bytes, skip,
      [](const std::string&, const std::string& key,
         std::string value) -> absl::StatusOr<v1::UnitSummary> {
        // The stored record, so upstream receives exactly what arrived here.
        OHFED_ASSIGN_OR_RETURN(UnitRecord record, DecodeUnit(key, value));
        record.summary.set_first_received_unix_ms(
            record.first_received_unix_ms);
        return std::move(record.summary);
      },
      [](const v1::UnitSummary& summary) { return summary.ByteSizeLong(); });
}

absl::StatusOr<std::vector<SerializedSummary>>
SummaryStore::PendingUpstreamSerialized(
    size_t max, size_t max_bytes,
    const absl::flat_hash_set<std::string>& skip) const {
  return ReadPendingUpstream<SerializedSummary>(
      max, max_bytes, skip,
      [](const std::string& id, const std::string& key,
         std::string value) -> absl::StatusOr<SerializedSummary> {
        // The stored record's summary as it arrived here, decompressed
        // (codec.h) but not parsed: its identity is checked against the
        // key, which is all that is read of it, and handed on with it.
        absl::StatusOr<UnitBytes> bytes = ReadUnitBytes(key, value);
        absl::StatusOr<SummaryKey> read =
            bytes.ok() ? ReadSummaryKey(bytes->summary) : bytes.status();
        if (!read.ok() || UnitId(read->trust, read->period) != id) {
          return absl::DataLossError(
              absl::StrCat("corrupt unit record '", key, "'"));
        }
        std::string summary = std::move(bytes->summary);
        AppendFirstReceived(bytes->first_received_unix_ms, &summary);
        return SerializedSummary{std::move(*read), std::move(summary)};
      },
      [](const SerializedSummary& s) { return s.bytes.size(); });
}

size_t SummaryStore::PendingUpstreamCount() const {
  return upstream_.pending_count();
}

absl::Status SummaryStore::RecordUpstream(
    const std::vector<UpstreamReply>& replies) {
  // One batch of replies at a time; the ledger's lock only while reading and
  // installing, so readers (completeness, Feedback) never wait for the
  // synced write.
  if (db_->failing()) {
    absl::MutexLock wl(&write_mu_);
    OHFED_RETURN_IF_ERROR(Usable());
  }
  absl::MutexLock serial(&upstream_write_mu_);
  // The records after these replies, installed only once durable.
  UpstreamRecords next;
  for (const UpstreamReply& reply : replies) {
    std::string id = UnitId(reply.trust, reply.period);
    auto [slot, fresh] = next.try_emplace(id);
    if (fresh) slot->second = upstream_.RecordOf(id);
    ApplyReply(reply, &slot->second);
  }
  if (next.empty()) return absl::OkStatus();
  rocksdb::WriteBatch batch;
  for (const auto& [id, record] : next) {
    batch.Put(absl::StrCat(kForwardPrefix, id), EncodeForward(record));
  }
  // A refusal is shown to the trust's agent (Ingest.Feedback): synced.
  // Acknowledgements alone are not: in the WAL in order, they are durable
  // with the next synced write (the next commit). If a crash loses them,
  // their units are pending again and go again; upstream, which
  // acknowledged them only once they were durable there, answers STALE,
  // and the record is written again. Nothing is lost or held twice
  // (FederationTest.ALostAckRecordIsAResendAnsweredStale).
  const bool refused =
      std::any_of(replies.begin(), replies.end(),
                  [](const UpstreamReply& r) { return r.refused; });
  OHFED_RETURN_IF_ERROR(refused ? db_->SyncedWrite(&batch)
                                : db_->UnsyncedWrite(&batch));
  upstream_.Install(next);
  return absl::OkStatus();
}

std::string SummaryStore::UpstreamRefusalOf(absl::string_view trust,
                                            absl::string_view period) const {
  return upstream_.RefusalReason(trust, period);
}

std::vector<UpstreamReply> SummaryStore::RefusedUpstream(
    absl::string_view trust) const {
  return upstream_.Refused(trust);
}

size_t SummaryStore::RefusedUpstreamCount() const {
  return upstream_.refused_count();
}

UpstreamRecord SummaryStore::UpstreamRecordOf(absl::string_view trust,
                                              absl::string_view period) const {
  return upstream_.RecordOf(UnitId(trust, period));
}

std::vector<std::string> SummaryStore::UpstreamTrusts() const {
  return upstream_.Trusts();
}

absl::StatusOr<size_t> SummaryStore::RequeueLostUpstream(
    absl::string_view trust,
    const absl::flat_hash_map<std::string, uint64_t>& upstream_holds) {
  if (db_->failing()) {
    absl::MutexLock wl(&write_mu_);
    OHFED_RETURN_IF_ERROR(Usable());
  }
  // As RecordUpstream: records change only under this lock.
  absl::MutexLock serial(&upstream_write_mu_);
  UpstreamRecords lowered = upstream_.LostUpstream(trust, upstream_holds);
  if (lowered.empty()) return 0;
  rocksdb::WriteBatch batch;
  for (const auto& [id, record] : lowered) {
    batch.Put(absl::StrCat(kForwardPrefix, id), EncodeForward(record));
  }
  OHFED_RETURN_IF_ERROR(db_->SyncedWrite(&batch));
  upstream_.Install(lowered);
  return lowered.size();
}

}  // namespace ohfed::aggregator
