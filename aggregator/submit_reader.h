// Reads a serialized ohfed.v1.SubmitRequest straight from its bytes, without
// building a v1::Cell per cell: each summary's own fields go into a
// v1::UnitSummary held by the reader (no cells), its cells into CellViews
// whose measure codes point into the received bytes. Protobuf 3.21 parses
// each measure code (longer than 15 characters) into a heap std::string
// freed one by one with the batch's arena: ~9% of the aggregator's CPU under
// ingest at 100 streams (README Performance, "Ingest, fifth round").
//
// The reader takes only what it reads exactly as protobuf would: a
// well-formed message of the known fields with their declared wire types,
// valid UTF-8 strings, no more than kMaxSummariesPerBatch summaries. For
// anything else (malformed bytes, an unknown field or a known one with
// another wire type, overlong tags or lengths, a varint protobuf might read
// differently) Read returns false and the caller parses the batch the
// ordinary way, which keeps every refusal and every dropped unknown field
// as it was. Within what it takes, a field that repeats keeps its last
// value and repeated fields append, as protobuf's parser does.
//
// Not thread-safe; what it read is valid while the bytes and the reader
// are, until the next Read.
#ifndef OHFED_AGGREGATOR_SUBMIT_READER_H_
#define OHFED_AGGREGATOR_SUBMIT_READER_H_

#include <google/protobuf/arena.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "aggregator/unit_cells.h"
#include "ohfed/v1/ohfed.pb.h"

namespace ohfed::aggregator {

class SubmitReader {
 public:
  struct Summary {
    // Every field of the summary but its cells.
    const v1::UnitSummary* header = nullptr;
    absl::string_view received;        // the summary's bytes as they came
    absl::Span<const CellView> cells;  // in the order received
  };

  // Reads `request`; false (and nothing read) when it is not for this
  // reader, as above.
  bool Read(absl::string_view request);

  SubmitReader();
  SubmitReader(const SubmitReader&) = delete;
  SubmitReader& operator=(const SubmitReader&) = delete;

  absl::Span<const Summary> summaries() const { return summaries_; }

 private:
  bool ReadSummary(absl::string_view bytes);
  bool ReadCell(absl::string_view bytes);
  bool ReadBucket(absl::string_view bytes);
  void Clear();

  // The headers and their strings live on arena_, whose first block is
  // first_block_: an agent's batch of 12 takes no malloc for them, where a
  // heap v1::UnitSummary took four (itself, trust, period, catalogue
  // version).
  static constexpr size_t kFirstBlockBytes = 4096;
  alignas(16) char first_block_[kFirstBlockBytes];
  google::protobuf::Arena arena_;

  std::vector<Summary> summaries_;
  std::vector<v1::UnitSummary*> headers_;                 // one per summary
  std::vector<std::pair<size_t, size_t>> summary_cells_;  // first, count
  std::vector<CellView> cells_;
  std::vector<std::pair<size_t, size_t>> cell_buckets_;  // first, count
  std::vector<UnitCell::Bucket> buckets_;
};

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_SUBMIT_READER_H_
