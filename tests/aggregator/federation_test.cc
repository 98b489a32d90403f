// Two in-process aggregators over real gRPC on loopback: a regional one with
// an upstream forwards unit summaries to a national one, which ends with
// exactly the same units and revisions, including when it was down for a
// while and the regional one restarted meanwhile. Rejections upstream are
// recorded durably, not retried, and shown in the regional's completeness
// and to the trust's agent (in-process, over its control socket).
// Retractions travel and are forgotten at every level; timeliness nationally
// is the regional receipt time.
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <poll.h>
#include <rocksdb/convenience.h>
#include <rocksdb/utilities/options_util.h>
#include <rocksdb/write_batch.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agent/agent.h"
#include "aggregator/aggregator.h"
#include "aggregator/query_completeness.h"
#include "cli/agent_client.h"
#include "common/rocksdb_util.h"
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

Snapshot Take(SummaryStore& store) {
  Snapshot out;
  for (const auto& [id, revision] : store.HeldRevisions()) {
    std::vector<std::string> parts = absl::StrSplit(id, '/');
    std::string cells = store.Read([&](const View& v) -> std::string {
      const HeldUnit* unit = v.Unit(parts[0], parts[1]);
      if (unit == nullptr) return "retracted";
      // Cells come sorted by measure.
      std::string all;
      for (const UnitCell& c : unit->cells) {
        absl::StrAppend(&all, c.measure(), "=", c.value());
        for (const UnitCell::Bucket& b : c.buckets()) {
          absl::StrAppend(&all, ",", b.value(), "x", b.count());
        }
        absl::StrAppend(&all, ";");
      }
      return all;
    });
    out[id] = {revision, cells};
  }
  return out;
}

class FederationTest : public ::testing::Test {
 protected:
  std::unique_ptr<Aggregator> Start(
      const std::string& name, int port, const std::string& upstream,
      std::shared_ptr<const RegistryHistory> registry = nullptr,
      Clock* clock = nullptr) {
    AggregatorOptions o;
    o.listen = absl::StrCat("127.0.0.1:", port);
    o.data_dir = dir_.File(name);
    o.upstream = upstream;
    o.insecure = true;
    o.store.registry = std::move(registry);
    o.store.clock = clock;
    // Retry quickly so an upstream outage ends fast in a test.
    o.uploader.initial_backoff = absl::Milliseconds(20);
    o.uploader.max_backoff = absl::Milliseconds(200);
    o.uploader.idle_poll = absl::Seconds(1);
    auto a = Aggregator::Start(o);
    EXPECT_THAT(a, ::ohfed::testing::IsOk());
    return a.ok() ? std::move(*a) : nullptr;
  }

  // Submits one batch to `a` and returns its acks.
  std::vector<v1::Ack> Submit(Aggregator& a,
                              std::vector<v1::UnitSummary> batch) {
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
        v1::UnitSummary s =
            Summary(t, p, 1, {{kImm, 10}, {"staffing.wte.admin", 2.5}});
        AddDistribution(&s, "activity.wait_days.immunisation",
                        {{3, 4}, {9, 1}});
        batch.push_back(s);
      }
      batch.push_back(
          Summary(t, "2026", 1, {{"profile.seqohs_accredited", 1}}));
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

// The memtable the database in `dir` was last opened with, from RocksDB's
// OPTIONS file there.
std::string MemtableOf(const std::string& dir) {
  rocksdb::ConfigOptions config;
  config.ignore_unknown_options = true;
  rocksdb::DBOptions db_options;
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  rocksdb::Status s =
      rocksdb::LoadLatestOptions(config, dir, &db_options, &families);
  if (!s.ok() || families.empty()) return s.ToString();
  return families[0].options.memtable_factory->Name();
}

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
  // Only the regional reads its records back as it writes (to forward
  // them): the national's memtable is a vector (DbFootprint).
  EXPECT_EQ(MemtableOf(dir_.File("national")), "VectorRepFactory");
  EXPECT_EQ(MemtableOf(dir_.File("regional")), "SkipListFactory");
}

