// Reading ohfed's PEM files before they are handed to gRPC, so that a
// missing, unreadable or mismatched file is refused at start with a line
// naming it, rather than as a failed handshake later (SPEC §8).
#ifndef OHFED_COMMON_CERTIFICATE_H_
#define OHFED_COMMON_CERTIFICATE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace ohfed {

struct CertificateInfo {
  std::string common_name;  // the Subject CN ("" if none)
  absl::Time not_after;
};

// The first certificate in a PEM file. kNotFound for a missing file,
// kPermissionDenied for an unreadable one, kInvalidArgument when it holds no
// PEM certificate; each message names the file.
absl::StatusOr<CertificateInfo> ReadCertificate(const std::string& pem_file);

// Checks a TLS key pair and CA file: each readable and parseable, the key
// matching the certificate; with no certificate and no key, only the CA.
// Errors as ReadCertificate's, naming the file.
absl::Status CheckTlsFiles(const std::string& ca_file,
                           const std::string& cert_file,
                           const std::string& key_file);

}  // namespace ohfed

#endif  // OHFED_COMMON_CERTIFICATE_H_
