#include "common/query_rows.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace ohfed {
namespace {

// kInternal unless each of `column`'s entries indexes a table of `size`;
// `what` names the answer.
absl::Status CheckIndices(
    absl::string_view what, const char* name,
    const google::protobuf::RepeatedField<uint32_t>& column, int size) {
  for (uint32_t i : column) {
    if (i >= static_cast<uint32_t>(size)) {
      return absl::InternalError(absl::StrCat(what, ": ", name, " index ", i,
                                              " outside its table of ", size));
    }
  }
  return absl::OkStatus();
}

constexpr char kQueryRows[] = "query answer: compact rows";

}  // namespace

absl::Status CheckCompactRows(const v1::CompactRows& c) {
  const int rows = c.unit_size();
  if (c.measure_size() != rows || c.stat_size() != rows ||
      c.value_size() != rows || c.suppressed_size() != rows ||
      c.n_units_size() != rows || c.unit_names_size() != c.units_size()) {
    return absl::InternalError(
        "query answer: compact rows: columns of different lengths");
  }
  OHFED_RETURN_IF_ERROR(
      CheckIndices(kQueryRows, "unit", c.unit(), c.units_size()));
  OHFED_RETURN_IF_ERROR(
      CheckIndices(kQueryRows, "measure", c.measure(), c.measures_size()));
  return CheckIndices(kQueryRows, "stat", c.stat(), c.stats_size());
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

absl::Status CheckCompactCompleteness(const v1::CompletenessResponse& answer) {
  for (const v1::PeriodCompleteness& p : answer.periods()) {
    const std::string what = absl::StrCat(
        "completeness answer: ", p.period().substr(0, 16), ": compact rows");
    const v1::CompactTrustRows& c = p.compact();
    const int rows = c.trust_size();
    if (c.reported_size() != rows || c.on_time_size() != rows ||
        c.revision_size() != rows || c.reasons_size() != c.refused_size()) {
      return absl::InternalError(
          absl::StrCat(what, ": columns of different lengths"));
    }
    OHFED_RETURN_IF_ERROR(
        CheckIndices(what, "trust", c.trust(), answer.trusts_size()));
    OHFED_RETURN_IF_ERROR(CheckIndices(what, "refused", c.refused(), rows));
    for (int k = 1; k < c.refused_size(); ++k) {
      if (c.refused(k) <= c.refused(k - 1)) {
        return absl::InternalError(
            absl::StrCat(what, ": refused rows not in ascending order"));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::CompletenessResponse> ExpandCompactCompleteness(
    v1::CompletenessResponse answer) {
  OHFED_RETURN_IF_ERROR(CheckCompactCompleteness(answer));
  for (v1::PeriodCompleteness& p : *answer.mutable_periods()) {
    if (!p.has_compact()) continue;
    const v1::CompactTrustRows c = std::move(*p.mutable_compact());
    p.clear_compact();
    p.mutable_trusts()->Reserve(p.trusts_size() + c.trust_size());
    int refused = 0;  // the next entry of c.refused
    for (int i = 0; i < c.trust_size(); ++i) {
      v1::TrustCompleteness* row = p.add_trusts();
      *row = answer.trusts(static_cast<int>(c.trust(i)));
      row->set_reported(c.reported(i));
      row->set_on_time(c.on_time(i));
      row->set_revision(c.revision(i));
      if (!c.reported(i)) row->clear_last_received_unix_ms();
      if (refused < c.refused_size() &&
          c.refused(refused) == static_cast<uint32_t>(i)) {
        row->set_upstream_reason(c.reasons(refused++));
      }
    }
  }
  answer.clear_trusts();
  return answer;
}

}  // namespace ohfed
