// dashboard_seed: submits a known data set to an aggregator, for the
// dashboard's browser test (browser_test.py).
//
//   dashboard_seed HOST:PORT DATA.csv
//   dashboard_seed --damage DATA_DIR
//
// DATA.csv has the columns trust,period,measure,value; the rows of one
// (trust, period) become one unit summary (revision 1). Sent on one Submit
// stream over plaintext (an --insecure aggregator on loopback); exits 0 only
// when every summary is accepted.
//
// --damage: damages the closed store in DATA_DIR as a disk does, so that the
// aggregator recovers it at its next start (common/db_recovery.h) and the
// dashboard shows the recovery warning: the memtable is flushed into a
// table, and one byte of that table's last data block is inverted (as
// tests/testing/db_damage.h, which needs a running GoogleTest).
#include <grpcpp/grpcpp.h>
#include <rocksdb/db.h>
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/table_properties.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "common/csv.h"
#include "common/rocksdb_util.h"
#include "common/transport.h"
#include "ohfed/v1/ohfed.grpc.pb.h"

namespace {

absl::StatusOr<std::vector<ohfed::v1::UnitSummary>> ReadSummaries(
    const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<ohfed::CsvTable> csv = ohfed::ParseCsv(text.str(), path);
  if (!csv.ok()) return csv.status();
  const int trust = csv->Column("trust"), period = csv->Column("period"),
            measure = csv->Column("measure"), value = csv->Column("value");
  std::map<std::pair<std::string, std::string>, ohfed::v1::UnitSummary> units;
  for (const ohfed::CsvRecord& r : csv->records) {
    const std::string t = ohfed::CsvTable::Field(r, trust);
    const std::string p = ohfed::CsvTable::Field(r, period);
    ohfed::v1::UnitSummary& s = units[{t, p}];
    s.set_trust(t);
    s.set_period(p);
    s.set_revision(1);
    s.set_catalogue_version("2026.1");
    double v = 0;
    if (!absl::SimpleAtod(ohfed::CsvTable::Field(r, value), &v)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, " line ", r.line, ": value is not a number"));
    }
    ohfed::v1::Cell* c = s.add_cells();
    c->set_measure(ohfed::CsvTable::Field(r, measure));
    c->set_value(v);
  }
  std::vector<ohfed::v1::UnitSummary> out;
  for (auto& [key, s] : units) out.push_back(std::move(s));
  return out;
}

absl::Status Damage(const std::string& dir) {
  rocksdb::Options options = ohfed::DbOptions(ohfed::DbFootprint::kSmall);
  options.create_if_missing = false;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, &db);
  if (s.ok()) s = db->Flush(rocksdb::FlushOptions());
  if (db != nullptr) {
    rocksdb::Status closed = db->Close();
    if (s.ok()) s = closed;
    delete db;
  }
  if (!s.ok()) return absl::InternalError(s.ToString());
  std::string newest;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".sst" && e.path().string() > newest) {
      newest = e.path().string();
    }
  }
  if (newest.empty()) return absl::NotFoundError("no table in " + dir);
  rocksdb::SstFileReader reader(options);
  s = reader.Open(newest);
  if (!s.ok()) return absl::InternalError(s.ToString());
  const uint64_t offset = reader.GetTableProperties()->data_size - 40;
  std::fstream f(newest, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(~c));
  if (!f.good()) return absl::InternalError("cannot write " + newest);
  std::cout << "damaged " << newest << " at byte " << offset << "\n";
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--damage") {
    absl::Status s = Damage(argv[2]);
    if (!s.ok()) std::cerr << s << "\n";
    return s.ok() ? 0 : 1;
  }
  if (argc != 3) {
    std::cerr << "usage: dashboard_seed HOST:PORT DATA.csv\n"
                 "       dashboard_seed --damage DATA_DIR\n";
    return 2;
  }
  absl::StatusOr<std::vector<ohfed::v1::UnitSummary>> summaries =
      ReadSummaries(argv[2]);
  if (!summaries.ok()) {
    std::cerr << summaries.status() << "\n";
    return 1;
  }
  auto channel =
      ohfed::MakeChannel(argv[1], ohfed::TransportOptions{.insecure = true});
  if (!channel.ok()) {
    std::cerr << channel.status() << "\n";
    return 1;
  }
  auto stub = ohfed::v1::Ingest::NewStub(*channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  auto stream = stub->Submit(&ctx);
  ohfed::v1::SubmitRequest request;
  for (const auto& s : *summaries) *request.add_summaries() = s;
  ohfed::v1::SubmitResponse response;
  if (!stream->Write(request) || !stream->Read(&response)) {
    stream->WritesDone();
    std::cerr << "submit failed: " << stream->Finish().error_message() << "\n";
    return 1;
  }
  stream->WritesDone();
  (void)stream->Finish();
  int accepted = 0;
  for (const auto& ack : response.acks()) {
    if (ack.outcome() == ohfed::v1::OUTCOME_ACCEPTED) {
      ++accepted;
    } else {
      std::cerr << "not accepted: " << ack.ShortDebugString() << "\n";
    }
  }
  std::cout << accepted << " of " << summaries->size()
            << " summaries accepted\n";
  return accepted == static_cast<int>(summaries->size()) ? 0 : 1;
}
