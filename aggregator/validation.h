// Checks an incoming UnitSummary against the catalogue, the registry and the
// transport limits before anything is stored. A plain function, testable
// without a network; the ingest service turns a failure into a REJECTED ack
// whose reason is the status message.
#ifndef OHFED_AGGREGATOR_VALIDATION_H_
#define OHFED_AGGREGATOR_VALIDATION_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/catalogue.h"
#include "common/period.h"
#include "common/registry.h"
#include "ohfed/v1/ohfed.pb.h"

namespace ohfed::aggregator {

// The month whose registry version applies to a summary period: the month
// itself for "YYYY-MM", January for "YYYY". kInvalidArgument quoting the
// period for anything else (quarters, ranges, garbage).
absl::StatusOr<Month> SummaryMonth(absl::string_view period);

// OK, or kInvalidArgument whose message is the reason for the sender, e.g.
// "unknown trust 'RAX'", "unknown measure 'x.y'", "revision must be > 0",
// "value 7 out of range [0, 1] for measure 'm'", "duplicate measure 'm'",
// "measure 'm' is monthly but period '2026' is a year".
// The trust is looked up in the registry version in effect for the period.
absl::Status ValidateSummary(const v1::UnitSummary& summary,
                             const Catalogue& catalogue,
                             const RegistryHistory& registry);

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_VALIDATION_H_
