// The organisation registry (SPEC §3): NHS England region -> ICS -> trust by
// ODS code, loaded from CSV (columns region_code, region_name, ics_code,
// ics_name, trust_code, trust_name; metadata "# version: X" and
// "# effective_from: YYYY-MM"). England's is embedded as the default
// (common/data/england_orgs.csv); an operator can load their own.
//
// A Registry is immutable; a RegistryHistory holds its versions by effective
// month so that a trust merger does not rewrite earlier periods
// (common/reference_files.h loads one from files and folders).
#ifndef OHFED_COMMON_REGISTRY_H_
#define OHFED_COMMON_REGISTRY_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/period.h"

namespace ohfed {

struct Trust {
  std::string code, name, ics, region;
};
struct Ics {
  std::string code, name, region;
  std::vector<std::string> trusts;  // in file order
};
struct Region {
  std::string code, name;
  std::vector<std::string> icss;  // in file order
};

// A place in the hierarchy: national, or one region, ICS or trust.
struct Scope {
  enum class Level { kNational, kRegion, kIcs, kTrust };
  Level level = Level::kNational;
  std::string code;  // empty for national

  // "national", "region:Y56", "ics:QKK", "trust:RJ1" (level names are
  // case-insensitive). Syntax only; Registry::Check validates the code.
  static absl::StatusOr<Scope> Parse(absl::string_view text);
  static absl::StatusOr<Level> ParseLevel(absl::string_view text);
  static Scope National() { return Scope{}; }
  std::string ToString() const;  // the form Parse accepts
  bool operator==(const Scope&) const = default;
};
absl::string_view LevelName(Scope::Level level);  // "national", "region", ...

class Registry {
 public:
  // Fails with kInvalidArgument naming the line for: an empty or header-only
  // file, missing columns, a wrong field count, an empty code, a duplicate
  // trust row, a trust placed in two ICSs, an ICS placed in two regions, one
  // code given two names, a malformed effective_from.
  static absl::StatusOr<std::shared_ptr<const Registry>> Parse(
      absl::string_view text, absl::string_view source);
  static absl::StatusOr<std::shared_ptr<const Registry>> LoadFile(
      const std::string& path);
  // England, embedded, parsed once.
  static std::shared_ptr<const Registry> England();

  const std::string& version() const { return version_; }
  Month effective_from() const { return effective_from_; }

  // nullptr if unknown.
  const Trust* FindTrust(absl::string_view code) const;
  const Ics* FindIcs(absl::string_view code) const;
  const Region* FindRegion(absl::string_view code) const;

  // kNotFound naming the scope if its code is unknown at its level.
  absl::Status Check(const Scope& scope) const;
  // Trust codes within the scope, in file order (empty if unknown).
  std::vector<std::string> TrustsIn(const Scope& scope) const;
  // Whether the trust lies within the scope.
  bool Contains(const Scope& scope, absl::string_view trust) const;
  // The scope at `level` that contains the trust (national for kNational).
  Scope Enclosing(absl::string_view trust, Scope::Level level) const;
  // Child scopes of `scope` at `level` (below or equal to it), in file order;
  // e.g. the ICSs of a region.
  std::vector<Scope> Children(const Scope& scope, Scope::Level level) const;
  // Display name of a scope ("England" for national).
  std::string NameOf(const Scope& scope) const;

  const std::vector<Region>& regions() const { return regions_; }
  size_t trust_count() const { return trusts_.size(); }

 private:
  Registry() = default;
  std::string version_;
  Month effective_from_;
  std::vector<Region> regions_;
  // By code. Hashed: ingest finds each summary's trust a few times (scope
  // and submitter checks, its enclosing units).
  absl::flat_hash_map<std::string, Ics> icss_;
  absl::flat_hash_map<std::string, Trust> trusts_;
  std::vector<std::string> trust_order_;
};

// Registry versions by effective month. Not thread-safe for Add; const
// methods may be called concurrently once built.
class RegistryHistory {
 public:
  explicit RegistryHistory(std::shared_ptr<const Registry> initial);
  // Fails with kAlreadyExists if a version with the same effective month
  // exists.
  absl::Status Add(std::shared_ptr<const Registry> r);
  // The version in effect in month `m`: the latest effective at or before m,
  // or the earliest if m precedes all.
  const Registry& At(Month m) const;
  const Registry& Latest() const;
  // Every version, by effective month.
  std::vector<const Registry*> versions() const;

 private:
  std::map<Month, std::shared_ptr<const Registry>> versions_;
};

}  // namespace ohfed

#endif  // OHFED_COMMON_REGISTRY_H_
