// The uploader against a real gRPC Ingest server on loopback that fails,
// loses acknowledgements and rejects, with an in-memory outbox.
#include "common/uploader.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <future>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/summary_wire.h"
#include "common/transport.h"
#include "tests/testing/fake_ingest.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/testing.h"

namespace ohfed {
namespace {

using v1::Ack;
using v1::UnitSummary;

std::string Key(const std::string& trust, const std::string& period) {
  return trust + "/" + period;
}

// The sender's outbox: current revision per period, acked and rejected marks.
class MemoryOutbox : public OutboxSource {
 public:
  void Put(const std::string& trust, const std::string& period, uint64_t rev) {
    UnitSummary s;
    s.set_trust(trust);
    s.set_period(period);
    s.set_revision(rev);
    Put(std::move(s));
  }
  void Put(UnitSummary s) {
    absl::MutexLock l(&mu_);
    entries_[Key(s.trust(), s.period())].summary = std::move(s);
  }
  absl::StatusOr<std::vector<UnitSummary>> Pending(size_t max) override {
    absl::MutexLock l(&mu_);
    std::vector<UnitSummary> out;
    for (auto& [key, e] : entries_) {
      if (out.size() == max) break;
      uint64_t rev = e.summary.revision();
      if (e.acked < rev && e.rejected != rev) out.push_back(e.summary);
    }
    return out;
  }
  absl::Status OnAcks(const std::vector<Ack>& acks) override {
    absl::MutexLock l(&mu_);
    for (const Ack& a : acks) {
      Entry& e = entries_[Key(a.trust(), a.period())];
      if (a.outcome() == v1::OUTCOME_REJECTED) {
        e.rejected = a.revision();
        e.reason = a.reason();
      } else {
        e.acked = std::max(e.acked, a.revision());
      }
    }
    return absl::OkStatus();
  }
  size_t PendingCount() override {
    return MemoryOutbox::Pending(1 << 20)->size();
  }
  // Lowers the acknowledged revision of `key` to `held`; whether it did.
  bool Lower(const std::string& key, uint64_t held) {
    absl::MutexLock l(&mu_);
    auto it = entries_.find(key);
    if (it == entries_.end() || it->second.acked <= held) return false;
    it->second.acked = held;
    return true;
  }
  std::string Reason(const std::string& key) {
    absl::MutexLock l(&mu_);
    return entries_[key].reason;
  }

 private:
  struct Entry {
    UnitSummary summary;
    uint64_t acked = 0, rejected = 0;
    std::string reason;
  };
  absl::Mutex mu_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

class UploaderTest : public ::testing::Test {
 protected:
  void StartServer(int port = 0) {
    grpc::ServerBuilder b;
    b.AddListeningPort(absl::StrCat("127.0.0.1:", port),
                       grpc::InsecureServerCredentials(), &port_);
    b.RegisterService(&ingest_);
    ApplyServerLimits(b);  // as an aggregator: 16 MiB messages
    server_ = b.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }
  void StopServer() {
    server_->Shutdown();
    server_->Wait();
    server_.reset();
  }
  void TearDown() override {
    if (server_) StopServer();
  }
  std::unique_ptr<Uploader> MakeUploader(UploaderOptions o = {},
                                         OutboxSource* source = nullptr,
                                         Clock* clock = Clock::Real()) {
    auto channel = MakeChannel(absl::StrCat("127.0.0.1:", port_),
                               TransportOptions{.insecure = true});
    EXPECT_TRUE(channel.ok());
    if (o.stream_deadline == UploaderOptions().stream_deadline) {
      o.stream_deadline = absl::Seconds(5);
    }
    return std::make_unique<Uploader>(source ? source : &outbox_,
                                      v1::Ingest::NewStub(*channel), o, clock);
  }
  // Runs passes until nothing is pending (bounded).
  void DrainWithRetries(Uploader& u, int max_passes = 200) {
    for (int i = 0; i < max_passes && outbox_.PendingCount() > 0; ++i) {
      (void)u.RunOnce();
    }
  }