// The regional connects to its upstream when it starts, before anything is
// there to forward: the first forward does not wait for a TCP and TLS
// handshake. The upstream here is a bare listening socket.
TEST_F(FederationTest, ConnectsUpstreamBeforeAnythingIsForwarded) {
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  auto regional =
      Start("regional", 0, absl::StrCat("127.0.0.1:", ntohs(addr.sin_port)));
  ASSERT_NE(regional, nullptr);
  EXPECT_EQ(regional->forwarder()->outbox_size(), 0u);
  pollfd p{.fd = listener, .events = POLLIN, .revents = 0};
  // Bounded: without the eager connect nothing ever arrives.
  EXPECT_EQ(poll(&p, 1, 20000), 1) << "the regional never connected upstream";
  regional.reset();
  close(listener);
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
  EXPECT_EQ(regional->forwarder()->RecordOf("RJ1", "2026-03").acked_revision,
            4u);
}

// What a lost ack record costs (were it lost at a crash): the units it
// cleared are pending again after a restart, go again, and the national,
// which holds them, answers STALE; it holds each once, unchanged, and the
// regional's records come back. Here every record is deleted while the
// regional is down.
TEST_F(FederationTest, ALostAckRecordIsAResendAnsweredStale) {
  auto national = Start("national", 0, "");
  auto regional = Start("regional", 0, national->address());
  SubmitWorkload(*regional);
  ASSERT_TRUE(Converges(*regional, *national));
  for (int i = 0; i < 250 && regional->forwarder()->outbox_size() > 0; ++i) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_EQ(regional->forwarder()->outbox_size(), 0u);
  const Snapshot held = Take(national->store());
  const SummaryStoreStats before = national->store().stats();
  regional.reset();
  {
    auto db = OpenDb(dir_.File("regional"), DbFootprint::kServer);
    OHFED_ASSERT_OK(db);
    rocksdb::WriteBatch lost;
    OHFED_ASSERT_OK(ScanPrefix(
        db->get(), "f/", [&](absl::string_view key, absl::string_view) {
          lost.Delete(rocksdb::Slice(key.data(), key.size()));
          return absl::OkStatus();
        }));
    ASSERT_EQ(lost.Count(), 16u);
    OHFED_ASSERT_OK(WriteSynced(db->get(), &lost));
  }
  regional = Start("regional", 0, national->address());
  for (int i = 0; i < 250 && regional->forwarder()->outbox_size() > 0; ++i) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(regional->forwarder()->outbox_size(), 0u);
  EXPECT_EQ(regional->forwarder()->RecordOf("RJ1", "2026-03").acked_revision,
            4u);
  const SummaryStoreStats after = national->store().stats();
  EXPECT_EQ(after.summaries_stale - before.summaries_stale, 16u);
  EXPECT_EQ(after.summaries_accepted, before.summaries_accepted);
  EXPECT_EQ(Take(national->store()), held);
}

// England without one trust, as the national operator's registry.
std::shared_ptr<const RegistryHistory> EnglandWithout(
    const std::string& trust) {
  std::ifstream in(::ohfed::testing::SourceDir() +
                   "/common/data/england_orgs.csv");
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
  UpstreamRecord rax = regional->forwarder()->RecordOf("RAX", "2026-03");
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
  for (int i = 0;
       i < 200 &&
       regional->forwarder()->RecordOf("RAX", "2026-03").rejected_revision != 4;
       ++i) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(regional->forwarder()->RecordOf("RAX", "2026-03").rejected_revision,
            4u);
}

// Maintained rollups equal a rebuild from the held units (sums up to float
// rounding of the subtraction order).
bool SameAsRebuild(SummaryStore& store) {
  RollupMap got = store.Rollups(), want = store.RecomputedRollups();
  if (got.size() != want.size()) return false;
  for (const auto& [key, cell] : want) {
    auto it = got.find(key);
    if (it == got.end() || it->second.n_units != cell.n_units ||
        std::abs(it->second.sum - cell.sum) > 1e-6 ||
        it->second.buckets != cell.buckets) {
      return false;
    }
  }
  return true;
}

