// Completeness and timeliness: the contract is in
// aggregator/query_completeness.h.
#include "aggregator/query_completeness.h"

#include <string>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "aggregator/query_wire.h"
#include "common/status.h"

namespace ohfed::aggregator {
namespace {

constexpr absl::Duration kBehindWindow = absl::Hours(24 * 62);

// The months a trust must hold one of to be current at `now` (the due
// month to now's month, as SummaryMonth keys), made once per request.
std::vector<std::string> CurrentMonths(absl::Time now) {
  Month this_month = Month::Containing(now);
  Month due = this_month - 1;
  while (OnTimeDeadline(due) > now) due = due - 1;
  std::vector<std::string> keys;
  for (Month m = due; m <= this_month; m = m + 1) keys.push_back(m.ToString());
  return keys;
}

// `current`: CurrentMonths(now).
const char* SyncState(const View& view, absl::string_view trust,
                      const std::vector<std::string>& current, absl::Time now) {
  for (const std::string& m : current) {
    if (view.Unit(trust, m) != nullptr) return "current";
  }
  int64_t last = view.LastReceived(trust);
  if (last > 0 && now - absl::FromUnixMillis(last) <= kBehindWindow) {
    return "behind";
  }
  return "silent";
}

// What a trust's rows share over the months of one request, looked up
// once per trust rather than once per trust and month.
struct TrustFacts {
  std::string sync_state;
  bool unconfirmed = false;
  int64_t last_received_unix_ms = 0;
};

// `last_received` is set only for a trust that reported the month: on the
// row of a month it has not sent, a receipt time (of another month) would
// read as if it had.
void TrustRow(const View& view, const Trust& trust, Month month,
              const std::string& month_key, const TrustFacts& facts,
              v1::TrustCompleteness& t) {
  t.set_trust(trust.code);
  t.set_trust_name(trust.name);
  t.set_ics(trust.ics);
  t.set_region(trust.region);
  t.set_sync_state(facts.sync_state);
  t.set_upstream_reason(view.UpstreamReason(trust.code, month_key));
  t.set_unconfirmed(facts.unconfirmed);
  if (const HeldUnit* unit = view.Unit(trust.code, month_key)) {
    t.set_reported(true);
    t.set_on_time(unit->first_received_unix_ms <
                  absl::ToUnixMillis(OnTimeDeadline(month)));
    t.set_revision(unit->revision);
    t.set_last_received_unix_ms(facts.last_received_unix_ms);
  }
}

// Whether `trust` reported `month`, and on time.
void Count(const View& view, const std::string& trust, Month month,
           const std::string& month_key, uint32_t* reported,
           uint32_t* on_time) {
  const HeldUnit* unit = view.Unit(trust, month_key);
  if (unit == nullptr) return;
  ++*reported;
  if (unit->first_received_unix_ms <
      absl::ToUnixMillis(OnTimeDeadline(month))) {
    ++*on_time;
  }
}

// "", "self", "trust": per trust (kTrust); "region", "ics": per unit.
absl::StatusOr<Scope::Level> ParseCompletenessBy(const std::string& by,
                                                 const Scope& scope) {
  if (by.empty() || by == "self" || by == "trust") return Scope::Level::kTrust;
  auto level = Scope::ParseLevel(by);
  if (!level.ok() || *level == Scope::Level::kNational) {
    return absl::InvalidArgumentError(
        absl::StrCat("by: unknown level '", by.substr(0, 64),
                     "'; expected trust, ics or region"));
  }
  if (*level < scope.level) {
    return absl::InvalidArgumentError(
        absl::StrCat("by: level '", by, "' is above scope '", scope.ToString(),
                     "'; break a scope down, not up"));
  }
  return *level;
}

// One month by trust: a row per trust of the scope, with the totals.
// `current`: CurrentMonths(now).
void ByTrust(const View& view, const Registry& registry, const Scope& scope,
             Month month, absl::Time now,
             const std::vector<std::string>& current,
             absl::flat_hash_map<std::string, TrustFacts>& facts,
             v1::PeriodCompleteness* p) {
  std::vector<std::string> trusts = registry.TrustsIn(scope);
  p->set_expected(static_cast<uint32_t>(trusts.size()));
  p->mutable_trusts()->Reserve(static_cast<int>(trusts.size()));
  const std::string month_key = month.ToString();
  uint32_t reported = 0, on_time = 0, unconfirmed = 0;
  for (const std::string& code : trusts) {
    auto [it, fresh] = facts.try_emplace(code);
    if (fresh) {
      it->second = {SyncState(view, code, current, now), view.Unconfirmed(code),
                    view.LastReceived(code)};
    }
    v1::TrustCompleteness* t = p->add_trusts();
    TrustRow(view, *registry.FindTrust(code), month, month_key, it->second, *t);
    reported += t->reported() ? 1 : 0;
    on_time += t->on_time() ? 1 : 0;
    unconfirmed += t->unconfirmed() ? 1 : 0;
  }
  p->set_reported(reported);
  p->set_on_time(on_time);
  p->set_unconfirmed(unconfirmed);
}

// The units of `scope` at `level` (as Registry::Children lists them) with
// their names and trusts (as Registry::TrustsIn lists them), in one walk
// over the scope's trusts: asking TrustsIn of each unit would look up
// every trust of the scope once per unit, and a request does it per month.
struct UnitTrusts {
  Scope unit;
  std::string name;
  std::vector<std::string> trusts;
};

std::vector<UnitTrusts> UnitsOf(const Registry& registry, const Scope& scope,
                                Scope::Level level) {
  std::vector<UnitTrusts> units;
  absl::flat_hash_map<std::string, size_t> at;  // by unit code
  for (const std::string& code : registry.TrustsIn(scope)) {
    Scope unit = registry.Enclosing(code, level);
    auto [it, fresh] = at.try_emplace(unit.code, units.size());
    if (fresh) {
      std::string name = registry.NameOf(unit);
      units.push_back({std::move(unit), std::move(name), {}});
    }
    units[it->second].trusts.push_back(code);
  }
  return units;
}

// UnitsOf for each month's registry, made once per registry: the months of
// a request mostly share one.
class UnitsByRegistry {
 public:
  UnitsByRegistry(const Scope& scope, Scope::Level level)
      : scope_(scope), level_(level) {}
  const std::vector<UnitTrusts>& Of(const Registry& registry) {
    if (&registry != last_) {
      units_ = UnitsOf(registry, scope_, level_);
      last_ = &registry;
    }
    return units_;
  }

