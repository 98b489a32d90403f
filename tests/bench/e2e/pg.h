// PostgreSQL as the baseline (issue 14): the same unit summaries as rows of
// `cell`, with ICS, region and national rollups kept by an ingest()
// function, and the benchmark queries as GROUP BY over `cell`.
#ifndef OHFED_TESTS_BENCH_E2E_PG_H_
#define OHFED_TESTS_BENCH_E2E_PG_H_

#include <libpq-fe.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/period.h"
#include "ohfed/v1/ohfed.pb.h"

namespace ohfed::bench {

// One connection; not thread-safe.
class Pg {
 public:
  static absl::StatusOr<std::unique_ptr<Pg>> Connect(const std::string& info);
  ~Pg();

  // Runs SQL with no parameters; the rows as text, one vector per row.
  absl::StatusOr<std::vector<std::vector<std::string>>> Exec(
      const std::string& sql);
  // COPY text rows ("a\tb\t...\n") into `table`.
  absl::Status Copy(const std::string& table, const std::string& rows);
  // One ingest() call per summary in one transaction, retried on deadlock.
  absl::Status Ingest(const std::vector<v1::UnitSummary>& batch);

 private:
  explicit Pg(PGconn* conn) : conn_(conn) {}
  PGconn* conn_;
};

// Drops and creates the schema (org, unit, cell, rollup, ingest()) and fills
// org from England's registry.
absl::Status PgSetup(Pg& pg);

// Loads every trust x `months` months from `first` in bulk (COPY, then the
// rollups by one GROUP BY): the same rows ingest() would leave, faster.
absl::Status PgBulkLoad(Pg& pg, Month first, int months);

}  // namespace ohfed::bench

#endif  // OHFED_TESTS_BENCH_E2E_PG_H_
