// A serialized v1::UnitSummary handled as bytes: named (trust, period,
// revision) without parsing its cells, and put into a SubmitRequest as it
// is. A regional aggregator forwards the summaries it stored this way, so
// that forwarding costs no parse and no re-serialization (issue 14, figure
// 2); on the wire the request is the same as one built with add_summaries.
#ifndef OHFED_COMMON_SUMMARY_WIRE_H_
#define OHFED_COMMON_SUMMARY_WIRE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ohfed/v1/ohfed.pb.h"

namespace ohfed {

struct SummaryKey {
  std::string trust;
  std::string period;
  uint64_t revision = 0;
};

// The identity fields of a serialized UnitSummary; the other fields are
// skipped, not parsed. kInvalidArgument if the bytes are not a well-formed
// message at the top level.
absl::StatusOr<SummaryKey> ReadSummaryKey(absl::string_view bytes);

// Appends first_received_unix_ms = `ms` to a serialized UnitSummary: a
// parser keeps a scalar field's last value, so the result parses as the
// summary with that field set. It adds at most kFirstReceivedFieldMaxBytes
// (its tag and a varint of at most 10 bytes).
inline constexpr size_t kFirstReceivedFieldMaxBytes = 16;
void AppendFirstReceived(int64_t ms, std::string* bytes);

// A serialized UnitSummary with its identity, as an uploader sends it: the
// source names it once (from its own record, or while checking the bytes),
// so that packing a batch does not read the bytes again.
struct SerializedSummary {
  SummaryKey key;
  std::string bytes;
};

// Each of `summaries` serialized, in order, named from its fields.
std::vector<SerializedSummary> SerializeSummaries(
    const std::vector<v1::UnitSummary>& summaries);

// The bytes a summary of `body_bytes` adds to a SubmitRequest: its tag, its
// length and itself.
size_t FramedSummarySize(size_t body_bytes);

// Appends a serialized UnitSummary to `request`'s summaries as bytes (kept
// with the request's unknown fields, which are written after the known
// ones: do not mix with add_summaries in one request).
void AddSerializedSummary(std::string bytes, v1::SubmitRequest* request);
// How many summaries AddSerializedSummary put in `request`.
int SerializedSummaryCount(const v1::SubmitRequest& request);

}  // namespace ohfed

#endif  // OHFED_COMMON_SUMMARY_WIRE_H_
