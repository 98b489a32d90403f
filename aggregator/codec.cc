#include "aggregator/codec.h"

#include <lz4.h>

#include <limits>

#include "absl/strings/str_cat.h"
#include "common/rocksdb_util.h"
#include "common/status.h"
#include "common/summary_wire.h"

namespace ohfed::aggregator {
namespace {

absl::Status Corrupt(absl::string_view key, absl::string_view what) {
  return absl::DataLossError(
      absl::StrCat("corrupt ", what, " record '", key, "'"));
}

constexpr char kCompressedUnitTag = 'L';
constexpr size_t kLegacyUnitHeaderBytes = 16;
constexpr size_t kUnitHeaderBytes = 1 + 8 + 8 + 8;
// The largest serialized summary a record may claim (far above the ingest
// message limit): a damaged size field cannot ask for more memory.
constexpr uint64_t kMaxUnitBytes = 64u << 20;

// The compressed layout; false if `value` is not one whole.
bool ReadCompressedUnit(absl::string_view value, UnitBytes* out) {
  if (value.size() < kUnitHeaderBytes || value[0] != kCompressedUnitTag) {
    return false;
  }
  const uint64_t size = GetBigEndian64(value.substr(17));
  const absl::string_view block = value.substr(kUnitHeaderBytes);
  if (size > kMaxUnitBytes ||
      block.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return false;
  }
  // Room for the field a forwarder appends (AppendFirstReceived): without
  // it, that append copied the whole summary into a buffer twice its size
  // (docs/performance.md, "Census pair, twenty-first round").
  out->summary.reserve(size + kFirstReceivedFieldMaxBytes);
  out->summary.resize(size);
  const int n = LZ4_decompress_safe(block.data(), out->summary.data(),
                                    static_cast<int>(block.size()),
                                    static_cast<int>(size));
  if (n < 0 || static_cast<uint64_t>(n) != size) return false;
  out->first_received_unix_ms =
      static_cast<int64_t>(GetBigEndian64(value.substr(1)));
  out->last_received_unix_ms =
      static_cast<int64_t>(GetBigEndian64(value.substr(9)));
  return true;
}

// Whether `value`, read as a record from before compression, holds the
// unit its key ("u/" trust "/" period) names.
bool LegacyUnitNames(absl::string_view key, absl::string_view value) {
  if (value.size() < kLegacyUnitHeaderBytes) return false;
  absl::StatusOr<SummaryKey> read =
      ReadSummaryKey(value.substr(kLegacyUnitHeaderBytes));
  return read.ok() &&
         key == absl::StrCat(kUnitPrefix, UnitId(read->trust, read->period));
}

// Reads a base-128 varint at `*at`, advancing it; false if truncated or
// longer than 10 bytes.
bool ReadVarint(absl::string_view bytes, size_t* at, uint64_t* value) {
  *value = 0;
  for (int shift = 0; shift < 64 && *at < bytes.size(); shift += 7) {
    const auto byte = static_cast<uint8_t>(bytes[(*at)++]);
    *value |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

}  // namespace

std::vector<absl::string_view> SummaryBytes(absl::string_view request) {
  constexpr uint64_t kSummariesTag = (1 << 3) | 2;  // field 1, length
  std::vector<absl::string_view> out;
  size_t at = 0;
  while (at < request.size()) {
    uint64_t tag = 0, value = 0;
    if (!ReadVarint(request, &at, &tag)) return {};
    switch (tag & 7) {
      case 0:  // varint
        if (!ReadVarint(request, &at, &value)) return {};
        break;
      case 1:  // 64-bit
        if (request.size() - at < 8) return {};
        at += 8;
        break;
      case 2:  // length-delimited
        if (!ReadVarint(request, &at, &value)) return {};
        if (value > request.size() - at) return {};
        if (tag == kSummariesTag) out.push_back(request.substr(at, value));
        at += value;
        break;
      case 5:  // 32-bit
        if (request.size() - at < 4) return {};
        at += 4;
        break;
      default:  // groups, or not a wire type
        return {};
    }
  }
  return out;
}

std::string UnitId(absl::string_view trust, absl::string_view period) {
  return absl::StrCat(trust, "/", period);
}

bool SplitUnitId(absl::string_view id, std::string* trust,
                 std::string* period) {
  size_t slash = id.find('/');
  if (slash == absl::string_view::npos || slash == 0 ||
      slash + 1 == id.size()) {
    return false;
  }
  *trust = std::string(id.substr(0, slash));
  *period = std::string(id.substr(slash + 1));
  return true;
}

std::string RollupId(absl::string_view node, absl::string_view period,
                     absl::string_view measure) {
  return absl::StrCat(node, "|", period, "|", measure);
}

StoredUnitBody CompressUnitBody(absl::string_view serialized) {
  // Compressed into a buffer the thread keeps, then copied out at its size
  // (a third to a fifth of the input): a body sized to LZ4's bound was
  // zero-filled and held, mostly unused, until the commit wrote it. In one
  // profile of a pair census, 3.7% of the samples were the first writes to
  // that new heap; the census's time did not move beyond its noise
  // (docs/performance.md, "Census pair, twenty-first round"). A body larger
  // than kMaxKeptScratchBytes gets a buffer of its own, so a rare large one
  // is not kept per thread.
  constexpr size_t kMaxKeptScratchBytes = 256 << 10;
  thread_local std::string kept;
  StoredUnitBody body;
  body.size = static_cast<uint32_t>(serialized.size());
  const size_t bound =
      static_cast<size_t>(LZ4_compressBound(static_cast<int>(body.size)));
  std::string own;
  std::string& scratch = bound <= kMaxKeptScratchBytes ? kept : own;
  if (scratch.size() < bound) scratch.resize(bound);
  const int n = LZ4_compress_default(serialized.data(), scratch.data(),
                                     static_cast<int>(body.size),
                                     static_cast<int>(bound));
  body.bytes.assign(scratch.data(), static_cast<size_t>(n));
  return body;
}

std::string EncodeUnitHeader(int64_t first_received_unix_ms,
                             int64_t last_received_unix_ms,
                             const StoredUnitBody& body) {
  std::string out(1, kCompressedUnitTag);
  PutBigEndian64(&out, static_cast<uint64_t>(first_received_unix_ms));
  PutBigEndian64(&out, static_cast<uint64_t>(last_received_unix_ms));
  PutBigEndian64(&out, body.size);
  return out;
}

std::string EncodeUnit(const UnitRecord& record) {
  const StoredUnitBody body =
      CompressUnitBody(record.summary.SerializeAsString());
  return EncodeUnitHeader(record.first_received_unix_ms,
                          record.last_received_unix_ms, body) +
         body.bytes;
}

absl::StatusOr<UnitBytes> ReadUnitBytes(absl::string_view key,
                                        absl::string_view value) {
  UnitBytes r;
  if (!value.empty() && value[0] == kCompressedUnitTag) {
    if (ReadCompressedUnit(value, &r)) return r;
    // A record from before compression starts with the top byte of a
    // millisecond time: the tag only for a time past the year 10^8, which a
    // regional may have forwarded. Read as one only if it names its unit.
    if (!LegacyUnitNames(key, value)) return Corrupt(key, "unit");
  }
  if (value.size() < kLegacyUnitHeaderBytes) return Corrupt(key, "unit");
  r.first_received_unix_ms = static_cast<int64_t>(GetBigEndian64(value));
  r.last_received_unix_ms =
      static_cast<int64_t>(GetBigEndian64(value.substr(8)));
  r.summary = std::string(value.substr(kLegacyUnitHeaderBytes));
  return r;
}

absl::StatusOr<UnitRecord> DecodeUnit(absl::string_view key,
                                      absl::string_view value) {
  OHFED_ASSIGN_OR_RETURN(UnitBytes bytes, ReadUnitBytes(key, value));
  UnitRecord r;
  r.first_received_unix_ms = bytes.first_received_unix_ms;
  r.last_received_unix_ms = bytes.last_received_unix_ms;
  if (!r.summary.ParseFromString(bytes.summary)) return Corrupt(key, "unit");
  return r;
}

std::string EncodeRollup(const RollupCell& cell) {
  std::string out;
  PutBigEndian64(&out, cell.n_units);
  v1::Cell c;
  c.set_value(cell.sum);
  for (const auto& [value, count] : cell.buckets) {
    v1::Bucket* b = c.add_buckets();
    b->set_value(value);
    b->set_count(count);
  }
  c.AppendToString(&out);
  return out;
}

absl::StatusOr<RollupCell> DecodeRollup(absl::string_view key,
                                        absl::string_view value) {
  if (value.size() < 8) return Corrupt(key, "rollup");
  RollupCell cell;
  cell.n_units = static_cast<uint32_t>(GetBigEndian64(value));
  v1::Cell c;
  absl::string_view body = value.substr(8);
  if (!c.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return Corrupt(key, "rollup");
  }
  cell.sum = c.value();
  for (const v1::Bucket& b : c.buckets()) cell.buckets[b.value()] = b.count();
  return cell;
}

std::string EncodeForward(const UpstreamRecord& record) {
  std::string out;
  PutBigEndian64(&out, record.acked_revision);
  PutBigEndian64(&out, record.rejected_revision);
  out += record.reason;
  return out;
}

absl::StatusOr<UpstreamRecord> DecodeForward(absl::string_view key,
                                             absl::string_view value) {
  if (value.size() < 16) return Corrupt(key, "forward");
  UpstreamRecord r;
  r.acked_revision = GetBigEndian64(value);
  r.rejected_revision = GetBigEndian64(value.substr(8));
  r.reason = std::string(value.substr(16));
  return r;
}

std::string RegistryFingerprint(const Registry& registry) {
  std::string out =
      absl::StrCat("effective ", registry.effective_from().ToString(), "\n");
  for (const Region& region : registry.regions()) {
    for (const std::string& ics : region.icss) {
      for (const std::string& trust : registry.FindIcs(ics)->trusts) {
        absl::StrAppend(&out, trust, " ", ics, " ", region.code, "\n");
      }
    }
  }
  return out;
}

std::string RegistryFingerprint(const RegistryHistory& history) {
  std::string out;
  for (const Registry* version : history.versions()) {
    out += RegistryFingerprint(*version);
  }
  return out;
}

HeldUnit ToHeldUnit(const UnitRecord& record) {
  return ToHeldUnit(record.summary, record.first_received_unix_ms,
                    record.last_received_unix_ms);
}

namespace {

// Everything of a HeldUnit but its cells.
HeldUnit HeldHeader(const v1::UnitSummary& header,
                    int64_t first_received_unix_ms,
                    int64_t last_received_unix_ms) {
  HeldUnit u;
  u.trust = header.trust();
  u.period = header.period();
  u.revision = header.revision();
  u.first_received_unix_ms = first_received_unix_ms;
  u.last_received_unix_ms = last_received_unix_ms;
  return u;
}

}  // namespace

HeldUnit ToHeldUnit(const v1::UnitSummary& summary,
                    int64_t first_received_unix_ms,
                    int64_t last_received_unix_ms) {
  HeldUnit u =
      HeldHeader(summary, first_received_unix_ms, last_received_unix_ms);
  u.cells = UnitCells(summary.cells());
  return u;
}

HeldUnit ToHeldUnit(const v1::UnitSummary& header,
                    absl::Span<const CellView> cells,
                    int64_t first_received_unix_ms,
                    int64_t last_received_unix_ms) {
  HeldUnit u =
      HeldHeader(header, first_received_unix_ms, last_received_unix_ms);
  u.cells = UnitCells(cells);
  return u;
}

}  // namespace ohfed::aggregator
