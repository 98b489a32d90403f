#include "aggregator/upstream_ledger.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "aggregator/codec.h"

namespace ohfed::aggregator {

void ApplyReply(const UpstreamReply& reply, UpstreamRecord* record) {
  if (reply.refused) {
    record->rejected_revision = reply.revision;
    record->reason = reply.reason;
    return;
  }
  record->acked_revision = std::max(record->acked_revision, reply.revision);
}

void UpstreamLedger::Load(const std::vector<HeldRevision>& held,
                          UpstreamRecords records) {
  absl::MutexLock l(&mu_);
  held_.clear();
  pending_.clear();
  refused_.clear();
  refused_by_trust_.clear();
  refused_units_.store(0, std::memory_order_release);
  records_ = std::move(records);
  for (const auto& [id, revision] : held) {
    held_[id] = revision;
    UpdatePending(id);
  }
}

void UpstreamLedger::OnCommit(const std::vector<HeldRevision>& units) {
  absl::MutexLock l(&mu_);
  for (const auto& [id, revision] : units) {
    uint64_t& held = held_[id];
    held = std::max(held, revision);
    UpdatePending(id);
  }
}

void UpstreamLedger::Install(const UpstreamRecords& records) {
  absl::MutexLock l(&mu_);
  for (const auto& [id, record] : records) {
    records_[id] = record;
    UpdatePending(id);
  }
}

std::vector<std::string> UpstreamLedger::PendingIds(
    size_t max, const absl::flat_hash_set<std::string>& skip) const {
  absl::MutexLock l(&mu_);
  std::vector<std::string> out;
  for (const std::string& id : pending_) {
    if (out.size() >= max) break;
    if (skip.contains(id)) continue;
    out.push_back(id);
  }
  return out;
}

size_t UpstreamLedger::pending_count() const {
  absl::MutexLock l(&mu_);
  return pending_.size();
}

UpstreamRecord UpstreamLedger::RecordOf(const std::string& id) const {
  absl::MutexLock l(&mu_);
  auto it = records_.find(id);
  return it == records_.end() ? UpstreamRecord() : it->second;
}

std::string UpstreamLedger::RefusalReason(absl::string_view trust,
                                          absl::string_view period) const {
  if (refused_units_.load(std::memory_order_acquire) == 0) return {};
  absl::MutexLock l(&mu_);
  if (!refused_by_trust_.contains(trust)) return {};
  const UpstreamRecord* r = RefusedRecord(UnitId(trust, period));
  return r == nullptr ? std::string() : r->reason;
}

std::vector<UpstreamReply> UpstreamLedger::Refused(
    absl::string_view trust) const {
  absl::MutexLock l(&mu_);
  const std::string prefix = absl::StrCat(trust, "/");
  std::vector<UpstreamReply> out;
  for (const auto& [id, record] : records_) {
    if (!absl::StartsWith(id, prefix)) continue;
    const UpstreamRecord* r = RefusedRecord(id);
    if (r == nullptr) continue;
    out.push_back(UpstreamReply{.trust = std::string(trust),
                                .period = id.substr(prefix.size()),
                                .revision = r->rejected_revision,
                                .refused = true,
                                .reason = r->reason});
  }
  std::sort(out.begin(), out.end(),
            [](const UpstreamReply& a, const UpstreamReply& b) {
              return a.period < b.period;
            });
  return out;
}

bool UpstreamLedger::AnyRefused(absl::string_view trust) const {
  if (refused_units_.load(std::memory_order_acquire) == 0) return false;
  absl::MutexLock l(&mu_);
  return refused_by_trust_.contains(trust);
}

size_t UpstreamLedger::refused_count() const {
  return refused_units_.load(std::memory_order_acquire);
}

std::vector<std::string> UpstreamLedger::Trusts() const {
  std::set<std::string> trusts;
  {
    absl::MutexLock l(&mu_);
    for (const auto& [id, revision] : held_) {
      if (revision > 0) trusts.insert(id.substr(0, id.find('/')));
    }
  }
  return std::vector<std::string>(trusts.begin(), trusts.end());
}

UpstreamRecords UpstreamLedger::LostUpstream(
    absl::string_view trust,
    const absl::flat_hash_map<std::string, uint64_t>& upstream_holds) const {
  const std::string prefix = absl::StrCat(trust, "/");
  UpstreamRecords lost;
  absl::MutexLock l(&mu_);
  for (const auto& [id, record] : records_) {
    if (!absl::StartsWith(id, prefix) || Held(id) == 0) continue;
    auto there = upstream_holds.find(id.substr(prefix.size()));
    const uint64_t holds = there == upstream_holds.end() ? 0 : there->second;
    if (record.acked_revision <= holds) continue;
    UpstreamRecord lowered = record;
    lowered.acked_revision = holds;
    lost.emplace(id, std::move(lowered));
  }
  return lost;
}

uint64_t UpstreamLedger::Held(const std::string& id) const {
  auto it = held_.find(id);
  return it == held_.end() ? 0 : it->second;
}

bool UpstreamLedger::NeedsForwarding(const std::string& id) const {
  const uint64_t held = Held(id);
  auto it = records_.find(id);
  if (it == records_.end()) return held > 0;
  return held > it->second.acked_revision &&
         held != it->second.rejected_revision;
}

const UpstreamRecord* UpstreamLedger::RefusedRecord(
    const std::string& id) const {
  auto it = records_.find(id);
  if (it == records_.end() || it->second.rejected_revision == 0) return nullptr;
  return it->second.rejected_revision == Held(id) ? &it->second : nullptr;
}

void UpstreamLedger::UpdatePending(const std::string& id) {
  if (NeedsForwarding(id)) {
    pending_.insert(id);
  } else {
    pending_.erase(id);
  }
  const bool refused = RefusedRecord(id) != nullptr;
  if (refused == refused_.contains(id)) return;
  const std::string trust = id.substr(0, id.find('/'));
  if (refused) {
    refused_.insert(id);
    ++refused_by_trust_[trust];
  } else {
    refused_.erase(id);
    if (--refused_by_trust_[trust] == 0) refused_by_trust_.erase(trust);
  }
  refused_units_.store(refused_.size(), std::memory_order_release);
}

}  // namespace ohfed::aggregator