 private:
  const Scope scope_;
  const Scope::Level level_;
  const Registry* last_ = nullptr;
  std::vector<UnitTrusts> units_;
};

// One month by region or ICS: a summary row per unit, with the totals.
void ByUnit(const View& view, const std::vector<UnitTrusts>& units, Month month,
            v1::PeriodCompleteness* p) {
  const std::string month_key = month.ToString();
  for (const UnitTrusts& unit : units) {
    v1::UnitCompleteness* u = p->add_units();
    u->set_unit(unit.unit.code);
    u->set_unit_name(unit.name);
    uint32_t reported = 0, on_time = 0;
    for (const std::string& code : unit.trusts) {
      Count(view, code, month, month_key, &reported, &on_time);
      if (view.Unconfirmed(code)) p->set_unconfirmed(p->unconfirmed() + 1);
    }
    u->set_expected(static_cast<uint32_t>(unit.trusts.size()));
    u->set_reported(reported);
    u->set_on_time(on_time);
    p->set_expected(p->expected() + u->expected());
    p->set_reported(p->reported() + reported);
    p->set_on_time(p->on_time() + on_time);
  }
}

// The entries of CompletenessResponse.trusts for the compact form: for
// each month's registry (made once per registry: the months of a request
// mostly share one), the index of each of the scope's trusts, adding an
// entry for a trust not yet listed with that registry's name, ICS and
// region.
class TrustTable {
 public:
  // `current`: CurrentMonths(now), which the table does not copy.
  TrustTable(const View& view, const Scope& scope, absl::Time now,
             const std::vector<std::string>& current,
             v1::CompletenessResponse* response)
      : view_(view),
        scope_(scope),
        now_(now),
        current_(current),
        response_(response) {}

  // The scope's trusts in `registry`, in registry order, and their entries.
  const std::vector<std::string>& Trusts(const Registry& registry) {
    if (&registry != last_) Index(registry);
    return trusts_;
  }
  const std::vector<uint32_t>& Entries() const { return entries_; }
  // How many of Trusts(registry) are unconfirmed (View::Unconfirmed).
  uint32_t unconfirmed() const { return unconfirmed_; }

 private:
  // Code, name, ICS and region, in the registry (which the View keeps).
  using Key = std::tuple<absl::string_view, absl::string_view,
                         absl::string_view, absl::string_view>;

