#include "common/summary_wire.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/unknown_field_set.h>
#include <google/protobuf/wire_format_lite.h>

#include <utility>

#include "absl/strings/str_cat.h"

namespace ohfed {
namespace {

using google::protobuf::internal::WireFormatLite;

constexpr int kTrustField = v1::UnitSummary::kTrustFieldNumber;
constexpr int kPeriodField = v1::UnitSummary::kPeriodFieldNumber;
constexpr int kRevisionField = v1::UnitSummary::kRevisionFieldNumber;
constexpr int kFirstReceivedField =
    v1::UnitSummary::kFirstReceivedUnixMsFieldNumber;
constexpr int kSummariesField = v1::SubmitRequest::kSummariesFieldNumber;

absl::Status Malformed(size_t bytes) {
  return absl::InvalidArgumentError(absl::StrCat(
      "a serialized unit summary (", bytes, " bytes) is malformed"));
}

}  // namespace

absl::StatusOr<SummaryKey> ReadSummaryKey(absl::string_view bytes) {
  google::protobuf::io::CodedInputStream in(
      reinterpret_cast<const uint8_t*>(bytes.data()),
      static_cast<int>(bytes.size()));
  SummaryKey key;
  while (true) {
    const uint32_t tag = in.ReadTag();
    if (tag == 0) break;
    const int field = WireFormatLite::GetTagFieldNumber(tag);
    const bool delimited = WireFormatLite::GetTagWireType(tag) ==
                           WireFormatLite::WIRETYPE_LENGTH_DELIMITED;
    bool ok = true;
    if (field == kTrustField && delimited) {
      ok = WireFormatLite::ReadString(&in, &key.trust);
    } else if (field == kPeriodField && delimited) {
      ok = WireFormatLite::ReadString(&in, &key.period);
    } else if (field == kRevisionField && WireFormatLite::GetTagWireType(tag) ==
                                              WireFormatLite::WIRETYPE_VARINT) {
      ok = in.ReadVarint64(&key.revision);
    } else {
      ok = WireFormatLite::SkipField(&in, tag);
    }
    if (!ok) return Malformed(bytes.size());
  }
  if (!in.ConsumedEntireMessage()) return Malformed(bytes.size());
  return key;
}

void AppendFirstReceived(int64_t ms, std::string* bytes) {
  uint8_t field[kFirstReceivedFieldMaxBytes];
  const uint8_t* end =
      WireFormatLite::WriteInt64ToArray(kFirstReceivedField, ms, field);
  bytes->append(reinterpret_cast<const char*>(field), end - field);
}

std::vector<SerializedSummary> SerializeSummaries(
    const std::vector<v1::UnitSummary>& summaries) {
  std::vector<SerializedSummary> out;
  out.reserve(summaries.size());
  for (const v1::UnitSummary& s : summaries) {
    out.push_back(
        {{s.trust(), s.period(), s.revision()}, s.SerializeAsString()});
  }
  return out;
}

size_t FramedSummarySize(size_t body_bytes) {
  return WireFormatLite::TagSize(kSummariesField,
                                 WireFormatLite::TYPE_MESSAGE) +
         google::protobuf::io::CodedOutputStream::VarintSize64(body_bytes) +
         body_bytes;
}

void AddSerializedSummary(std::string bytes, v1::SubmitRequest* request) {
  *request->GetReflection()->MutableUnknownFields(request)->AddLengthDelimited(
      kSummariesField) = std::move(bytes);
}

int SerializedSummaryCount(const v1::SubmitRequest& request) {
  return request.GetReflection()->GetUnknownFields(request).field_count();
}

}  // namespace ohfed
