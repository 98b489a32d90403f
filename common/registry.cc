#include "common/registry.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/csv.h"
#include "common/embedded_data.h"
#include "common/status.h"

namespace ohfed {
namespace {

constexpr absl::string_view kLevelNames[] = {"national", "region", "ics",
                                             "trust"};

struct RowContext {
  absl::string_view source;
  int line;
  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat(source, " line ", line, ": ", what));
  }
};

// Records where each code was first seen, to explain conflicts.
struct Seen {
  std::string parent, name;
  int line;
};

absl::Status CheckConsistent(std::map<std::string, Seen>& seen,
                             const std::string& kind, const std::string& code,
                             const std::string& name, const std::string& parent,
                             const std::string& parent_kind,
                             const RowContext& ctx) {
  auto [it, inserted] = seen.emplace(code, Seen{parent, name, ctx.line});
  if (inserted) return absl::OkStatus();
  if (!parent.empty() && it->second.parent != parent) {
    return ctx.Error(absl::StrCat(kind, " '", code, "' placed in ", parent_kind,
                                  " '", parent, "' but line ", it->second.line,
                                  " places it in ", parent_kind, " '",
                                  it->second.parent, "'"));
  }
  if (it->second.name != name) {
    return ctx.Error(absl::StrCat(kind, " '", code, "' named '", name,
                                  "' but line ", it->second.line, " names it '",
                                  it->second.name, "'"));
  }
  return absl::OkStatus();
}

// The line of the "# key: value" metadata line in `text` (1-based), for
// errors; 0 if there is none.
int MetadataLine(absl::string_view text, absl::string_view key) {
  int number = 0;
  text = absl::StripPrefix(text, "\xEF\xBB\xBF");  // as ParseCsv does
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    line = absl::StripLeadingAsciiWhitespace(line);
    if (!absl::ConsumePrefix(&line, "#")) return 0;  // past the metadata
    line = absl::StripLeadingAsciiWhitespace(line);
    if (absl::StartsWith(line, key)) return number;
  }
  return 0;
}

}  // namespace

absl::string_view LevelName(Scope::Level level) {
  return kLevelNames[static_cast<int>(level)];
}

absl::StatusOr<Scope::Level> Scope::ParseLevel(absl::string_view text) {
  std::string lower = absl::AsciiStrToLower(text);
  for (int i = 0; i < 4; ++i) {
    if (lower == kLevelNames[i]) return static_cast<Level>(i);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown level '", text, "' (expected national, region, ics or trust)"));
}

absl::StatusOr<Scope> Scope::Parse(absl::string_view text) {
  size_t colon = text.find(':');
  absl::string_view level_text =
      colon == absl::string_view::npos ? text : text.substr(0, colon);
  auto level = ParseLevel(level_text);
  if (!level.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed scope '", text,
                     "': expected national, region:CODE, ics:CODE or "
                     "trust:CODE"));
  }
  Scope s;
  s.level = *level;
  if (s.level == Level::kNational) {
    if (colon != absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("malformed scope '", text, "': national takes no code"));
    }
    return s;
  }
  if (colon == absl::string_view::npos || colon + 1 == text.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed scope '", text, "': ", level_text,
                     " needs a code, e.g. ", level_text, ":CODE"));
  }
  s.code = absl::AsciiStrToUpper(text.substr(colon + 1));
  return s;
}

std::string Scope::ToString() const {
  if (level == Level::kNational) return "national";
  return absl::StrCat(LevelName(level), ":", code);
}

