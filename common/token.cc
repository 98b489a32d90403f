#include "common/token.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <fstream>
#include <sstream>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace ohfed {
namespace {

constexpr absl::string_view kHashPrefix = "sha256:";
constexpr size_t kTokenBytes = 32;
constexpr size_t kMaxEcho = 64;

bool IsLowerHex(absl::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

absl::Status CheckName(absl::string_view name) {
  if (name.size() > kMaxTokenNameBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("name is longer than ", kMaxTokenNameBytes, " bytes"));
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError("name has a control character");
    }
  }
  return absl::OkStatus();
}

// One non-comment line: "sha256:HEX SCOPE [NAME]".
absl::StatusOr<TokenEntry> ParseLine(absl::string_view line,
                                     const Registry& registry) {
  std::vector<absl::string_view> parts = absl::StrSplit(
      line, absl::MaxSplits(absl::ByAnyChar(" \t"), 2), absl::SkipEmpty());
  if (parts.size() < 2) {
    return absl::InvalidArgumentError("expected 'sha256:HEX SCOPE [NAME]'");
  }
  TokenEntry entry;
  absl::string_view hash = parts[0];
  if (!absl::StartsWith(hash, kHashPrefix) ||
      hash.size() != kHashPrefix.size() + 2 * SHA256_DIGEST_LENGTH ||
      !IsLowerHex(hash.substr(kHashPrefix.size()))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", hash.substr(0, kMaxEcho),
        "' is not a token hash (sha256: and 64 lowercase hex digits; "
        "the file holds hashes, never tokens)"));
  }
  entry.hash = std::string(hash);
  absl::StatusOr<Scope> scope = Scope::Parse(parts[1]);
  if (!scope.ok()) return scope.status();
  if (absl::Status known = registry.Check(*scope); !known.ok()) {
    return absl::InvalidArgumentError(known.message());
  }
  entry.scope = *scope;
  if (parts.size() == 3) {
    absl::string_view name = absl::StripAsciiWhitespace(parts[2]);
    if (absl::Status s = CheckName(name); !s.ok()) return s;
    entry.name = std::string(name);
  }
  return entry;
}

}  // namespace

absl::StatusOr<std::string> NewToken() {
  unsigned char bytes[kTokenBytes];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    return absl::InternalError("the system's random number generator failed");
  }
  std::string text;
  absl::WebSafeBase64Escape(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes),
      &text);
  OPENSSL_cleanse(bytes, sizeof bytes);
  return absl::StrCat("ohfed_", text);
}

std::string HashToken(absl::string_view token) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(),
         digest);
  return absl::StrCat(
      kHashPrefix, absl::BytesToHexString(absl::string_view(
                       reinterpret_cast<const char*>(digest), sizeof digest)));
}

absl::StatusOr<std::string> TokensFileLine(absl::string_view token,
                                           absl::string_view scope,
                                           absl::string_view name) {
  absl::StatusOr<Scope> parsed = Scope::Parse(scope);
  if (!parsed.ok()) return parsed.status();
  if (absl::Status s = CheckName(name); !s.ok()) return s;
  std::string line = absl::StrCat(HashToken(token), " ", parsed->ToString());
  if (!name.empty()) absl::StrAppend(&line, " ", name);
  return line;
}

absl::StatusOr<TokenTable> TokenTable::Parse(absl::string_view text,
                                             absl::string_view source,
                                             const Registry& registry) {
  TokenTable table;
  absl::flat_hash_set<std::string> seen;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    absl::string_view t = absl::StripAsciiWhitespace(line);
    if (t.empty() || t[0] == '#') continue;
    absl::StatusOr<TokenEntry> entry = ParseLine(t, registry);
    if (entry.ok() && !seen.insert(entry->hash).second) {
      entry = absl::InvalidArgumentError("the same token hash is listed twice");
    }
    if (!entry.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("tokens file ", source,
                                                     " line ", number, ": ",
                                                     entry.status().message()));
    }
    table.entries_.push_back(std::move(*entry));
  }
  return table;
}

absl::StatusOr<TokenTable> TokenTable::Load(const std::string& path,
                                            const Registry& registry) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  if (!in || in.bad()) {
    return absl::UnavailableError(
        absl::StrCat("cannot read tokens file ", path));
  }
  return Parse(text.str(), path, registry);
}

const TokenEntry* TokenTable::Find(absl::string_view token) const {
  const std::string hash = HashToken(token);
  const TokenEntry* found = nullptr;
  for (const TokenEntry& entry : entries_) {
    // Every entry has a hash of the same length as `hash` (Parse checks).
    if (CRYPTO_memcmp(entry.hash.data(), hash.data(), hash.size()) == 0) {
      found = &entry;
    }
  }
  return found;
}

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::UnavailableError(
        absl::StrCat("cannot read token file ", path));
  }
  std::string line;
  std::getline(in, line);
  absl::string_view token = absl::StripAsciiWhitespace(line);
  if (token.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("token file ", path, " has no token on its first line"));
  }
  return std::string(token);
}

}  // namespace ohfed
