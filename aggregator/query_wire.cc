#include "aggregator/query_wire.h"

#include <cstring>

namespace ohfed::aggregator::wire {
namespace {

enum WireType { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2 };

void Tag(int field, WireType type, std::string* out) {
  Varint((static_cast<uint64_t>(field) << 3) | type, out);
}

}  // namespace

void Varint(uint64_t value, std::string* out) {
  char buf[10];
  int n = 0;
  while (value >= 0x80) {
    buf[n++] = static_cast<char>(value | 0x80);
    value >>= 7;
  }
  buf[n++] = static_cast<char>(value);
  out->append(buf, n);
}

void String(int field, absl::string_view value, std::string* out) {
  if (value.empty()) return;
  Message(field, value, out);
}

void Message(int field, absl::string_view encoded, std::string* out) {
  Tag(field, kLengthDelimited, out);
  Varint(encoded.size(), out);
  out->append(encoded.data(), encoded.size());
}

void Uint(int field, uint64_t value, std::string* out) {
  if (value == 0) return;
  Tag(field, kVarint, out);
  Varint(value, out);
}

void Bool(int field, bool value, std::string* out) {
  if (!value) return;
  Tag(field, kVarint, out);
  out->push_back(1);
}

void Double(int field, double value, std::string* out) {
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  if (bits == 0) return;
  Tag(field, kFixed64, out);
  char buf[8];
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>(bits >> (8 * i));
  out->append(buf, 8);
}

}  // namespace ohfed::aggregator::wire