// The completeness row of `trust` for `month` at `a`.
v1::TrustCompleteness CompletenessOf(Aggregator& a, const std::string& trust,
                                     const std::string& month, absl::Time now) {
  v1::CompletenessRequest request;
  request.set_scope(absl::StrCat("trust:", trust));
  request.set_period(month);
  auto response = a.store().Read(
      [&](const View& v) { return RunCompleteness(v, request, now); });
  EXPECT_THAT(response, ::ohfed::testing::IsOk());
  if (!response.ok() || response->periods_size() != 1 ||
      response->periods(0).trusts_size() != 1) {
    return v1::TrustCompleteness();
  }
  return response->periods(0).trusts(0);
}

// Polls (bounded) until `done` holds.
template <class F>
bool Eventually(F done) {
  for (int i = 0; i < 500; ++i) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return false;
}

TEST_F(FederationTest, AcksSayWhichRevisionIsHeld) {
  auto a = Start("regional", 0, "");
  std::vector<v1::Ack> acks =
      Submit(*a, {Summary("RJ1", "2026-03", 5, {{kImm, 1}})});
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].held_revision(), 5u);
  acks = Submit(*a, {Summary("RJ1", "2026-03", 3, {{kImm, 2}})});
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].outcome(), v1::OUTCOME_STALE);
  EXPECT_EQ(acks[0].held_revision(), 5u);
}

// An agent in-process, sending to `aggregator`, driven over its socket.
struct TestAgent {
  std::unique_ptr<agent::Agent> agent;
  std::unique_ptr<agent::AgentClient> client;

  static TestAgent Start(const std::string& trust, const std::string& dir,
                         const std::string& aggregator) {
    agent::AgentOptions o;
    o.trust = trust;
    o.data_dir = dir;
    o.aggregator = aggregator;
    o.insecure = true;
    o.uploader.initial_backoff = absl::Milliseconds(20);
    o.uploader.max_backoff = absl::Milliseconds(200);
    o.uploader.idle_poll = absl::Milliseconds(50);
    TestAgent t;
    auto a = agent::Agent::Start(o);
    EXPECT_THAT(a, ::ohfed::testing::IsOk());
    if (!a.ok()) return t;
    t.agent = std::move(*a);
    auto c = agent::AgentClient::Connect(t.agent->socket());
    EXPECT_THAT(c, ::ohfed::testing::IsOk());
    if (c.ok()) t.client = std::make_unique<agent::AgentClient>(std::move(*c));
    return t;
  }
  // The period's state in `ohfed status`; empty if absent.
  v1::PeriodState State(const std::string& period) {
    auto status = client->Status();
    if (!status.ok()) return v1::PeriodState();
    for (const v1::PeriodState& p : status->periods()) {
      if (p.period() == period) return p;
    }
    return v1::PeriodState();
  }
};

// Before, a summary the national aggregator refused was acknowledged to the
// trust as accepted, and the only trace was one regional log line.
TEST_F(FederationTest, UpstreamRefusalReachesCompletenessAndTheAgent) {
  auto national = Start("national", 0, "", EnglandWithout("RAX"));
  auto regional = Start("regional", 0, national->address());
  TestAgent rax =
      TestAgent::Start("RAX", dir_.File("agent"), regional->address());
  ASSERT_NE(rax.client, nullptr);
  OHFED_ASSERT_OK(rax.client->SetValue("2026-03", "staffing.wte.admin", "2.5"));
  ASSERT_TRUE(Eventually([&] {
    return !regional->forwarder()->RefusalReason("RAX", "2026-03").empty();
  }));
  // The regional's completeness for the trust.
  v1::TrustCompleteness row =
      CompletenessOf(*regional, "RAX", "2026-03", absl::Now());
  EXPECT_TRUE(row.reported());
  EXPECT_THAT(row.upstream_reason(), HasSubstr("unknown trust 'RAX'"));
  // The agent's status, after its next sync pass.
  ASSERT_TRUE(Eventually(
      [&] { return !rax.State("2026-03").upstream_reason().empty(); }));
  v1::PeriodState state = rax.State("2026-03");
  EXPECT_EQ(state.state(), "current");  // its own aggregator holds it
  EXPECT_THAT(state.upstream_reason(), HasSubstr("unknown trust 'RAX'"));
  // Ingest.Feedback itself, as any sender may ask.
  auto stub = v1::Ingest::NewStub(
      *MakeChannel(regional->address(), {.insecure = true}));
  grpc::ClientContext ctx;
  v1::FeedbackRequest request;
  request.set_trust("RAX");
  v1::FeedbackResponse response;
  ASSERT_TRUE(stub->Feedback(&ctx, request, &response).ok());
  ASSERT_EQ(response.upstream_size(), 1);
  EXPECT_EQ(response.upstream(0).period(), "2026-03");
  EXPECT_EQ(response.upstream(0).outcome(), v1::OUTCOME_REJECTED);
}

