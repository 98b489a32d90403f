// Protobuf wire format written field by field with protobuf's own encoders,
// for answers serialized without building their messages (issue 14 figure
// 3: building 2,484 completeness rows or 630 query rows on an Arena, then
// serializing them, was most of the engine's time). Each helper appends one
// field as protobuf 3 serializes it: a proto3 scalar or string with its
// default value (0, false, "") is not written, and a message's fields
// written in field-number order give the same bytes as SerializeAsString of
// the message.
#ifndef OHFED_AGGREGATOR_QUERY_WIRE_H_
#define OHFED_AGGREGATOR_QUERY_WIRE_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace ohfed::aggregator::wire {

void Varint(uint64_t value, std::string* out);
// A string or bytes field; nothing if empty.
void String(int field, absl::string_view value, std::string* out);
// An embedded message (already encoded), written even if empty, as a
// repeated message's element is.
void Message(int field, absl::string_view encoded, std::string* out);
// uint32, uint64 or int64 (as protobuf: a negative int64 takes 10 bytes);
// nothing if 0.
void Uint(int field, uint64_t value, std::string* out);
// Nothing if false.
void Bool(int field, bool value, std::string* out);
// Nothing if its bits are all 0 (+0.0; -0.0 is written, as protobuf does).
void Double(int field, double value, std::string* out);

}  // namespace ohfed::aggregator::wire

#endif  // OHFED_AGGREGATOR_QUERY_WIRE_H_
