// A reader for the JSON values of agent store format 0 (agent/store_format.h),
// so that the migration needs no JSON library: strict RFC 8259 values (no
// comments, no trailing commas), numbers kept as their text so that doubles
// and 64-bit revisions convert without loss.
#ifndef OHFED_AGENT_V0_JSON_H_
#define OHFED_AGENT_V0_JSON_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ohfed::agent::v0 {

struct Json {
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  Type type = Type::kNull;
  bool boolean = false;
  std::string text;  // a string's value, or a number as written
  std::vector<Json> items;
  std::map<std::string, Json> members;
};

// kDataLoss for anything but exactly one JSON value (spaces around it
// allowed).
absl::StatusOr<Json> ParseJson(absl::string_view text);

// Typed access; kDataLoss when the value has another type or is out of range.
absl::StatusOr<std::string> AsString(const Json& j);
absl::StatusOr<double> AsDouble(const Json& j);
absl::StatusOr<int64_t> AsInt(const Json& j);
absl::StatusOr<uint64_t> AsUint(const Json& j);

}  // namespace ohfed::agent::v0

#endif  // OHFED_AGENT_V0_JSON_H_
