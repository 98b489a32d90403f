// Answers kept per data version (aggregator/query_answer_cache.h, issue 14
// figure 3): a kept answer is sent only on the View it was computed on and
// only while what it read outside that View is unchanged; over real gRPC,
// every answer equals one computed afresh, after commits, retractions and a
// moving clock, with disclosure control on.
#include "aggregator/query_answer_cache.h"

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "aggregator/authz.h"
#include "aggregator/query_completeness.h"
#include "aggregator/query_engine.h"
#include "aggregator/query_service.h"
#include "aggregator/summary_store.h"
#include "common/clock.h"
#include "common/query_rows.h"
#include "common/status.h"
#include "common/transport.h"
#include "google/protobuf/util/message_differencer.h"
#include "tests/aggregator/query_fake_view.h"
#include "tests/aggregator/test_summaries.h"
#include "tests/testing/testing.h"

namespace ohfed::aggregator {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::ohfed::aggregator::testing::FakeView;
using ::ohfed::aggregator::testing::Summary;
using ::ohfed::testing::TempDir;

constexpr char kImm[] = "activity.count.immunisation";

std::shared_ptr<const AnswerCache::Answer> AnswerOf(std::string bytes,
                                                    std::string live = "") {
  return std::make_shared<const AnswerCache::Answer>(
      AnswerCache::Answer{std::move(bytes), std::move(live)});
}

TEST(AnswerCacheTest, AnswersOnlyForItsViewAndItsLiveInputs) {
  AnswerCache cache;
  auto view = std::make_shared<const FakeView>();
  cache.Insert(view, "q", AnswerOf("bytes", "current"));
  auto kept = cache.Lookup(view, "q", "current");
  ASSERT_NE(kept, nullptr);
  EXPECT_EQ(kept->bytes, "bytes");
  EXPECT_EQ(cache.Lookup(view, "q", "behind"), nullptr);
  EXPECT_EQ(cache.Lookup(view, "other", "current"), nullptr);
  // A newer View: nothing kept answers for it, and its first answer drops
  // the older View's.
  auto next = std::make_shared<const FakeView>();
  EXPECT_EQ(cache.Lookup(next, "q", "current"), nullptr);
  cache.Insert(next, "q2", AnswerOf("newer"));
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.Lookup(view, "q2", ""), nullptr);
  EXPECT_NE(cache.Lookup(next, "q2", ""), nullptr);
}

// A View freed and another made at its address is not the same View.
TEST(AnswerCacheTest, AFreedViewsAnswersAreNotReused) {
  AnswerCache cache;
  auto view = std::make_shared<const FakeView>();
  cache.Insert(view, "q", AnswerOf("old"));
  std::weak_ptr<const View> gone = view;
  view.reset();
  ASSERT_TRUE(gone.expired());
  auto other = std::make_shared<const FakeView>();
  EXPECT_EQ(cache.Lookup(other, "q", ""), nullptr);
}

TEST(AnswerCacheTest, KeepsNoMoreThanItsBounds) {
  AnswerCache cache(/*max_entries=*/2, /*max_bytes=*/100);
  auto view = std::make_shared<const FakeView>();
  cache.Insert(view, "big", AnswerOf(std::string(200, 'x')));
  EXPECT_EQ(cache.Lookup(view, "big", ""), nullptr);
  cache.Insert(view, "a", AnswerOf("1"));
  cache.Insert(view, "b", AnswerOf("2"));
  cache.Insert(view, "c", AnswerOf("3"));
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.Lookup(view, "c", ""), nullptr);
}

TEST(AnswerCacheTest, AppendedWarningParsesAsTheResponsesWarning) {
  v1::QueryResponse r;
  r.set_catalogue_version("2026.1");
  r.add_rows()->set_measure(kImm);
  std::string bytes = r.SerializeAsString();
  AppendWarning("", &bytes);
  EXPECT_EQ(bytes, r.SerializeAsString());
  AppendWarning("store recovered: 2 of the 3 trusts here", &bytes);
  v1::QueryResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  r.set_warning("store recovered: 2 of the 3 trusts here");
  EXPECT_TRUE(MessageDifferencer::Equals(parsed, r));
  v1::CompletenessResponse c;
  c.set_scope("national");
  std::string c_bytes = c.SerializeAsString();
  AppendWarning("recovered", &c_bytes);
  ASSERT_TRUE(c.ParseFromString(c_bytes));
  EXPECT_EQ(c.scope(), "national");
  EXPECT_EQ(c.warning(), "recovered");
}