  testing::FakeIngest ingest_;
  MemoryOutbox outbox_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

TEST_F(UploaderTest, DeliversEveryPeriodInBatches) {
  StartServer();
  for (int m = 1; m <= 12; ++m) {
    for (const char* t : {"RJ1", "RJ2", "RJZ"}) {
      outbox_.Put(t, absl::StrCat("2024-", m < 10 ? "0" : "", m), 1);
    }
  }
  UploaderOptions o;
  o.batch_size = 5;
  auto u = MakeUploader(o);
  OHFED_ASSERT_OK(u->RunOnce());
  EXPECT_EQ(outbox_.PendingCount(), 0u);
  EXPECT_EQ(ingest_.applied(), 36);
  EXPECT_EQ(ingest_.batches(), 8);  // ceil(36 / 5)
  EXPECT_EQ(u->stats().summaries_sent, 36u);
}

TEST_F(UploaderTest, LostAcksAndFailuresNeitherLoseNorDoubleCount) {
  StartServer();
  ingest_.set_faults({.fail_every = 3, .lose_ack_every = 2});
  for (int m = 1; m <= 9; ++m) outbox_.Put("RJ1", absl::StrCat("2023-0", m), 1);
  UploaderOptions o;
  o.batch_size = 2;
  auto u = MakeUploader(o);
  DrainWithRetries(*u);
  // A correction of one month while acks are being lost.
  outbox_.Put("RJ1", "2023-04", 2);
  DrainWithRetries(*u);
  EXPECT_EQ(outbox_.PendingCount(), 0u);
  auto held = ingest_.held();
  EXPECT_EQ(held.size(), 9u);
  EXPECT_EQ(held["RJ1/2023-04"].revision(), 2u);
  // 9 first revisions + 1 correction, each applied exactly once although
  // some were sent several times.
  EXPECT_EQ(ingest_.applied(), 10);
  EXPECT_GT(u->stats().acks_stale, 0u);
}

// A drain is seen through the source (the agent's AwaitDrained): by the
// time the source hears of an ack, the uploader's stats count it.
TEST_F(UploaderTest, AcksAreCountedBeforeTheSourceHearsOfThem) {
  class Counting : public MemoryOutbox {
   public:
    absl::Status OnAcks(const std::vector<Ack>& acks) override {
      counted.push_back(uploader->stats().acks_accepted);
      heard += acks.size();
      EXPECT_EQ(counted.back(), heard);
      return MemoryOutbox::OnAcks(acks);
    }
    Uploader* uploader = nullptr;
    std::vector<uint64_t> counted;
    uint64_t heard = 0;
  } source;
  StartServer();
  for (int m = 1; m <= 6; ++m) source.Put("RJ1", absl::StrCat("2024-0", m), 1);
  UploaderOptions o;
  o.batch_size = 2;
  auto u = MakeUploader(o, &source);
  source.uploader = u.get();
  OHFED_ASSERT_OK(u->RunOnce());
  EXPECT_EQ(source.PendingCount(), 0u);
  EXPECT_EQ(source.counted, (std::vector<uint64_t>{2, 4, 6}));
}

TEST_F(UploaderTest, RejectionIsRecordedAndNotResent) {
  StartServer();
  ingest_.set_faults({.reject_trust = "ZZZ"});
  outbox_.Put("ZZZ", "2024-01", 1);
  outbox_.Put("RJ1", "2024-01", 1);
  auto u = MakeUploader();
  OHFED_ASSERT_OK(u->RunOnce());
  EXPECT_EQ(outbox_.PendingCount(), 0u);
  EXPECT_EQ(outbox_.Reason("ZZZ/2024-01"), "unknown trust 'ZZZ'");
  OHFED_ASSERT_OK(u->RunOnce());
  EXPECT_EQ(ingest_.batches(), 1);
  EXPECT_EQ(u->stats().acks_rejected, 1u);
}

TEST_F(UploaderTest, BackgroundThreadRidesOutAnOutage) {
  StartServer();
  int port = port_;
  StopServer();  // the aggregator is down before anything is sent
  for (int m = 1; m <= 6; ++m) outbox_.Put("RJ1", absl::StrCat("2022-0", m), 1);
  UploaderOptions o;
  o.initial_backoff = absl::Milliseconds(20);
  o.max_backoff = absl::Milliseconds(200);
  o.idle_poll = absl::Milliseconds(50);
  auto u = MakeUploader(o);
  u->Start();
  // Wait (bounded) until the uploader has failed at least twice.
  for (int i = 0; i < 400 && u->stats().stream_failures < 2; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_GE(u->stats().stream_failures, 2u);
  EXPECT_FALSE(u->stats().last_error.empty());
  EXPECT_EQ(outbox_.PendingCount(), 6u);  // the outbox is bounded by periods
  StartServer(port);
  for (int i = 0; i < 1000 && outbox_.PendingCount() > 0; ++i) {
    u->Kick();
    absl::SleepFor(absl::Milliseconds(10));
  }
  u->Stop();
  EXPECT_EQ(outbox_.PendingCount(), 0u);
  EXPECT_EQ(ingest_.applied(), 6);
}

// A forwarder's outbox: sends for several trusts, and makes pending again
// what the receiver no longer holds (as aggregator/forwarder.h).
class ForwardingOutbox : public MemoryOutbox {
 public:
  std::vector<std::string> FeedbackTrusts() override { return {"RAL", "RJ1"}; }
  absl::StatusOr<size_t> OnReceiverHoldsFor(
      absl::string_view trust, const std::vector<Ack>& held) override {
    std::map<std::string, uint64_t> holds;
    for (const Ack& a : held) holds[a.period()] = a.held_revision();
    size_t lost = 0;
    for (const char* period : {"2026-01", "2026-02"}) {
      auto it = holds.find(period);
      lost += Lower(Key(std::string(trust), period),
                    it == holds.end() ? 0 : it->second);
    }
    return lost;
  }
};

// The forwarder's check (UploaderOptions::check_receiver_holds): a round of
// Feedback over every trust after the first successful pass and after
// reconnecting, again right away (the receiver confirms a trust at its
// second ask), again once what was lost is resent, and otherwise only every
// holds_check_every.
TEST_F(UploaderTest, AfterReconnectingAsksWhatTheReceiverHoldsAndResends) {
  StartServer();
  FakeClock clock(absl::FromUnixSeconds(1774000000));
  ForwardingOutbox outbox;
  outbox.Put("RJ1", "2026-01", 3);
  outbox.Put("RAL", "2026-01", 2);
  UploaderOptions o;
  o.check_receiver_holds = true;
  o.holds_check_every = absl::Hours(1);
  auto u = MakeUploader(o, &outbox, &clock);
  for (int i = 0; i < 3; ++i) OHFED_ASSERT_OK(u->RunOnce());
  EXPECT_EQ(ingest_.feedback_asks("RJ1"), 2);  // asked, then confirmed
  EXPECT_EQ(ingest_.feedback_asks("RAL"), 2);

  // The receiver restarts having lost RJ1 2026-01; meanwhile a send fails.
  ingest_.Forget("RJ1/2026-01");
  const int port = port_;
  StopServer();
  outbox.Put("RAL", "2026-02", 1);
  EXPECT_FALSE(u->RunOnce().ok());
  StartServer(port);
  // Passes until the channel has reconnected and RJ1 2026-01 is back: only
  // a resend after the round that found it lost can bring it back.
  for (int i = 0; i < 250 && !ingest_.held().count("RJ1/2026-01"); ++i) {
    if (!u->RunOnce().ok()) absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_EQ(ingest_.held()["RJ1/2026-01"].revision(), 3u);
  EXPECT_EQ(ingest_.held()["RAL/2026-02"].revision(), 1u);
  OHFED_ASSERT_OK(u->RunOnce());  // a round still due, if any
  const int asked = ingest_.feedback_asks("RJ1");
  EXPECT_GE(asked, 4);  // twice before; the loss found; after the resend
  OHFED_ASSERT_OK(u->RunOnce());  // nothing due any more
  EXPECT_EQ(ingest_.feedback_asks("RJ1"), asked);
  EXPECT_EQ(outbox.PendingCount(), 0u);

  clock.Advance(absl::Hours(1));
  OHFED_ASSERT_OK(u->RunOnce());
  EXPECT_EQ(ingest_.feedback_asks("RJ1"), asked + 1);
}

// An outbox whose Pending (beyond the first probe) or OnAcks fails.
class FailingOutbox : public MemoryOutbox {
 public:
  explicit FailingOutbox(bool fail_pending) : fail_pending_(fail_pending) {}
  absl::StatusOr<std::vector<UnitSummary>> Pending(size_t max) override {
    if (fail_pending_ && max > 1)
      return absl::DataLossError("injected: outbox unreadable");
    return MemoryOutbox::Pending(max);
  }
  absl::Status OnAcks(const std::vector<Ack>& acks) override {
    return absl::UnavailableError("injected: ack marks not written");
  }

 private:
  const bool fail_pending_;
};

// A local error ends the stream at once: before, Finish() waited for the
// stream's deadline because the receiver was still waiting for a batch.
TEST_F(UploaderTest, LocalErrorEndsThePassPromptly) {
  StartServer();
  for (bool fail_pending : {true, false}) {
    FailingOutbox source(fail_pending);
    source.Put("RJ1", "2024-01", 1);
    UploaderOptions o;
    o.stream_deadline = absl::Seconds(60);  // far beyond the guard below
    auto u = MakeUploader(o, &source);
    auto pass = std::async(std::launch::async, [&] { return u->RunOnce(); });
    ASSERT_EQ(pass.wait_for(std::chrono::seconds(20)),
              std::future_status::ready)
        << "RunOnce hung after a local error (fail_pending " << fail_pending
        << ")";
    EXPECT_THAT(pass.get(), ::ohfed::testing::StatusIs(
                                fail_pending ? absl::StatusCode::kDataLoss
                                             : absl::StatusCode::kUnavailable,
                                "injected"));
  }
}

UnitSummary SummaryOfBytes(const std::string& trust, const std::string& period,
                           size_t bytes) {
  UnitSummary s;
  s.set_trust(trust);
  s.set_period(period);
  s.set_revision(1);
  s.add_cells()->set_measure(std::string(bytes, 'x'));
  return s;
}

// Two summaries that fit a message each but not together, one that cannot
// travel alone, and a tiny one from another trust: the tiny one arrives, the
// oversized one is set aside with its size and does not block anything.
TEST_F(UploaderTest, PacksBySizeAndSetsAsideWhatCannotTravelAlone) {
  StartServer();
  outbox_.Put(SummaryOfBytes("RJ1", "2024-01", 9 << 20));
  outbox_.Put(SummaryOfBytes("RJ1", "2024-02", 9 << 20));
  outbox_.Put(SummaryOfBytes("RJ2", "2024-01", 17 << 20));
  outbox_.Put("RRK", "2024-01", 1);
  std::vector<std::string> lines;
  UploaderOptions o;
  o.log = [&](absl::string_view line) { lines.emplace_back(line); };
  auto u = MakeUploader(o);
  OHFED_ASSERT_OK(u->RunOnce());
  auto held = ingest_.held();
  EXPECT_EQ(held.count("RRK/2024-01"), 1u);
  EXPECT_EQ(held.count("RJ1/2024-01"), 1u);
  EXPECT_EQ(held.count("RJ1/2024-02"), 1u);
  EXPECT_EQ(held.count("RJ2/2024-01"), 0u);
  EXPECT_EQ(outbox_.PendingCount(), 0u);
  EXPECT_THAT(outbox_.Reason("RJ2/2024-01"),
              ::testing::HasSubstr("over the message limit of 16777216 bytes"));
  EXPECT_EQ(u->stats().summaries_set_aside, 1u);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0],
              ::testing::HasSubstr("cannot send RJ2 2024-01 revision 1"));
  EXPECT_THAT(lines[0], ::testing::HasSubstr("set aside"));
}

// A source that holds its summaries serialized (a regional aggregator's
// store) hands them out as bytes, and they travel as they are: here each
// stamped with a first receipt that Pending's summaries do not carry.
TEST_F(UploaderTest, SendsTheSourcesSerializedSummariesAsTheyAre) {
  class Stamping : public MemoryOutbox {
   public:
    absl::StatusOr<std::vector<SerializedSummary>> PendingSerialized(
        size_t max, const UnitKeys& in_flight) override {
      auto pending = MemoryOutbox::PendingSerialized(max, in_flight);
      if (pending.ok()) {
        for (SerializedSummary& s : *pending) {
          AppendFirstReceived(42, &s.bytes);
        }
      }
      return pending;
    }
  } source;
  StartServer();
  for (int m = 1; m <= 3; ++m) source.Put("RJ1", absl::StrCat("2024-0", m), 1);
  auto u = MakeUploader({}, &source);
  OHFED_ASSERT_OK(u->RunOnce());
  auto held = ingest_.held();
  ASSERT_EQ(held.size(), 3u);
  for (const auto& [key, s] : held) {
    EXPECT_EQ(s.first_received_unix_ms(), 42) << key;
  }
  EXPECT_EQ(source.PendingCount(), 0u);
  EXPECT_EQ(u->stats().summaries_sent, 3u);
}

// An outage is logged once, then reminded at most every minute with the
// backlog, then its end.
// --initial-backoff-ms and --max-backoff-seconds (and the aggregator's
// --upstream-*-backoff-*) are these options: they set the ceiling of each
// wait between failed passes, which doubles per failure up to the maximum,
// and is gone after a success. Passes run on this thread: no timing.
TEST_F(UploaderTest, BackoffOptionsSetTheRetrySchedule) {
  port_ = ::ohfed::testing::PickUnusedPort();  // nothing listens yet
  outbox_.Put("RJ1", "2022-01", 1);
  UploaderOptions o;
  o.initial_backoff = absl::Milliseconds(300);
  o.max_backoff = absl::Seconds(1);
  o.log = [](absl::string_view) {};
  auto u = MakeUploader(o);
  EXPECT_EQ(u->stats().retry_backoff, absl::ZeroDuration());
  EXPECT_EQ(u->stats().initial_backoff, absl::Milliseconds(300));
  EXPECT_EQ(u->stats().max_backoff, absl::Seconds(1));
  EXPECT_FALSE(u->RunOnce().ok());
  EXPECT_EQ(u->stats().retry_backoff, absl::Milliseconds(600));
  EXPECT_FALSE(u->RunOnce().ok());
  EXPECT_EQ(u->stats().retry_backoff, absl::Seconds(1));  // capped

  UploaderOptions defaults;  // 200 ms doubling, up to 30 s
  defaults.log = o.log;
  auto d = MakeUploader(defaults);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(d->RunOnce().ok());
  EXPECT_EQ(d->stats().retry_backoff, absl::Milliseconds(1600));

  StartServer(port_);
  absl::Status s = absl::UnknownError("not run");
  for (int i = 0; i < 500 && !s.ok(); ++i) {
    s = u->RunOnce();
    if (!s.ok()) absl::SleepFor(absl::Milliseconds(20));  // reconnecting
  }
  OHFED_ASSERT_OK(s);
  EXPECT_EQ(u->stats().retry_backoff, absl::ZeroDuration());
}

TEST_F(UploaderTest, OutageIsLoggedThenRemindedThenRecovered) {
  port_ = ::ohfed::testing::PickUnusedPort();  // nothing listens yet
  for (int m = 1; m <= 3; ++m) outbox_.Put("RJ1", absl::StrCat("2022-0", m), 1);
  FakeClock clock(absl::FromUnixSeconds(1774000000));
  std::vector<std::string> lines;
  UploaderOptions o;
  o.peer = "aggregator test";
  o.log = [&](absl::string_view line) { lines.emplace_back(line); };
  auto u = MakeUploader(o, nullptr, &clock);
  EXPECT_FALSE(u->RunOnce().ok());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0],
              ::testing::HasSubstr("cannot send to aggregator test: "));
  EXPECT_THAT(lines[0], ::testing::HasSubstr("3 unit summaries waiting"));
  clock.Advance(absl::Seconds(30));
  EXPECT_FALSE(u->RunOnce().ok());
  EXPECT_EQ(lines.size(), 1u);  // no reminder within the minute
  clock.Advance(absl::Seconds(31));
  EXPECT_FALSE(u->RunOnce().ok());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[1], ::testing::HasSubstr(
                            "still cannot send to aggregator test after 1m1s"));
  EXPECT_THAT(lines[1], ::testing::HasSubstr("3 unit summaries waiting"));
  StartServer(port_);
  absl::Status s = absl::UnknownError("not run");
  for (int i = 0; i < 500 && !s.ok(); ++i) {
    s = u->RunOnce();
    if (!s.ok())
      absl::SleepFor(absl::Milliseconds(20));  // channel reconnecting
  }
  OHFED_ASSERT_OK(s);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_THAT(lines[2], ::testing::HasSubstr(
                            "sending to aggregator test again after 1m1s"));
  EXPECT_THAT(lines[2], ::testing::HasSubstr("0 unit summaries waiting"));
  // A flapping link logs no more than one line per minute.
  ingest_.set_faults({.fail_every = 2});
  for (int i = 1; i <= 10; ++i) {
    outbox_.Put("RJ1", "2022-01", 1 + i);
    (void)u->RunOnce();
  }
  EXPECT_EQ(lines.size(), 3u);
  clock.Advance(absl::Seconds(61));
  for (int i = 11; i <= 14 && lines.size() == 3; ++i) {  // until one fails
    outbox_.Put("RJ1", "2022-01", 1 + i);
    (void)u->RunOnce();
  }
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_THAT(lines[3],
              ::testing::HasSubstr("cannot send to aggregator test: "));
}

// Answers a stream's batches only once `group` of them have arrived (or the
// sender half-closes): a sender that waits for each ack before writing the
// next batch waits for ever (until its stream's deadline).
class GroupAckingIngest final : public v1::Ingest::Service {
 public:
  explicit GroupAckingIngest(size_t group) : group_(group) {}

