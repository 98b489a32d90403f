#include "aggregator/query_wire.h"

#include <cstring>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"

namespace ohfed::aggregator::wire {
namespace {

using google::protobuf::internal::WireFormatLite;
using Out = google::protobuf::io::CodedOutputStream;

void Append(const uint8_t* begin, const uint8_t* end, std::string* out) {
  out->append(reinterpret_cast<const char*>(begin), end - begin);
}

void Tag(int field, WireFormatLite::WireType type, std::string* out) {
  Varint(WireFormatLite::MakeTag(field, type), out);
}

}  // namespace

void Varint(uint64_t value, std::string* out) {
  uint8_t buf[10];
  Append(buf, Out::WriteVarint64ToArray(value, buf), out);
}

void String(int field, absl::string_view value, std::string* out) {
  if (value.empty()) return;
  Message(field, value, out);
}

void Message(int field, absl::string_view encoded, std::string* out) {
  Tag(field, WireFormatLite::WIRETYPE_LENGTH_DELIMITED, out);
  Varint(encoded.size(), out);
  out->append(encoded.data(), encoded.size());
}

void Uint(int field, uint64_t value, std::string* out) {
  if (value == 0) return;
  Tag(field, WireFormatLite::WIRETYPE_VARINT, out);
  Varint(value, out);
}

void Bool(int field, bool value, std::string* out) {
  if (!value) return;
  Tag(field, WireFormatLite::WIRETYPE_VARINT, out);
  Varint(1, out);
}

void Double(int field, double value, std::string* out) {
  const uint64_t bits = WireFormatLite::EncodeDouble(value);
  if (bits == 0) return;
  Tag(field, WireFormatLite::WIRETYPE_FIXED64, out);
  uint8_t buf[8];
  Append(buf, Out::WriteLittleEndian64ToArray(bits, buf), out);
}

}  // namespace ohfed::aggregator::wire