// The aggregator holds a newer revision than the agent ever made (the
// agent's store was restored from a backup, or its clock went back): the
// agent says so and reasserts its data above the held revision. Before, the
// STALE ack was taken as success and the aggregator kept the other data.
TEST_F(FederationTest, AgentReassertsAboveANewerHeldRevision) {
  auto regional = Start("regional", 0, "");
  // Within a day ahead of now, so any receiver accepts it.
  const uint64_t held = absl::ToUnixMillis(absl::Now() + absl::Hours(1));
  Submit(*regional, {Summary("RJ1", "2026-03", held, {{kImm, 99}})});
  TestAgent rj1 =
      TestAgent::Start("RJ1", dir_.File("agent"), regional->address());
  ASSERT_NE(rj1.client, nullptr);
  OHFED_ASSERT_OK(rj1.client->SetValue("2026-03", "staffing.wte.admin", "2.5"));
  ASSERT_TRUE(Eventually([&] {
    v1::PeriodState s = rj1.State("2026-03");
    return s.state() == "current" && s.revision() > held;
  }));
  v1::PeriodState state = rj1.State("2026-03");
  EXPECT_EQ(state.revision(), held + 1);
  EXPECT_THAT(state.reason(),
              HasSubstr(absl::StrCat("the aggregator held revision ", held)));
  regional->store().Read([&](const View& v) {
    const HeldUnit* u = v.Unit("RJ1", "2026-03");
    EXPECT_NE(u, nullptr);
    if (u == nullptr) return 0;
    EXPECT_EQ(u->revision, held + 1);
    EXPECT_EQ(u->cells.Find(kImm), nullptr);  // the agent's data, not the other
    EXPECT_NE(u->cells.Find("staffing.wte.admin"), nullptr);
    return 0;
  });
  // The reasserted revision is durable at the agent.
  rj1.client.reset();
  rj1.agent.reset();
  rj1 = TestAgent::Start("RJ1", dir_.File("agent"), regional->address());
  ASSERT_NE(rj1.client, nullptr);
  EXPECT_EQ(rj1.State("2026-03").revision(), held + 1);
  EXPECT_EQ(rj1.State("2026-03").state(), "current");
}

// Received regionally on time, forwarded after the deadline because the
// national aggregator was down: on time nationally too. Before, the national
// aggregator measured timeliness at its own receipt.
TEST_F(FederationTest, NationalTimelinessIsTheRegionalReceipt) {
  FakeClock clock(absl::FromCivil(absl::CivilSecond(2026, 4, 10, 9, 0, 0),
                                  absl::UTCTimeZone()));
  const int national_port = ::ohfed::testing::PickUnusedPort();
  auto regional =
      Start("regional", 0, absl::StrCat("127.0.0.1:", national_port), nullptr,
            &clock);
  Submit(*regional, {Summary("RJ1", "2026-03", 1, {{kImm, 4}})});
  EXPECT_TRUE(
      CompletenessOf(*regional, "RJ1", "2026-03", clock.Now()).on_time());
  clock.Set(absl::FromCivil(absl::CivilSecond(2026, 5, 20, 9, 0, 0),
                            absl::UTCTimeZone()));
  auto national = Start("national", national_port, "", nullptr, &clock);
  ASSERT_TRUE(Converges(*regional, *national));
  v1::TrustCompleteness row =
      CompletenessOf(*national, "RJ1", "2026-03", clock.Now());
  EXPECT_TRUE(row.reported());
  EXPECT_TRUE(row.on_time());
  // A claimed receipt time in the future counts as the receipt itself.
  Submit(*national, {[] {
    v1::UnitSummary s = Summary("R1H", "2026-03", 1, {{kImm, 1}});
    s.set_first_received_unix_ms(absl::ToUnixMillis(absl::Now()) * 10);
    return s;
  }()});
  national->store().Read([&](const View& v) {
    EXPECT_EQ(v.Unit("R1H", "2026-03")->first_received_unix_ms,
              absl::ToUnixMillis(clock.Now()));
    return 0;
  });
}

