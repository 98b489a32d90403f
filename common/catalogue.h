// The measure catalogue (SPEC §3): every measure ohfed knows, loaded from a
// versioned CSV data file (common/data/catalogue.csv, embedded as the
// default). Measures are data, not code.
//
// File columns, one row per measure:
//   code          dotted code, e.g. staffing.wte.consultant_om
//   label, unit   for people
//   type          number | count | bool | option | distribution | derived
//                 (option: one yes/no option of an enum question; the
//                 question is the code without its last segment, e.g.
//                 profile.host_type.acute belongs to profile.host_type)
//   min, max      valid range of a unit's value (distribution: of each event)
//   across_units  sum | pool | yes | derived  (how units combine)
//   across_time   sum | latest | annual | pool | derived (how months combine)
//   disclosive    yes | no  (subject to small-number suppression, SPEC §7)
//   frequency     month | year  (the period a unit reports it for)
// Metadata line "# version: X" names the catalogue version.
//
// Immutable after construction; thread-safe to share.
#ifndef OHFED_COMMON_CATALOGUE_H_
#define OHFED_COMMON_CATALOGUE_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ohfed {

enum class ValueType {
  kNumber,
  kCount,
  kBool,
  kOption,
  kDistribution,
  kDerived
};
enum class UnitAggregation { kSum, kPool, kYes, kDerived };
enum class TimeAggregation { kSum, kLatest, kAnnual, kPool, kDerived };
enum class Frequency { kMonth, kYear };

struct Measure {
  std::string code;
  std::string label;
  std::string unit;
  ValueType type = ValueType::kNumber;
  double min = 0;
  double max = 0;
  UnitAggregation across_units = UnitAggregation::kSum;
  TimeAggregation across_time = TimeAggregation::kSum;
  bool disclosive = false;
  Frequency frequency = Frequency::kMonth;
  std::string question;  // for options: the enum question's code

  bool is_yes_no() const {
    return type == ValueType::kBool || type == ValueType::kOption;
  }
};

class Catalogue {
 public:
  // Parses catalogue CSV text. `source` names it in errors. Fails with
  // kInvalidArgument naming the line and value for an unknown type or
  // aggregation, a malformed number, min > max, a duplicate code, a
  // malformed code, an empty file or a missing version.
  static absl::StatusOr<std::shared_ptr<const Catalogue>> Parse(
      absl::string_view text, absl::string_view source);
  static absl::StatusOr<std::shared_ptr<const Catalogue>> LoadFile(
      const std::string& path);
  // The catalogue shipped with ohfed, parsed once.
  static std::shared_ptr<const Catalogue> Default();

  const std::string& version() const { return version_; }
  const std::vector<Measure>& measures() const { return measures_; }

  // nullptr if unknown.
  const Measure* Find(absl::string_view code) const;
  // Measures whose code equals `prefix` or starts with `prefix` + "." (whole
  // segments: "staffing.wte" does not match "staffing.wte_basis.x").
  // Empty prefix: all. In file order.
  std::vector<const Measure*> WithPrefix(absl::string_view prefix) const;
  // The options of enum question `question` ("profile.host_type"), in file
  // order; empty if it is not an enum question.
  std::vector<const Measure*> OptionsOf(absl::string_view question) const;

  // Checks one scalar value against the measure: within [min, max], whole
  // for counts, 0 or 1 for yes/no. The error names the measure and value.
  static absl::Status CheckValue(const Measure& m, double value);

 private:
  Catalogue() = default;
  std::string version_;
  std::vector<Measure> measures_;
  // A code's hash from its length and its first and last 8 bytes, which
  // tell the shipped codes apart (codes that share them only cost a
  // compare): absl's string hash reads every byte.
  struct CodeHash {
    using is_transparent = void;
    size_t operator()(absl::string_view code) const;
  };
  // Code -> index in measures_. Hashed: validation finds every cell's
  // measure (a std::map's ~7 compares of dotted codes a cell were 4% of the
  // aggregator's CPU under ingest).
  absl::flat_hash_map<std::string, size_t, CodeHash, std::equal_to<>> index_;
};

// The catalogue versions an aggregator knows (the catalogue grows, and
// agents upgrade one trust at a time): the current one, which queries use,
// and older ones whose summaries are still accepted, each summary being
// checked against the measures of the version it names. Not thread-safe for
// AddKnown; const methods may be called concurrently once built.
class CatalogueVersions {
 public:
  explicit CatalogueVersions(std::shared_ptr<const Catalogue> current);

  // Also knows `other`. A version already known is kept as it is, so the
  // current one is never replaced.
  void AddKnown(std::shared_ptr<const Catalogue> other);

  const Catalogue& current() const { return *current_; }
  const std::shared_ptr<const Catalogue>& current_ptr() const {
    return current_;
  }
  // The catalogue of `version`; nullptr if unknown.
  const Catalogue* Find(absl::string_view version) const;
  // Every known version, the current one first, then newest first.
  std::vector<std::string> versions() const;

 private:
  std::shared_ptr<const Catalogue> current_;
  std::map<std::string, std::shared_ptr<const Catalogue>, std::less<>> known_;
};

// Orders catalogue versions as people read them: runs of digits compare as
// numbers, everything else byte by byte ("2026.2" < "2026.10" < "2027.1").
// Negative, zero or positive like strcmp.
int CompareVersions(absl::string_view a, absl::string_view b);

// Segment-aware prefix test used for measure prefixes everywhere.
bool MeasureHasPrefix(absl::string_view code, absl::string_view prefix);

}  // namespace ohfed

#endif  // OHFED_COMMON_CATALOGUE_H_