absl::StatusOr<std::shared_ptr<const Registry>> Registry::Parse(
    absl::string_view text, absl::string_view source) {
  OHFED_ASSIGN_OR_RETURN(CsvTable t, ParseCsv(text, source));
  OHFED_RETURN_IF_ERROR(
      RequireColumns(t,
                     {"region_code", "region_name", "ics_code", "ics_name",
                      "trust_code", "trust_name"},
                     source));
  std::shared_ptr<Registry> reg(new Registry());
  reg->version_ =
      t.metadata.count("version") ? t.metadata["version"] : std::string(source);
  if (t.metadata.count("effective_from")) {
    auto m = Month::Parse(t.metadata["effective_from"]);
    if (!m.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, " line ", MetadataLine(text, "effective_from"),
                       ": effective_from metadata: ", m.status().message()));
    }
    reg->effective_from_ = *m;
  }
  std::map<std::string, Seen> regions, icss, trusts;
  for (const CsvRecord& r : t.records) {
    RowContext ctx{source, r.line};
    if (r.fields.size() != t.header.size()) {
      return ctx.Error(absl::StrCat("expected ", t.header.size(),
                                    " fields, found ", r.fields.size(),
                                    " (truncated row?)"));
    }
    auto f = [&](absl::string_view c) {
      return CsvTable::Field(r, t.Column(c));
    };
    std::string rc = f("region_code"), ic = f("ics_code"), tc = f("trust_code");
    for (auto [col, val] :
         {std::pair{"region_code", rc}, {"ics_code", ic}, {"trust_code", tc}}) {
      if (val.empty()) return ctx.Error(absl::StrCat("empty ", col));
    }
    if (trusts.count(tc) && trusts[tc].parent == ic) {
      return ctx.Error(absl::StrCat("duplicate row for trust '", tc,
                                    "' (first at line ", trusts[tc].line, ")"));
    }
    OHFED_RETURN_IF_ERROR(
        CheckConsistent(regions, "region", rc, f("region_name"), "", "", ctx));
    OHFED_RETURN_IF_ERROR(
        CheckConsistent(icss, "ICS", ic, f("ics_name"), rc, "region", ctx));
    OHFED_RETURN_IF_ERROR(
        CheckConsistent(trusts, "trust", tc, f("trust_name"), ic, "ICS", ctx));
    if (regions[rc].line == r.line) {
      reg->regions_.push_back(Region{rc, f("region_name"), {}});
    }
    if (icss[ic].line == r.line) {
      reg->icss_[ic] = Ics{ic, f("ics_name"), rc, {}};
      auto region = std::find_if(reg->regions_.begin(), reg->regions_.end(),
                                 [&](const Region& x) { return x.code == rc; });
      region->icss.push_back(ic);
    }
    reg->icss_[ic].trusts.push_back(tc);
    reg->trusts_[tc] = Trust{tc, f("trust_name"), ic, rc};
    reg->trust_order_.push_back(tc);
  }
  if (reg->trusts_.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": no organisations after the header"));
  }
  return std::shared_ptr<const Registry>(std::move(reg));
}

absl::StatusOr<std::shared_ptr<const Registry>> Registry::LoadFile(
    const std::string& path) {
  OHFED_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return Parse(text, path);
}

std::shared_ptr<const Registry> Registry::England() {
  static const auto* const kEngland = [] {
    auto r = Parse(EmbeddedEnglandRegistryCsv(), "embedded england_orgs.csv");
    if (!r.ok()) std::abort();  // the shipped file is checked by tests
    return new std::shared_ptr<const Registry>(*std::move(r));
  }();
  return *kEngland;
}

const Trust* Registry::FindTrust(absl::string_view code) const {
  auto it = trusts_.find(code);
  return it == trusts_.end() ? nullptr : &it->second;
}

const Ics* Registry::FindIcs(absl::string_view code) const {
  auto it = icss_.find(code);
  return it == icss_.end() ? nullptr : &it->second;
}

const Region* Registry::FindRegion(absl::string_view code) const {
  for (const Region& r : regions_) {
    if (r.code == code) return &r;
  }
  return nullptr;
}

absl::Status Registry::Check(const Scope& scope) const {
  bool known = true;
  switch (scope.level) {
    case Scope::Level::kNational:
      break;
    case Scope::Level::kRegion:
      known = FindRegion(scope.code) != nullptr;
      break;
    case Scope::Level::kIcs:
      known = FindIcs(scope.code) != nullptr;
      break;
    case Scope::Level::kTrust:
      known = FindTrust(scope.code) != nullptr;
      break;
  }
  if (known) return absl::OkStatus();
  return absl::NotFoundError(absl::StrCat("unknown ", LevelName(scope.level),
                                          " '", scope.code, "' in registry ",
                                          version_));
}

