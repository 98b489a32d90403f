#include "common/query_rows.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace ohfed {
namespace {

// kInternal unless each of `column`'s entries indexes a table of `size`.
absl::Status CheckIndices(
    const char* name, const google::protobuf::RepeatedField<uint32_t>& column,
    int size) {
  for (uint32_t i : column) {
    if (i >= static_cast<uint32_t>(size)) {
      return absl::InternalError(
          absl::StrCat("query answer: compact rows: ", name, " index ", i,
                       " outside its table of ", size));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckCompactRows(const v1::CompactRows& c) {
  const int rows = c.unit_size();
  if (c.measure_size() != rows || c.stat_size() != rows ||
      c.value_size() != rows || c.suppressed_size() != rows ||
      c.n_units_size() != rows || c.unit_names_size() != c.units_size()) {
    return absl::InternalError(
        "query answer: compact rows: columns of different lengths");
  }
  OHFED_RETURN_IF_ERROR(CheckIndices("unit", c.unit(), c.units_size()));
  OHFED_RETURN_IF_ERROR(
      CheckIndices("measure", c.measure(), c.measures_size()));
  return CheckIndices("stat", c.stat(), c.stats_size());
}

absl::StatusOr<v1::QueryResponse> ExpandCompactRows(v1::QueryResponse answer) {
  if (!answer.has_compact()) return answer;
  v1::CompactRows c = std::move(*answer.mutable_compact());
  answer.clear_compact();
  OHFED_RETURN_IF_ERROR(CheckCompactRows(c));
  answer.mutable_rows()->Reserve(answer.rows_size() + c.unit_size());
  for (int i = 0; i < c.unit_size(); ++i) {
    v1::Row* row = answer.add_rows();
    row->set_scope(c.scope());
    row->set_unit(c.units(c.unit(i)));
    row->set_unit_name(c.unit_names(c.unit(i)));
    row->set_period(c.period());
    row->set_measure(c.measures(c.measure(i)));
    row->set_stat(c.stats(c.stat(i)));
    row->set_value(c.value(i));
    row->set_suppressed(c.suppressed(i));
    row->set_n_units(c.n_units(i));
  }
  return answer;
}

}  // namespace ohfed
