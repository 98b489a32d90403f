// End to end over mutual TLS with the real binaries and the certificates
// deploy/dev-certs.sh makes: ohfed-agent -> regional ohfed-aggregator
// (presenting region:Y56 upstream) -> national ohfed-aggregator, read with
// `ohfed query` presenting the national certificate. Also: an agent whose
// certificate names another trust refuses to start, and plaintext callers
// cannot talk to a TLS aggregator.
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/testing/certs.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/testing.h"

namespace ohfed {
namespace {

using ::ohfed::testing::CommandResult;
using ::ohfed::testing::RunCommand;
using ::ohfed::testing::Subprocess;
using ::testing::HasSubstr;

class TlsBinariesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // 2026-03 has ended on the daemons' clock whatever the machine's date.
    testing::UseTestNowForBinaries();
    OHFED_ASSERT_OK(testing::MakeDevCerts(certs_, {"RJ1", "RV5"}));
  }

  std::vector<std::string> Identity(const std::string& name,
                                    const std::string& prefix = "--tls") {
    return {prefix + "-cert", certs_ + "/" + name + ".pem", prefix + "-key",
            certs_ + "/" + name + ".key"};
  }

  std::unique_ptr<Subprocess> StartAggregator(const std::string& name, int port,
                                              std::vector<std::string> extra) {
    std::vector<std::string> argv = {
        OHFED_AGGREGATOR_BIN, "--listen", Addr(port),        "--data",
        dir_.File(name),      "--tls-ca", certs_ + "/ca.pem"};
    for (const std::string& a : Identity("server")) argv.push_back(a);
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto p = Subprocess::Start(argv, dir_.File(name + ".log"));
    EXPECT_THAT(p, testing::IsOk());
    EXPECT_THAT(testing::WaitForPort(port, absl::Seconds(30)), testing::IsOk());
    return p.ok() ? std::move(*p) : nullptr;
  }

  std::vector<std::string> AgentArgs(const std::string& trust,
                                     const std::string& cert_of, int port) {
    std::vector<std::string> argv = {OHFED_AGENT_BIN,
                                     "--trust",
                                     trust,
                                     "--data",
                                     dir_.File("agent-" + trust),
                                     "--aggregator",
                                     Addr(port),
                                     "--tls-ca",
                                     certs_ + "/ca.pem"};
    for (const std::string& a : Identity("trust-" + cert_of)) argv.push_back(a);
    return argv;
  }

  CommandResult Query(int port, std::vector<std::string> transport) {
    std::vector<std::string> argv = {
        OHFED_CLI_BIN, "query",    "--aggregator", Addr(port),   "--scope",
        "trust:RJ1",   "--period", "2026-03",      "--measures", "completeness",
        "--format",    "csv",      "--timeout",    "5"};
    argv.insert(argv.end(), transport.begin(), transport.end());
    return *RunCommand(argv);
  }

  static std::string Addr(int port) { return absl::StrCat("127.0.0.1:", port); }

  testing::TempDir dir_;
  const std::string certs_ = dir_.File("certs");
};

TEST_F(TlsBinariesTest, AgentRegionalNationalOverMutualTls) {
  const int national_port = testing::PickUnusedPort();
  const int regional_port = testing::PickUnusedPort();
  auto national = StartAggregator("national", national_port, {});
  std::vector<std::string> upstream = {"--upstream", Addr(national_port),
                                       "--covers", "region:Y56"};
  for (const std::string& a : Identity("regional-Y56", "--upstream-tls")) {
    upstream.push_back(a);
  }
  auto regional = StartAggregator("regional", regional_port, upstream);

  const std::string socket = dir_.File("agent-RJ1") + "/agent.sock";
  auto agent = Subprocess::Start(AgentArgs("RJ1", "RJ1", regional_port),
                                 dir_.File("agent.log"));
  ASSERT_THAT(agent, testing::IsOk());
  for (int i = 0; i < 1500 && !std::filesystem::exists(socket); ++i) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  CommandResult set = *RunCommand({OHFED_CLI_BIN, "--agent", socket, "set",
                                   "2026-03", "staffing.wte.admin", "2.5"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  CommandResult sync = *RunCommand(
      {OHFED_CLI_BIN, "--agent", socket, "sync", "--timeout", "60"});
  ASSERT_EQ(sync.exit_code, 0) << sync.err;

  std::vector<std::string> as_national = Identity("national");
  as_national.push_back("--tls-ca");
  as_national.push_back(certs_ + "/ca.pem");
  bool reported = false;
  for (int i = 0; i < 300 && !reported; ++i) {
    CommandResult q = Query(national_port, as_national);
    ASSERT_EQ(q.exit_code, 0) << q.err;
    reported = absl::StrContains(q.out, ",2026-03,RJ1,") &&
               absl::StrContains(q.out, ",yes,");
    if (!reported) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(reported) << Query(national_port, as_national).out;

  // Plaintext cannot talk to a TLS aggregator.
  CommandResult plain = Query(national_port, {"--insecure"});
  EXPECT_EQ(plain.exit_code, 1);
  EXPECT_THAT(plain.err, HasSubstr("aggregator " + Addr(national_port)));
}

TEST_F(TlsBinariesTest, AgentWithAnotherTrustsCertificateRefusesToStart) {
  CommandResult r = *RunCommand(
      AgentArgs("RJ1", "RV5", testing::PickUnusedPort()), absl::Seconds(30));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("--trust RJ1 but certificate " + certs_ +
                               "/trust-RV5.pem is for 'trust:RV5'"));
}

TEST_F(TlsBinariesTest, MissingCertificateFileIsNamed) {
  CommandResult r = *RunCommand(
      {OHFED_AGGREGATOR_BIN, "--listen", "127.0.0.1:0", "--data",
       dir_.File("agg"), "--tls-cert", certs_ + "/absent.pem", "--tls-key",
       certs_ + "/server.key", "--tls-ca", certs_ + "/ca.pem"},
      absl::Seconds(30));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("cannot read certificate " + certs_ +
                               "/absent.pem: No such file or directory"));
}

}  // namespace
}  // namespace ohfed
