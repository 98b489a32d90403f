#include "aggregator/forwarder.h"

#include <rocksdb/write_batch.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/rocksdb_util.h"
#include "common/status.h"
#include "common/transport.h"

namespace ohfed::aggregator {
namespace {

// Upstream's reasons are kept, shown and sent on; bounded like any text.
constexpr size_t kMaxReasonBytes = 1024;

}  // namespace

absl::StatusOr<std::unique_ptr<Forwarder>> Forwarder::Create(SummaryStore* store) {
  std::unique_ptr<Forwarder> f(new Forwarder(store));
  OHFED_RETURN_IF_ERROR(f->Load());
  return f;
}

absl::Status Forwarder::Load() {
  std::vector<HeldRevision> held = store_->HeldRevisions();
  absl::MutexLock l(&mu_);
  OHFED_RETURN_IF_ERROR(ScanPrefix(
      store_->db(), kForwardPrefix,
      [&](absl::string_view key, absl::string_view v)
          ABSL_NO_THREAD_SAFETY_ANALYSIS {
            OHFED_ASSIGN_OR_RETURN(ForwardRecord r, DecodeForward(key, v));
            records_[key.substr(kForwardPrefix.size())] = std::move(r);
            return absl::OkStatus();
          }));
  for (auto& [id, revision] : held) {
    held_[id] = revision;
    if (NeedsForwarding(id)) outbox_.insert(id);
  }
  return absl::OkStatus();
}

uint64_t Forwarder::Held(const std::string& id) const {
  auto it = held_.find(id);
  return it == held_.end() ? 0 : it->second;
}

bool Forwarder::NeedsForwarding(const std::string& id) const {
  const uint64_t held = Held(id);
  auto it = records_.find(id);
  if (it == records_.end()) return held > 0;
  return held > it->second.acked_revision &&
         held != it->second.rejected_revision;
}

const ForwardRecord* Forwarder::RefusedRecord(const std::string& id) const {
  auto it = records_.find(id);
  if (it == records_.end() || it->second.rejected_revision == 0) return nullptr;
  return it->second.rejected_revision == Held(id) ? &it->second : nullptr;
}

absl::StatusOr<std::vector<v1::UnitSummary>> Forwarder::Pending(size_t max) {
  absl::MutexLock l(&mu_);
  std::vector<v1::UnitSummary> out;
  size_t bytes = 0;
  for (const std::string& id : outbox_) {
    if (out.size() >= max) break;
    // The stored record, so upstream receives exactly what arrived here.
    std::string key = absl::StrCat(kUnitPrefix, id);
    OHFED_ASSIGN_OR_RETURN(std::string value, GetValue(store_->db(), key));
    // One message's worth is all the uploader can send at once; the rest
    // stays in the outbox for the next call.
    if (!out.empty() && bytes + value.size() > kMaxMessageBytes) break;
    bytes += value.size();
    OHFED_ASSIGN_OR_RETURN(UnitRecord record, DecodeUnit(key, value));
    record.summary.set_first_received_unix_ms(record.first_received_unix_ms);
    out.push_back(std::move(record.summary));
  }
  return out;
}

absl::Status Forwarder::OnAcks(const std::vector<v1::Ack>& acks) {
  // One batch of acks at a time; mu_ only while reading and applying, so
  // readers (completeness, Feedback) never wait for the synced write.
  absl::MutexLock serial(&acks_mu_);
  // The records after these acks, applied to memory only once durable.
  absl::flat_hash_map<std::string, ForwardRecord> next;
  rocksdb::WriteBatch batch;
  {
    absl::MutexLock l(&mu_);
    for (const v1::Ack& ack : acks) {
      std::string id = UnitId(ack.trust(), ack.period());
      auto [slot, fresh] = next.try_emplace(id);
      if (fresh) {
        auto it = records_.find(id);
        if (it != records_.end()) slot->second = it->second;
      }
      if (!Apply(ack, &slot->second)) continue;
      batch.Put(absl::StrCat(kForwardPrefix, id), EncodeForward(slot->second));
    }
  }
  if (batch.Count() == 0) return absl::OkStatus();
  OHFED_RETURN_IF_ERROR(WriteSynced(store_->db(), &batch));
  absl::MutexLock l(&mu_);
  for (auto& [id, r] : next) {
    records_[id] = std::move(r);
    if (!NeedsForwarding(id)) outbox_.erase(id);
  }
  return absl::OkStatus();
}

bool Forwarder::Apply(const v1::Ack& ack, ForwardRecord* r) {
  if (ack.outcome() == v1::OUTCOME_REJECTED) {
    LogLine(absl::StrCat("not forwarded: ", ack.trust(), " ", ack.period(),
                         " revision ", ack.revision(), ": ", ack.reason()));
    r->rejected_revision = ack.revision();
    r->reason = ack.reason().substr(0, kMaxReasonBytes);
    return true;
  }
  if (ack.outcome() == v1::OUTCOME_ACCEPTED ||
      ack.outcome() == v1::OUTCOME_STALE) {
    r->acked_revision = std::max(r->acked_revision, ack.revision());
    return true;
  }
  return false;  // unspecified: nothing learnt
}

void Forwarder::OnCommit(const std::vector<HeldRevision>& units) {
  absl::MutexLock l(&mu_);
  for (const auto& [id, revision] : units) {
    uint64_t& held = held_[id];
    held = std::max(held, revision);  // commits may report out of order
    if (NeedsForwarding(id)) outbox_.insert(id);
  }
}

std::string Forwarder::RefusalReason(absl::string_view trust,
                                     absl::string_view period) const {
  absl::MutexLock l(&mu_);
  const ForwardRecord* r = RefusedRecord(UnitId(trust, period));
  return r == nullptr ? std::string() : r->reason;
}

std::vector<v1::Ack> Forwarder::Refused(absl::string_view trust) const {
  absl::MutexLock l(&mu_);
  const std::string prefix = absl::StrCat(trust, "/");
  std::vector<v1::Ack> out;
  for (const auto& [id, record] : records_) {
    if (!absl::StartsWith(id, prefix)) continue;
    const ForwardRecord* r = RefusedRecord(id);
    if (r == nullptr) continue;
    v1::Ack ack;
    ack.set_trust(std::string(trust));
    ack.set_period(id.substr(prefix.size()));
    ack.set_revision(r->rejected_revision);
    ack.set_outcome(v1::OUTCOME_REJECTED);
    ack.set_reason(r->reason);
    ack.set_held_revision(r->rejected_revision);
    out.push_back(std::move(ack));
  }
  std::sort(out.begin(), out.end(), [](const v1::Ack& a, const v1::Ack& b) {
    return a.period() < b.period();
  });
  return out;
}

size_t Forwarder::refused_count() const {
  absl::MutexLock l(&mu_);
  size_t n = 0;
  for (const auto& [id, record] : records_) n += RefusedRecord(id) ? 1 : 0;
  return n;
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