  void Index(const Registry& registry) {
    last_ = &registry;
    trusts_ = registry.TrustsIn(scope_);
    entries_.clear();
    unconfirmed_ = 0;
    at_.reserve(at_.size() + trusts_.size());
    for (const std::string& code : trusts_) {
      const Trust& trust = *registry.FindTrust(code);
      auto [it, fresh] =
          at_.try_emplace(Key(trust.code, trust.name, trust.ics, trust.region),
                          static_cast<uint32_t>(response_->trusts_size()));
      if (fresh) {
        v1::TrustCompleteness* t = response_->add_trusts();
        t->set_trust(code);
        t->set_trust_name(trust.name);
        t->set_ics(trust.ics);
        t->set_region(trust.region);
        t->set_last_received_unix_ms(view_.LastReceived(code));
        t->set_sync_state(SyncState(view_, code, current_, now_));
        t->set_unconfirmed(view_.Unconfirmed(code));
      }
      entries_.push_back(it->second);
      unconfirmed_ += response_->trusts(it->second).unconfirmed() ? 1 : 0;
    }
  }

  const View& view_;
  const Scope scope_;
  const absl::Time now_;
  const std::vector<std::string>& current_;
  v1::CompletenessResponse* const response_;
  absl::flat_hash_map<Key, uint32_t> at_;  // the entry in response_->trusts
  const Registry* last_ = nullptr;
  std::vector<std::string> trusts_;
  std::vector<uint32_t> entries_;  // one per entry of trusts_
  uint32_t unconfirmed_ = 0;
};

// ByTrust in columns (CompletenessRequest.compact): the month's rows in
// `p->compact`, each trust's month-independent fields in the response's
// `trusts` through `table`.
void ByTrustCompact(const View& view, const Registry& registry, Month month,
                    TrustTable& table, v1::PeriodCompleteness* p) {
  const std::vector<std::string>& trusts = table.Trusts(registry);
  const std::string month_key = month.ToString();
  const int64_t deadline_ms = absl::ToUnixMillis(OnTimeDeadline(month));
  v1::CompactTrustRows& c = *p->mutable_compact();
  c.mutable_trust()->Add(table.Entries().begin(), table.Entries().end());
  c.mutable_reported()->Reserve(static_cast<int>(trusts.size()));
  c.mutable_on_time()->Reserve(static_cast<int>(trusts.size()));
  c.mutable_revision()->Reserve(static_cast<int>(trusts.size()));
  uint32_t reported = 0, on_time = 0;
  for (size_t i = 0; i < trusts.size(); ++i) {
    const HeldUnit* unit = view.Unit(trusts[i], month_key);
    const bool in_time =
        unit != nullptr && unit->first_received_unix_ms < deadline_ms;
    c.add_reported(unit != nullptr);
    c.add_on_time(in_time);
    c.add_revision(unit != nullptr ? unit->revision : 0);
    if (std::string reason = view.UpstreamReason(trusts[i], month_key);
        !reason.empty()) {
      c.add_refused(static_cast<uint32_t>(i));
      c.add_reasons(std::move(reason));
    }
    reported += unit != nullptr ? 1 : 0;
    on_time += in_time ? 1 : 0;
  }
  p->set_expected(static_cast<uint32_t>(trusts.size()));
  p->set_reported(reported);
  p->set_on_time(on_time);
  p->set_unconfirmed(table.unconfirmed());
}

// A request's scope, period and breakdown, checked as SPEC §6 says.
struct Parsed {
  Scope scope;
  Period period = Period::OfMonth(Month());
  Scope::Level by = Scope::Level::kTrust;
};

absl::StatusOr<Parsed> Parse(const View& view,
                             const v1::CompletenessRequest& request,
                             const QueryOptions& options) {
  OHFED_RETURN_IF_ERROR(CheckFieldLength("scope", request.scope()));
  OHFED_RETURN_IF_ERROR(CheckFieldLength("period", request.period()));
  OHFED_RETURN_IF_ERROR(CheckFieldLength("by", request.by()));
  auto scope = Scope::Parse(
      request.scope().empty() ? options.coverage.ToString() : request.scope());
  if (!scope.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("scope: ", scope.status().message()));
  }
  auto period = Period::Parse(request.period());
  if (!period.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("period: ", period.status().message()));
  }
  OHFED_RETURN_IF_ERROR(CheckPeriodSpan(*period));
  const Registry& latest = view.RegistryAt(period->last());
  OHFED_RETURN_IF_ERROR(latest.Check(*scope));
  OHFED_RETURN_IF_ERROR(options.coverage.CheckScope(*scope, latest));
  OHFED_ASSIGN_OR_RETURN(Scope::Level by,
                         ParseCompletenessBy(request.by(), *scope));
  return Parsed{*scope, *period, by};
}

// What every row of one trust shares in SerializeCompleteness, encoded
// once per request: TrustCompleteness fields 1-4 and 8.
struct TrustBytes {
  std::string head;  // trust, trust_name, ics, region
  std::string sync;  // sync_state
  bool unconfirmed = false;
  int64_t last_received_unix_ms = 0;
};

