#include "tests/bench/e2e/queries.h"

#include <grpcpp/grpcpp.h>

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/query_rows.h"
#include "common/status.h"
#include "tests/bench/e2e/bench_data.h"

namespace ohfed::bench {
namespace {

v1::QueryRequest Request(const std::string& scope, const std::string& period,
                         const std::string& by, const std::string& prefix,
                         bool sum_only) {
  v1::QueryRequest r;
  r.set_scope(scope);
  r.set_period(period);
  r.set_by(by);
  r.set_measure_prefix(prefix);
  if (sum_only) r.add_stats("sum");
  return r;
}

std::string Between(Month a, Month b) {
  return absl::StrCat("c.period BETWEEN '", a.ToString(), "' AND '",
                      b.ToString(), "'");
}

constexpr char kCounts[] = "c.measure LIKE 'activity.count.%'";

absl::Status FromGrpc(const grpc::Status& st) {
  return absl::Status(static_cast<absl::StatusCode>(st.error_code()),
                      st.error_message());
}

std::string FirstIcs() { return EnglandOrgs().icss[0]; }

}  // namespace

std::vector<QuerySpec> BenchQueries() {
  const Month last = LastMonth(), first = FirstMonth();
  const Month year_start = Month::Of(2025, 1), year_end = Month::Of(2025, 12);
  std::vector<QuerySpec> q(4);
  q[0].name = "national by ICS, a year";
  q[0].query = Request("national", "2025", "ics", "activity.count", true);
  q[0].sql = absl::StrCat(
      "SELECT o.ics, c.measure, sum(c.value) FROM cell c JOIN org o USING "
      "(trust) WHERE ",
      Between(year_start, year_end), " AND ", kCounts, " GROUP BY 1, 2");
  // Five years by trust: below national a range is refused for disclosive
  // measures (SPEC §7), so staffing, whose value over a range is each
  // trust's latest month (catalogue: across_time latest).
  q[1].name = "national by trust, 5 years";
  q[1].query =
      Request("national", absl::StrCat(first.ToString(), ":", last.ToString()),
              "trust", "staffing", true);
  q[1].sql = absl::StrCat(
      "SELECT DISTINCT ON (c.trust, c.measure) c.trust, c.measure, c.value "
      "FROM cell c WHERE ",
      Between(first, last),
      " AND c.measure LIKE 'staffing.%' ORDER BY c.trust, c.measure, "
      "c.period DESC");
  const std::string ics = FirstIcs();
  q[2].name = "one ICS by trust, a quarter";
  q[2].query =
      Request("ics:" + ics, "2026-Q2", "trust", "activity.count", true);
  q[2].sql = absl::StrCat(
      "SELECT c.trust, c.measure, sum(c.value) FROM cell c JOIN org o USING "
      "(trust) WHERE o.ics = '",
      ics, "' AND ", Between(Month::Of(2026, 4), Month::Of(2026, 6)), " AND ",
      kCounts, " GROUP BY 1, 2");
  q[3].name = "completeness, a year";
  q[3].completeness = true;
  q[3].completeness_request.set_scope("national");
  q[3].completeness_request.set_period("2025-01:2025-12");
  q[3].completeness_request.set_by("trust");
  std::vector<std::string> months;
  for (Month m = year_start; m <= year_end; m = m + 1) {
    months.push_back(absl::StrCat("'", m.ToString(), "'"));
  }
  q[3].sql = absl::StrCat(
      "SELECT p, o.trust, (u.trust IS NOT NULL)::int FROM org o CROSS JOIN "
      "unnest(ARRAY[",
      absl::StrJoin(months, ","),
      "]) AS p LEFT JOIN unit u ON u.trust = o.trust AND u.period = p");
  return q;
}

// Staffing, not disclosive: no suppression pattern to compute, so the
// figure shows interference, not the cost of a cold pattern (ColdQuery).
QuerySpec LightQuery() {
  QuerySpec q;
  q.name = "light: one trust's staffing, one month";
  const std::string trust = EnglandOrgs().trusts[1].code;
  q.query = Request("trust:" + trust, LastMonth().ToString(), "self",
                    "staffing.wte", true);
  q.sql = absl::StrCat(
      "SELECT c.trust, c.measure, c.value FROM cell c WHERE c.trust = '", trust,
      "' AND c.period = '", LastMonth().ToString(),
      "' AND c.measure LIKE 'staffing.wte.%'");
  return q;
}

QuerySpec ColdQuery() {
  QuerySpec q;
  q.name = "one trust's activity counts, one month";
  q.query = Request("trust:" + EnglandOrgs().trusts[1].code,
                    LastMonth().ToString(), "self", "activity.count", true);
  return q;
}

QuerySpec HeavyQuery() {
  QuerySpec q;
  // A year, the longest span below national for disclosive measures.
  q.name = "heavy: national by trust, a year, every measure and statistic";
  q.query = Request("national", "2025", "trust", "", false);
  q.sql = absl::StrCat(
      "SELECT c.trust, c.measure, sum(c.value), avg(c.value), min(c.value), "
      "max(c.value), percentile_cont(0.5) WITHIN GROUP (ORDER BY c.value) "
      "FROM cell c WHERE ",
      Between(Month::Of(2025, 1), Month::Of(2025, 12)), " GROUP BY 1, 2");
  return q;
}

absl::StatusOr<Answer> AskOhfed(const std::shared_ptr<grpc::Channel>& channel,
                                const QuerySpec& q, absl::Time deadline,
                                bool compact) {
  grpc::ClientContext context;
  context.set_deadline(
      absl::ToChronoTime(std::min(deadline, absl::Now() + absl::Seconds(300))));
  Answer answer;
  if (q.completeness) {
    v1::CompletenessRequest request = q.completeness_request;
    request.set_compact(compact);
    v1::CompletenessResponse r;
    grpc::Status st =
        v1::Query::NewStub(channel)->Completeness(&context, request, &r);
    if (!st.ok()) return FromGrpc(st);
    // As for Query below: the columns read as they are; tidy rows too.
    OHFED_RETURN_IF_ERROR(CheckCompactCompleteness(r));
    for (const auto& p : r.periods()) {
      for (const auto& t : p.trusts()) {
        answer[absl::StrCat(p.period(), "|", t.trust())] = t.reported();
      }
      const v1::CompactTrustRows& c = p.compact();
      for (int i = 0; i < c.trust_size(); ++i) {
        answer[absl::StrCat(p.period(), "|", r.trusts(c.trust(i)).trust())] =
            c.reported(i);
      }
    }
    return answer;
  }
  auto add_sums = [&answer](const auto& rows) {
    for (const auto& row : rows) {
      if (row.stat() != "sum") continue;
      answer[absl::StrCat(row.unit(), "|", row.measure())] = row.value();
    }
  };
  v1::QueryRequest request = q.query;
  request.set_compact(compact);
  v1::QueryResponse r;
  grpc::Status st = v1::Query::NewStub(channel)->Query(&context, request, &r);
  if (!st.ok()) return FromGrpc(st);
  // Compact, the columns read as they are, without making each Row; a
  // server that predates the compact form sends rows.
  add_sums(r.rows());
  const v1::CompactRows& c = r.compact();
  OHFED_RETURN_IF_ERROR(CheckCompactRows(c));
  for (int i = 0; i < c.unit_size(); ++i) {
    if (c.stats(c.stat(i)) != "sum") continue;
    answer[absl::StrCat(c.units(c.unit(i)), "|", c.measures(c.measure(i)))] =
        c.value(i);
  }
  return answer;
}

QuerySpec CensusQuery(Month from, int months) {
  QuerySpec q;
  q.name = "census poll: national completeness by region";
  q.completeness = true;
  v1::CompletenessRequest& request = q.completeness_request;
  request.set_scope("national");
  request.set_period(
      absl::StrCat(from.ToString(), ":", (from + (months - 1)).ToString()));
  request.set_by("region");
  return q;
}

absl::StatusOr<bool> NationalComplete(v1::Query::Stub& stub, Month from,
                                      int months) {
  grpc::ClientContext context;
  v1::CompletenessResponse r;
  grpc::Status st = stub.Completeness(
      &context, CensusQuery(from, months).completeness_request, &r);
  if (!st.ok()) return FromGrpc(st);
  bool done = r.periods_size() == months;
  for (const auto& p : r.periods()) done = done && p.reported() == p.expected();
  return done;
}

absl::StatusOr<Answer> AskPg(Pg& pg, const QuerySpec& q) {
  auto rows = pg.Exec(q.sql);
  if (!rows.ok()) return rows.status();
  Answer answer;
  for (const auto& row : *rows) {
    answer[absl::StrCat(row[0], "|", row[1])] = std::stod(row[2]);
  }
  return answer;
}

double LargestRelativeDifference(const Answer& a, const Answer& b,
                                 int* missing) {
  double worst = 0;
  *missing = 0;
  for (const auto& [key, va] : a) {
    auto it = b.find(key);
    if (it == b.end()) {
      ++*missing;
      worst = 1;
      continue;
    }
    double scale = std::max(std::fabs(va), std::fabs(it->second));
    if (scale > 0) worst = std::max(worst, std::fabs(va - it->second) / scale);
  }
  for (const auto& [key, vb] : b) {
    if (!a.count(key)) {
      ++*missing;
      worst = 1;
    }
  }
  return worst;
}

}  // namespace ohfed::bench
