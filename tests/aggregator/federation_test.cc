// Two in-process aggregators over real gRPC on loopback: a regional one with
// an upstream forwards unit summaries to a national one, which ends with
// exactly the same units and revisions, including when it was down for a
// while and the regional one restarted meanwhile. Rejections upstream are
// recorded durably and not retried.
#include <grpcpp/grpcpp.h>

#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "aggregator/aggregator.h"
#include "common/transport.h"
#include "tests/aggregator/test_summaries.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/testing.h"

namespace ohfed::aggregator {
namespace {

using ::ohfed::aggregator::testing::AddDistribution;
using ::ohfed::aggregator::testing::Summary;
using ::ohfed::testing::TempDir;
using ::testing::HasSubstr;

const char kImm[] = "activity.count.immunisation";

// What a store holds: per unit id, its revision and cells (serialized).
using Snapshot = std::map<std::string, std::pair<uint64_t, std::string>>;

Snapshot Take(Store& store) {
  Snapshot out;
  for (const auto& [id, revision] : store.HeldRevisions()) {
    std::vector<std::string> parts = absl::StrSplit(id, '/');
    std::string cells = store.Read([&](const View& v) {
      std::map<std::string, std::string> sorted;
      for (const auto& [m, c] : v.Unit(parts[0], parts[1])->cells) {
        sorted[m] = c.SerializeAsString();
      }
      std::string all;
      for (const auto& [m, c] : sorted) absl::StrAppend(&all, m, "=", c, ";");
      return all;
    });
    out[id] = {revision, cells};
  }
  return out;
}

class FederationTest : public ::testing::Test {
 protected:
  std::unique_ptr<Aggregator> Start(const std::string& name, int port,
                                    const std::string& upstream,
                                    std::shared_ptr<const RegistryHistory> registry = nullptr) {
    AggregatorOptions o;
    o.listen = absl::StrCat("127.0.0.1:", port);
    o.data_dir = dir_.File(name);
    o.upstream = upstream;
    o.insecure = true;
    o.store.registry = std::move(registry);
    // Retry quickly so an upstream outage ends fast in a test.
    o.uploader.initial_backoff = absl::Milliseconds(20);
    o.uploader.max_backoff = absl::Milliseconds(200);
    o.uploader.idle_poll = absl::Seconds(1);
    auto a = Aggregator::Start(o);
    EXPECT_THAT(a, ::ohfed::testing::IsOk());
    return a.ok() ? std::move(*a) : nullptr;
  }

  // Submits one batch to `a` and returns its acks.
  std::vector<v1::Ack> Submit(Aggregator& a, std::vector<v1::UnitSummary> batch) {
    auto channel = *MakeChannel(a.address(), {.insecure = true});
    auto stub = v1::Ingest::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    auto stream = stub->Submit(&ctx);
    v1::SubmitRequest req;
    for (auto& s : batch) *req.add_summaries() = std::move(s);
    v1::SubmitResponse resp;
    EXPECT_TRUE(stream->Write(req));
    EXPECT_TRUE(stream->Read(&resp));
    stream->WritesDone();
    EXPECT_TRUE(stream->Finish().ok());
    return {resp.acks().begin(), resp.acks().end()};
  }

  // Three months of four trusts in three regions, then corrections.
  void SubmitWorkload(Aggregator& regional) {
    std::vector<v1::UnitSummary> batch;
    for (const char* t : {"RJ1", "R1H", "RRK", "RBS"}) {
      for (const char* p : {"2026-01", "2026-02", "2026-03"}) {
        v1::UnitSummary s = Summary(t, p, 1, {{kImm, 10}, {"staffing.wte.admin", 2.5}});
        AddDistribution(&s, "activity.wait_days.immunisation", {{3, 4}, {9, 1}});
        batch.push_back(s);
      }
      batch.push_back(Summary(t, "2026", 1, {{"profile.seqohs_accredited", 1}}));
    }
    Submit(regional, batch);
    Submit(regional, {Summary("RJ1", "2026-03", 4, {{kImm, 12}}),
                      Summary("RRK", "2026-01", 2, {{kImm, 1}})});
  }

