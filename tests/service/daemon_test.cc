// The daemons as systemd and standard gRPC tooling see them (issue 11): the
// real binaries, READY=1 on a $NOTIFY_SOCKET the test binds, grpc.health.v1
// per service, server reflection, SIGTERM and SIGHUP.
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cli/config.h"
#include "common/token.h"
#include "common/transport.h"
#include "ohfed/v1/ohfed.grpc.pb.h"
#include "tests/service/service_client.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/testing.h"

namespace ohfed::testing {
namespace {

using grpc::health::v1::HealthCheckResponse;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;

MATCHER_P(Holds, value, "is OK and holds " + ::testing::PrintToString(value)) {
  if (!arg.ok()) *result_listener << "status: " << arg.status();
  return arg.ok() && *arg == value;
}

// Whether something accepts TCP connections on 127.0.0.1:port right now.
bool PortAnswers(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto notify = NotifySocket::Bind(dir_.File("notify"));
    OHFED_ASSERT_OK(notify);
    notify_ = std::move(*notify);
    // The child inherits it, as it would from systemd.
    setenv("NOTIFY_SOCKET", notify_->path().c_str(), 1);
  }
  void TearDown() override { unsetenv("NOTIFY_SOCKET"); }

  std::string Address() const { return absl::StrCat("127.0.0.1:", port_); }