  grpc::Status Submit(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<v1::SubmitResponse, v1::SubmitRequest>* stream)
      override {
    std::vector<v1::SubmitRequest> waiting;
    v1::SubmitRequest request;
    for (bool open = true; open;) {
      open = stream->Read(&request);
      if (open) {
        waiting.push_back(request);
        absl::MutexLock l(&mu_);
        ++batches_;
      }
      if (open && waiting.size() < group_) continue;
      for (const v1::SubmitRequest& r : waiting) {
        v1::SubmitResponse response;
        absl::MutexLock l(&mu_);
        largest_group_ = std::max(largest_group_, waiting.size());
        for (const UnitSummary& s : r.summaries()) {
          ++received_[Key(s.trust(), s.period())];
          Ack* ack = response.add_acks();
          ack->set_trust(s.trust());
          ack->set_period(s.period());
          ack->set_revision(s.revision());
          ack->set_outcome(v1::OUTCOME_ACCEPTED);
        }
        stream->Write(response);
      }
      waiting.clear();
    }
    return grpc::Status::OK;
  }

  // Waits (bounded) until `n` batches have arrived; whether they did.
  bool AwaitBatches(int n) {
    absl::MutexLock l(&mu_);
    auto arrived = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return batches_ >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&arrived), absl::Seconds(20));
  }
  size_t largest_group() {
    absl::MutexLock l(&mu_);
    return largest_group_;
  }
  std::map<std::string, int> received() {
    absl::MutexLock l(&mu_);
    return received_;
  }

 private:
  const size_t group_;
  absl::Mutex mu_;
  int batches_ ABSL_GUARDED_BY(mu_) = 0;
  size_t largest_group_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, int> received_ ABSL_GUARDED_BY(mu_);
};

