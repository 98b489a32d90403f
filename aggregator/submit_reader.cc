#include "aggregator/submit_reader.h"

#include <google/protobuf/stubs/common.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

#include "absl/base/attributes.h"
#include "absl/base/internal/endian.h"
#include "absl/base/optimization.h"
#include "common/transport.h"

namespace ohfed::aggregator {
namespace {

// Wire types (protobuf's encoding).
constexpr uint32_t kVarint = 0;
constexpr uint32_t kFixed64 = 1;
constexpr uint32_t kLength = 2;

// A tag as one byte (fields 1 to 15), as it appears on the wire.
constexpr char OneByteTag(uint32_t field, uint32_t wire_type) {
  return static_cast<char>(field << 3 | wire_type);
}
constexpr char kSummaryCellTag = OneByteTag(4, kLength);
constexpr char kCellMeasureTag = OneByteTag(1, kLength);
constexpr char kCellValueTag = OneByteTag(2, kFixed64);
constexpr char kCellBucketTag = OneByteTag(3, kLength);
constexpr char kBucketValueTag = OneByteTag(1, kFixed64);
constexpr char kBucketCountTag = OneByteTag(2, kVarint);
// A bucket as protobuf writes one with a value and a count below 128: its
// tag, its length (11), the value's tag and 8 bytes, the count's tag and
// byte.
constexpr size_t kCanonicalBucketBytes = 13;

// Whether `text` is valid UTF-8, as protobuf verifies a proto3 string.
// Codes and periods are ASCII: that is checked 8 bytes at a time, and only
// other text goes to protobuf's own check (~120 instructions a measure code
// before, ~4% of the aggregator's instructions under ingest).
bool ValidUtf8(absl::string_view text) {
  const char* p = text.data();
  const size_t n = text.size();
  uint64_t any = 0;
  if (n >= 8) {
    for (size_t i = 0; i + 8 <= n; i += 8) {
      any |= absl::little_endian::Load64(p + i);
    }
    any |= absl::little_endian::Load64(p + n - 8);  // the tail, overlapping
  } else {
    for (size_t i = 0; i < n; ++i) any |= static_cast<uint8_t>(p[i]);
  }
  if ((any & 0x8080808080808080ULL) == 0) return true;  // all ASCII
  return google::protobuf::internal::IsStructurallyValidUTF8(
      p, static_cast<int>(n));
}

// A forward-only view of a message's bytes. Every reader returns false on
// anything protobuf might judge otherwise; the caller then gives up. Kept
// to pointers and a one-byte fast path for varints (tags, lengths under
// 128, a bucket's count): the reader visits every byte of a batch.
class Cursor {
 public:
  explicit Cursor(absl::string_view bytes)
      : at_(bytes.data()), end_(bytes.data() + bytes.size()) {}
  bool done() const { return at_ == end_; }

  // Takes `tag` (one byte) if it comes next.
  bool Take(char tag) {
    if (at_ != end_ && *at_ == tag) {
      ++at_;
      return true;
    }
    return false;
  }
  // The next `n` bytes, or nullptr if fewer remain; Skip(n) takes them.
  const char* Peek(size_t n) const {
    return static_cast<size_t>(end_ - at_) >= n ? at_ : nullptr;
  }
  void Skip(size_t n) { at_ += n; }

  // A base-128 varint of at most `max_bytes`; at 10 bytes the last may
  // carry only the 64th bit (protobuf's parsers differ beyond that).
  bool Varint(uint64_t* value, int max_bytes = 10) {
    if (ABSL_PREDICT_TRUE(at_ != end_) && static_cast<uint8_t>(*at_) < 0x80) {
      *value = static_cast<uint8_t>(*at_++);
      return true;
    }
    return LongVarint(value, max_bytes);
  }
  // A tag of a field numbered 1 to 2^29-1: *field and *wire_type.
  bool Tag(uint32_t* field, uint32_t* wire_type) {
    uint64_t tag = 0;
    if (!Varint(&tag, 5) || tag > std::numeric_limits<uint32_t>::max()) {
      return false;
    }
    *field = static_cast<uint32_t>(tag >> 3);
    *wire_type = static_cast<uint32_t>(tag & 7);
    return *field != 0;
  }
  // A length-delimited payload (length in at most 5 bytes, within the
  // message).
  bool Length(absl::string_view* payload) {
    uint64_t n = 0;
    if (!Varint(&n, 5) || n > static_cast<uint64_t>(end_ - at_)) return false;
    *payload = absl::string_view(at_, static_cast<size_t>(n));
    at_ += n;
    return true;
  }
  // A proto3 string: valid UTF-8, as protobuf verifies.
  bool String(absl::string_view* text) {
    return Length(text) && ValidUtf8(*text);
  }
  // A fixed64 double, little-endian on the wire.
  bool Double(double* value) {
    if (end_ - at_ < 8) return false;
    const uint64_t bits = absl::little_endian::Load64(at_);
    at_ += 8;
    std::memcpy(value, &bits, sizeof(bits));
    return true;
  }

