#include "aggregator/forwarder.h"

#include <rocksdb/write_batch.h>


#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/rocksdb_util.h"
#include "common/status.h"

namespace ohfed::aggregator {

absl::StatusOr<std::unique_ptr<Forwarder>> Forwarder::Create(Store* store) {
  std::unique_ptr<Forwarder> f(new Forwarder(store));
  OHFED_RETURN_IF_ERROR(f->Load());
  return f;
}

absl::Status Forwarder::Load() {
  absl::MutexLock l(&mu_);
  OHFED_RETURN_IF_ERROR(ScanPrefix(
      store_->db(), kForwardPrefix,
      [&](absl::string_view key, absl::string_view v)
          ABSL_NO_THREAD_SAFETY_ANALYSIS {
            OHFED_ASSIGN_OR_RETURN(ForwardRecord r, DecodeForward(key, v));
            records_[key.substr(kForwardPrefix.size())] = std::move(r);
            return absl::OkStatus();
          }));
  for (const auto& [id, revision] : store_->HeldRevisions()) {
    if (NeedsForwarding(id, revision)) outbox_.insert(id);
  }
  return absl::OkStatus();
}

bool Forwarder::NeedsForwarding(const std::string& id,
                                uint64_t held_revision) const {
  auto it = records_.find(id);
  if (it == records_.end()) return held_revision > 0;
  return held_revision > it->second.acked_revision &&
         held_revision != it->second.rejected_revision;
}

uint64_t Forwarder::HeldRevision(const std::string& id) const {
  std::string trust, period;
  if (!SplitUnitId(id, &trust, &period)) return 0;
  return store_->Read([&](const View& view) -> uint64_t {
    const HeldUnit* u = view.Unit(trust, period);
    return u == nullptr ? 0 : u->revision;
  });
}

absl::StatusOr<std::vector<v1::UnitSummary>> Forwarder::Pending(size_t max) {
  absl::MutexLock l(&mu_);
  std::vector<v1::UnitSummary> out;
  for (const std::string& id : outbox_) {
    if (out.size() >= max) break;
    // The stored bytes, so upstream receives exactly what arrived here.
    std::string key = absl::StrCat(kUnitPrefix, id);
    OHFED_ASSIGN_OR_RETURN(std::string value, GetValue(store_->db(), key));
    OHFED_ASSIGN_OR_RETURN(UnitRecord record, DecodeUnit(key, value));
    out.push_back(std::move(record.summary));
  }
  return out;
}

absl::Status Forwarder::OnAcks(const std::vector<v1::Ack>& acks) {
  absl::MutexLock l(&mu_);
  rocksdb::WriteBatch batch;
  std::vector<std::string> touched;
  for (const v1::Ack& ack : acks) {
    std::string id = UnitId(ack.trust(), ack.period());
    ForwardRecord& r = records_[id];
    if (ack.outcome() == v1::OUTCOME_REJECTED) {
      LogLine(absl::StrCat("upstream rejected ", ack.trust(), " ", ack.period(),
                           " revision ", ack.revision(), ": ", ack.reason()));
      r.rejected_revision = ack.revision();
      r.reason = ack.reason();
    } else if (ack.outcome() == v1::OUTCOME_ACCEPTED ||
               ack.outcome() == v1::OUTCOME_STALE) {
      r.acked_revision = std::max(r.acked_revision, ack.revision());
    } else {
      continue;  // unspecified: nothing learnt
    }
    batch.Put(absl::StrCat(kForwardPrefix, id), EncodeForward(r));
    touched.push_back(std::move(id));
  }
  if (batch.Count() > 0) {
    OHFED_RETURN_IF_ERROR(WriteSynced(store_->db(), &batch));
  }
  for (const std::string& id : touched) {
    if (!NeedsForwarding(id, HeldRevision(id))) outbox_.erase(id);
  }
  return absl::OkStatus();
}

void Forwarder::OnCommit(const std::vector<std::string>& unit_ids) {
  absl::MutexLock l(&mu_);
  for (const std::string& id : unit_ids) {
    if (NeedsForwarding(id, HeldRevision(id))) outbox_.insert(id);
  }
}

size_t Forwarder::outbox_size() const {
  absl::MutexLock l(&mu_);
  return outbox_.size();
}

ForwardRecord Forwarder::RecordOf(absl::string_view trust,
                                  absl::string_view period) const {
  absl::MutexLock l(&mu_);
  auto it = records_.find(UnitId(trust, period));
  return it == records_.end() ? ForwardRecord() : it->second;
}

}  // namespace ohfed::aggregator