// An uploader against `service` on loopback.
struct PipelineRig {
  explicit PipelineRig(v1::Ingest::Service* service, UploaderOptions o,
                       OutboxSource* source) {
    grpc::ServerBuilder b;
    int port = 0;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    b.RegisterService(service);
    server = b.BuildAndStart();
    auto channel = MakeChannel(absl::StrCat("127.0.0.1:", port),
                               TransportOptions{.insecure = true});
    EXPECT_TRUE(channel.ok());
    o.stream_deadline = absl::Seconds(10);
    uploader =
        std::make_unique<Uploader>(source, v1::Ingest::NewStub(*channel), o);
  }
  ~PipelineRig() {
    uploader.reset();
    server->Shutdown();
  }
  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<Uploader> uploader;
};

// A backlog travels as several full batches in flight at once, each unit in
// exactly one of them (none resent while its batch awaits its ack).
TEST(UploaderPipelineTest, SeveralBatchesAreInFlightBeforeTheFirstAck) {
  GroupAckingIngest ingest(4);
  MemoryOutbox outbox;
  for (int m = 1; m <= 20; ++m) {
    outbox.Put("RJ1", absl::StrCat("2024-", m < 10 ? "0" : "", m), 1);
  }
  UploaderOptions o;
  o.batch_size = 5;
  o.max_in_flight = 4;
  PipelineRig rig(&ingest, o, &outbox);
  OHFED_ASSERT_OK(rig.uploader->RunOnce());
  EXPECT_EQ(ingest.largest_group(), 4u);
  EXPECT_EQ(outbox.PendingCount(), 0u);
  std::map<std::string, int> received = ingest.received();
  EXPECT_EQ(received.size(), 20u);
  for (const auto& [key, times] : received) EXPECT_EQ(times, 1) << key;
  EXPECT_EQ(rig.uploader->stats().batches_sent, 4u);
  EXPECT_EQ(rig.uploader->stats().acks_accepted, 20u);
}

