// The dashboard's TLS certificate and key, re-read from their files while it
// serves, as gRPC's file watcher does for the aggregator's other ports
// (common/transport.h): a renewed certificate reaches new connections
// without a restart, and connections already open carry on.
//
// The files are read at most once per `refresh`, during a handshake; a pair
// that does not parse or whose key does not match (a renewal caught half
// written) is ignored and the last good pair stays.
//
// Thread-safe. Must outlive every SSL_CTX it is installed on.
#ifndef OHFED_DASHBOARD_SERVING_CERTIFICATE_H_
#define OHFED_DASHBOARD_SERVING_CERTIFICATE_H_

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace ohfed::dashboard {

class ServingCertificate {
 public:
  // Reads the pair now. Errors name the file: kInvalidArgument when it
  // holds no PEM certificate or key or the key does not match,
  // kUnavailable when it cannot be read.
  static absl::StatusOr<std::unique_ptr<ServingCertificate>> Load(
      std::string cert_file, std::string key_file, absl::Duration refresh);
  ~ServingCertificate();

  // Makes `ctx` present the current pair on every handshake.
  bool Install(SSL_CTX& ctx);

  struct Pair;

 private:
  ServingCertificate(std::string cert_file, std::string key_file,
                     absl::Duration refresh)
      : cert_file_(std::move(cert_file)),
        key_file_(std::move(key_file)),
        refresh_(refresh) {}
  static int OnHandshake(SSL* ssl, void* self);
  std::shared_ptr<const Pair> Current();

  const std::string cert_file_, key_file_;
  const absl::Duration refresh_;
  absl::Mutex mu_;
  std::shared_ptr<const Pair> pair_ ABSL_GUARDED_BY(mu_);
  absl::Time checked_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ohfed::dashboard

#endif  // OHFED_DASHBOARD_SERVING_CERTIFICATE_H_