  // Polls until national holds what regional holds (bounded).
  bool Converges(Aggregator& regional, Aggregator& national) {
    for (int i = 0; i < 300; ++i) {
      if (Take(national.store()) == Take(regional.store())) return true;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return false;
  }

  TempDir dir_;
};

TEST_F(FederationTest, NationalHoldsTheSameUnitsAndRevisions) {
  auto national = Start("national", 0, "");
  auto regional = Start("regional", 0, national->address());
  SubmitWorkload(*regional);
  EXPECT_TRUE(Converges(*regional, *national));
  Snapshot held = Take(national->store());
  EXPECT_EQ(held.size(), 16u);
  EXPECT_EQ(held.at("RJ1/2026-03").first, 4u);
  EXPECT_EQ(held.at("RRK/2026-01").first, 2u);
  // National rollups reflect the corrections exactly once.
  national->store().Read([](const View& v) {
    EXPECT_EQ(v.Rollup("national", "2026-03", kImm)->sum, 42);
    EXPECT_EQ(v.Rollup("region:Y60", "2026-01", kImm)->sum, 1);
    return 0;
  });
}

TEST_F(FederationTest, StoreAndForwardSurvivesUpstreamOutageAndRestart) {
  const int national_port = ::ohfed::testing::PickUnusedPort();
  const std::string upstream = absl::StrCat("127.0.0.1:", national_port);
  auto regional = Start("regional", 0, upstream);
  SubmitWorkload(*regional);
  EXPECT_EQ(regional->forwarder()->outbox_size(), 16u);
  // The regional restarts while national is still down: nothing is lost.
  regional.reset();
  regional = Start("regional", 0, upstream);
  EXPECT_EQ(regional->forwarder()->outbox_size(), 16u);
  auto national = Start("national", national_port, "");
  EXPECT_TRUE(Converges(*regional, *national));
  for (int i = 0; i < 100 && regional->forwarder()->outbox_size() > 0; ++i) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(regional->forwarder()->outbox_size(), 0u);
  // Acknowledgements are durable: after a restart nothing is resent.
  regional.reset();
  regional = Start("regional", 0, upstream);
  EXPECT_EQ(regional->forwarder()->outbox_size(), 0u);
  EXPECT_EQ(regional->forwarder()->RecordOf("RJ1", "2026-03").acked_revision, 4u);
}

// England without one trust, as the national operator's registry.
std::shared_ptr<const RegistryHistory> EnglandWithout(const std::string& trust) {
  std::ifstream in(::ohfed::testing::SourceDir() + "/common/data/england_orgs.csv");
  std::stringstream all;
  all << in.rdbuf();
  std::string out;
  for (absl::string_view line : absl::StrSplit(all.str(), '\n')) {
    if (absl::StrContains(line, absl::StrCat(",", trust, ","))) continue;
    absl::StrAppend(&out, line, "\n");
  }
  auto r = Registry::Parse(out, "test registry");
  EXPECT_THAT(r, ::ohfed::testing::IsOk());
  return std::make_shared<RegistryHistory>(*r);
}

TEST_F(FederationTest, UpstreamRejectionIsRecordedAndNotRetried) {
  auto national = Start("national", 0, "", EnglandWithout("RAX"));
  auto regional = Start("regional", 0, national->address());
  Submit(*regional, {Summary("RAX", "2026-03", 3, {{kImm, 1}}),
                     Summary("RJ1", "2026-03", 1, {{kImm, 2}})});
  for (int i = 0; i < 200 && regional->forwarder()->outbox_size() > 0; ++i) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(regional->forwarder()->outbox_size(), 0u);
  ForwardRecord rax = regional->forwarder()->RecordOf("RAX", "2026-03");
  EXPECT_EQ(rax.rejected_revision, 3u);
  EXPECT_EQ(rax.acked_revision, 0u);
  EXPECT_THAT(rax.reason, HasSubstr("unknown trust 'RAX'"));
  EXPECT_EQ(Take(national->store()).count("RAX/2026-03"), 0u);
  // More traffic does not resend the rejected revision.
  Submit(*regional, {Summary("RJ1", "2026-03", 2, {{kImm, 3}})});
  for (int i = 0; i < 200 && regional->forwarder()->outbox_size() > 0; ++i) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(regional->uploader()->stats().acks_rejected, 1u);
  // The rejection is durable; a new revision is forwarded (and judged) again.
  regional.reset();
  regional = Start("regional", 0, national->address());
  EXPECT_EQ(regional->forwarder()->outbox_size(), 0u);
  EXPECT_THAT(regional->forwarder()->RecordOf("RAX", "2026-03").reason,
              HasSubstr("unknown trust"));
  Submit(*regional, {Summary("RAX", "2026-03", 4, {{kImm, 1}})});
  for (int i = 0; i < 200 && regional->forwarder()->RecordOf("RAX", "2026-03")
                                     .rejected_revision != 4;
       ++i) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(regional->forwarder()->RecordOf("RAX", "2026-03").rejected_revision, 4u);
}

}  // namespace
}  // namespace ohfed::aggregator