// FakeView with what a live aggregator reads outside its snapshot.
class LiveView : public FakeView {
 public:
  std::string UpstreamReason(absl::string_view trust,
                             absl::string_view period) const override {
    auto it = reasons.find(absl::StrCat(trust, "|", period));
    return it == reasons.end() ? std::string() : it->second;
  }
  bool Unconfirmed(absl::string_view trust) const override {
    return unconfirmed.count(std::string(trust)) > 0;
  }
  std::map<std::string, std::string> reasons;
  std::set<std::string> unconfirmed;
};

int64_t Ms(const char* rfc3339) {
  absl::Time t;
  std::string err;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &err)) << err;
  return absl::ToUnixMillis(t);
}

// CompletenessLive must change whenever the answer does on the same View:
// over a year of days, with upstream refusals and confirmations changing,
// two days with equal live inputs have equal answers (sync states move
// current -> behind -> silent as the days pass).
TEST(CompletenessLiveTest, EqualLiveInputsMeanEqualAnswers) {
  LiveView view;
  auto put = [&](const std::string& trust, const std::string& month,
                 const char* at) {
    view.Set(trust, month, kImm, 1);
    view.SetReceived(trust, month, Ms(at), Ms(at), 1);
    view.SetLastReceived(trust, std::max(view.LastReceived(trust), Ms(at)));
  };
  put("T1", "2026-02", "2026-03-15T23:00:00Z");
  put("T1", "2026-03", "2026-04-10T09:00:00Z");
  put("T2", "2026-03", "2026-04-16T00:00:01Z");
  put("T3", "2026-01", "2026-02-10T00:00:00Z");
  for (const std::string by : {"trust", "ics"}) {
    v1::CompletenessRequest req;
    req.set_scope("national");
    req.set_period("2026-01:2026-04");
    req.set_by(by);
    std::map<std::string, std::string> answer_for_live;
    absl::Time now = absl::FromUnixMillis(Ms("2026-03-01T00:00:00Z"));
    for (int day = 0; day < 300; ++day, now += absl::Hours(24)) {
      if (day == 40) view.reasons["T1|2026-03"] = "refused upstream";
      if (day == 80) view.unconfirmed.insert("T2");
      if (day == 120) view.reasons.clear();
      if (day == 160) view.unconfirmed.clear();
      auto answer = RunCompleteness(view, req, now);
      OHFED_ASSERT_OK(answer);
      const std::string live = CompletenessLive(view, req, now, {});
      auto [it, fresh] =
          answer_for_live.try_emplace(live, answer->SerializeAsString());
      EXPECT_EQ(it->second, answer->SerializeAsString())
          << by << " day " << day << ": same live inputs, another answer";
    }
    // The days above do give several different answers (by ICS, only
    // confirmations show).
    EXPECT_GE(answer_for_live.size(), by == "trust" ? 4u : 2u) << by;
  }
}