// A retraction is a revision like any other: the regional forgets the unit
// and its rollups, forwards the retraction, and the national forgets too.
TEST_F(FederationTest, RetractionIsForgottenAtEveryLevel) {
  auto national = Start("national", 0, "");
  auto regional = Start("regional", 0, national->address());
  SubmitWorkload(*regional);
  ASSERT_TRUE(Converges(*regional, *national));
  v1::UnitSummary retraction;
  retraction.set_trust("RJ1");
  retraction.set_period("2026-03");
  retraction.set_revision(5);
  retraction.set_retracted(true);
  retraction.set_catalogue_version("2026.1");
  std::vector<v1::Ack> acks = Submit(*regional, {retraction});
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].outcome(), v1::OUTCOME_ACCEPTED);
  ASSERT_TRUE(Eventually(
      [&] { return national->store().HeldRevisionOf("RJ1", "2026-03") == 5; }));
  ASSERT_TRUE(Converges(*regional, *national));
  for (Aggregator* a : {regional.get(), national.get()}) {
    a->store().Read([](const View& v) {
      EXPECT_EQ(v.Unit("RJ1", "2026-03"), nullptr);
      // RJ1's 12 gone: R1H, RRK and RBS reported 10 each.
      EXPECT_EQ(v.Rollup("national", "2026-03", kImm)->sum, 30);
      EXPECT_EQ(v.Rollup("national", "2026-03", kImm)->n_units, 3u);
      EXPECT_EQ(v.Rollup("ics:QKK", "2026-03", kImm),
                nullptr);  // RJ1 alone there
      return 0;
    });
    EXPECT_TRUE(SameAsRebuild(a->store()));
    v1::TrustCompleteness row =
        CompletenessOf(*a, "RJ1", "2026-03", absl::Now());
    EXPECT_FALSE(row.reported());
    EXPECT_FALSE(row.on_time());
  }
  // An older revision is still stale; a new one reports again.
  acks = Submit(*regional, {Summary("RJ1", "2026-03", 4, {{kImm, 12}})});
  EXPECT_EQ(acks[0].outcome(), v1::OUTCOME_STALE);
  Submit(*regional, {Summary("RJ1", "2026-03", 6, {{kImm, 1}})});
  ASSERT_TRUE(Eventually(
      [&] { return national->store().HeldRevisionOf("RJ1", "2026-03") == 6; }));
  national->store().Read([](const View& v) {
    EXPECT_EQ(v.Rollup("national", "2026-03", kImm)->sum, 31);
    return 0;
  });
  // Forgotten across a restart too.
  Submit(*regional, {[&] {
    retraction.set_revision(7);
    return retraction;
  }()});
  regional.reset();
  regional = Start("regional", 0, national->address());
  regional->store().Read([](const View& v) {
    EXPECT_EQ(v.Unit("RJ1", "2026-03"), nullptr);
    return 0;
  });
  EXPECT_EQ(regional->store().HeldRevisionOf("RJ1", "2026-03"), 7u);
  EXPECT_TRUE(SameAsRebuild(regional->store()));
}

}  // namespace
}  // namespace ohfed::aggregator
