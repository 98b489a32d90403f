// deploy/dev-certs.sh, run for real: the files, the identity each
// certificate carries, key modes, the server's names, and that running it
// again keeps the CA and what it signed.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/certificate.h"
#include "common/registry.h"
#include "tests/testing/certs.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/testing.h"

namespace ohfed {
namespace {

using ::ohfed::testing::CommandResult;
using ::ohfed::testing::RunCommand;
using ::ohfed::testing::TempDir;
using ::testing::HasSubstr;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string CommonName(const std::string& pem) {
  absl::StatusOr<CertificateInfo> info = ReadCertificate(pem);
  return info.ok() ? info->common_name : std::string(info.status().message());
}

CommandResult Openssl(std::vector<std::string> args) {
  args.insert(args.begin(), "/usr/bin/openssl");
  return *RunCommand(args);
}

TEST(DevCertsTest, MakesEveryIdentityWithPrivateKeys) {
  TempDir dir;
  const std::string d = dir.File("certs");
  OHFED_ASSERT_OK(testing::MakeDevCerts(d, {"RJ1", "rv5"}));
  std::vector<std::pair<std::string, std::string>> expected = {
      {"national", "national"},
      {"trust-RJ1", "trust:RJ1"},
      {"trust-RV5", "trust:RV5"}};
  for (const Region& r : Registry::England()->regions()) {
    expected.push_back({"regional-" + r.code, "region:" + r.code});
  }
  ASSERT_EQ(expected.size(), 3u + 7u);
  expected.push_back({"server", "ohfed aggregator"});
  for (const auto& [name, cn] : expected) {
    EXPECT_EQ(CommonName(d + "/" + name + ".pem"), cn) << name;
    struct stat st;
    ASSERT_EQ(stat((d + "/" + name + ".key").c_str(), &st), 0) << name;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << name;
    CommandResult verify =
        Openssl({"verify", "-CAfile", d + "/ca.pem", d + "/" + name + ".pem"});
    EXPECT_EQ(verify.exit_code, 0) << name << ": " << verify.err;
  }
  struct stat st;
  ASSERT_EQ(stat((d + "/ca.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // The server's names: loopback, and this host's name.
  CommandResult san = Openssl(
      {"x509", "-in", d + "/server.pem", "-noout", "-ext", "subjectAltName"});
  EXPECT_THAT(san.out, HasSubstr("DNS:localhost"));
  EXPECT_THAT(san.out, HasSubstr("IP Address:127.0.0.1"));
  char host[256] = {};
  ASSERT_EQ(gethostname(host, sizeof host - 1), 0);
  EXPECT_THAT(san.out, HasSubstr(std::string("DNS:") + host));
}

TEST(DevCertsTest, RunningAgainKeepsTheCaAndWhatItSigned) {
  TempDir dir;
  const std::string d = dir.File("certs");
  OHFED_ASSERT_OK(testing::MakeDevCerts(d, {"RJ1"}));
  const std::string ca = Slurp(d + "/ca.pem");
  const std::string rj1 = Slurp(d + "/trust-RJ1.pem");
  const std::string server = Slurp(d + "/server.pem");
  OHFED_ASSERT_OK(testing::MakeDevCerts(d, {"RJ1", "RV5"}));
  EXPECT_EQ(Slurp(d + "/ca.pem"), ca);
  EXPECT_EQ(Slurp(d + "/trust-RJ1.pem"), rj1);
  EXPECT_EQ(Slurp(d + "/server.pem"), server);
  EXPECT_EQ(CommonName(d + "/trust-RV5.pem"), "trust:RV5");
}

TEST(DevCertsTest, RefusesWhatIsNotAnOdsCode) {
  TempDir dir;
  absl::Status s = testing::MakeDevCerts(dir.File("certs"), {"RJ1/../x"});
  EXPECT_THAT(s, testing::StatusIs(absl::StatusCode::kInternal,
                                   "'RJ1/../x' is not an ODS code"));
  EXPECT_FALSE(std::filesystem::exists(dir.File("certs")));  // nothing made
}

}  // namespace
}  // namespace ohfed
