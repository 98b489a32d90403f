// The agent store's on-disk format: the keys every room of the store uses,
// the format version, and the migration of older data directories.
//
// Keys (text; periods sort "2026" < "2026-01"):
//   meta/format            the format version, decimal ("1"); absent in a
//                          directory written by format 0
//   raw/<period>/<source>  raw records (agent/raw_records.h)
//   raw/<month>/activity/<i>  format 2: a month's activity in chunks
//                          (agent/activity_chunks.h)
//   sum/<period>           v1::UnitSummary, exactly as it is sent
//                          (agent/summaries.h)
//   hold/<period>          agent_store.v1.Hold (agent/summaries.h)
//   ack/<period>           agent_store.v1.OutboxMarks (agent/outbox.h)
//   meta/last_ack          agent_store.v1.LastAck (agent/outbox.h)
// Values other than summaries are agent_store.v1 messages
// (proto/ohfed/agent_store/v1/agent_store.proto), agent-local.
//
// Format 0 (the first release) kept raw records and marks as JSON, a hold
// as its plain text and the last acknowledgement as meta/last_ack_ms in
// decimal. It is migrated on open, in one synced write batch that also
// sets meta/format, so a crash leaves the old format or the new one and a
// migrated directory is never migrated again.
//
// Format 2 keeps a month's activity rows in chunks rather than in one value
// (which could not be bounded in memory). Format 1's single values stay
// readable beside them, and are replaced by chunks when their month is
// next written, so moving from 1 to 2 rewrites nothing: it only sets
// meta/format, so that a format 1 agent, which would not see the chunks,
// refuses the directory. A format 0 directory is migrated to format 1's
// values and marked 2.
#ifndef OHFED_AGENT_STORE_FORMAT_H_
#define OHFED_AGENT_STORE_FORMAT_H_

#include <rocksdb/db.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ohfed::agent {

inline constexpr int kStoreFormat = 2;

inline constexpr absl::string_view kFormatKey = "meta/format";
inline constexpr absl::string_view kRawPrefix = "raw/";
inline constexpr absl::string_view kSumPrefix = "sum/";
inline constexpr absl::string_view kHoldPrefix = "hold/";
inline constexpr absl::string_view kAckPrefix = "ack/";
inline constexpr absl::string_view kLastAckKey = "meta/last_ack";

// Brings the database in `dir` to kStoreFormat: marks a new (empty) one,
// migrates a format 0 one, marks a format 1 one, accepts a current one.
// kFailedPrecondition naming both versions for a format newer than this agent
// knows (nothing changed); kDataLoss naming the key for a value that does not
// decode.
absl::Status PrepareStoreFormat(rocksdb::DB* db, const std::string& dir);

// The format version stored in `db`: 0 if it has none.
absl::StatusOr<int> StoredFormat(rocksdb::DB* db);

}  // namespace ohfed::agent

#endif  // OHFED_AGENT_STORE_FORMAT_H_