// Runs a pass against a receiver that answers only once `batches` batches
// have arrived: one summary is pending at the start, and one more is
// committed (Put and Kick) each time a batch arrives, until `batches` went.
// Returns the largest group the receiver saw.
size_t KickedPass(size_t batches, MemoryOutbox& outbox, UploaderStats* stats) {
  GroupAckingIngest ingest(batches);
  outbox.Put("RJ1", "2024-01", 1);
  UploaderOptions o;
  o.max_in_flight = 4;
  PipelineRig rig(&ingest, o, &outbox);
  auto pass =
      std::async(std::launch::async, [&] { return rig.uploader->RunOnce(); });
  for (size_t i = 1; i < batches; ++i) {
    EXPECT_TRUE(ingest.AwaitBatches(i));
    outbox.Put("RJ1", absl::StrFormat("2024-%02d", i + 1), 1);
    rig.uploader->Kick();
  }
  EXPECT_EQ(pass.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  OHFED_EXPECT_OK(pass.get());
  EXPECT_EQ(ingest.received().size(), batches);
  *stats = rig.uploader->stats();
  return ingest.largest_group();
}

// What is committed while a batch awaits its ack goes at once (Kick), not
// after the ack: here the receiver answers the first batch only once the
// second has arrived.
TEST(UploaderPipelineTest, KickSendsWhileABatchAwaitsItsAck) {
  MemoryOutbox outbox;
  UploaderStats stats;
  EXPECT_EQ(KickedPass(2, outbox, &stats), 2u);
  EXPECT_EQ(outbox.PendingCount(), 0u);
}

// Whatever is committed goes while the window has room, however little it
// is: with two batches unanswered, a third of one summary does not wait for
// an ack (at the end of a burst nothing more comes to fill it, and the ack
// comes a receiver's commit later). Here the receiver answers only once
// three batches have arrived; a sender that held the third back would wait
// for the stream's soft end and half-close, so the receiver would see at
// most two at once.
TEST(UploaderPipelineTest, APartBatchGoesWhileTheWindowHasRoom) {
  MemoryOutbox outbox;
  UploaderStats stats;
  EXPECT_EQ(KickedPass(3, outbox, &stats), 3u);
  EXPECT_EQ(outbox.PendingCount(), 0u);
  EXPECT_EQ(stats.batches_sent, 3u);
}

// The default upload window: the receiver sees several batches of a stream
// before it answers the first (with a window of 1 the sender waits for an
// ack that never comes, and the pass fails at the stream's deadline).
TEST_F(UploaderTest, DefaultWindowSendsSeveralBatchesBeforeTheFirstAck) {
  EXPECT_EQ(UploaderOptions().max_in_flight, kUploadBatchesInFlight);
  StartServer();
  ingest_.set_faults({.hold_first = 4});
  for (int m = 1; m <= 8; ++m) outbox_.Put("RJ1", absl::StrCat("2024-0", m), 1);
  UploaderOptions o;
  o.batch_size = 2;
  auto u = MakeUploader(o);
  OHFED_ASSERT_OK(u->RunOnce());
  EXPECT_EQ(ingest_.most_unanswered(), 4u);
  EXPECT_EQ(outbox_.PendingCount(), 0u);
  EXPECT_EQ(ingest_.applied(), 8);
  EXPECT_EQ(ingest_.batches(), 4);
}

// A stream that ends with several batches in flight: the batches before the
// failure are answered in order; every later one (not applied, or applied
// with its ack lost) is still pending, and the next stream starts again
// from the first unanswered batch. Nothing is lost or applied twice.
void ExpectWindowSurvives(testing::FakeIngest& ingest, MemoryOutbox& outbox,
                          Uploader& u) {
  EXPECT_EQ(outbox.PendingCount(), 0u);
  std::map<std::string, UnitSummary> held = ingest.held();
  EXPECT_EQ(held.size(), 24u);
  EXPECT_EQ(held["RJ1/2023-05"].revision(), 2u);
  EXPECT_EQ(ingest.applied(), 25);  // 24 first revisions + 1 correction
  EXPECT_EQ(ingest.most_unanswered(), 4u);
  std::vector<testing::FakeIngest::Batch> log = ingest.batch_log();
  int breaks = 0;
  for (size_t i = 0; i + 1 < log.size(); ++i) {
    if (log[i].answered || log[i].stream == log[i + 1].stream) continue;
    // Stream log[i].stream ended at an unanswered batch: find its first.
    size_t first = i;
    while (first > 0 && log[first - 1].stream == log[i].stream &&
           !log[first - 1].answered) {
      --first;
    }
    ++breaks;
    EXPECT_EQ(log[i + 1].keys.front(), log[first].keys.front())
        << "stream " << log[i + 1].stream;
  }
  EXPECT_GT(breaks, 0);
  EXPECT_GT(u.stats().stream_failures, 0u);
}

class UploaderWindowTest
    : public UploaderTest,
      public ::testing::WithParamInterface<grpc::StatusCode> {};

TEST_P(UploaderWindowTest, BrokenOrRefusedWithBatchesInFlightLosesNothing) {
  StartServer();
  // The first stream carries 4 batches before any answer; the 3rd fails
  // (or is refused) with the 4th in flight. Later, every 5th ack is lost.
  ingest_.set_faults({.fail_every = 3,
                      .fail_code = GetParam(),
                      .lose_ack_every = 5,
                      .hold_first = 4});
  for (int y : {2022, 2023}) {
    for (int m = 1; m <= 12; ++m) {
      outbox_.Put("RJ1", absl::StrCat(y, "-", m < 10 ? "0" : "", m), 1);
    }
  }
  UploaderOptions o;
  o.batch_size = 2;
  auto u = MakeUploader(o);
  DrainWithRetries(*u);
  outbox_.Put("RJ1", "2023-05", 2);  // a correction, resent until answered
  DrainWithRetries(*u);
  ExpectWindowSurvives(ingest_, outbox_, *u);
  EXPECT_GT(u->stats().acks_stale, 0u);  // lost acks: resent, not reapplied
}

INSTANTIATE_TEST_SUITE_P(BrokenAndRefused, UploaderWindowTest,
                         ::testing::Values(grpc::StatusCode::UNAVAILABLE,
                                           grpc::StatusCode::INVALID_ARGUMENT));

TEST(TransportTest, InsecureOnlyOnLoopback) {
  EXPECT_TRUE(IsLoopbackAddress("127.0.0.1:50051"));
  EXPECT_TRUE(IsLoopbackAddress("127.8.9.10:1"));
  EXPECT_TRUE(IsLoopbackAddress("[::1]:50051"));
  EXPECT_TRUE(IsLoopbackAddress("localhost:1"));
  EXPECT_FALSE(IsLoopbackAddress("10.0.0.1:50051"));
  EXPECT_FALSE(IsLoopbackAddress("0.0.0.0:50051"));
  EXPECT_FALSE(IsLoopbackAddress("example.org:443"));
  EXPECT_THAT(MakeChannel("10.1.2.3:50051", TransportOptions{.insecure = true}),
              ::ohfed::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                         "refuses non-loopback address"));
  EXPECT_THAT(MakeServerCredentials("0.0.0.0:1", {.insecure = true}),
              ::ohfed::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                         "'0.0.0.0:1'"));
  EXPECT_THAT(MakeChannel("127.0.0.1:1", TransportOptions{}),
              ::ohfed::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                         "no TLS files for 127.0.0.1:1"));
  OHFED_EXPECT_OK(MakeChannel("unix:/tmp/x.sock", TransportOptions{}));
}

}  // namespace
}  // namespace ohfed