// SerializeCompleteness writes the bytes of RunCompleteness's answer
// (without its warning) without building it: equal byte for byte over days
// that move sync states, refusals and confirmations that come and go,
// revisions 0 and not, a merger that changes a month's trusts, each
// breakdown and scope, and with refused requests refused alike.
TEST(SerializedCompletenessTest, IsTheResponseSerialized) {
  LiveView view;
  view.AddLaterVersion(::ohfed::aggregator::testing::TestRegistryFrom2026_03(
      "R1,North,I1,ICS One,T2,Trust Two\n", ""));
  auto put = [&](const std::string& trust, const std::string& month,
                 const char* at, uint64_t revision) {
    view.Set(trust, month, kImm, 1);
    view.SetReceived(trust, month, Ms(at), Ms(at), revision);
    view.SetLastReceived(trust, std::max(view.LastReceived(trust), Ms(at)));
  };
  put("T1", "2026-02", "2026-03-15T23:00:00Z", 0);
  put("T1", "2026-03", "2026-04-10T09:00:00Z", 1775000000000);
  put("T2", "2026-02", "2026-04-16T00:00:01Z", 7);
  put("T3", "2026-01", "2026-02-10T00:00:00Z", 1);
  put("T5", "2026-04", "2026-05-01T00:00:00Z", 300);
  int compared = 0, compacted = 0, refusals = 0;
  for (const std::string scope : {"national", "region:R1", "ics:I1", "", "x"}) {
    for (const std::string by : {"trust", "", "ics", "region", "self"}) {
      v1::CompletenessRequest req;
      req.set_scope(scope);
      req.set_period("2026-01:2026-04");
      req.set_by(by);
      absl::Time now = absl::FromUnixMillis(Ms("2026-03-01T00:00:00Z"));
      for (int day = 0; day < 120; day += 7, now += absl::Hours(24 * 7)) {
        view.reasons.clear();
        view.unconfirmed.clear();
        if (day % 2 == 1) view.reasons["T1|2026-03"] = "refused upstream";
        if (day % 3 == 1) view.unconfirmed.insert("T2");
        auto answer = RunCompleteness(view, req, now);
        std::string bytes = "stale";
        absl::Status s = SerializeCompleteness(view, req, now, {}, &bytes);
        ASSERT_EQ(s, answer.status()) << scope << " by " << by;
        if (!answer.ok()) continue;
        answer->clear_warning();
        ASSERT_EQ(bytes, answer->SerializeAsString())
            << scope << " by " << by << " day " << day << "\n"
            << answer->ShortDebugString();
        ++compared;
        // The compact form: serialized alike, and the tidy answer expanded.
        v1::CompletenessRequest compact_req = req;
        compact_req.set_compact(true);
        auto compact = RunCompleteness(view, compact_req, now);
        OHFED_ASSERT_OK(compact);
        compact->clear_warning();
        OHFED_ASSERT_OK(
            SerializeCompleteness(view, compact_req, now, {}, &bytes));
        ASSERT_EQ(bytes, compact->SerializeAsString()) << scope << " by " << by;
        auto expanded = ExpandCompactCompleteness(*compact);
        OHFED_ASSERT_OK(expanded);
        ASSERT_EQ(expanded->ShortDebugString(), answer->ShortDebugString())
            << scope << " by " << by << " day " << day;
        compacted += compact->trusts_size() > 0 ? 1 : 0;
        for (const v1::PeriodCompleteness& p : compact->periods()) {
          refusals += p.compact().refused_size();
        }
      }
    }
  }
  EXPECT_GE(compared, 100);
  EXPECT_GE(compacted, 40);  // by trust: national, region:R1, ics:I1, ""
  EXPECT_GE(refusals, 20);
}

// The Query service over gRPC with its default (non-exact) disclosure
// thresholds, on a store whose clock the test moves.
class AnswerCacheServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { Start({}); }
  void Start(QueryLaneOptions lanes, size_t answers_kept = 256) {
    SummaryStoreOptions options;
    options.clock = &clock_;
    auto store = SummaryStore::Open(dir_.File("db"), options);
    OHFED_ASSERT_OK(store);
    store_ = std::move(*store);
    authz_ = std::make_unique<Authz>(AuthzOptions{.insecure = true},
                                     &store_->registry().Latest());
    service_ = std::make_unique<QueryService>(
        store_.get(), &clock_, authz_.get(), std::move(lanes), answers_kept);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    auto channel =
        MakeChannel(absl::StrCat("127.0.0.1:", port), {.insecure = true});
    OHFED_ASSERT_OK(channel);
    stub_ = v1::Query::NewStub(*channel);
  }
  void Restart(QueryLaneOptions lanes, size_t answers_kept = 256) {
    server_->Shutdown();
    service_->Drain();
    server_.reset();
    service_.reset();
    store_.reset();
    Start(std::move(lanes), answers_kept);
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
    if (service_ != nullptr) service_->Drain();
  }

  void Commit(std::vector<v1::UnitSummary> summaries) {
    OHFED_ASSERT_OK(store_->Commit(summaries));
  }
  QueryOptions Options() const {
    QueryOptions options;
    options.patterns = store_->SnapshotForQuery().patterns;
    options.coverage = store_->coverage();
    options.disclosure = store_->disclosure();
    return options;
  }

  // Asked over gRPC, and computed afresh on the store as it is now.
  void ExpectQueryAsFresh(const v1::QueryRequest& req, const char* when) {
    grpc::ClientContext ctx;
    v1::QueryResponse got;
    ASSERT_TRUE(stub_->Query(&ctx, req, &got).ok()) << when;
    auto fresh = RunQuery(*store_->Snapshot(), req, Options());
    OHFED_ASSERT_OK(fresh);
    EXPECT_TRUE(MessageDifferencer::Equals(got, *fresh))
        << when << "\ngot: " << got.ShortDebugString()
        << "\nfresh: " << fresh->ShortDebugString();
  }
  void ExpectCompletenessAsFresh(const v1::CompletenessRequest& req,
                                 const char* when) {
    grpc::ClientContext ctx;
    v1::CompletenessResponse got;
    ASSERT_TRUE(stub_->Completeness(&ctx, req, &got).ok()) << when;
    auto fresh =
        RunCompleteness(*store_->Snapshot(), req, clock_.Now(), Options());
    OHFED_ASSERT_OK(fresh);
    EXPECT_TRUE(MessageDifferencer::Equals(got, *fresh))
        << when << "\ngot: " << got.ShortDebugString()
        << "\nfresh: " << fresh->ShortDebugString();
  }

  FakeClock clock_{absl::FromUnixMillis(Ms("2026-02-20T00:00:00Z"))};
  TempDir dir_;
  std::unique_ptr<SummaryStore> store_;
  std::unique_ptr<Authz> authz_;
  std::unique_ptr<QueryService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::Query::Stub> stub_;
};

