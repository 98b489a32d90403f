// Reads a serialized ohfed.v1.SubmitRequest straight from its bytes, without
// building a v1::Cell per cell: each summary's own fields go into a
// v1::UnitSummary held by the reader (no cells), its cells into CellViews
// whose measure codes point into the received bytes. Protobuf 3.21 parses
// each measure code (longer than 15 characters) into a heap std::string
// freed one by one with the batch's arena: ~9% of the aggregator's CPU under
// ingest at 100 streams (docs/performance.md, "Ingest, fifth round").
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
// are, until the next Read or Clear. A reader keeps its storage from batch
// to batch (SubmitReaderPool below lends readers to the batches in flight),
// so that a batch's ~80 KB of cells and buckets is not allocated and freed
// for every batch.
#ifndef OHFED_AGGREGATOR_SUBMIT_READER_H_
#define OHFED_AGGREGATOR_SUBMIT_READER_H_

#include <google/protobuf/arena.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
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

  // Forgets what was read (and the arena's blocks beyond the first); the
  // vectors keep their storage for the next Read.
  void Clear();
  // The bytes the reader's vectors hold on to between batches.
  size_t kept_bytes() const;

 private:
  bool ReadSummary(absl::string_view bytes);
  bool ReadCell(absl::string_view bytes);

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

// Readers lent to batches and taken back when a batch is done with one, so
// that their storage is reused: at most `keep` wait here (each ~85 KB after
// a batch of 12 full-catalogue summaries), and a reader that grew beyond
// kMaxKeptBytes (an unusually large batch) is freed rather than kept.
// Thread-safe; must outlive the readers it lends.
class SubmitReaderPool {
 public:
  static constexpr size_t kMaxKeptBytes = 1 << 20;

  // Gives a reader back to its pool (or deletes one lent by no pool).
  struct GiveBack {
    SubmitReaderPool* pool = nullptr;
    void operator()(SubmitReader* reader) const;
  };
  using Lease = std::unique_ptr<SubmitReader, GiveBack>;

  explicit SubmitReaderPool(size_t keep) : keep_(keep) {}
  SubmitReaderPool(const SubmitReaderPool&) = delete;
  SubmitReaderPool& operator=(const SubmitReaderPool&) = delete;

  // A reader kept from an earlier batch, or a new one.
  Lease Take();
  // Readers waiting to be lent.
  size_t kept() const;

 private:
  void Give(SubmitReader* reader);

  const size_t keep_;
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<SubmitReader>> free_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_SUBMIT_READER_H_