 private:
  // Varint beyond its first byte (or at the end: false).
  bool LongVarint(uint64_t* value, int max_bytes) {
    uint64_t v = 0;
    for (int i = 0; i < max_bytes && at_ != end_; ++i) {
      const auto byte = static_cast<uint8_t>(*at_++);
      if (i == 9 && byte > 1) return false;
      v |= static_cast<uint64_t>(byte & 0x7F) << (7 * i);
      if ((byte & 0x80) == 0) {
        *value = v;
        return true;
      }
    }
    return false;
  }

  const char* at_;
  const char* const end_;
};

// A bucket next in `in` in the form protobuf writes for a count below 128
// (what agents send): taken in one step, without decoding its tags. False,
// with nothing taken, for any other form, which ReadBucket then reads.
bool CanonicalBucket(Cursor& in, UnitCell::Bucket* bucket) {
  const char* p = in.Peek(kCanonicalBucketBytes);
  if (p == nullptr || p[0] != kCellBucketTag ||
      p[1] != static_cast<char>(kCanonicalBucketBytes - 2) ||
      p[2] != kBucketValueTag || p[11] != kBucketCountTag ||
      static_cast<uint8_t>(p[12]) >= 0x80) {
    return false;
  }
  const uint64_t bits = absl::little_endian::Load64(p + 3);
  std::memcpy(&bucket->value_, &bits, sizeof(bits));
  bucket->count_ = static_cast<uint8_t>(p[12]);
  in.Skip(kCanonicalBucketBytes);
  return true;
}

// One bucket of a distribution cell.
bool ReadBucket(absl::string_view bytes, UnitCell::Bucket* bucket) {
  Cursor in(bytes);
  while (!in.done()) {
    uint32_t field = 0, wire_type = 0;
    if (!in.Tag(&field, &wire_type)) return false;
    switch (field) {
      case 1:  // value
        if (wire_type != kFixed64 || !in.Double(&bucket->value_)) return false;
        break;
      case 2:  // count
        if (wire_type != kVarint || !in.Varint(&bucket->count_)) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

// An arena that starts in `block` (bytes long), then takes its own.
google::protobuf::ArenaOptions FirstBlock(char* block, size_t bytes) {
  google::protobuf::ArenaOptions options;
  options.initial_block = block;
  options.initial_block_size = bytes;
  return options;
}

}  // namespace

SubmitReader::SubmitReader()
    : arena_(FirstBlock(first_block_, kFirstBlockBytes)) {}

void SubmitReader::Clear() {
  summaries_.clear();
  headers_.clear();
  summary_cells_.clear();
  cells_.clear();
  cell_buckets_.clear();
  buckets_.clear();
  arena_.Reset();
}

size_t SubmitReader::kept_bytes() const {
  return summaries_.capacity() * sizeof(Summary) +
         headers_.capacity() * sizeof(v1::UnitSummary*) +
         summary_cells_.capacity() * sizeof(summary_cells_[0]) +
         cells_.capacity() * sizeof(CellView) +
         cell_buckets_.capacity() * sizeof(cell_buckets_[0]) +
         buckets_.capacity() * sizeof(UnitCell::Bucket);
}

bool SubmitReader::Read(absl::string_view request) {
  Clear();
  if (request.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return false;
  }
  // A full-catalogue summary is ~3.5 KB for ~60 cells and ~120 buckets.
  const size_t summaries = std::min(request.size() / 1024 + 1,
                                    static_cast<size_t>(kMaxSummariesPerBatch));
  summaries_.reserve(summaries);
  headers_.reserve(summaries);
  summary_cells_.reserve(summaries);
  cells_.reserve(request.size() / 48);
  cell_buckets_.reserve(request.size() / 48);
  buckets_.reserve(request.size() / 24);
  Cursor in(request);
  while (!in.done()) {
    uint32_t field = 0, wire_type = 0;
    absl::string_view summary;
    if (!in.Tag(&field, &wire_type) || field != 1 || wire_type != kLength ||
        !in.Length(&summary) ||
        summaries_.size() >= static_cast<size_t>(kMaxSummariesPerBatch) ||
        !ReadSummary(summary)) {
      Clear();
      return false;
    }
  }
  // The storage has stopped growing: the views can point into it.
  for (size_t i = 0; i < cells_.size(); ++i) {
    const auto [first, count] = cell_buckets_[i];
    cells_[i] = CellView(cells_[i].measure(), cells_[i].value(),
                         absl::MakeConstSpan(buckets_.data() + first, count));
  }
  for (size_t i = 0; i < summaries_.size(); ++i) {
    const auto [first, count] = summary_cells_[i];
    summaries_[i].header = headers_[i];
    summaries_[i].cells = absl::MakeConstSpan(cells_.data() + first, count);
  }
  return true;
}

// Inline in ReadSummary, its one caller: a call's prologue and epilogue
// were ~16 instructions a cell.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool SubmitReader::ReadCell(
    absl::string_view bytes) {
  const size_t first_bucket = buckets_.size();
  absl::string_view measure;
  double value = 0;
  Cursor in(bytes);
  // First the fields in the order protobuf writes them, each taken as it
  // comes without decoding its tag (a cell took ~260 instructions through
  // the loop alone, ~150 so); whatever follows (another order, a repeated
  // field, another form) is read by the loop, which reads any order as
  // protobuf does.
  if (in.Take(kCellMeasureTag) && !in.String(&measure)) return false;
  if (in.Take(kCellValueTag) && !in.Double(&value)) return false;
  for (UnitCell::Bucket b; CanonicalBucket(in, &b);) buckets_.push_back(b);
  while (!in.done()) {
    uint32_t field = 0, wire_type = 0;
    if (!in.Tag(&field, &wire_type)) return false;
    absl::string_view payload;
    switch (field) {
      case 1:  // measure
        if (wire_type != kLength || !in.String(&measure)) return false;
        break;
      case 2:  // value
        if (wire_type != kFixed64 || !in.Double(&value)) return false;
        break;
      case 3:  // buckets
        if (wire_type != kLength || !in.Length(&payload) ||
            !ReadBucket(payload, &buckets_.emplace_back())) {
          return false;
        }
        break;
      default:
        return false;
    }
  }
  cells_.emplace_back(measure, value, absl::Span<const UnitCell::Bucket>());
  cell_buckets_.emplace_back(first_bucket, buckets_.size() - first_bucket);
  return true;
}

bool SubmitReader::ReadSummary(absl::string_view bytes) {
  v1::UnitSummary* header =
      google::protobuf::Arena::CreateMessage<v1::UnitSummary>(&arena_);
  headers_.push_back(header);
  const size_t first_cell = cells_.size();
  absl::string_view trust, period, catalogue_version;
  Cursor in(bytes);
  while (!in.done()) {
    uint32_t field = 0, wire_type = 0;
    if (!in.Tag(&field, &wire_type)) return false;
    uint64_t v = 0;
    absl::string_view payload;
    switch (field) {
      case 1:  // trust
        if (wire_type != kLength || !in.String(&trust)) return false;
        break;
      case 2:  // period
        if (wire_type != kLength || !in.String(&period)) return false;
        break;
      case 3:  // revision
        if (wire_type != kVarint || !in.Varint(&v)) return false;
        header->set_revision(v);
        break;
      case 4:  // cells: those that follow are taken without decoding a tag
        if (wire_type != kLength) return false;
        do {
          if (!in.Length(&payload) || !ReadCell(payload)) return false;
        } while (in.Take(kSummaryCellTag));
        break;
      case 5:  // produced_unix_ms
        if (wire_type != kVarint || !in.Varint(&v)) return false;
        header->set_produced_unix_ms(static_cast<int64_t>(v));
        break;
      case 6:  // catalogue_version
        if (wire_type != kLength || !in.String(&catalogue_version)) {
          return false;
        }
        break;
      case 7:  // retracted
        if (wire_type != kVarint || !in.Varint(&v)) return false;
        header->set_retracted(v != 0);
        break;
      case 8:  // first_received_unix_ms
        if (wire_type != kVarint || !in.Varint(&v)) return false;
        header->set_first_received_unix_ms(static_cast<int64_t>(v));
        break;
      default:  // unknown: protobuf keeps it, then it is discarded
        return false;
    }
  }
  // Short codes: within the strings themselves, no allocation.
  header->set_trust(trust.data(), trust.size());
  header->set_period(period.data(), period.size());
  header->set_catalogue_version(catalogue_version.data(),
                                catalogue_version.size());
  summaries_.push_back({nullptr, bytes, {}});
  summary_cells_.emplace_back(first_cell, cells_.size() - first_cell);
  return true;
}

SubmitReaderPool::Lease SubmitReaderPool::Take() {
  {
    absl::MutexLock l(&mu_);
    if (!free_.empty()) {
      SubmitReader* reader = free_.back().release();
      free_.pop_back();
      return Lease(reader, GiveBack{this});
    }
  }
  return Lease(new SubmitReader(), GiveBack{this});
}

size_t SubmitReaderPool::kept() const {
  absl::MutexLock l(&mu_);
  return free_.size();
}

void SubmitReaderPool::Give(SubmitReader* reader) {
  std::unique_ptr<SubmitReader> owned(reader);
  if (owned->kept_bytes() > kMaxKeptBytes) return;
  owned->Clear();  // no view into bytes that are about to go
  absl::MutexLock l(&mu_);
  if (free_.size() < keep_) free_.push_back(std::move(owned));
}

void SubmitReaderPool::GiveBack::operator()(SubmitReader* reader) const {
  if (pool == nullptr) {
    delete reader;
  } else {
    pool->Give(reader);
  }
}

}  // namespace ohfed::aggregator
