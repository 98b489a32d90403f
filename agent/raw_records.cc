#include "agent/raw_records.h"

#include <algorithm>
#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "agent/activity_chunks.h"
#include "agent/activity_rows.h"
#include "common/rocksdb_util.h"
#include "common/status.h"
#include "ohfed/agent_store/v1/agent_store.pb.h"

namespace ohfed::agent {
namespace {

namespace pb = ::ohfed::agent_store::v1;

constexpr absl::string_view kRawPrefix = "raw/";
constexpr Source kSources[] = {Source::kStaffing, Source::kActivity,
                               Source::kProfile, Source::kManual};

template <typename Message>
absl::StatusOr<Message> Parse(absl::string_view v) {
  Message m;
  if (!m.ParseFromArray(v.data(), static_cast<int>(v.size()))) {
    return absl::DataLossError("corrupt raw record in the agent store");
  }
  return m;
}

// No map fields: serialization is deterministic, equal rows give equal bytes.
std::string Serialize(const google::protobuf::MessageLite& m) {
  return m.SerializeAsString();
}

// The rows in ActivityRow order, sorted by pointer. Sorting a month's tens
// of thousands of rows by string comparisons dominated an import's profile:
// each row gets an integer key that orders as the row does (date, ranks of
// activity and client_org among the month's distinct values, then the first
// 8 bytes of subject_ref, zero-padded, which can tie but never invert), and
// only rows with equal keys are compared in full.
std::vector<const ActivityRow*> SortedActivity(
    const std::vector<ActivityRow>& rows) {
  struct Keyed {
    uint64_t high = 0, low = 0;
    const ActivityRow* row = nullptr;
  };
  std::vector<const ActivityRow*> out;
  out.reserve(rows.size());
  for (const ActivityRow& r : rows) out.push_back(&r);
  auto by_row = [](const ActivityRow* a, const ActivityRow* b) {
    return *a < *b;
  };
  // Distinct activities and client organisations, ranked.
  absl::flat_hash_map<absl::string_view, uint32_t> activity, client;
  bool keyable = true;
  for (const ActivityRow& r : rows) {
    keyable &= r.date.size() == 10 && r.date[4] == '-' && r.date[7] == '-' &&
               std::all_of(r.date.begin(), r.date.end(), [](char c) {
                 return c == '-' || (c >= '0' && c <= '9');
               });
    activity.emplace(r.activity, 0);
    client.emplace(r.client_org, 0);
  }
  if (!keyable || activity.size() > 0xFFFF || client.size() > 0xFFFF) {
    std::sort(out.begin(), out.end(), by_row);
    return out;
  }
  for (auto* ranks : {&activity, &client}) {
    std::vector<absl::string_view> names;
    for (const auto& [name, rank] : *ranks) names.push_back(name);
    std::sort(names.begin(), names.end());
    for (uint32_t i = 0; i < names.size(); ++i) (*ranks)[names[i]] = i;
  }
  std::vector<Keyed> keyed;
  keyed.reserve(rows.size());
  for (const ActivityRow& r : rows) {
    // "YYYY-MM-DD" as the number YYYYMMDD orders as the date does.
    uint64_t date = 0;
    for (char c : r.date) {
      if (c != '-') date = date * 10 + static_cast<uint64_t>(c - '0');
    }
    uint64_t subject = 0;
    for (size_t i = 0; i < 8; ++i) {
      subject =
          subject << 8 | (i < r.subject_ref.size()
                              ? static_cast<unsigned char>(r.subject_ref[i])
                              : 0);
    }
    keyed.push_back({(date << 32) | uint64_t{activity[r.activity]} << 16 |
                         client[r.client_org],
                     subject, &r});
  }
  std::sort(keyed.begin(), keyed.end(), [&](const Keyed& a, const Keyed& b) {
    if (a.high != b.high) return a.high < b.high;
    if (a.low != b.low) return a.low < b.low;
    return by_row(a.row, b.row);
  });
  for (size_t i = 0; i < keyed.size(); ++i) out[i] = keyed[i].row;
  return out;
}

}  // namespace

std::string RawRecords::Key(absl::string_view period, Source source) {
  return absl::StrCat(kRawPrefix, period, "/", SourceName(source));
}

std::string RawRecords::EncodeStaffing(std::vector<StaffingRow> rows) {
  std::sort(rows.begin(), rows.end());
  pb::StaffingRecords out;
  for (const StaffingRow& r : rows) {
    pb::StaffingRow* row = out.add_rows();
    row->set_group(r.group);
    row->set_wte(r.wte);
    row->set_basis(r.basis);
    row->set_post_id(r.post_id);
  }
  return Serialize(out);
}

std::string RawRecords::EncodeActivity(const std::vector<ActivityRow>& rows) {
  const std::vector<const ActivityRow*> sorted = SortedActivity(rows);
  std::string out;
  size_t total = 0;  // grown once, not by doubling
  for (const ActivityRow& r : rows) {
    total += 16 + r.date.size() + r.activity.size() + r.client_org.size() +
             r.subject_ref.size();
  }
  out.reserve(total);
  for (const ActivityRow* r : sorted) AppendStored(ViewOf(*r), &out);
  return out;
}

std::string RawRecords::EncodeAnswers(const Answers& answers) {
  pb::AnswerRecords out;
  for (const auto& [code, value] : answers) {  // sorted by code
    pb::Answer* a = out.add_answers();
    a->set_code(code);
    a->set_value(value);
  }
  return Serialize(out);
}

absl::StatusOr<std::vector<StaffingRow>> RawRecords::DecodeStaffing(
    absl::string_view v) {
  OHFED_ASSIGN_OR_RETURN(pb::StaffingRecords m, Parse<pb::StaffingRecords>(v));
  std::vector<StaffingRow> rows;
  for (const pb::StaffingRow& r : m.rows()) {
    rows.push_back({r.group(), r.wte(), r.basis(), r.post_id()});
  }
  return rows;
}

absl::StatusOr<std::vector<ActivityRow>> RawRecords::DecodeActivity(
    absl::string_view v) {
  std::vector<ActivityRow> rows;
  OHFED_RETURN_IF_ERROR(ForEachStored(
      v, [&](const ActivityView& r) { rows.push_back(r.ToRow()); }));
  return rows;
}

absl::StatusOr<Answers> RawRecords::DecodeAnswers(absl::string_view v) {
  OHFED_ASSIGN_OR_RETURN(pb::AnswerRecords m, Parse<pb::AnswerRecords>(v));
  Answers out;
  for (const pb::Answer& a : m.answers()) out[a.code()] = a.value();
  return out;
}

absl::StatusOr<std::string> RawRecords::Read(const std::string& key,
                                             const Staged* st) const {
  if (st != nullptr) {
    auto staged = st->values.find(key);
    if (staged != st->values.end()) return staged->second;
  }
  absl::StatusOr<std::string> v = GetValue(db_, key);
  if (absl::IsNotFound(v.status())) return std::string();
  return v;
}

void RawRecords::Stage(const std::string& key, std::string value,
                       Staged& st) const {
  if (value.empty()) {
    st.batch->Delete(key);
  } else {
    st.batch->Put(key, value);
  }
  st.values[key] = std::move(value);
}

absl::Status RawRecords::ForEachActivity(
    const std::string& period, const Staged* st,
    absl::FunctionRef<absl::Status(const ActivityView&)> fn) const {
  if (st != nullptr) {
    auto staged = st->values.find(Key(period, Source::kActivity));
    if (staged != st->values.end()) {
      absl::Status failed;
      OHFED_RETURN_IF_ERROR(
          ForEachStored(staged->second, [&](const ActivityView& r) {
            if (failed.ok()) failed = fn(r);
          }));
      return failed;
    }
  }
  return ForEachStoredActivity(db_, period, fn);
}

absl::StatusOr<PeriodRecords> RawRecords::LoadCounted(
    const std::string& period, const Staged* st,
    const TallyOptions& options) const {
  OHFED_ASSIGN_OR_RETURN(PeriodRecords r, LoadOthers(period, st));
  ActivityTally tally(options);
  OHFED_RETURN_IF_ERROR(ForEachActivity(
      period, st, [&](const ActivityView& a) { return tally.Add(a); }));
  if (tally.rows() > 0) {
    OHFED_ASSIGN_OR_RETURN(r.activity_counts, tally.Finish());
  }
  return r;
}

absl::StatusOr<PeriodRecords> RawRecords::Load(const std::string& period,
                                               const Staged* st) const {
  OHFED_ASSIGN_OR_RETURN(PeriodRecords r, LoadOthers(period, st));
  OHFED_RETURN_IF_ERROR(ForEachActivity(period, st, [&](const ActivityView& a) {
    r.activity.push_back(a.ToRow());
    return absl::OkStatus();
  }));
  return r;
}

absl::StatusOr<PeriodRecords> RawRecords::LoadOthers(const std::string& period,
                                                     const Staged* st) const {
  PeriodRecords r;
  OHFED_ASSIGN_OR_RETURN(std::string staffing,
                         Read(Key(period, Source::kStaffing), st));
  OHFED_ASSIGN_OR_RETURN(std::string profile,
                         Read(Key(period, Source::kProfile), st));
  OHFED_ASSIGN_OR_RETURN(std::string manual,
                         Read(Key(period, Source::kManual), st));
  if (!staffing.empty()) {
    OHFED_ASSIGN_OR_RETURN(r.staffing, DecodeStaffing(staffing));
  }
  if (!profile.empty()) {
    OHFED_ASSIGN_OR_RETURN(r.profile, DecodeAnswers(profile));
  }
  if (!manual.empty()) {
    OHFED_ASSIGN_OR_RETURN(r.manual, DecodeAnswers(manual));
  }
  return r;
}

absl::StatusOr<bool> RawRecords::ReplaceStaffing(const std::string& month,
                                                 std::vector<StaffingRow> rows,
                                                 Staged& st) const {
  const std::string key = Key(month, Source::kStaffing);
  std::string bytes = EncodeStaffing(std::move(rows));
  OHFED_ASSIGN_OR_RETURN(std::string old, Read(key, &st));
  if (old == bytes) return false;
  Stage(key, std::move(bytes), st);
  return true;
}

absl::StatusOr<bool> RawRecords::ReplaceActivity(const std::string& month,
                                                 std::vector<ActivityRow> rows,
                                                 Staged& st) const {
  const std::string key = Key(month, Source::kActivity);
  std::string bytes = EncodeActivity(std::move(rows));
  std::string old;
  if (auto staged = st.values.find(key); staged != st.values.end()) {
    old = staged->second;
  } else {
    OHFED_ASSIGN_OR_RETURN(old, StoredActivityBytes(db_, month));
  }
  if (old == bytes) return false;
  // Everything stored goes, then the new chunks (later in the batch: a
  // chunk key both deleted and put is put).
  OHFED_RETURN_IF_ERROR(DeleteActivity(month, st));
  std::string chunk;
  uint64_t index = 0;
  OHFED_RETURN_IF_ERROR(ForEachStored(bytes, [&](const ActivityView& r) {
    AppendStored(r, &chunk);
    if (chunk.size() >= kChunkBytes) {
      st.batch->Put(ActivityChunkKey(month, index++), chunk);
      chunk.clear();
    }
  }));
  if (!chunk.empty()) st.batch->Put(ActivityChunkKey(month, index++), chunk);
  st.values[key] = std::move(bytes);
  return true;
}

absl::Status RawRecords::DeleteActivity(const std::string& month,
                                        Staged& st) const {
  OHFED_ASSIGN_OR_RETURN(std::vector<std::string> keys,
                         StoredActivityKeys(db_, month));
  for (const std::string& k : keys) st.batch->Delete(k);
  st.values[Key(month, Source::kActivity)] = "";
  return absl::OkStatus();
}

absl::StatusOr<RawRecords::MergeCount> RawRecords::MergeAnswers(
    const std::string& period, Source source, const Answers& answers,
    Staged& st) const {
  const std::string key = Key(period, source);
  OHFED_ASSIGN_OR_RETURN(std::string old, Read(key, &st));
  Answers merged;
  if (!old.empty()) {
    OHFED_ASSIGN_OR_RETURN(merged, DecodeAnswers(old));
  }
  MergeCount count;
  for (const auto& [code, value] : answers) {
    auto it = merged.find(code);
    if (it != merged.end() && it->second == value) {
      ++count.unchanged;
    } else {
      ++count.changed;
      merged[code] = value;
    }
  }
  if (count.changed > 0) Stage(key, EncodeAnswers(merged), st);
  return count;
}

absl::StatusOr<bool> RawRecords::RemoveAnswer(const std::string& period,
                                              Source source,
                                              const std::string& code,
                                              Staged& st) const {
  const std::string key = Key(period, source);
  OHFED_ASSIGN_OR_RETURN(std::string old, Read(key, &st));
  if (old.empty()) return false;
  OHFED_ASSIGN_OR_RETURN(Answers answers, DecodeAnswers(old));
  if (answers.erase(code) == 0) return false;
  Stage(key, answers.empty() ? std::string() : EncodeAnswers(answers), st);
  return true;
}

absl::Status RawRecords::DeletePeriod(const std::string& period,
                                      Staged& st) const {
  for (Source source : kSources) {
    if (source == Source::kActivity) {
      OHFED_RETURN_IF_ERROR(DeleteActivity(period, st));
    } else {
      Stage(Key(period, source), "", st);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::map<std::string, std::vector<std::string>>>
RawRecords::ManualCodes() const {
  std::map<std::string, std::vector<std::string>> out;
  const std::string suffix = absl::StrCat("/", SourceName(Source::kManual));
  OHFED_RETURN_IF_ERROR(ScanPrefix(
      db_, kRawPrefix,
      [&](absl::string_view key, absl::string_view v) -> absl::Status {
        if (!absl::ConsumeSuffix(&key, suffix)) return absl::OkStatus();
        key.remove_prefix(kRawPrefix.size());
        OHFED_ASSIGN_OR_RETURN(Answers answers, DecodeAnswers(v));
        out[std::string(key)] = AnswerCodes(answers);
        return absl::OkStatus();
      }));
  return out;
}

absl::StatusOr<std::set<std::string>> RawRecords::Periods() const {
  std::set<std::string> out;
  OHFED_RETURN_IF_ERROR(ScanPrefix(
      db_, kRawPrefix, [&](absl::string_view key, absl::string_view) {
        key.remove_prefix(kRawPrefix.size());
        out.insert(std::string(key.substr(0, key.find('/'))));
        return absl::OkStatus();
      }));
  return out;
}

}  // namespace ohfed::agent
