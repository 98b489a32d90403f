#include "dashboard/serving_certificate.h"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace ohfed::dashboard {

struct ServingCertificate::Pair {
  X509* cert = nullptr;
  STACK_OF(X509) * chain = nullptr;  // intermediates after the certificate
  EVP_PKEY* key = nullptr;
  ~Pair() {
    X509_free(cert);
    sk_X509_pop_free(chain, X509_free);
    EVP_PKEY_free(key);
  }
};

namespace {

using Pair = ServingCertificate::Pair;

absl::StatusOr<std::shared_ptr<const Pair>> ReadPair(const std::string& cert,
                                                     const std::string& key) {
  auto pair = std::make_shared<Pair>();
  BIO* in = BIO_new_file(cert.c_str(), "r");
  if (in == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot read ", cert));
  }
  pair->cert = PEM_read_bio_X509(in, nullptr, nullptr, nullptr);
  pair->chain = sk_X509_new_null();
  while (X509* extra = PEM_read_bio_X509(in, nullptr, nullptr, nullptr)) {
    sk_X509_push(pair->chain, extra);
  }
  BIO_free(in);
  if (pair->cert == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(cert, " holds no PEM certificate"));
  }
  in = BIO_new_file(key.c_str(), "r");
  if (in == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot read ", key));
  }
  pair->key = PEM_read_bio_PrivateKey(in, nullptr, nullptr, nullptr);
  BIO_free(in);
  if (pair->key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(key, " holds no PEM private key"));
  }
  if (X509_check_private_key(pair->cert, pair->key) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(key, " is not the key of ", cert));
  }
  return std::shared_ptr<const Pair>(std::move(pair));
}

}  // namespace

absl::StatusOr<std::unique_ptr<ServingCertificate>> ServingCertificate::Load(
    std::string cert_file, std::string key_file, absl::Duration refresh) {
  absl::StatusOr<std::shared_ptr<const Pair>> pair =
      ReadPair(cert_file, key_file);
  if (!pair.ok()) return pair.status();
  std::unique_ptr<ServingCertificate> s(new ServingCertificate(
      std::move(cert_file), std::move(key_file), refresh));
  absl::MutexLock l(&s->mu_);
  s->pair_ = *std::move(pair);
  s->checked_ = absl::Now();
  return s;
}

ServingCertificate::~ServingCertificate() = default;

bool ServingCertificate::Install(SSL_CTX& ctx) {
  std::shared_ptr<const Pair> pair = Current();
  if (SSL_CTX_use_certificate(&ctx, pair->cert) != 1 ||
      SSL_CTX_use_PrivateKey(&ctx, pair->key) != 1 ||
      SSL_CTX_set1_chain(&ctx, pair->chain) != 1) {
    return false;
  }
  SSL_CTX_set_cert_cb(&ctx, &ServingCertificate::OnHandshake, this);
  return true;
}

std::shared_ptr<const Pair> ServingCertificate::Current() {
  absl::MutexLock l(&mu_);
  const absl::Time now = absl::Now();
  if (now - checked_ >= refresh_) {
    checked_ = now;
    // A pair caught half renewed is skipped: the last good one stays.
    if (auto fresh = ReadPair(cert_file_, key_file_); fresh.ok()) {
      pair_ = *std::move(fresh);
    }
  }
  return pair_;
}

int ServingCertificate::OnHandshake(SSL* ssl, void* self) {
  std::shared_ptr<const Pair> pair =
      static_cast<ServingCertificate*>(self)->Current();
  return SSL_use_certificate(ssl, pair->cert) == 1 &&
                 SSL_use_PrivateKey(ssl, pair->key) == 1 &&
                 SSL_set1_chain(ssl, pair->chain) == 1
             ? 1
             : 0;
}

}  // namespace ohfed::dashboard