bool Registry::Contains(const Scope& scope, absl::string_view trust) const {
  const Trust* t = FindTrust(trust);
  if (t == nullptr) return false;
  switch (scope.level) {
    case Scope::Level::kNational:
      return true;
    case Scope::Level::kRegion:
      return t->region == scope.code;
    case Scope::Level::kIcs:
      return t->ics == scope.code;
    case Scope::Level::kTrust:
      return t->code == scope.code;
  }
  return false;
}

std::vector<std::string> Registry::TrustsIn(const Scope& scope) const {
  // Without a lookup per trust where the answer is held already (queries
  // ask this per unit and month): an ICS's trusts are kept in file order,
  // and a trust is in one ICS only (Parse).
  switch (scope.level) {
    case Scope::Level::kNational:
      return trust_order_;
    case Scope::Level::kIcs: {
      const Ics* ics = FindIcs(scope.code);
      return ics == nullptr ? std::vector<std::string>{} : ics->trusts;
    }
    case Scope::Level::kTrust:
      if (FindTrust(scope.code) == nullptr) return {};
      return {scope.code};
    case Scope::Level::kRegion:
      break;
  }
  std::vector<std::string> out;
  for (const std::string& code : trust_order_) {
    if (Contains(scope, code)) out.push_back(code);
  }
  return out;
}

Scope Registry::Enclosing(absl::string_view trust, Scope::Level level) const {
  const Trust* t = FindTrust(trust);
  Scope s;
  s.level = level;
  if (t == nullptr || level == Scope::Level::kNational)
    return Scope::National();
  s.code = level == Scope::Level::kRegion ? t->region
           : level == Scope::Level::kIcs  ? t->ics
                                          : t->code;
  return s;
}

std::vector<Scope> Registry::Children(const Scope& scope,
                                      Scope::Level level) const {
  std::vector<Scope> out;
  if (level == Scope::Level::kNational) return {Scope::National()};
  absl::flat_hash_set<std::string> seen;  // codes: one level only
  for (const std::string& code : TrustsIn(scope)) {
    Scope child = Enclosing(code, level);
    if (seen.insert(child.code).second) out.push_back(std::move(child));
  }
  return out;
}

std::string Registry::NameOf(const Scope& scope) const {
  switch (scope.level) {
    case Scope::Level::kNational:
      return "England";
    case Scope::Level::kRegion:
      if (const Region* r = FindRegion(scope.code)) return r->name;
      break;
    case Scope::Level::kIcs:
      if (const Ics* i = FindIcs(scope.code)) return i->name;
      break;
    case Scope::Level::kTrust:
      if (const Trust* t = FindTrust(scope.code)) return t->name;
      break;
  }
  return scope.code;
}

RegistryHistory::RegistryHistory(std::shared_ptr<const Registry> initial) {
  versions_[initial->effective_from()] = std::move(initial);
}

absl::Status RegistryHistory::Add(std::shared_ptr<const Registry> r) {
  Month from = r->effective_from();
  if (!versions_.emplace(from, std::move(r)).second) {
    return absl::AlreadyExistsError(absl::StrCat(
        "a registry version effective from ", from.ToString(), " exists"));
  }
  return absl::OkStatus();
}

const Registry& RegistryHistory::At(Month m) const {
  auto it = versions_.upper_bound(m);
  if (it == versions_.begin()) return *it->second;
  return *std::prev(it)->second;
}

const Registry& RegistryHistory::Latest() const {
  return *versions_.rbegin()->second;
}

std::vector<const Registry*> RegistryHistory::versions() const {
  std::vector<const Registry*> out;
  for (const auto& [month, registry] : versions_) out.push_back(registry.get());
  return out;
}

}  // namespace ohfed
