#include "tests/bench/e2e/pg.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/bench/e2e/bench_data.h"
#include "tests/bench/e2e/sinks.h"

namespace ohfed::bench {
namespace {

// Indexes as a DBA would give these queries: the primary keys, cells by
// period, units by period. ingest() applies one summary: stale revisions are
// ignored; otherwise the old cells are replaced and the difference is added
// to every enclosing rollup in one ordered upsert (ordered so that
// concurrent transactions lock rollup rows in the same order).
constexpr char kSchema[] = R"sql(
DROP TABLE IF EXISTS org, unit, cell, rollup CASCADE;
CREATE TABLE org (trust text PRIMARY KEY, ics text NOT NULL, region text NOT NULL);
CREATE TABLE unit (trust text, period text, revision bigint NOT NULL,
                   PRIMARY KEY (trust, period));
CREATE INDEX unit_period ON unit (period);
CREATE TABLE cell (trust text, period text, measure text, value float8 NOT NULL,
                   PRIMARY KEY (trust, period, measure));
CREATE INDEX cell_period ON cell (period, measure);
CREATE TABLE rollup (scope text, period text, measure text, total float8 NOT NULL,
                     n int NOT NULL, PRIMARY KEY (scope, period, measure));
CREATE OR REPLACE FUNCTION ingest(t text, p text, rev bigint, ms text[], vs float8[])
RETURNS void AS $$
DECLARE held bigint; scopes text[];
BEGIN
  SELECT revision INTO held FROM unit WHERE trust = t AND period = p FOR UPDATE;
  IF held IS NOT NULL AND held >= rev THEN RETURN; END IF;
  SELECT ARRAY['ics:' || ics, 'national', 'region:' || region] INTO scopes
    FROM org WHERE trust = t;
  WITH old AS (DELETE FROM cell WHERE trust = t AND period = p
               RETURNING measure, value),
       d AS (SELECT measure, sum(v) AS dv, sum(dn) AS dn FROM (
               SELECT m AS measure, v, 1 AS dn FROM unnest(ms, vs) AS x(m, v)
               UNION ALL SELECT measure, -value, -1 FROM old) u
             GROUP BY measure)
  INSERT INTO rollup (scope, period, measure, total, n)
    SELECT s, p, d.measure, d.dv, d.dn FROM d, unnest(scopes) AS s
    ORDER BY 1, 3
  ON CONFLICT (scope, period, measure) DO UPDATE
    SET total = rollup.total + excluded.total, n = rollup.n + excluded.n;
  INSERT INTO cell (trust, period, measure, value)
    SELECT t, p, m, v FROM unnest(ms, vs) AS x(m, v);
  INSERT INTO unit VALUES (t, p, rev)
    ON CONFLICT (trust, period) DO UPDATE SET revision = excluded.revision;
END $$ LANGUAGE plpgsql;
)sql";

std::string ArrayLiteral(const std::vector<std::string>& items) {
  return absl::StrCat("{", absl::StrJoin(items, ","), "}");
}

}  // namespace

absl::StatusOr<std::unique_ptr<Pg>> Pg::Connect(const std::string& info) {
  PGconn* conn = PQconnectdb(info.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string error = PQerrorMessage(conn);
    PQfinish(conn);
    return absl::UnavailableError(absl::StrCat("postgres: ", error));
  }
  return std::unique_ptr<Pg>(new Pg(conn));
}

Pg::~Pg() { PQfinish(conn_); }

absl::StatusOr<std::vector<std::vector<std::string>>> Pg::Exec(
    const std::string& sql) {
  PGresult* r = PQexec(conn_, sql.c_str());
  ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    std::string error = PQresultErrorMessage(r);
    std::string code = PQresultErrorField(r, PG_DIAG_SQLSTATE)
                           ? PQresultErrorField(r, PG_DIAG_SQLSTATE)
                           : "";
    PQclear(r);
    return absl::AbortedError(absl::StrCat(code, " ", error));
  }
  std::vector<std::vector<std::string>> rows(PQntuples(r));
  for (int i = 0; i < PQntuples(r); ++i) {
    for (int j = 0; j < PQnfields(r); ++j) {
      rows[i].push_back(PQgetvalue(r, i, j));
    }
  }
  PQclear(r);
  return rows;
}