v1::QueryRequest ByTrust(const std::string& scope) {
  v1::QueryRequest req;
  req.set_scope(scope);
  req.set_period("2026-01");
  req.set_by("trust");
  req.set_measure_prefix("activity.count");
  return req;
}

TEST_F(AnswerCacheServiceTest, RepeatedQueryIsKeptUntilACommitOrRetraction) {
  Commit({Summary("RJ1", "2026-01", 1, {{kImm, 40}}),
          Summary("RJ2", "2026-01", 1, {{kImm, 3}}),
          Summary("RJZ", "2026-01", 1, {{kImm, 120}})});
  const v1::QueryRequest req = ByTrust("national");
  ExpectQueryAsFresh(req, "first");
  EXPECT_EQ(service_->answers().size(), 1u);
  ExpectQueryAsFresh(req, "repeated");
  EXPECT_EQ(service_->answers().size(), 1u);

  Commit({Summary("RJ1", "2026-01", 2, {{kImm, 41}})});
  ExpectQueryAsFresh(req, "after a correction");

  v1::UnitSummary retraction = Summary("RJ2", "2026-01", 3, {});
  retraction.set_retracted(true);
  Commit({retraction});
  ExpectQueryAsFresh(req, "after a retraction");
  ExpectQueryAsFresh(req, "after a retraction, repeated");
}

// A request for the compact form (QueryRequest.compact) is answered with
// it, and the compact and tidy answers to the same question are kept apart:
// each asker gets the form it asked for, computed or kept (a client that
// predates the form gets tidy rows whoever asked before it).
TEST_F(AnswerCacheServiceTest, TheCompactAndTidyFormsAreKeptApart) {
  Commit({Summary("RJ1", "2026-01", 1, {{kImm, 40}}),
          Summary("RJ2", "2026-01", 1, {{kImm, 3}})});
  const v1::QueryRequest req = ByTrust("national");
  v1::QueryRequest compact_req = req;
  compact_req.set_compact(true);
  for (const char* when : {"first", "kept"}) {
    grpc::ClientContext ctx;
    v1::QueryResponse compact;
    ASSERT_TRUE(stub_->Query(&ctx, compact_req, &compact).ok()) << when;
    EXPECT_TRUE(compact.has_compact()) << when;
    EXPECT_EQ(compact.rows_size(), 0) << when;
    auto expanded = ExpandCompactRows(compact);
    OHFED_ASSERT_OK(expanded);
    auto fresh = RunQuery(*store_->Snapshot(), req, Options());
    OHFED_ASSERT_OK(fresh);
    EXPECT_TRUE(MessageDifferencer::Equals(*expanded, *fresh)) << when;
    ExpectQueryAsFresh(req, when);
  }
  EXPECT_EQ(service_->answers().size(), 2u);
}

// A light query's kept answer is sent from gRPC's thread: no lane's thread
// is woken for it (issue 14 figure 4: on a busy machine that wake-up was
// most of a repeated query's wait). Completeness reads the clock and the
// sync states beside its View, so it is always checked in its lane.
TEST_F(AnswerCacheServiceTest, AKeptQueryAnswerIsSentWithoutALane) {
  auto queued = std::make_shared<std::atomic<int>>(0);
  Restart({.on_queued = [queued](QueryLane) { ++*queued; }});
  Commit({Summary("RJ1", "2026-01", 1, {{kImm, 40}})});
  const v1::QueryRequest req = ByTrust("national");
  ExpectQueryAsFresh(req, "first");
  EXPECT_EQ(queued->load(), 1);
  ExpectQueryAsFresh(req, "repeated");
  ExpectQueryAsFresh(req, "repeated again");
  EXPECT_EQ(queued->load(), 1);

  Commit({Summary("RJ1", "2026-01", 2, {{kImm, 41}})});
  ExpectQueryAsFresh(req, "after a commit");
  EXPECT_EQ(queued->load(), 2);

  v1::CompletenessRequest completeness;
  completeness.set_scope("national");
  completeness.set_period("2026-01");
  ExpectCompletenessAsFresh(completeness, "completeness");
  ExpectCompletenessAsFresh(completeness, "completeness, repeated");
  EXPECT_EQ(queued->load(), 4);
}

