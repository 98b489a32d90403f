// SummaryStore's UpstreamQueue: the upstream records ("f/" keys,
// aggregator/codec.h) and the pending set (UpstreamLedger) beside the units.
#include <rocksdb/write_batch.h>

#include "absl/strings/str_cat.h"
#include "aggregator/codec.h"
#include "aggregator/summary_store.h"
#include "common/rocksdb_util.h"
#include "common/status.h"
#include "common/summary_wire.h"

namespace ohfed::aggregator {

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

absl::StatusOr<std::vector<v1::UnitSummary>> SummaryStore::PendingUpstream(
    size_t max, size_t max_bytes,
    const absl::flat_hash_set<std::string>& skip) const {
  std::vector<v1::UnitSummary> out;
  size_t bytes = 0;
  absl::ReaderMutexLock l(&db_mu_);
  if (!db_->open()) {
    return absl::UnavailableError(
        absl::StrCat("store ", db_->dir(), " is failing: ", db_->failure()));
  }
  for (const std::string& id : upstream_.PendingIds(max, skip)) {
    // The stored record, so upstream receives exactly what arrived here.
    std::string key = absl::StrCat(kUnitPrefix, id);
    OHFED_ASSIGN_OR_RETURN(std::string value, GetValue(db_.get(), key));
    OHFED_ASSIGN_OR_RETURN(UnitRecord record, DecodeUnit(key, value));
    record.summary.set_first_received_unix_ms(record.first_received_unix_ms);
    const size_t size = record.summary.ByteSizeLong();
    // The rest stays pending for the next call.
    if (!out.empty() && bytes + size > max_bytes) break;
    bytes += size;
    out.push_back(std::move(record.summary));
  }
  return out;
}

absl::StatusOr<std::vector<std::string>>
SummaryStore::PendingUpstreamSerialized(
    size_t max, size_t max_bytes,
    const absl::flat_hash_set<std::string>& skip) const {
  std::vector<std::string> out;
  size_t bytes = 0;
  absl::ReaderMutexLock l(&db_mu_);
  if (!db_->open()) {
    return absl::UnavailableError(
        absl::StrCat("store ", db_->dir(), " is failing: ", db_->failure()));
  }
  for (const std::string& id : upstream_.PendingIds(max, skip)) {
    // The stored record's summary as it arrived here (codec.h: a 16-byte
    // header, then the serialized UnitSummary), not parsed: its identity is
    // checked against the key, which is all that is read of it.
    std::string key = absl::StrCat(kUnitPrefix, id);
    OHFED_ASSIGN_OR_RETURN(std::string value, GetValue(db_.get(), key));
    absl::StatusOr<SummaryKey> read =
        value.size() < 16 ? absl::InvalidArgumentError("short")
                          : ReadSummaryKey(absl::string_view(value).substr(16));
    if (!read.ok() || UnitId(read->trust, read->period) != id) {
      return absl::DataLossError(
          absl::StrCat("corrupt unit record '", key, "'"));
    }
    const int64_t first_received = static_cast<int64_t>(GetBigEndian64(value));
    value.erase(0, 16);
    AppendFirstReceived(first_received, &value);
    // The rest stays pending for the next call.
    if (!out.empty() && bytes + value.size() > max_bytes) break;
    bytes += value.size();
    out.push_back(std::move(value));
  }
  return out;
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
  OHFED_RETURN_IF_ERROR(db_->SyncedWrite(&batch));
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
