// dashboard_seed: submits a known data set to an aggregator, for the
// dashboard's browser test (browser_test.py).
//
//   dashboard_seed HOST:PORT DATA.csv
//
// DATA.csv has the columns trust,period,measure,value; the rows of one
// (trust, period) become one unit summary (revision 1). Sent on one Submit
// stream over plaintext (an --insecure aggregator on loopback); exits 0 only
// when every summary is accepted.
#include <grpcpp/grpcpp.h>

#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "common/csv.h"
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

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: dashboard_seed HOST:PORT DATA.csv\n";
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
