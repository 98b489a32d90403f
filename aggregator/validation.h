// Checks an incoming UnitSummary against the catalogue, the registry, the
// receiver's clock and the transport limits before anything is stored. A
// plain function, testable without a network; the ingest service turns a
// failure into a REJECTED ack whose reason is the status message.
//
// Reasons quote what the sender sent only through Echo(), so a hostile
// peer cannot make a reason (or the log line built from it) long or binary.
#ifndef OHFED_AGGREGATOR_VALIDATION_H_
#define OHFED_AGGREGATOR_VALIDATION_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "aggregator/unit_cells.h"
#include "common/catalogue.h"
#include "common/period.h"
#include "common/registry.h"
#include "ohfed/v1/ohfed.pb.h"

namespace ohfed::aggregator {

// At most this many bytes of peer input are quoted in a reason.
inline constexpr int kMaxEchoBytes = 64;

// How far ahead of the receiver's clock a revision (unix ms at the sender,
// see agent/store.h) or a period's end may be: clock skew between hosts.
inline constexpr absl::Duration kClockTolerance = absl::Hours(24);

// Peer input fit to quote: at most kMaxEchoBytes of it, non-printable and
// non-ASCII bytes C-escaped ("\n", "\xff"), "..." appended when cut.
std::string Echo(absl::string_view text);

// Peer input fit for a log line, which escapes it itself (common/log.h):
// at most kMaxEchoBytes of it, cut before a UTF-8 continuation byte, "..."
// appended when cut, and otherwise as sent. Echo()ing it as well would
// escape it twice: a JSON reader would get "\\n" back for a newline.
std::string Bound(absl::string_view text);

// The month whose registry version applies to a summary period: the month
// itself for "YYYY-MM", January for "YYYY". kInvalidArgument quoting the
// period for anything else (quarters, ranges, garbage). Lenient about
// surrounding blanks (Period::Parse); for reading what is already stored.
absl::StatusOr<Month> SummaryMonth(absl::string_view period);

// The period of an incoming summary, strictly: exactly "YYYY-MM" or "YYYY"
// (no blanks, no other form), a year from 1900 to 2999, and a period that
// has ended by `now` (a month from kClockTolerance before its end) or, for
// a year, begun (from kClockTolerance before its start). kInvalidArgument
// otherwise, e.g. "malformed period ' 2018': a summary is for a month
// (YYYY-MM) or a year (YYYY)", "malformed period '0000-07': year must be
// 1900 to 2999", "period '2026-12' has not ended yet ...".
absl::StatusOr<Period> CheckSummaryPeriod(absl::string_view period,
                                          absl::Time now);

// CheckSummaryPeriod in two steps, for ingest, which parses a summary's
// period once for every check of it: the form (the same refusals but "has
// not ended/begun") ...
absl::StatusOr<Period> ParseSummaryPeriod(absl::string_view period);

// ... and the receiver's clock, with what the checks derive from it worked
// out once for a batch: whether a period has ended (a month) or begun (a
// year) by `now`, within kClockTolerance, and whether a revision is ahead
// of it (ValidateSummary's reasons).
class ReceiptClock {
 public:
  explicit ReceiptClock(absl::Time now);
  absl::Time now() const { return now_; }
  // `period` is ParseSummaryPeriod of `text`, which a refusal quotes.
  absl::Status CheckPeriod(const Period& period, absl::string_view text) const;
  absl::Status CheckRevision(uint64_t revision) const;

 private:
  absl::Time now_;
  // The month holding now + kClockTolerance (clamped to just beyond the
  // years a summary may name): the months before it have ended, and the
  // years up to its own have begun, as far as the tolerance goes.
  Month open_;
  int64_t max_revision_;  // unix ms; <= 0: no limit
};

// What ingest works out once per summary for its checks: the period,
// parsed strictly (ParseSummaryPeriod), and the registry version in effect
// for it (nullptr when the period is malformed).
struct SummaryPeriod {
  absl::StatusOr<Period> period;
  const Registry* registry = nullptr;
};
SummaryPeriod FindSummaryPeriod(absl::string_view period,
                                const RegistryHistory& registry);

// OK, or kInvalidArgument whose message is the reason for the sender, e.g.
// "unknown trust 'RAX'", "unknown measure 'x.y'", "revision must be > 0",
// "revision 9999999999999 is more than a day ahead of this aggregator's
// clock ...", "unknown catalogue version '1999.0' ...",
// "value 7 out of range [0, 1] for measure 'm'", "duplicate measure 'm'",
// "measure 'm' is monthly but period '2026' is a year", "bucket counts of
// measure 'm' overflow", "bucket value 2.5 of measure 'm' is not a whole
// number of days", "367 buckets exceed the limit of 366 ...".
// The trust is looked up in the registry version in effect for the period;
// the cells are checked against the catalogue version the summary names,
// which must be one of `catalogues` (an agent still on an older version is
// accepted); `now` is the receiver's clock (revision and period checks).
absl::Status ValidateSummary(const v1::UnitSummary& summary,
                             const CatalogueVersions& catalogues,
                             const RegistryHistory& registry, absl::Time now);
// The same for a summary whose cells were read from its received bytes
// (aggregator/submit_reader.h): `header` holds every field but the cells
// (its own cells are ignored), `cells` are its cells in the order received.
// The same checks in the same order, so the same first fault and reason.
absl::Status ValidateSummary(const v1::UnitSummary& header,
                             absl::Span<const CellView> cells,
                             const CatalogueVersions& catalogues,
                             const RegistryHistory& registry, absl::Time now);
// Both with the period found once (FindSummaryPeriod of the summary's
// period) and the batch's clock: the same checks and reasons.
absl::Status ValidateSummary(const v1::UnitSummary& summary,
                             const CatalogueVersions& catalogues,
                             const SummaryPeriod& period,
                             const ReceiptClock& clock);
absl::Status ValidateSummary(const v1::UnitSummary& header,
                             absl::Span<const CellView> cells,
                             const CatalogueVersions& catalogues,
                             const SummaryPeriod& period,
                             const ReceiptClock& clock);

// Drops every field of `request` that this version does not know, at every
// level (request, summary, cell, bucket), so that nothing that is not a
// catalogue value is stored or forwarded: Message::DiscardUnknownFields
// without reflection, which costs little beside the parse for a batch of
// ~700 cells. Returns, per summary, whether it held any (its received bytes
// then differ from what is kept).
std::vector<bool> DiscardUnknownFields(v1::SubmitRequest* request);

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_VALIDATION_H_