// Heavy queries are computed each time (figure 4 measures what they cost).
TEST_F(AnswerCacheServiceTest, HeavyQueriesAreNotKept) {
  Restart({.heavy_cost = 1});
  Commit({Summary("RJ1", "2026-01", 1, {{kImm, 40}})});
  ExpectQueryAsFresh(ByTrust("national"), "heavy");
  EXPECT_EQ(service_->answers().size(), 0u);
}

// --query-answers-kept 0: every answer is computed (the bench's figure 3
// measures both ways).
TEST_F(AnswerCacheServiceTest, NoAnswerIsKeptWhenNoneMayBe) {
  Restart({}, 0);
  Commit({Summary("RJ1", "2026-01", 1, {{kImm, 40}})});
  ExpectQueryAsFresh(ByTrust("national"), "first");
  ExpectQueryAsFresh(ByTrust("national"), "repeated");
  v1::CompletenessRequest req;
  req.set_scope("national");
  req.set_period("2026-01");
  ExpectCompletenessAsFresh(req, "completeness");
  EXPECT_EQ(service_->answers().size(), 0u);
}

TEST_F(AnswerCacheServiceTest, CompletenessFollowsTheClockAndTheData) {
  Commit({Summary("RJ1", "2026-01", 1, {{kImm, 40}})});
  v1::CompletenessRequest req;
  req.set_scope("national");
  req.set_period("2025-12:2026-02");
  ExpectCompletenessAsFresh(req, "first");
  EXPECT_EQ(service_->answers().size(), 1u);
  ExpectCompletenessAsFresh(req, "repeated");
  // Sync states move with the clock on the same data: current, then behind
  // once January is no longer the due month, then silent.
  clock_.Advance(absl::Hours(24 * 30));
  ExpectCompletenessAsFresh(req, "a month on");
  clock_.Advance(absl::Hours(24 * 60));
  ExpectCompletenessAsFresh(req, "three months on");
  Commit({Summary("RJ2", "2026-02", 1, {{kImm, 3}})});
  ExpectCompletenessAsFresh(req, "after a commit");
  v1::UnitSummary retraction = Summary("RJ1", "2026-01", 2, {});
  retraction.set_retracted(true);
  Commit({retraction});
  ExpectCompletenessAsFresh(req, "after a retraction");
}

// The compact form over gRPC, kept apart from the tidy answer to the same
// question: each equals its own fresh answer, and the compact one expands
// to the tidy one.
TEST_F(AnswerCacheServiceTest, CompactCompletenessIsKeptApartAndExpands) {
  Commit({Summary("RJ1", "2026-01", 1, {{kImm, 40}})});
  v1::CompletenessRequest tidy;
  tidy.set_scope("national");
  tidy.set_period("2025-12:2026-02");
  v1::CompletenessRequest compact = tidy;
  compact.set_compact(true);
  ExpectCompletenessAsFresh(tidy, "tidy");
  ExpectCompletenessAsFresh(compact, "compact");
  ExpectCompletenessAsFresh(tidy, "tidy, repeated");
  ExpectCompletenessAsFresh(compact, "compact, repeated");
  EXPECT_EQ(service_->answers().size(), 2u);
  grpc::ClientContext ctx;
  v1::CompletenessResponse got;
  ASSERT_TRUE(stub_->Completeness(&ctx, compact, &got).ok());
  EXPECT_EQ(got.periods(1).trusts_size(), 0);
  EXPECT_EQ(got.periods(1).compact().trust_size(), got.trusts_size());
  EXPECT_GT(got.trusts_size(), 200);  // England's trusts, each once
  auto expanded = ExpandCompactCompleteness(got);
  OHFED_ASSERT_OK(expanded);
  auto fresh =
      RunCompleteness(*store_->Snapshot(), tidy, clock_.Now(), Options());
  OHFED_ASSERT_OK(fresh);
  EXPECT_TRUE(MessageDifferencer::Equals(*expanded, *fresh));
  int reported = 0;  // January: RJ1's summary
  for (const v1::TrustCompleteness& t : expanded->periods(1).trusts()) {
    reported += t.reported() ? 1 : 0;
    if (t.trust() == "RJ1") EXPECT_TRUE(t.reported());
  }
  EXPECT_EQ(reported, 1);
}

}  // namespace
}  // namespace ohfed::aggregator
