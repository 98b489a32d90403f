// Activity rows as views, and the two byte forms an import moves them in,
// so that a month of rows is never held as ActivityRow objects:
//   - the stage form (agent/import_stage.h, sorted runs): each string as a
//     length byte and its bytes (the importer bounds every field it keeps
//     to 64 bytes), then wait_days as 4 little-endian bytes;
//   - the stored form: agent_store.v1.ActivityRecords on the wire, written
//     by hand byte for byte as protobuf writes it (fields in number order,
//     empty strings and an absent wait left out), so that concatenated
//     chunks of a month equal the single value format 1 kept.
// The canonical order of a month's rows is ActivityRow's (date, activity,
// client_org, subject_ref, wait_days).
#ifndef OHFED_AGENT_ACTIVITY_ROWS_H_
#define OHFED_AGENT_ACTIVITY_ROWS_H_

#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "agent/records.h"

namespace ohfed::agent {

// An activity row whose strings live elsewhere.
struct ActivityView {
  absl::string_view date, activity, client_org, subject_ref;
  int wait_days = -1;  // -1: not recorded
  ActivityRow ToRow() const {
    return {std::string(date), std::string(activity), std::string(client_org),
            std::string(subject_ref), wait_days};
  }
};
ActivityView ViewOf(const ActivityRow& row);

// <0, 0, >0 as a is before, equal to, after b in canonical order.
int CompareRows(const ActivityView& a, const ActivityView& b);

// The stage form. DecodeStaged takes one row off the front of `in`; false
// if it is malformed.
void EncodeStaged(const ActivityView& row, std::string* out);
bool DecodeStaged(absl::string_view* in, ActivityView* row);

// The stored form: appends one `rows` entry.
void AppendStored(const ActivityView& row, std::string* out);
// Calls `fn` for each row of an ActivityRecords value; kDataLoss if it does
// not decode.
absl::Status ForEachStored(absl::string_view bytes,
                           absl::FunctionRef<void(const ActivityView&)> fn);

}  // namespace ohfed::agent

#endif  // OHFED_AGENT_ACTIVITY_ROWS_H_
