// Fuzz target: the ingest handler's checks and store path (IngestBatch,
// aggregator/ingest_service.h: the caller's right, ValidateSummary,
// coverage, then the group commit into RocksDB), which is what a Submit
// stream runs for each batch once gRPC has delivered its bytes. The input
// is a serialized v1::SubmitRequest; unparsable input is what the service
// refuses before this point. The caller is chosen by the input's length
// (mod 4: plaintext twice, the first summary's trust, region Y56) so that
// the fuzzer reaches each.
//
// Each input gets a fresh store in an in-memory RocksDB environment, so a
// finding reproduces from its input alone. Properties: nothing crashes; one
// ack per summary; what was accepted is held; resending the batch changes
// nothing; the rollups equal a rebuild; and after reopening the store the
// same revisions and rollups are there. And the service's reader
// (IngestReceived, aggregator/submit_reader.h) and the protobuf parse it
// replaces answer the raw input alike: the same error or acks, the same
// held revisions, cells and rollups.
#include <rocksdb/env.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "aggregator/codec.h"
#include "aggregator/ingest_service.h"
#include "aggregator/rejection_log.h"
#include "aggregator/summary_store.h"
#include "common/clock.h"
#include "common/identity.h"
#include "ohfed/v1/ohfed.pb.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/store_check.h"

