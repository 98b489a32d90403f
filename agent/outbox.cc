#include "agent/outbox.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "agent/store_format.h"
#include "common/log.h"
#include "common/rocksdb_util.h"
#include "common/status.h"
#include "ohfed/agent_store/v1/agent_store.pb.h"

namespace ohfed::agent {
namespace {

namespace pb = ::ohfed::agent_store::v1;

std::string AckKey(const std::string& period) {
  return absl::StrCat(kAckPrefix, period);
}

std::string EncodeMarks(const Marks& m) {
  pb::OutboxMarks out;
  out.set_acked(m.acked);
  out.set_rejected(m.rejected);
  out.set_reason(m.reason);
  return out.SerializeAsString();
}

}  // namespace

absl::Status Outbox::Load() {
  marks_.clear();
  OHFED_RETURN_IF_ERROR(ScanPrefix(
      db_, kAckPrefix, [&](absl::string_view key, absl::string_view v) {
        std::string period(key.substr(kAckPrefix.size()));
        pb::OutboxMarks m;
        if (!m.ParseFromArray(v.data(), static_cast<int>(v.size()))) {
          return absl::DataLossError(absl::StrCat("corrupt marks of ", period));
        }
        marks_[period] = Marks{m.acked(), m.rejected(), m.reason()};
        return absl::OkStatus();
      }));
  absl::StatusOr<std::string> last = GetValue(db_, kLastAckKey);
  if (absl::IsNotFound(last.status())) return absl::OkStatus();
  if (!last.ok()) return last.status();
  pb::LastAck m;
  if (!m.ParseFromString(*last)) {
    return absl::DataLossError("corrupt time of the last acknowledgement");
  }
  last_ack_ms_ = m.unix_ms();
  return absl::OkStatus();
}

const Marks& Outbox::MarksOf(const std::string& period) const {
  static const Marks* const kNone = new Marks();
  auto it = marks_.find(period);
  return it == marks_.end() ? *kNone : it->second;
}

bool Outbox::IsPending(const std::string& period, const PeriodSummary& entry,
                       Month current) const {
  const Marks& m = MarksOf(period);
  const uint64_t revision = entry.summary.revision();
  if (revision <= m.acked || m.rejected == revision || !entry.held.empty()) {
    return false;
  }
  if (!IsMonthPeriod(period)) return true;
  absl::StatusOr<Month> month = Month::Parse(period);
  return month.ok() && *month < current;
}

std::vector<v1::UnitSummary> Outbox::Pending(const Summaries& summaries,
                                             Month current, size_t max) const {
  std::vector<const v1::UnitSummary*> due;
  for (const auto& [period, entry] : summaries.periods()) {
    if (IsPending(period, entry, current)) due.push_back(&entry.summary);
  }
  // Oldest change first.
  std::sort(due.begin(), due.end(), [](const auto* a, const auto* b) {
    return a->produced_unix_ms() < b->produced_unix_ms();
  });
  std::vector<v1::UnitSummary> out;
  for (size_t i = 0; i < due.size() && i < max; ++i) out.push_back(*due[i]);
  return out;
}

bool Outbox::Drained(const Summaries& summaries, Month current) const {
  const auto& periods = summaries.periods();
  return std::none_of(periods.begin(), periods.end(), [&](const auto& kv) {
    return IsPending(kv.first, kv.second, current);
  });
}

v1::PeriodState Outbox::State(const std::string& period,
                              const PeriodSummary& entry, Month current) const {
  const Marks& m = MarksOf(period);
  v1::PeriodState s;
  s.set_period(period);
  s.set_revision(entry.summary.revision());
  s.set_acked_revision(m.acked);
  s.set_measures(entry.summary.cells_size());
  s.set_retracted(entry.summary.retracted());
  for (const std::string& code : entry.manual) s.add_manual(code);
  if (entry.summary.revision() <= m.acked) {
    s.set_state("current");
  } else if (!entry.held.empty()) {
    s.set_state("held");
    s.set_reason(entry.held);
  } else if (m.rejected == entry.summary.revision()) {
    s.set_state("rejected");
    s.set_reason(m.reason);
  } else if (!IsPending(period, entry, current)) {
    s.set_state("open");
    s.set_reason("the month has not ended; sent once it has");
  } else {
    s.set_state("pending");
  }
  // A note such as a reassertion (a reason with no rejected revision).
  if (s.reason().empty() && m.rejected == 0) s.set_reason(m.reason);
  auto up = upstream_.find(period);
  if (up != upstream_.end() && up->second.first == entry.summary.revision()) {
    s.set_upstream_reason(up->second.second);
  }
  return s;
}

Outbox::Staged Outbox::StageAcks(const std::vector<v1::Ack>& acks,
                                 const Summaries& summaries,
                                 rocksdb::WriteBatch* batch) const {
  Staged st;
  if (acks.empty()) return st;
  st.now_ms = absl::ToUnixMillis(clock_->Now());
  // Each period's revision as the acks of this response leave it.
  std::map<std::string, uint64_t> revision;
  for (const v1::Ack& ack : acks) {
    const PeriodSummary* entry = summaries.Find(ack.period());
    if (ack.trust() != trust_ || entry == nullptr) continue;
    auto [slot, fresh] =
        st.marks.try_emplace(ack.period(), MarksOf(ack.period()));
    Marks& m = slot->second;
    uint64_t& current =
        revision.try_emplace(ack.period(), entry->summary.revision())
            .first->second;
    if (ack.outcome() == v1::OUTCOME_REJECTED) {
      // A reason only matters for the revision it was given for.
      if (ack.revision() != current) continue;
      if (m.rejected != ack.revision()) {
        LogWarning(absl::StrCat("aggregator rejected ", ack.period(),
                                " revision ", ack.revision(), ": ",
                                ack.reason()));
      }
      m.rejected = ack.revision();
      m.reason = ack.reason();
    } else if (ack.outcome() == v1::OUTCOME_STALE &&
               ack.revision() == current &&
               ack.held_revision() > ack.revision()) {
      // The aggregator holds a newer revision than this agent ever made:
      // this agent's data is the trust's, so it goes above that revision.
      m.reason = absl::StrCat(
          "the aggregator held revision ", ack.held_revision(),
          ", newer than this agent's ", ack.revision(),
          " (restored backup or clock gone back?); resent as revision ",
          ack.held_revision() + 1);
      LogWarning(absl::StrCat(ack.period(), ": ", m.reason));
      m.rejected = 0;
      current = ack.held_revision() + 1;
      st.reassert[ack.period()] = current;
    } else if (ack.outcome() == v1::OUTCOME_ACCEPTED ||
               ack.outcome() == v1::OUTCOME_STALE) {
      m.acked = std::max(m.acked, ack.revision());
      if (m.rejected != 0 && m.acked >= m.rejected) {
        m.reason.clear();
        m.rejected = 0;
      }
    }
  }
  for (const auto& [period, m] : st.marks) {
    batch->Put(AckKey(period), EncodeMarks(m));
  }
  pb::LastAck last;
  last.set_unix_ms(st.now_ms);
  batch->Put(std::string(kLastAckKey), last.SerializeAsString());
  return st;
}

Outbox::Staged Outbox::StageLost(const std::vector<v1::Ack>& held,
                                 const Summaries& summaries,
                                 rocksdb::WriteBatch* batch) const {
  std::map<std::string, uint64_t> at;
  for (const v1::Ack& h : held) {
    if (h.trust() == trust_) at[h.period()] = h.held_revision();
  }
  Staged st;
  for (const auto& [period, m] : marks_) {
    if (m.acked == 0 || summaries.Find(period) == nullptr) continue;
    auto it = at.find(period);
    const uint64_t holds = it == at.end() ? 0 : it->second;
    if (holds >= m.acked) continue;
    Marks next = m;
    next.acked = holds;
    batch->Put(AckKey(period), EncodeMarks(next));
    st.marks[period] = std::move(next);
  }
  return st;
}

void Outbox::Apply(Staged& st) {
  if (st.now_ms != 0) last_ack_ms_ = st.now_ms;
  for (auto& [period, m] : st.marks) marks_[period] = std::move(m);
  st.marks.clear();
}

void Outbox::SetUpstreamRefusals(const std::vector<v1::Ack>& refused) {
  upstream_.clear();
  for (const v1::Ack& ack : refused) {
    if (ack.trust() != trust_) continue;
    if (ack.outcome() != v1::OUTCOME_REJECTED) continue;
    upstream_[ack.period()] = {ack.revision(), ack.reason()};
  }
}

absl::Time Outbox::last_ack() const {
  return last_ack_ms_ == 0 ? absl::InfinitePast()
                           : absl::FromUnixMillis(last_ack_ms_);
}

}  // namespace ohfed::agent
