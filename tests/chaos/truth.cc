#include "tests/chaos/truth.h"

#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "aggregator/codec.h"
#include "aggregator/summary_store.h"
#include "common/registry.h"

namespace ohfed::chaos {
namespace {

using aggregator::RollupCell;
using aggregator::RollupMap;

bool Near(double a, double b) {
  return std::fabs(a - b) <= 1e-6 * std::max(1.0, std::fabs(b));
}

bool SameRollup(const RollupCell& a, const RollupCell& b) {
  return a.n_units == b.n_units && Near(a.sum, b.sum) && a.buckets == b.buckets;
}

std::string Show(const RollupCell& c) {
  return absl::StrCat("sum=", c.sum, " n=", c.n_units,
                      " buckets=", c.buckets.size());
}

// The trust of a "trust/period" key.
std::string TrustOf(const std::string& key) {
  return std::string(key.substr(0, key.find('/')));
}

// The rollups the truth implies for the units of `trusts`.
RollupMap ExpectedRollups(const Truth& truth,
                          const std::set<std::string>& trusts) {
  const std::shared_ptr<const Registry> england = Registry::England();
  RollupMap out;
  for (const auto& [key, s] : truth.units) {
    if (!trusts.count(s.trust()) || s.retracted()) continue;
    const Trust* t = england->FindTrust(s.trust());
    std::vector<std::string> nodes = {"national"};
    if (t != nullptr) {
      nodes.push_back("region:" + t->region);
      nodes.push_back("ics:" + t->ics);
    }
    for (const std::string& node : nodes) {
      for (const v1::Cell& c : s.cells()) {
        RollupCell& r =
            out[aggregator::RollupId(node, s.period(), c.measure())];
        r.sum += c.value();
        ++r.n_units;
        for (const v1::Bucket& b : c.buckets())
          r.buckets[b.value()] += b.count();
      }
    }
  }
  return out;
}

// Compares two rollup maps, naming the first differences.
void CompareRollups(const std::string& what, const RollupMap& got,
                    const RollupMap& want, CheckResult& r) {
  for (const auto& [id, cell] : want) {
    auto it = got.find(id);
    ++r.rollups_checked;
    if (it == got.end()) {
      r.Add(absl::StrCat(what, ": missing ", id, " (want ", Show(cell), ")"));
    } else if (!SameRollup(it->second, cell)) {
      r.Add(absl::StrCat(what, ": ", id, " is ", Show(it->second), ", want ",
                         Show(cell)));
    }
  }
  for (const auto& [id, cell] : got) {
    if (!want.count(id) && cell.n_units > 0) {
      r.Add(absl::StrCat(what, ": unexpected ", id, " ", Show(cell)));
    }
  }
}

// A cell as text: its value and buckets. v1::Cell and the store's compact
// UnitCell have the same accessors.
template <typename CellT>
std::string CellText(const CellT& c) {
  std::string out = absl::StrCat(c.value());
  for (const auto& b : c.buckets()) {
    absl::StrAppend(&out, ",", b.value(), "x", b.count());
  }
  return out;
}

// Cells by measure, as text, for an order-free comparison.
std::map<std::string, std::string> CellsOf(const v1::UnitSummary& s) {
  std::map<std::string, std::string> out;
  for (const v1::Cell& c : s.cells()) out[c.measure()] = CellText(c);
  return out;
}

std::map<std::string, std::string> CellsOf(const aggregator::HeldUnit& u) {
  std::map<std::string, std::string> out;
  for (const aggregator::UnitCell& c : u.cells) out[c.measure()] = CellText(c);
  return out;
}

void CheckUnits(const aggregator::SummaryStore& store, const Truth& truth,
                const std::set<std::string>& trusts, CheckResult& r) {
  std::map<std::string, uint64_t> held;
  for (const auto& [id, revision] : store.HeldRevisions()) held[id] = revision;
  // Not a structured binding: the lambda below captures key and s, which
  // clang-14 (the sanitizer builds' compiler) does not allow.
  for (const auto& unit : truth.units) {
    const std::string& key = unit.first;
    const auto& s = unit.second;
    if (!trusts.count(s.trust())) continue;
    ++r.revisions_checked;
    auto it = held.find(key);
    if (it == held.end()) {
      r.Add(
          absl::StrCat("lost: ", key, " revision ", s.revision(), " not held"));
      continue;
    }
    if (it->second != s.revision()) {
      r.Add(absl::StrCat(key, ": holds revision ", it->second,
                         ", the agent has ", s.revision()));
      continue;
    }
    store.Read([&](const aggregator::View& v) {
      const aggregator::HeldUnit* u = v.Unit(s.trust(), s.period());
      if (s.retracted() != (u == nullptr)) {
        r.Add(absl::StrCat(key, ": retracted at the agent ", s.retracted(),
                           ", shown by the aggregator ", u != nullptr));
      } else if (u != nullptr && CellsOf(*u) != CellsOf(s)) {
        r.Add(absl::StrCat(key, " revision ", s.revision(),
                           ": cells differ from the agent's"));
      }
      return 0;
    });
  }
  for (const auto& [id, revision] : held) {
    if (!truth.units.count(id) || !trusts.count(TrustOf(id))) {
      r.Add(absl::StrCat("unexpected unit ", id, " revision ", revision));
    }
  }
}

}  // namespace

void CheckResult::Add(std::string problem) {
  if (problems.size() < kMaxProblems) {
    problems.push_back(std::move(problem));
  } else if (problems.size() == kMaxProblems) {
    problems.push_back("... and more");
  }
}

absl::StatusOr<Truth> CollectTruth(Federation& f) {
  std::map<std::string, std::string> sockets;
  for (const AgentSpec& spec : f.specs()) {
    sockets[spec.trust] = f.agent(spec.trust).socket;
  }
  return CollectTruth(sockets);
}

absl::StatusOr<Truth> CollectTruth(
    const std::map<std::string, std::string>& sockets) {
  Truth truth;
  for (const auto& [trust, socket] : sockets) {
    absl::StatusOr<agent::AgentClient> connected =
        agent::AgentClient::Connect(socket);
    if (!connected.ok()) return connected.status();
    agent::AgentClient& client = *connected;
    absl::StatusOr<v1::StatusResponse> status = client.Status();
    if (!status.ok()) return status.status();
    for (const v1::PeriodState& p : status->periods()) {
      if (p.state() != "current") {
        return absl::FailedPreconditionError(absl::StrCat(
            trust, " ", p.period(), " is ", p.state(), " at revision ",
            p.revision(), " (acked ", p.acked_revision(), "): ", p.reason()));
      }
      absl::StatusOr<v1::UnitSummary> s = client.Summary(p.period());
      if (!s.ok()) return s.status();
      s->set_trust(trust);
      truth.units[trust + "/" + p.period()] = *std::move(s);
    }
  }
  return truth;
}

CheckResult CheckStore(const std::string& dir, const Truth& truth,
                       const std::set<std::string>& trusts) {
  CheckResult r;
  auto store = aggregator::SummaryStore::Open(dir, {});
  if (!store.ok()) {
    r.Add(absl::StrCat("cannot open ", dir, ": ", store.status().ToString()));
    return r;
  }
  if ((*store)->registry_changed_at_open()) {
    r.Add(dir + ": rollups were rebuilt at open (registry placement changed)");
  }
  CheckUnits(**store, truth, trusts, r);
  const RollupMap maintained = (*store)->Rollups();
  CompareRollups(dir + " maintained vs rebuild", maintained,
                 (*store)->RecomputedRollups(), r);
  CompareRollups(dir + " maintained vs truth", maintained,
                 ExpectedRollups(truth, trusts), r);
  return r;
}

CheckResult CheckNationalQueries(Federation& f, const Truth& truth) {
  CheckResult r;
  std::set<std::string> trusts;
  std::set<std::string> periods;
  for (const auto& [key, s] : truth.units) {
    trusts.insert(s.trust());
    periods.insert(s.period());
  }
  const RollupMap want = ExpectedRollups(truth, trusts);
  auto stub = f.QueryStub(f.national());
  for (const std::string& period : periods) {
    v1::QueryRequest req;
    req.set_scope("national");
    req.set_period(period);
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    v1::QueryResponse resp;
    grpc::Status s = stub->Query(&ctx, req, &resp);
    if (!s.ok()) {
      r.Add(absl::StrCat("query national ", period, ": ", s.error_message()));
      continue;
    }
    const bool annual = period.size() == 4;
    for (const v1::Row& row : resp.rows()) {
      if (absl::StartsWith(row.measure(), "profile.") != annual) continue;
      if (row.stat() != "sum" && row.stat() != "events" &&
          row.stat() != "yes") {
        continue;
      }
      ++r.rollups_checked;
      auto it =
          want.find(aggregator::RollupId("national", period, row.measure()));
      const double sum = it == want.end() ? 0 : it->second.sum;
      const uint32_t n = it == want.end() ? 0 : it->second.n_units;
      if (!Near(row.value(), sum) || row.n_units() != n) {
        r.Add(absl::StrCat("national query ", period, " ", row.measure(), " ",
                           row.stat(), " = ", row.value(), " over ",
                           row.n_units(), " units; the agents hold ", sum,
                           " over ", n));
      }
    }
  }
  return r;
}

}  // namespace ohfed::chaos