absl::Status Pg::Ingest(const std::vector<v1::UnitSummary>& batch) {
  std::string sql = "BEGIN;";
  for (const auto& s : batch) {
    std::vector<std::string> ms, vs;
    for (const auto& c : s.cells()) {
      ms.push_back(c.measure());
      vs.push_back(absl::StrCat(c.value()));
    }
    absl::StrAppend(&sql, "SELECT ingest('", s.trust(), "','", s.period(), "',",
                    s.revision(), ",'", ArrayLiteral(ms), "','",
                    ArrayLiteral(vs), "');");
  }
  absl::StrAppend(&sql, "COMMIT;");
  for (int attempt = 0;; ++attempt) {
    auto r = Exec(sql);
    if (r.ok()) return absl::OkStatus();
    Exec("ROLLBACK").IgnoreError();
    // 40P01 deadlock, 40001 serialization failure: retry as a client would.
    bool retry = absl::StrContains(r.status().message(), "40P01") ||
                 absl::StrContains(r.status().message(), "40001");
    if (!retry || attempt > 20) return r.status();
  }
}

absl::Status Pg::Copy(const std::string& table, const std::string& rows) {
  PGresult* r = PQexec(conn_, ("COPY " + table + " FROM STDIN").c_str());
  bool ok = PQresultStatus(r) == PGRES_COPY_IN;
  PQclear(r);
  if (!ok) return absl::AbortedError(PQerrorMessage(conn_));
  if (PQputCopyData(conn_, rows.data(), static_cast<int>(rows.size())) != 1 ||
      PQputCopyEnd(conn_, nullptr) != 1) {
    return absl::AbortedError(PQerrorMessage(conn_));
  }
  r = PQgetResult(conn_);
  ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  std::string error = PQresultErrorMessage(r);
  PQclear(r);
  while ((r = PQgetResult(conn_)) != nullptr) PQclear(r);
  if (!ok) return absl::AbortedError(absl::StrCat("COPY ", table, ": ", error));
  return absl::OkStatus();
}

absl::Status PgBulkLoad(Pg& pg, Month first, int months) {
  auto catalogue = Catalogue::Default();
  std::string cells, units;
  for (const Trust& t : EnglandOrgs().trusts) {
    for (int i = 0; i < months; ++i) {
      v1::UnitSummary s = MonthSummary(*catalogue, t.code, first + i, 0);
      absl::StrAppend(&units, t.code, "\t", s.period(), "\t1\n");
      for (const auto& c : s.cells()) {
        absl::StrAppend(&cells, t.code, "\t", s.period(), "\t", c.measure(),
                        "\t", c.value(), "\n");
      }
    }
  }
  if (auto s = pg.Copy("unit", units); !s.ok()) return s;
  if (auto s = pg.Copy("cell", cells); !s.ok()) return s;
  return pg
      .Exec(
          "INSERT INTO rollup SELECT s, c.period, c.measure, sum(c.value), "
          "count(*) FROM cell c JOIN org o USING (trust), unnest(ARRAY['ics:' "
          "|| o.ics, 'national', 'region:' || o.region]) AS s GROUP BY 1, 2, 3")
      .status();
}

absl::Status PgSetup(Pg& pg) {
  if (auto r = pg.Exec(kSchema); !r.ok()) return r.status();
  std::string sql = "INSERT INTO org VALUES ";
  Orgs orgs = EnglandOrgs();
  for (size_t i = 0; i < orgs.trusts.size(); ++i) {
    const Trust& t = orgs.trusts[i];
    absl::StrAppend(&sql, i ? "," : "", "('", t.code, "','", t.ics, "','",
                    t.region, "')");
  }
  return pg.Exec(sql).status();
}

namespace {
class PgBatchSink : public Sink {
 public:
  explicit PgBatchSink(std::unique_ptr<Pg> pg) : pg_(std::move(pg)) {}
  absl::Status Write(const std::vector<v1::UnitSummary>& batch) override {
    return pg_->Ingest(batch);
  }

  absl::Status Send(const std::vector<v1::UnitSummary>& batch) override {
    uncommitted_.insert(uncommitted_.end(), batch.begin(), batch.end());
    ++sent_;
    return absl::OkStatus();
  }
  absl::Status Collect() override {
    if (collected_ == sent_) return absl::OkStatus();
    if (collected_ == committed_) {  // the oldest is not committed yet
      if (absl::Status s = pg_->Ingest(uncommitted_); !s.ok()) return s;
      uncommitted_.clear();
      committed_ = sent_;
    }
    ++collected_;
    return absl::OkStatus();
  }

 private:
  std::unique_ptr<Pg> pg_;
  // Summaries of the batches sent since the last commit.
  std::vector<v1::UnitSummary> uncommitted_;
  uint64_t sent_ = 0, committed_ = 0, collected_ = 0;
};
}  // namespace

absl::StatusOr<std::unique_ptr<Sink>> PgSink(const std::string& conninfo) {
  auto pg = Pg::Connect(conninfo);
  if (!pg.ok()) return pg.status();
  return std::make_unique<PgBatchSink>(*std::move(pg));
}

}  // namespace ohfed::bench
