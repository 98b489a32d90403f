// Certificates made in memory for tests (libcrypto): a CA, a server
// certificate for localhost and 127.0.0.1, and client certificates whose
// common name is an ohfed identity (common/identity.h), optionally expired
// or from another CA. For tests that need TLS before, or independently of,
// deploy/dev-certs.sh.
#ifndef OHFED_TESTS_TESTING_TEST_CERTS_H_
#define OHFED_TESTS_TESTING_TEST_CERTS_H_

#include <memory>
#include <string>

namespace ohfed::testing {

struct KeyPair {
  std::string cert_pem;
  std::string key_pem;
};

// A certificate authority that signs certificates. Not thread-safe.
class TestCa {
 public:
  explicit TestCa(const std::string& name);
  ~TestCa();
  TestCa(const TestCa&) = delete;
  TestCa& operator=(const TestCa&) = delete;

  const std::string& cert_pem() const { return ca_.cert_pem; }
  // For localhost and 127.0.0.1 (subjectAltName), valid now.
  KeyPair Server();
  // Common name `cn`; valid now, or expired a day ago when `expired`.
  KeyPair Client(const std::string& cn, bool expired = false);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  KeyPair ca_;
};

}  // namespace ohfed::testing

#endif  // OHFED_TESTS_TESTING_TEST_CERTS_H_
