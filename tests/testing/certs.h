// Development certificates for TLS tests, made by the real
// deploy/dev-certs.sh (openssl) into a test's temporary directory.
#ifndef OHFED_TESTS_TESTING_CERTS_H_
#define OHFED_TESTS_TESTING_CERTS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/transport.h"

namespace ohfed::testing {

// Runs deploy/dev-certs.sh DIR TRUSTS...
absl::Status MakeDevCerts(const std::string& dir,
                          const std::vector<std::string>& trusts);

// TLS options presenting DIR/NAME.pem and DIR/NAME.key, trusting DIR/ca.pem;
// e.g. Tls(dir, "trust-RJ1"), Tls(dir, "server").
TransportOptions Tls(const std::string& dir, const std::string& name,
                     int refresh_seconds = 60);

// DIR/NAME.pem and .key with common name CN, signed by DIR's CA but valid
// only in 2020 (expired), made with `openssl ca`.
absl::Status MakeExpiredCert(const std::string& dir, const std::string& name,
                             const std::string& cn);

}  // namespace ohfed::testing

#endif  // OHFED_TESTS_TESTING_CERTS_H_