  // Starts ohfed-aggregator and returns once it has sent READY=1.
  std::unique_ptr<Subprocess> StartAggregator(std::vector<std::string> extra) {
    std::vector<std::string> argv = {
        OHFED_AGGREGATOR_BIN, "--listen",  Address(), "--data",
        dir_.File("agg"),     "--insecure"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto p = Subprocess::Start(argv, dir_.File("aggregator.log"));
    EXPECT_THAT(p, IsOk());
    if (!p.ok()) return nullptr;
    EXPECT_THAT(notify_->WaitFor("READY=1"), IsOk()) << Log("aggregator.log");
    return std::move(*p);
  }

  std::shared_ptr<grpc::Channel> Channel() {
    return grpc::CreateChannel(Address(), grpc::InsecureChannelCredentials());
  }

  // A Query call with `token`; its status.
  grpc::Status QueryWith(const std::string& token) {
    auto stub = v1::Query::NewStub(Channel());
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    ctx.AddMetadata("authorization", "Bearer " + token);
    v1::QueryRequest request;
    request.set_scope("region:Y56");
    request.set_period("2026-03");
    v1::QueryResponse response;
    return stub->Query(&ctx, request, &response);
  }

  std::string Log(const std::string& name) {
    std::ifstream in(dir_.File(name));
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  TempDir dir_;
  int port_ = PickUnusedPort();
  std::unique_ptr<NotifySocket> notify_;
};

// A health Watch stream, open until the test ends it.
class HealthWatch {
 public:
  HealthWatch(const std::shared_ptr<grpc::Channel>& channel,
              const std::string& service)
      : stub_(grpc::health::v1::Health::NewStub(channel)) {
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    stream_ = stub_->Watch(&ctx_, request);
  }
  ~HealthWatch() { Cancel(); }
  // Ends the stream, as a load balancer would once it has seen
  // NOT_SERVING; otherwise the daemon waits out its drain grace for it.
  void Cancel() { ctx_.TryCancel(); }
  // The next status sent; UNKNOWN if the stream ended.
  HealthCheckResponse::ServingStatus Next() {
    HealthCheckResponse response;
    if (!stream_->Read(&response)) return HealthCheckResponse::UNKNOWN;
    return response.status();
  }
  // How the stream ended, once Next() has returned UNKNOWN.
  grpc::Status Finish() { return stream_->Finish(); }

 private:
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::health::v1::Health::Stub> stub_;
  std::unique_ptr<grpc::ClientReader<HealthCheckResponse>> stream_;
};

TEST_F(DaemonTest, AggregatorIsReadyOnlyWhenItAnswersAndServesEachService) {
  auto server = StartAggregator({});
  ASSERT_NE(server, nullptr);
  // READY=1 came after the port answered, so it answers now.
  EXPECT_TRUE(PortAnswers(port_));
  for (const std::string service : {"", "ohfed.v1.Ingest", "ohfed.v1.Query"}) {
    EXPECT_THAT(CheckHealth(Channel(), service),
                Holds(HealthCheckResponse::SERVING))
        << "service '" << service << "'";
  }
  EXPECT_THAT(CheckHealth(Channel(), "ohfed.v1.AgentControl"),
              StatusIs(absl::StatusCode::kNotFound, "health of"));
}

TEST_F(DaemonTest, AggregatorListsAndDescribesItsServicesByReflection) {
  auto server = StartAggregator({});
  ASSERT_NE(server, nullptr);
  absl::StatusOr<std::vector<std::string>> services = ListServices(Channel());
  OHFED_ASSERT_OK(services);
  EXPECT_THAT(*services, IsSupersetOf({"ohfed.v1.Ingest", "ohfed.v1.Query",
                                       "grpc.health.v1.Health"}));
  absl::StatusOr<std::vector<std::string>> in_file =
      ServicesInFileOf(Channel(), "ohfed.v1.Query");
  OHFED_ASSERT_OK(in_file);
  EXPECT_THAT(*in_file, Contains("ohfed.v1.Ingest"));
}

// What `grpcurl describe` shows of the Query answer's compact form: the
// request's and the response's `compact` fields, in the file that defines
// the Query service (since the eighth round; they were in a file of their
// own, which reflection did not list).
TEST_F(DaemonTest, ReflectionDescribesTheCompactQueryFields) {
  auto server = StartAggregator({});
  ASSERT_NE(server, nullptr);
  absl::StatusOr<google::protobuf::FileDescriptorProto> file =
      FileOf(Channel(), "ohfed.v1.Query");
  OHFED_ASSERT_OK(file);
  // "number type type_name" of the field, or "" if there is none.
  auto field = [&](absl::string_view message, absl::string_view name) {
    for (const auto& m : file->message_type()) {
      if (m.name() != message) continue;
      for (const auto& f : m.field()) {
        if (f.name() != name) continue;
        return absl::StrCat(
            f.number(), " ",
            google::protobuf::FieldDescriptorProto::Type_Name(f.type()), " ",
            f.type_name());
      }
    }
    return std::string();
  };
  EXPECT_EQ(field("QueryRequest", "compact"), "6 TYPE_BOOL ");
  EXPECT_EQ(field("QueryResponse", "compact"),
            "5 TYPE_MESSAGE .ohfed.v1.CompactRows");
}

TEST_F(DaemonTest, SigtermTurnsHealthNotServingThenExitsZero) {
  auto server = StartAggregator({});
  ASSERT_NE(server, nullptr);
  HealthWatch watch(Channel(), "ohfed.v1.Ingest");
  ASSERT_EQ(watch.Next(), HealthCheckResponse::SERVING);
  server->Signal(SIGTERM);
  EXPECT_EQ(watch.Next(), HealthCheckResponse::NOT_SERVING);
  watch.Cancel();
  OHFED_EXPECT_OK(notify_->WaitFor("STOPPING=1"));
  EXPECT_THAT(server->Wait(absl::Seconds(30)), Holds(0))
      << Log("aggregator.log");
}

// A watcher that never cancels (a load balancer that keeps its stream open)
// is told NOT_SERVING and then its stream ends at once, by the daemon, not
// at the end of the drain grace with "Cancelling all calls". The channel
// stays open and idle meanwhile: the daemon does not wait for it either
// (the test then takes well under the 5 s grace).
TEST_F(DaemonTest, SigtermEndsAnOpenHealthWatchAtOnce) {
  auto server = StartAggregator({});
  ASSERT_NE(server, nullptr);
  HealthWatch watch(Channel(), "");
  ASSERT_EQ(watch.Next(), HealthCheckResponse::SERVING);
  server->Signal(SIGTERM);
  EXPECT_EQ(watch.Next(), HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(watch.Next(), HealthCheckResponse::UNKNOWN);  // the stream ended
  grpc::Status ended = watch.Finish();
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ended.error_message(), "the server is shutting down");
  EXPECT_THAT(server->Wait(absl::Seconds(30)), Holds(0))
      << Log("aggregator.log");
}

TEST_F(DaemonTest, AgentIsReadyServesHealthAndReflectionOnItsSocket) {
  const std::string socket = dir_.File("agent.sock");
  auto agent = Subprocess::Start(
      {OHFED_AGENT_BIN, "--trust", "RJ1", "--data", dir_.File("agent"),
       "--aggregator", Address(), "--insecure", "--socket", socket},
      dir_.File("agent.log"));
  OHFED_ASSERT_OK(agent);
  ASSERT_THAT(notify_->WaitFor("READY=1"), IsOk()) << Log("agent.log");
  auto channel =
      grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials());
  EXPECT_THAT(CheckHealth(channel, "ohfed.v1.AgentControl"),
              Holds(HealthCheckResponse::SERVING));
  absl::StatusOr<std::vector<std::string>> services = ListServices(channel);
  OHFED_ASSERT_OK(services);
  EXPECT_THAT(*services, Contains("ohfed.v1.AgentControl"));

  HealthWatch watch(channel, "ohfed.v1.AgentControl");
  ASSERT_EQ(watch.Next(), HealthCheckResponse::SERVING);
  (*agent)->Signal(SIGHUP);  // nothing to reload, and it does not stop it
  (*agent)->Signal(SIGTERM);
  EXPECT_EQ(watch.Next(), HealthCheckResponse::NOT_SERVING);
  watch.Cancel();
  EXPECT_THAT((*agent)->Wait(absl::Seconds(30)), Holds(0)) << Log("agent.log");
}

TEST_F(DaemonTest, SighupReloadsTokensWithoutDroppingStreams) {
  const std::string old_token = *NewToken(), new_token = *NewToken();
  const std::string tokens = dir_.Write(
      "tokens", *TokensFileLine(old_token, "national", "old") + "\n");
  auto server = StartAggregator({"--tokens", tokens});
  ASSERT_NE(server, nullptr);
  EXPECT_TRUE(QueryWith(old_token).ok());
  EXPECT_EQ(QueryWith(new_token).error_message(), "unknown bearer token");
  // A live stream across the reload.
  HealthWatch watch(Channel(), "ohfed.v1.Query");
  ASSERT_EQ(watch.Next(), HealthCheckResponse::SERVING);

  dir_.Write("tokens", *TokensFileLine(old_token, "national", "old") + "\n" +
                           *TokensFileLine(new_token, "national", "new") +
                           "\n");
  server->Signal(SIGHUP);
  ASSERT_THAT(notify_->WaitFor("RELOADING=1"), IsOk());
  ASSERT_THAT(notify_->WaitFor("STATUS=reloaded"), IsOk())
      << Log("aggregator.log");
  EXPECT_TRUE(QueryWith(new_token).ok())
      << QueryWith(new_token).error_message();

  // A broken file is refused and the tokens in force stay.
  dir_.Write("tokens", "sha256:nothex national\n");
  server->Signal(SIGHUP);
  ASSERT_THAT(notify_->WaitFor("STATUS=reload failed, see the log"), IsOk());
  EXPECT_TRUE(QueryWith(new_token).ok());
  EXPECT_THAT(Log("aggregator.log"),
              ::testing::HasSubstr(
                  "reload refused, what was loaded before stays in force: "
                  "tokens file"));

  // The stream opened before the reloads is still there to be told.
  server->Signal(SIGTERM);
  EXPECT_EQ(watch.Next(), HealthCheckResponse::NOT_SERVING);
  watch.Cancel();
  EXPECT_THAT(server->Wait(absl::Seconds(30)), Holds(0));
}

// The example configurations in deploy/config and the daemon each is for.
std::vector<std::pair<std::string, std::string>> ExampleConfigs() {
  return {{"agent.conf", OHFED_AGENT_BIN},
          {"regional.conf", OHFED_AGGREGATOR_BIN},
          {"national.conf", OHFED_AGGREGATOR_BIN}};
}

// The text of one of them; empty if it cannot be read.
std::string ReadExampleConfig(const std::string& file) {
  std::ifstream in(SourceDir() + "/deploy/config/" + file);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The example configurations in deploy/config, which the packages ship: each
// line is well-formed and every key, commented-out ones too, is a flag of
// the daemon it is for.
TEST(ExampleConfigTest, EveryKeyIsAFlagOfItsDaemon) {
  for (const auto& [file, binary] : ExampleConfigs()) {
    std::string text = ReadExampleConfig(file);
    ASSERT_FALSE(text.empty()) << file;
    OHFED_EXPECT_OK(CheckConfigSyntax(text)) << file;
    absl::StatusOr<CommandResult> help = RunCommand({binary, "--help"});
    OHFED_ASSERT_OK(help);
    int keys = 0;
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      absl::ConsumePrefix(&line, "# ");
      size_t eq = line.find(" = ");
      if (eq == absl::string_view::npos || eq == 0 ||
          !std::all_of(line.begin(), line.begin() + eq, [](char c) {
            return c == '-' || absl::ascii_islower(c);
          })) {
        continue;  // prose, not a key
      }
      ++keys;
      EXPECT_THAT(help->out,
                  HasSubstr(absl::StrCat("--", line.substr(0, eq), " ")))
          << file << ": " << line;
    }
    EXPECT_GE(keys, 4) << file;
  }
}

// The keys of a config example: `key = ...` lines, commented out or not.
std::set<std::string> ExampleKeys(absl::string_view text) {
  std::set<std::string> keys;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    absl::ConsumePrefix(&line, "# ");
    size_t eq = line.find(" = ");
    if (eq != absl::string_view::npos && eq > 0) {
      keys.emplace(line.substr(0, eq));
    }
  }
  return keys;
}

// The long flags a daemon's --help lists, but --help, --version and
// --config, which are not settings.
std::vector<std::string> HelpFlags(absl::string_view help) {
  std::vector<std::string> flags;
  for (absl::string_view line : absl::StrSplit(help, '\n')) {
    line = absl::StripLeadingAsciiWhitespace(line);
    if (!absl::ConsumePrefix(&line, "--")) continue;
    std::string flag(line.substr(0, line.find_first_of(" \t")));
    if (flag != "version" && flag != "config") flags.push_back(flag);
  }
  return flags;
}

// The other way round: every flag of a daemon, metrics, log-format,
// thresholds and limits included, is a key of each of its examples, so an
// operator finds every setting (and its default) in the file.
TEST(ExampleConfigTest, EveryFlagOfItsDaemonIsAKey) {
  for (const auto& [file, binary] : ExampleConfigs()) {
    std::string text = ReadExampleConfig(file);
    ASSERT_FALSE(text.empty()) << file;
    absl::StatusOr<CommandResult> help = RunCommand({binary, "--help"});
    OHFED_ASSERT_OK(help);
    std::vector<std::string> flags = HelpFlags(help->out);
    EXPECT_THAT(flags, IsSupersetOf({"data", "metrics", "log-format"}))
        << binary;
    EXPECT_THAT(ExampleKeys(text), IsSupersetOf(flags)) << file;
  }
}

}  // namespace
}  // namespace ohfed::testing