// TrustRow's fields, in field-number order, appended to `row`.
// `deadline_ms`: OnTimeDeadline(month) in unix ms.
void AppendTrustRow(const View& view, const TrustBytes& trust,
                    absl::string_view code, int64_t deadline_ms,
                    const std::string& month_key, std::string* row,
                    uint32_t* reported, uint32_t* on_time) {
  row->append(trust.head);
  const HeldUnit* unit = view.Unit(code, month_key);
  if (unit != nullptr) {
    const bool in_time = unit->first_received_unix_ms < deadline_ms;
    ++*reported;
    *on_time += in_time ? 1 : 0;
    wire::Bool(5, true, row);
    wire::Bool(6, in_time, row);
    wire::Uint(7, static_cast<uint64_t>(trust.last_received_unix_ms), row);
  }
  row->append(trust.sync);
  if (unit != nullptr) wire::Uint(9, unit->revision, row);
  wire::String(10, view.UpstreamReason(code, month_key), row);
  wire::Bool(11, trust.unconfirmed, row);
}

// ByTrust's PeriodCompleteness, encoded. `shared`: by trust code, filled
// on first use; `current`: CurrentMonths(now).
void AppendByTrust(const View& view, const Registry& registry,
                   const Scope& scope, Month month, absl::Time now,
                   const std::vector<std::string>& current,
                   absl::flat_hash_map<std::string, TrustBytes>& shared,
                   std::string* out) {
  const std::vector<std::string> trusts = registry.TrustsIn(scope);
  const std::string month_key = month.ToString();
  const int64_t deadline_ms = absl::ToUnixMillis(OnTimeDeadline(month));
  std::string rows, row;
  rows.reserve(trusts.size() * 96);
  uint32_t reported = 0, on_time = 0, unconfirmed = 0;
  for (const std::string& code : trusts) {
    auto [it, fresh] = shared.try_emplace(code);
    TrustBytes& t = it->second;
    if (fresh) {
      const Trust& trust = *registry.FindTrust(code);
      wire::String(1, trust.code, &t.head);
      wire::String(2, trust.name, &t.head);
      wire::String(3, trust.ics, &t.head);
      wire::String(4, trust.region, &t.head);
      wire::String(8, SyncState(view, code, current, now), &t.sync);
      t.unconfirmed = view.Unconfirmed(code);
      t.last_received_unix_ms = view.LastReceived(code);
    }
    row.clear();
    AppendTrustRow(view, t, code, deadline_ms, month_key, &row, &reported,
                   &on_time);
    unconfirmed += t.unconfirmed ? 1 : 0;
    wire::Message(5, row, &rows);
  }
  std::string period;
  period.reserve(rows.size() + 32);
  wire::String(1, month_key, &period);
  wire::Uint(2, trusts.size(), &period);
  wire::Uint(3, reported, &period);
  wire::Uint(4, on_time, &period);
  period.append(rows);
  wire::Uint(7, unconfirmed, &period);
  wire::Message(2, period, out);
}

}  // namespace

absl::StatusOr<v1::CompletenessResponse> RunCompleteness(
    const View& view, const v1::CompletenessRequest& request, absl::Time now,
    const QueryOptions& options) {
  v1::CompletenessResponse response;
  OHFED_RETURN_IF_ERROR(
      RunCompleteness(view, request, now, options, &response));
  return response;
}

absl::Status RunCompleteness(const View& view,
                             const v1::CompletenessRequest& request,
                             absl::Time now, const QueryOptions& options,
                             v1::CompletenessResponse* out) {
  out->Clear();
  v1::CompletenessResponse& response = *out;
  OHFED_ASSIGN_OR_RETURN(Parsed parsed, Parse(view, request, options));
  const Registry& latest = view.RegistryAt(parsed.period.last());
  absl::flat_hash_map<std::string, TrustFacts> facts;  // by trust, lazily
  const std::vector<std::string> current = CurrentMonths(now);

  response.set_scope(parsed.scope.ToString());
  response.set_scope_name(latest.NameOf(parsed.scope));
  UnitsByRegistry units(parsed.scope, parsed.by);
  TrustTable table(view, parsed.scope, now, current, &response);
  const bool compact = request.compact() && parsed.by == Scope::Level::kTrust;
  CancellationPoll cancellation(options);
  for (Month month : parsed.period.Months()) {
    OHFED_RETURN_IF_ERROR(cancellation.Check());
    v1::PeriodCompleteness* p = response.add_periods();
    p->set_period(month.ToString());
    // Expected: the trusts of the scope in the registry in effect that month
    // (none if the scope did not exist yet).
    const Registry& registry = view.RegistryAt(month);
    if (compact) {
      ByTrustCompact(view, registry, month, table, p);
    } else if (parsed.by == Scope::Level::kTrust) {
      ByTrust(view, registry, parsed.scope, month, now, current, facts, p);
    } else {
      ByUnit(view, units.Of(registry), month, p);
    }
  }
  response.set_warning(UnconfirmedWarning(view, parsed.scope.ToString()));
  return absl::OkStatus();
}

