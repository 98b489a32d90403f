#include "tests/testing/certs.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/testing.h"

namespace ohfed::testing {
namespace {

absl::Status Run(const std::vector<std::string>& argv) {
  absl::StatusOr<CommandResult> r = RunCommand(argv, absl::Seconds(60));
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) {
    return absl::InternalError(absl::StrCat(argv[0], " ", argv[1], " exited ",
                                            r->exit_code, ": ", r->err));
  }
  return absl::OkStatus();
}

// RunCommand execs without a PATH search.
constexpr char kOpenssl[] = "/usr/bin/openssl";

}  // namespace

absl::Status MakeDevCerts(const std::string& dir,
                          const std::vector<std::string>& trusts) {
  std::vector<std::string> argv = {"/bin/bash",
                                   SourceDir() + "/deploy/dev-certs.sh", dir};
  argv.insert(argv.end(), trusts.begin(), trusts.end());
  return Run(argv);
}

TransportOptions Tls(const std::string& dir, const std::string& name,
                     int refresh_seconds) {
  return TransportOptions{.ca_file = dir + "/ca.pem",
                          .cert_file = dir + "/" + name + ".pem",
                          .key_file = dir + "/" + name + ".key",
                          .cert_refresh_seconds = refresh_seconds};
}

absl::Status MakeExpiredCert(const std::string& dir, const std::string& name,
                             const std::string& cn) {
  const std::string ca_dir = dir + "/expired-ca";
  std::filesystem::create_directories(ca_dir + "/new");
  std::ofstream(ca_dir + "/index.txt").flush();
  std::ofstream(ca_dir + "/openssl.cnf")
      << "[ca]\ndefault_ca = d\n[d]\ndir = " << ca_dir
      << "\ndatabase = $dir/index.txt\nnew_certs_dir = $dir/new\n"
         "rand_serial = yes\ndefault_md = sha256\npolicy = p\n"
         "x509_extensions = ext\nunique_subject = no\n"
         "[p]\ncommonName = supplied\n"
         "[ext]\nbasicConstraints = critical,CA:FALSE\n"
         "extendedKeyUsage = clientAuth,serverAuth\n";
  const std::string key = dir + "/" + name + ".key";
  const std::string csr = ca_dir + "/" + name + ".csr";
  for (const std::vector<std::string>& argv :
       std::vector<std::vector<std::string>>{
           {kOpenssl, "genpkey", "-algorithm", "EC", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-out", key},
           {kOpenssl, "req", "-new", "-key", key, "-subj", "/CN=" + cn, "-out",
            csr},
           {kOpenssl, "ca", "-batch", "-config", ca_dir + "/openssl.cnf",
            "-cert", dir + "/ca.pem", "-keyfile", dir + "/ca.key", "-in", csr,
            "-out", dir + "/" + name + ".pem", "-startdate", "20200101000000Z",
            "-enddate", "20200201000000Z", "-notext"}}) {
    if (absl::Status s = Run(argv); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace ohfed::testing
