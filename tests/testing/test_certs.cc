#include "tests/testing/test_certs.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <iostream>

namespace ohfed::testing {
namespace {

constexpr long kDay = 24 * 60 * 60;

void Check(bool ok, const char* what) {
  if (!ok) {
    std::cerr << "test_certs: " << what << " failed\n";
    std::abort();
  }
}

std::string Pem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  Check(PEM_write_bio_X509(bio, cert) == 1, "PEM_write_bio_X509");
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, n);
  BIO_free(bio);
  return pem;
}

std::string Pem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  Check(PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr,
                                 nullptr) == 1,
        "PEM_write_bio_PrivateKey");
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, n);
  BIO_free(bio);
  return pem;
}

void AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  Check(ext != nullptr, "X509V3_EXT_conf_nid");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

}  // namespace

struct TestCa::Impl {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  long serial = 1;

  ~Impl() {
    X509_free(cert);
    EVP_PKEY_free(key);
  }

  // A certificate for `cn` signed by this CA (or self-signed when `cert` is
  // not made yet), valid from `from` to `to` seconds from now.
  KeyPair Make(const std::string& cn, long from, long to, bool ca,
               const char* san, const char* usage) {
    EVP_PKEY* leaf_key = EVP_EC_gen("P-256");
    Check(leaf_key != nullptr, "EVP_EC_gen");
    X509* x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
    X509_gmtime_adj(X509_getm_notBefore(x), from);
    X509_gmtime_adj(X509_getm_notAfter(x), to);
    X509_set_pubkey(x, leaf_key);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(
        name, "CN", MBSTRING_ASC,
        reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    X509* issuer = ca ? x : cert;
    X509_set_issuer_name(x, X509_get_subject_name(issuer));
    AddExtension(x, issuer, NID_basic_constraints,
                 ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    AddExtension(x, issuer, NID_key_usage,
                 ca ? "critical,keyCertSign,cRLSign"
                    : "critical,digitalSignature,keyEncipherment");
    if (usage != nullptr) AddExtension(x, issuer, NID_ext_key_usage, usage);
    if (san != nullptr) AddExtension(x, issuer, NID_subject_alt_name, san);
    Check(X509_sign(x, ca ? leaf_key : key, EVP_sha256()) > 0, "X509_sign");
    KeyPair pair{Pem(x), Pem(leaf_key)};
    if (ca) {
      key = leaf_key;
      cert = x;
    } else {
      X509_free(x);
      EVP_PKEY_free(leaf_key);
    }
    return pair;
  }
};

TestCa::TestCa(const std::string& name) : impl_(std::make_unique<Impl>()) {
  ca_ = impl_->Make(name, -kDay, 30 * kDay, /*ca=*/true, nullptr, nullptr);
}

TestCa::~TestCa() = default;

KeyPair TestCa::Server() {
  return impl_->Make("ohfed test server", -kDay, 30 * kDay, false,
                     "DNS:localhost,IP:127.0.0.1", "serverAuth");
}

KeyPair TestCa::Client(const std::string& cn, bool expired) {
  return expired
             ? impl_->Make(cn, -10 * kDay, -kDay, false, nullptr, "clientAuth")
             : impl_->Make(cn, -kDay, 30 * kDay, false, nullptr, "clientAuth");
}

}  // namespace ohfed::testing
