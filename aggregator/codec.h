// The aggregator's RocksDB layout, documented once, next to its encoders.
//
// Keys (ASCII; trust codes, periods, nodes and measures never contain '/' or
// '|' because ingest validates them against the registry and catalogue):
//   "u/" trust "/" period            -> unit record: the held UnitSummary (a
//                                      retraction: retracted, no cells)
//   "r/" node "|" period "|" measure  -> rollup record: one RollupCell
//   "f/" trust "/" period            -> forward record: what upstream replied
//                                      (aggregator/upstream_queue.h)
//   "m/registry"                     -> RegistryFingerprint the rollups use
//   "m/damaged"                      -> when the store was last recovered
//                                      from damage (aggregator/
//                                      store_recovery.h): decimal unix ms,
//                                      a space, what was found
//   "m/confirmed/" trust             -> "" : the trust's agent confirmed its
//                                      data since then
//
// Values start with fixed-width big-endian integers followed by a serialized
// protobuf (a unit's compressed), so no private schema is needed:
//   unit     = 'L' first_received_ms(8) last_received_ms(8) size(8)
//              LZ4(UnitSummary): the serialized summary, `size` bytes, as
//              one LZ4 block. A summary's measure codes repeat from cell to
//              cell, so it is ~2.5x smaller, and the WAL's checksum and sync
//              and the memtable's copy, which take most of a commit, follow
//              its size (docs/performance.md, "Stored summaries,
//              thirteenth round").
//              Stores from before hold first_received_ms(8)
//              last_received_ms(8) UnitSummary, uncompressed: read too.
//   rollup   = n_units(8) Cell{value = sum, buckets = merged buckets}
//   forward  = acked_revision(8) rejected_revision(8) reason bytes (the
//              refusal upstream, or the uploader's "too large to send")
// Millisecond times are stored as two's complement uint64.
#ifndef OHFED_AGGREGATOR_CODEC_H_
#define OHFED_AGGREGATOR_CODEC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "aggregator/upstream_queue.h"
#include "aggregator/view.h"
#include "common/registry.h"
#include "ohfed/v1/ohfed.pb.h"

namespace ohfed::aggregator {

inline constexpr absl::string_view kUnitPrefix = "u/";
inline constexpr absl::string_view kRollupPrefix = "r/";
inline constexpr absl::string_view kForwardPrefix = "f/";
inline constexpr absl::string_view kRegistryKey = "m/registry";
inline constexpr absl::string_view kDamagedKey = "m/damaged";
inline constexpr absl::string_view kConfirmedPrefix = "m/confirmed/";

// "trust/period": identifies a unit in memory and, with a prefix, on disk.
std::string UnitId(absl::string_view trust, absl::string_view period);
// Splits a UnitId back; false if malformed.
bool SplitUnitId(absl::string_view id, std::string* trust, std::string* period);
// "node|period|measure": identifies a rollup cell in memory and on disk.
std::string RollupId(absl::string_view node, absl::string_view period,
                     absl::string_view measure);

struct UnitRecord {
  int64_t first_received_unix_ms = 0;
  int64_t last_received_unix_ms = 0;
  v1::UnitSummary summary;
};
std::string EncodeUnit(const UnitRecord& record);
// A serialized UnitSummary as a unit record holds it: compressed.
struct StoredUnitBody {
  std::string bytes;  // the LZ4 block
  uint32_t size = 0;  // of the serialized summary
};
StoredUnitBody CompressUnitBody(absl::string_view serialized);
// The 25 bytes a unit record starts with; `body.bytes` follow. The commit
// path puts the two parts in place, without joining them, and compresses
// the UnitSummary as it was received when nothing of it is dropped: bytes
// that may differ from a re-serialization (field order, say) but that
// DecodeUnit decodes to the same record.
std::string EncodeUnitHeader(int64_t first_received_unix_ms,
                             int64_t last_received_unix_ms,
                             const StoredUnitBody& body);
// A unit record's receipt times and serialized UnitSummary, decompressed
// but not parsed. kDataLoss naming `key` when the value is truncated or
// does not decompress.
struct UnitBytes {
  int64_t first_received_unix_ms = 0;
  int64_t last_received_unix_ms = 0;
  std::string summary;
};
absl::StatusOr<UnitBytes> ReadUnitBytes(absl::string_view key,
                                        absl::string_view value);
// kDataLoss naming `key` when the value is truncated, does not decompress
// or is unparsable.
absl::StatusOr<UnitRecord> DecodeUnit(absl::string_view key,
                                      absl::string_view value);

std::string EncodeRollup(const RollupCell& cell);
absl::StatusOr<RollupCell> DecodeRollup(absl::string_view key,
                                        absl::string_view value);

std::string EncodeForward(const UpstreamRecord& record);
absl::StatusOr<UpstreamRecord> DecodeForward(absl::string_view key,
                                             absl::string_view value);

// The bytes of each summary in a serialized SubmitRequest, in order: what
// each occurrence of field 1 (`summaries`) holds, so that a summary may be
// stored as it arrived (SummaryStore::Incoming::received). Other fields are
// skipped. Empty if the bytes are not a well-formed message of
// length-delimited and scalar fields (the caller then re-serializes); the
// views point into `request`.
std::vector<absl::string_view> SummaryBytes(absl::string_view request);

// The trust -> ICS -> region placement of a registry, one "trust ics region"
// line per trust in file order: the rollups stored were built with it.
std::string RegistryFingerprint(const Registry& registry);
// The same for every version of a history, by effective month; for a single
// version, equal to that version's (so a store from before histories keeps
// its rollups).
std::string RegistryFingerprint(const RegistryHistory& history);

// The in-memory form of a held summary.
HeldUnit ToHeldUnit(const UnitRecord& record);
HeldUnit ToHeldUnit(const v1::UnitSummary& summary,
                    int64_t first_received_unix_ms,
                    int64_t last_received_unix_ms);
// The same for a summary read from its bytes (aggregator/submit_reader.h):
// `header`'s fields with `cells` for its cells.
HeldUnit ToHeldUnit(const v1::UnitSummary& header,
                    absl::Span<const CellView> cells,
                    int64_t first_received_unix_ms,
                    int64_t last_received_unix_ms);

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_CODEC_H_
