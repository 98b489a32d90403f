// Building unit summaries in aggregator tests, and sending them (header-only).
#ifndef OHFED_TESTS_AGGREGATOR_TEST_SUMMARIES_H_
#define OHFED_TESTS_AGGREGATOR_TEST_SUMMARIES_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "aggregator/aggregator.h"
#include "ohfed/v1/ohfed.grpc.pb.h"

namespace ohfed::aggregator::testing {

// A summary with scalar cells {measure, value}.
inline v1::UnitSummary Summary(
    const std::string& trust, const std::string& period, uint64_t revision,
    const std::vector<std::pair<std::string, double>>& cells) {
  v1::UnitSummary s;
  s.set_trust(trust);
  s.set_period(period);
  s.set_revision(revision);
  s.set_catalogue_version("2026.1");
  for (const auto& [measure, value] : cells) {
    v1::Cell* c = s.add_cells();
    c->set_measure(measure);
    c->set_value(value);
  }
  return s;
}

// Adds a distribution cell from {value, count} buckets; value = event count.
inline void AddDistribution(
    v1::UnitSummary* s, const std::string& measure,
    const std::vector<std::pair<double, uint64_t>>& buckets) {
  v1::Cell* c = s->add_cells();
  c->set_measure(measure);
  uint64_t events = 0;
  for (const auto& [value, count] : buckets) {
    v1::Bucket* b = c->add_buckets();
    b->set_value(value);
    b->set_count(count);
    events += count;
  }
  c->set_value(static_cast<double>(events));
}

// An aggregator on 127.0.0.1, any free port, plaintext, data in `data_dir`.
inline AggregatorOptions LoopbackOptions(const std::string& data_dir) {
  AggregatorOptions options;
  options.listen = "127.0.0.1:0";
  options.data_dir = data_dir;
  options.insecure = true;
  return options;
}

// Sends each batch on one Submit stream and reads its acks into
// `responses`; returns the stream's final status.
inline grpc::Status SendBatches(v1::Ingest::StubInterface& ingest,
                                const std::vector<v1::SubmitRequest>& batches,
                                std::vector<v1::SubmitResponse>* responses) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  auto stream = ingest.Submit(&ctx);
  for (const v1::SubmitRequest& b : batches) {
    if (!stream->Write(b)) break;
    v1::SubmitResponse r;
    if (!stream->Read(&r)) break;
    responses->push_back(r);
  }
  stream->WritesDone();
  return stream->Finish();
}

}  // namespace ohfed::aggregator::testing

#endif  // OHFED_TESTS_AGGREGATOR_TEST_SUMMARIES_H_
