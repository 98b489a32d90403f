#include "tests/chaos/federation.h"

#include <signal.h>

#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/transport.h"
#include "tests/testing/http.h"

namespace ohfed::chaos {
namespace {

std::string Addr(int port) { return absl::StrCat("127.0.0.1:", port); }

// Retry within tens of milliseconds after a peer comes back: a cycle lasts
// well under a second.
constexpr char kInitialBackoffMs[] = "20";
constexpr char kMaxBackoffSeconds[] = "1";

}  // namespace

absl::StatusOr<std::unique_ptr<Federation>> Federation::Start(
    const Binaries& bin, const std::string& root,
    const std::vector<AgentSpec>& agents) {
  testing::UseTestNowForBinaries();
  std::unique_ptr<Federation> f(new Federation(bin, root));
  f->specs_ = agents;
  f->national_ = f->MakeAggregator("national", "", "");
  f->regional_ =
      f->MakeAggregator("regional", Addr(f->national_->port), "region:Y56");
  for (const AgentSpec& spec : agents)
    f->agents_[spec.trust] = f->MakeAgent(spec);
  for (Daemon* d : {f->national_.get(), f->regional_.get()}) {
    if (absl::Status s = f->Restart(*d); !s.ok()) return s;
  }
  for (Daemon* d : f->agents()) {
    if (absl::Status s = f->Restart(*d); !s.ok()) return s;
  }
  return f;
}

Federation::~Federation() {
  for (Daemon* d : agents()) Kill(*d);
  Kill(*regional_);
  Kill(*national_);
}

std::vector<Daemon*> Federation::agents() {
  std::vector<Daemon*> out;
  for (auto& [trust, d] : agents_) out.push_back(d.get());
  return out;
}

std::unique_ptr<Daemon> Federation::MakeAggregator(const std::string& name,
                                                   const std::string& upstream,
                                                   const std::string& covers) {
  auto d = std::make_unique<Daemon>();
  d->name = name;
  d->port = testing::PickUnusedPort();
  d->metrics_port = testing::PickUnusedPort();
  d->log = root_ + "/" + name + ".log";
  d->data_dir = root_ + "/" + name;
  d->argv = {bin_.aggregator,
             "--listen",
             Addr(d->port),
             "--data",
             d->data_dir,
             "--metrics",
             Addr(d->metrics_port),
             "--insecure",
             "--upstream-initial-backoff-ms",
             kInitialBackoffMs,
             "--upstream-max-backoff-seconds",
             kMaxBackoffSeconds};
  if (!upstream.empty()) {
    d->argv.insert(d->argv.end(), {"--upstream", upstream, "--covers", covers});
  }
  return d;
}

std::unique_ptr<Daemon> Federation::MakeAgent(const AgentSpec& spec) {
  auto d = std::make_unique<Daemon>();
  d->name = "agent " + spec.trust;
  const std::string dir = root_ + "/agent_" + spec.trust;
  std::filesystem::create_directories(dir);
  d->socket = dir + "/agent.sock";
  d->data_dir = dir;
  d->metrics_port = testing::PickUnusedPort();
  d->log = dir + ".log";
  const int to = spec.direct_to_national ? national_->port : regional_->port;
  d->argv = {bin_.agent,
             "--trust",
             spec.trust,
             "--data",
             dir,
             "--aggregator",
             Addr(to),
             "--metrics",
             Addr(d->metrics_port),
             "--insecure",
             "--initial-backoff-ms",
             kInitialBackoffMs,
             "--max-backoff-seconds",
             kMaxBackoffSeconds};
  return d;
}

void Federation::Kill(Daemon& d) {
  if (d.process == nullptr) return;
  d.process->Signal(SIGKILL);
  (void)d.process->Wait(absl::Seconds(30));
  d.process.reset();
}

absl::Status Federation::Restart(Daemon& d) {
  Kill(d);
  auto p = testing::Subprocess::Start(d.argv, d.log);
  if (!p.ok()) return p.status();
  d.process = std::move(*p);
  return WaitReady(d);
}

absl::Status Federation::WaitReady(Daemon& d) {
  const absl::Time end = absl::Now() + absl::Seconds(60);
  while (absl::Now() < end) {
    if (!d.process->running()) {
      return absl::InternalError(
          absl::StrCat(d.name, " exited at start; see ", d.log));
    }
    if (d.port != 0) {
      if (testing::WaitForPort(d.port, absl::Milliseconds(100)).ok()) {
        return absl::OkStatus();
      }
      continue;
    }
    if (std::filesystem::exists(d.socket)) {
      absl::StatusOr<agent::AgentClient> c =
          agent::AgentClient::Connect(d.socket);
      if (c.ok() && c->Status().ok()) return absl::OkStatus();
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  return absl::DeadlineExceededError(
      absl::StrCat(d.name, " not ready after 60 s; see ", d.log));
}

void Federation::StopAll() {
  Kill(*regional_);
  Kill(*national_);
  for (Daemon* d : agents()) {
    if (d->process == nullptr) continue;
    d->process->Signal(SIGTERM);
    (void)d->process->Wait(absl::Seconds(30));
    d->process.reset();
  }
}

agent::AgentClient Federation::Client(const std::string& trust) {
  // Connect only makes the channel; it fails only for a malformed target.
  return *agent::AgentClient::Connect(agents_.at(trust)->socket);
}

std::unique_ptr<v1::Query::Stub> Federation::QueryStub(
    const Daemon& aggregator) {
  auto channel = MakeChannel(Addr(aggregator.port), {.insecure = true});
  return v1::Query::NewStub(*channel);
}

absl::StatusOr<double> Federation::Metric(const Daemon& d,
                                          const std::string& name) {
  absl::StatusOr<testing::HttpResponse> r =
      testing::HttpGet(d.metrics_port, "/metrics", absl::Seconds(2));
  if (!r.ok()) return r.status();
  for (absl::string_view line : absl::StrSplit(r->body, '\n')) {
    std::vector<absl::string_view> parts = absl::StrSplit(line, ' ');
    double v = 0;
    if (parts.size() == 2 && parts[0] == name &&
        absl::SimpleAtod(parts[1], &v)) {
      return v;
    }
  }
  return absl::NotFoundError(absl::StrCat(d.name, " has no metric ", name));
}

}  // namespace ohfed::chaos