absl::Status SerializeCompleteness(const View& view,
                                   const v1::CompletenessRequest& request,
                                   absl::Time now, const QueryOptions& options,
                                   std::string* bytes) {
  bytes->clear();
  OHFED_ASSIGN_OR_RETURN(Parsed parsed, Parse(view, request, options));
  // A row per unit, or columns: few messages to build.
  if (parsed.by != Scope::Level::kTrust || request.compact()) {
    v1::CompletenessResponse response;
    OHFED_RETURN_IF_ERROR(
        RunCompleteness(view, request, now, options, &response));
    response.clear_warning();
    response.SerializeToString(bytes);
    return absl::OkStatus();
  }
  const Registry& latest = view.RegistryAt(parsed.period.last());
  absl::flat_hash_map<std::string, TrustBytes> shared;  // by trust, lazily
  const std::vector<std::string> current = CurrentMonths(now);
  const std::vector<Month> months = parsed.period.Months();
  bytes->reserve(months.size() *
                 (latest.TrustsIn(parsed.scope).size() * 96 + 64));
  wire::String(1, parsed.scope.ToString(), bytes);
  CancellationPoll cancellation(options);
  for (Month month : months) {
    OHFED_RETURN_IF_ERROR(cancellation.Check());
    AppendByTrust(view, view.RegistryAt(month), parsed.scope, month, now,
                  current, shared, bytes);
  }
  wire::String(3, latest.NameOf(parsed.scope), bytes);
  return absl::OkStatus();
}

// Walks what RunCompleteness walks, reading only what it reads outside the
// View: keep the two in step (CompletenessLiveTest in
// tests/aggregator/query_answer_cache_test.cc).
std::string CompletenessLive(const View& view,
                             const v1::CompletenessRequest& request,
                             absl::Time now, const QueryOptions& options) {
  absl::StatusOr<Parsed> parsed = Parse(view, request, options);
  if (!parsed.ok()) return std::string(parsed.status().message());
  std::string live;
  const std::vector<std::string> current = CurrentMonths(now);
  absl::flat_hash_set<std::string> seen;  // trusts whose facts are in
  const Registry* last = nullptr;         // the registry `trusts` are of
  std::vector<std::string> trusts;
  UnitsByRegistry units(parsed->scope, parsed->by);
  for (Month month : parsed->period.Months()) {
    const Registry& registry = view.RegistryAt(month);
    const std::string month_key = month.ToString();
    if (parsed->by != Scope::Level::kTrust) {
      for (const UnitTrusts& unit : units.Of(registry)) {
        for (const std::string& code : unit.trusts) {
          live.push_back(view.Unconfirmed(code) ? 'u' : '-');
        }
      }
      continue;
    }
    // Months under the same registry have the same trusts, all seen.
    const bool same = &registry == last;
    if (!same) trusts = registry.TrustsIn(parsed->scope);
    last = &registry;
    for (const std::string& code : trusts) {
      if (!same && seen.insert(code).second) {
        absl::StrAppend(&live, SyncState(view, code, current, now),
                        view.Unconfirmed(code) ? "u" : "-");
      }
      absl::StrAppend(&live, view.UpstreamReason(code, month_key),
                      absl::string_view("\0", 1));
    }
  }
  return live;
}

std::string UnconfirmedWarning(const View& view, absl::string_view scope) {
  const std::string note = view.RecoveryNote();
  if (note.empty()) return {};
  const Registry& registry = view.registry();
  absl::StatusOr<Scope> s = Scope::Parse(scope);
  std::vector<std::string> trusts =
      registry.TrustsIn(s.ok() && registry.Check(*s).ok() ? *s : Scope());
  size_t unconfirmed = 0;
  for (const std::string& trust : trusts) {
    unconfirmed += view.Unconfirmed(trust) ? 1 : 0;
  }
  if (unconfirmed == 0) return {};
  return absl::StrCat(note, ": ", unconfirmed, " of the ", trusts.size(),
                      " trusts here have not yet resent what was lost, so "
                      "figures may be missing or out of date");
}

}  // namespace ohfed::aggregator
