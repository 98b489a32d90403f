#include "common/certificate.h"

#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"

namespace ohfed {
namespace {

struct FileCloser {
  void operator()(FILE* f) const { fclose(f); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using File = std::unique_ptr<FILE, FileCloser>;
using Cert = std::unique_ptr<X509, X509Free>;
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;

absl::StatusOr<File> Open(const std::string& path, absl::string_view what) {
  if (path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("no ", what, " file given"));
  }
  FILE* f = fopen(path.c_str(), "r");
  if (f != nullptr) return File(f);
  const int err = errno;
  std::string message =
      absl::StrCat("cannot read ", what, " ", path, ": ", strerror(err));
  if (err == ENOENT) return absl::NotFoundError(message);
  if (err == EACCES) return absl::PermissionDeniedError(message);
  return absl::UnavailableError(message);
}

absl::StatusOr<Cert> LoadCert(const std::string& path, absl::string_view what) {
  absl::StatusOr<File> f = Open(path, what);
  if (!f.ok()) return f.status();
  Cert cert(PEM_read_X509(f->get(), nullptr, nullptr, nullptr));
  if (cert == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " ", path, " holds no PEM certificate"));
  }
  return cert;
}

std::string CommonName(X509* cert) {
  X509_NAME* subject = X509_get_subject_name(cert);
  int i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (i < 0) return "";
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
  unsigned char* utf8 = nullptr;
  int n = ASN1_STRING_to_UTF8(&utf8, data);
  if (n < 0) return "";
  std::string cn(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
  OPENSSL_free(utf8);
  return cn;
}

absl::Time NotAfter(X509* cert) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) {
    return absl::InfinitePast();
  }
  return absl::FromTM(tm, absl::UTCTimeZone());
}

}  // namespace

absl::StatusOr<CertificateInfo> ReadCertificate(const std::string& pem_file) {
  absl::StatusOr<Cert> cert = LoadCert(pem_file, "certificate");
  if (!cert.ok()) return cert.status();
  return CertificateInfo{CommonName(cert->get()), NotAfter(cert->get())};
}

absl::Status CheckTlsFiles(const std::string& ca_file,
                           const std::string& cert_file,
                           const std::string& key_file) {
  if (absl::StatusOr<Cert> ca = LoadCert(ca_file, "CA file"); !ca.ok()) {
    return ca.status();
  }
  if (cert_file.empty() && key_file.empty()) return absl::OkStatus();
  absl::StatusOr<Cert> cert = LoadCert(cert_file, "certificate");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<File> f = Open(key_file, "key");
  if (!f.ok()) return f.status();
  Key key(PEM_read_PrivateKey(f->get(), nullptr, nullptr, nullptr));
  if (key == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "key ", key_file, " holds no unencrypted PEM private key"));
  }
  if (X509_check_private_key(cert->get(), key.get()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "key ", key_file, " does not match certificate ", cert_file));
  }
  return absl::OkStatus();
}

}  // namespace ohfed
