#include "agent/store_format.h"

#include <rocksdb/write_batch.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "agent/raw_records.h"
#include "agent/v0_json.h"
#include "common/log.h"
#include "common/rocksdb_util.h"
#include "common/status.h"
#include "ohfed/agent_store/v1/agent_store.pb.h"

namespace ohfed::agent {
namespace {

namespace pb = ::ohfed::agent_store::v1;

// Format 0 spelled the last acknowledgement's key differently.
constexpr absl::string_view kV0LastAckKey = "meta/last_ack_ms";

absl::StatusOr<std::vector<StaffingRow>> V0Staffing(const v0::Json& j) {
  if (j.type != v0::Json::Type::kArray) {
    return absl::DataLossError("expected an array of staffing rows");
  }
  std::vector<StaffingRow> rows;
  for (const v0::Json& r : j.items) {
    if (r.items.size() != 4) {
      return absl::DataLossError("expected [group, wte, basis, post_id]");
    }
    StaffingRow row;
    OHFED_ASSIGN_OR_RETURN(row.group, v0::AsString(r.items[0]));
    OHFED_ASSIGN_OR_RETURN(row.wte, v0::AsDouble(r.items[1]));
    OHFED_ASSIGN_OR_RETURN(row.basis, v0::AsString(r.items[2]));
    OHFED_ASSIGN_OR_RETURN(row.post_id, v0::AsString(r.items[3]));
    rows.push_back(std::move(row));
  }
  return rows;
}

absl::StatusOr<std::vector<ActivityRow>> V0Activity(const v0::Json& j) {
  if (j.type != v0::Json::Type::kArray) {
    return absl::DataLossError("expected an array of activity rows");
  }
  std::vector<ActivityRow> rows;
  for (const v0::Json& r : j.items) {
    if (r.items.size() != 5) {
      return absl::DataLossError(
          "expected [date, activity, client_org, subject_ref, wait_days]");
    }
    ActivityRow row;
    OHFED_ASSIGN_OR_RETURN(row.date, v0::AsString(r.items[0]));
    OHFED_ASSIGN_OR_RETURN(row.activity, v0::AsString(r.items[1]));
    OHFED_ASSIGN_OR_RETURN(row.client_org, v0::AsString(r.items[2]));
    OHFED_ASSIGN_OR_RETURN(row.subject_ref, v0::AsString(r.items[3]));
    OHFED_ASSIGN_OR_RETURN(int64_t wait, v0::AsInt(r.items[4]));
    if (wait < -1 || wait > INT32_MAX) {
      return absl::DataLossError("wait_days out of range");
    }
    row.wait_days = static_cast<int>(wait);
    rows.push_back(std::move(row));
  }
  return rows;
}

absl::StatusOr<Answers> V0Answers(const v0::Json& j) {
  if (j.type != v0::Json::Type::kObject) {
    return absl::DataLossError("expected an object of answers");
  }
  Answers out;
  for (const auto& [code, value] : j.members) {
    OHFED_ASSIGN_OR_RETURN(out[code], v0::AsString(value));
  }
  return out;
}

// {"acked": rev, "rejected": rev, "reason": s}; a missing member is 0 / "".
absl::StatusOr<std::string> V0Marks(const v0::Json& j) {
  if (j.type != v0::Json::Type::kObject) {
    return absl::DataLossError("expected an object of marks");
  }
  pb::OutboxMarks m;
  if (auto it = j.members.find("acked"); it != j.members.end()) {
    OHFED_ASSIGN_OR_RETURN(uint64_t v, v0::AsUint(it->second));
    m.set_acked(v);
  }
  if (auto it = j.members.find("rejected"); it != j.members.end()) {
    OHFED_ASSIGN_OR_RETURN(uint64_t v, v0::AsUint(it->second));
    m.set_rejected(v);
  }
  if (auto it = j.members.find("reason"); it != j.members.end()) {
    OHFED_ASSIGN_OR_RETURN(std::string v, v0::AsString(it->second));
    m.set_reason(v);
  }
  return m.SerializeAsString();
}

// The format 1 value for a format 0 raw record; `key` is raw/<period>/<src>.
absl::StatusOr<std::string> V0Raw(absl::string_view key, absl::string_view v) {
  OHFED_ASSIGN_OR_RETURN(v0::Json j, v0::ParseJson(v));
  if (absl::EndsWith(key, "/staffing")) {
    OHFED_ASSIGN_OR_RETURN(std::vector<StaffingRow> rows, V0Staffing(j));
    return RawRecords::EncodeStaffing(std::move(rows));
  }
  if (absl::EndsWith(key, "/activity")) {
    OHFED_ASSIGN_OR_RETURN(std::vector<ActivityRow> rows, V0Activity(j));
    return RawRecords::EncodeActivity(std::move(rows));
  }
  if (absl::EndsWith(key, "/profile") || absl::EndsWith(key, "/manual")) {
    OHFED_ASSIGN_OR_RETURN(Answers answers, V0Answers(j));
    return RawRecords::EncodeAnswers(answers);
  }
  return absl::DataLossError("unknown source of raw records");
}

// The format 1 value for one format 0 key, or "" to keep it as it is.
absl::StatusOr<std::string> Migrated(absl::string_view key,
                                     absl::string_view v) {
  if (absl::StartsWith(key, kRawPrefix)) return V0Raw(key, v);
  if (absl::StartsWith(key, kAckPrefix)) {
    OHFED_ASSIGN_OR_RETURN(v0::Json j, v0::ParseJson(v));
    return V0Marks(j);
  }
  if (absl::StartsWith(key, kHoldPrefix)) {
    pb::Hold hold;
    hold.set_reason(std::string(v));
    return hold.SerializeAsString();
  }
  return std::string();  // sum/: already v1::UnitSummary
}

// Rewrites every format 0 value as format 1, in one synced batch with the
// format key.
absl::Status MigrateFromV0(rocksdb::DB* db, const std::string& dir) {
  rocksdb::WriteBatch batch;
  size_t values = 0;
  OHFED_RETURN_IF_ERROR(ScanPrefix(
      db, "", [&](absl::string_view key, absl::string_view v) -> absl::Status {
        if (key == kV0LastAckKey) {
          pb::LastAck last;
          int64_t ms = 0;
          if (!absl::SimpleAtoi(v, &ms)) {
            return absl::DataLossError(
                absl::StrCat("cannot migrate ", key, ": not a number"));
          }
          last.set_unix_ms(ms);
          batch.Delete(std::string(kV0LastAckKey));
          batch.Put(std::string(kLastAckKey), last.SerializeAsString());
          ++values;
          return absl::OkStatus();
        }
        absl::StatusOr<std::string> next = Migrated(key, v);
        if (!next.ok()) {
          return absl::DataLossError(absl::StrCat("cannot migrate ",
                                                  key.substr(0, 64), ": ",
                                                  next.status().message()));
        }
        if (!next->empty()) {
          batch.Put(rocksdb::Slice(key.data(), key.size()), *next);
          ++values;
        }
        return absl::OkStatus();
      }));
  batch.Put(std::string(kFormatKey), absl::StrCat(kStoreFormat));
  OHFED_RETURN_IF_ERROR(WriteSynced(db, &batch));
  LogLine(absl::StrCat("agent store ", dir, ": migrated ", values,
                       " values from format 0 to format ", kStoreFormat));
  return absl::OkStatus();
}

bool IsEmpty(rocksdb::DB* db) {
  std::unique_ptr<rocksdb::Iterator> it(
      db->NewIterator(rocksdb::ReadOptions()));
  it->SeekToFirst();
  return !it->Valid();
}

}  // namespace

absl::StatusOr<int> StoredFormat(rocksdb::DB* db) {
  absl::StatusOr<std::string> v = GetValue(db, kFormatKey);
  if (absl::IsNotFound(v.status())) return 0;
  if (!v.ok()) return v.status();
  int format = 0;
  if (!absl::SimpleAtoi(*v, &format) || format < 1) {
    return absl::DataLossError(absl::StrCat("corrupt ", kFormatKey, " '",
                                            v->substr(0, 16),
                                            "' in the agent store"));
  }
  return format;
}

absl::Status PrepareStoreFormat(rocksdb::DB* db, const std::string& dir) {
  OHFED_ASSIGN_OR_RETURN(int format, StoredFormat(db));
  if (format == kStoreFormat) return absl::OkStatus();
  if (format > kStoreFormat) {
    return absl::FailedPreconditionError(absl::StrCat(
        "agent data in ", dir, " has on-disk format ", format,
        ", newer than this agent's format ", kStoreFormat,
        ": run the ohfed-agent release that wrote it (or a later one)"));
  }
  if (format == 1 || IsEmpty(db)) {
    rocksdb::WriteBatch batch;
    batch.Put(std::string(kFormatKey), absl::StrCat(kStoreFormat));
    OHFED_RETURN_IF_ERROR(WriteSynced(db, &batch));
    if (format == 1) {
      LogLine(absl::StrCat("agent store ", dir, ": format 1 marked as ",
                           kStoreFormat,
                           " (its activity values are read as they are)"));
    }
    return absl::OkStatus();
  }
  return MigrateFromV0(db, dir);
}

}  // namespace ohfed::agent