namespace ohfed {
namespace {

using aggregator::SummaryStore;

const absl::Time kNow = absl::FromCivil(
    absl::CivilSecond(2026, 11, 26, 9, 0, 0), absl::UTCTimeZone());

std::unique_ptr<SummaryStore> OpenStore(rocksdb::Env* env, Clock* clock) {
  aggregator::SummaryStoreOptions options;
  options.clock = clock;
  options.env = env;
  absl::StatusOr<std::unique_ptr<SummaryStore>> store =
      SummaryStore::Open("/fuzz/db", std::move(options));
  FUZZ_CHECK(store.ok(), store.status().message());
  return std::move(*store);
}

std::optional<PeerIdentity> CallerFor(const v1::SubmitRequest& request,
                                      size_t size) {
  switch (size % 4) {
    case 2:
      return PeerIdentity{PeerIdentity::Kind::kTrust,
                          request.summaries_size() > 0
                              ? request.summaries(0).trust()
                              : std::string("RJ1")};
    case 3:
      return PeerIdentity{PeerIdentity::Kind::kRegion, "Y56"};
    default:
      return std::nullopt;
  }
}

// Every held (unit, revision), in order.
std::vector<aggregator::HeldRevision> SortedHeld(const SummaryStore& store) {
  std::vector<aggregator::HeldRevision> held = store.HeldRevisions();
  std::sort(held.begin(), held.end());
  return held;
}

// The raw input through the service's path with and without the reader,
// each into a fresh store: the same answer and the same state.
void CheckReaderMatchesParse(absl::string_view bytes,
                             const std::optional<PeerIdentity>& caller,
                             Clock* clock) {
  struct Result {
    absl::StatusOr<v1::SubmitResponse> answer;
    std::vector<aggregator::HeldRevision> held;
    aggregator::RollupMap rollups;
    std::vector<std::string> cells;
  };
  auto run = [&](bool use_reader) {
    std::unique_ptr<rocksdb::Env> env(
        rocksdb::NewMemEnv(rocksdb::Env::Default()));
    std::unique_ptr<SummaryStore> store = OpenStore(env.get(), clock);
    aggregator::RejectionLog rejections(clock, absl::Seconds(60), 100,
                                        [](absl::string_view) {});
    Result r{aggregator::IngestReceived(*store, bytes, kNow, rejections, caller,
                                        use_reader),
             SortedHeld(*store),
             store->Rollups(),
             {}};
    std::shared_ptr<const aggregator::View> view = store->Snapshot();
    for (const auto& [id, revision] : r.held) {
      std::string trust, period;
      FUZZ_CHECK(aggregator::SplitUnitId(id, &trust, &period), id);
      const aggregator::HeldUnit* unit = view->Unit(trust, period);
      std::string cells = absl::StrCat(id, " ", revision, ":");
      if (unit != nullptr) {
        for (const aggregator::UnitCell& c : unit->cells) {
          absl::StrAppend(&cells, " ", c.measure(), "=", c.value());
          for (const aggregator::UnitCell::Bucket& b : c.buckets()) {
            absl::StrAppend(&cells, "[", b.value(), "x", b.count(), "]");
          }
        }
      }
      r.cells.push_back(std::move(cells));
    }
    return r;
  };
  const Result read = run(true), parsed = run(false);
  FUZZ_CHECK(read.answer.status() == parsed.answer.status(),
             absl::StrCat("reader: ", read.answer.status().ToString(),
                          "; parse: ", parsed.answer.status().ToString()));
  if (read.answer.ok()) {
    FUZZ_CHECK(
        read.answer->SerializeAsString() == parsed.answer->SerializeAsString(),
        "reader and parse acks differ");
  }
  FUZZ_CHECK(read.held == parsed.held, "reader and parse hold differently");
  FUZZ_CHECK(read.cells == parsed.cells, "reader and parse cells differ");
  fuzz::CheckSameRollups(read.rollups, parsed.rollups);
}

}  // namespace
}  // namespace ohfed

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ohfed;  // NOLINT: a fuzz entry point
  static FakeClock* clock = new FakeClock(kNow);
  v1::SubmitRequest request;
  const bool parsed = request.ParseFromArray(data, static_cast<int>(size));
  CheckReaderMatchesParse(
      absl::string_view(reinterpret_cast<const char*>(data), size),
      parsed ? CallerFor(request, size) : std::nullopt, clock);
  if (!parsed) return 0;
  // As the service does (IngestService::Parse): unknown fields dropped.
  request.GetReflection()->MutableUnknownFields(&request)->Clear();
  const std::optional<PeerIdentity> caller = CallerFor(request, size);

  std::unique_ptr<rocksdb::Env> env(
      rocksdb::NewMemEnv(rocksdb::Env::Default()));
  std::unique_ptr<SummaryStore> store = OpenStore(env.get(), clock);
  aggregator::RejectionLog rejections(clock, absl::Seconds(60), 100,
                                      [](absl::string_view) {});
  absl::StatusOr<v1::SubmitResponse> first =
      aggregator::IngestBatch(*store, request, kNow, rejections, caller);
  if (!first.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(first.status()),
               first.status().ToString());
    return 0;
  }
  FUZZ_CHECK(first->acks_size() == request.summaries_size(), "acks");
  for (const v1::Ack& ack : first->acks()) {
    if (ack.outcome() != v1::OUTCOME_ACCEPTED) continue;
    FUZZ_CHECK(
        store->HeldRevisionOf(ack.trust(), ack.period()) >= ack.revision(),
        absl::StrCat("accepted but not held: ", ack.trust(), " ",
                     ack.period()));
  }
  fuzz::CheckRollups(*store);
  const aggregator::RollupMap rollups = store->Rollups();
  const auto held = SortedHeld(*store);

  absl::StatusOr<v1::SubmitResponse> again =
      aggregator::IngestBatch(*store, request, kNow, rejections, caller);
  FUZZ_CHECK(again.ok(), again.status().ToString());
  for (const v1::Ack& ack : again->acks()) {
    FUZZ_CHECK(ack.outcome() != v1::OUTCOME_ACCEPTED,
               absl::StrCat("resent revision accepted again: ", ack.trust(),
                            " ", ack.period()));
  }
  FUZZ_CHECK(SortedHeld(*store) == held, "resend changed the held units");
  fuzz::CheckSameRollups(store->Rollups(), rollups);

  store.reset();
  store = OpenStore(env.get(), clock);
  FUZZ_CHECK(SortedHeld(*store) == held, "reopen changed the held units");
  fuzz::CheckSameRollups(store->Rollups(), rollups);
  return 0;
}
