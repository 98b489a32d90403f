// Bearer tokens for query callers (SPEC §8): `ohfed token new` makes one,
// the aggregator's tokens file (`--tokens FILE`) maps the hash of each to
// the scope it may read. The file never holds a token itself, so reading it
// does not let anyone query.
//
// Tokens file format: one token per line,
//   sha256:HEX SCOPE [NAME]
// HEX is the lowercase SHA-256 of the token text (64 digits), SCOPE is
// "national", "region:CODE", "ics:CODE" or "trust:CODE", and NAME (optional,
// to the end of the line) says whose it is. Blank lines and lines starting
// with '#' are ignored.
#ifndef OHFED_COMMON_TOKEN_H_
#define OHFED_COMMON_TOKEN_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/registry.h"

namespace ohfed {

// A fresh token: "ohfed_" then 32 bytes (256 bits) from OpenSSL's CSPRNG in
// unpadded base64url, so it is safe in a URL, a header and a file.
// kInternal if the CSPRNG fails.
absl::StatusOr<std::string> NewToken();

// "sha256:" and the lowercase hex SHA-256 of `token`.
std::string HashToken(absl::string_view token);

// The tokens-file line for `token` (no newline). `name` may be empty;
// kInvalidArgument for a malformed scope, or a name with control characters
// or longer than kMaxTokenNameBytes.
inline constexpr size_t kMaxTokenNameBytes = 64;
absl::StatusOr<std::string> TokensFileLine(absl::string_view token,
                                           absl::string_view scope,
                                           absl::string_view name);

struct TokenEntry {
  std::string hash;  // "sha256:HEX"
  Scope scope;
  std::string name;  // may be empty
};

// The tokens of a tokens file. Immutable once built, so thread-safe.
class TokenTable {
 public:
  // Parses a tokens file. kInvalidArgument naming `source` and the line for
  // a malformed hash, scope or name, a duplicate hash, or a scope `registry`
  // does not know.
  static absl::StatusOr<TokenTable> Parse(absl::string_view text,
                                          absl::string_view source,
                                          const Registry& registry);
  // Parse of the file's contents; kUnavailable naming the path when it
  // cannot be read.
  static absl::StatusOr<TokenTable> Load(const std::string& path,
                                         const Registry& registry);

  // The entry whose hash is the token's, or nullptr. Every entry is
  // compared in constant time (CRYPTO_memcmp, no early exit), so timing
  // reveals neither which entry nor how much of a hash matched.
  const TokenEntry* Find(absl::string_view token) const;

  size_t size() const { return entries_.size(); }

 private:
  std::vector<TokenEntry> entries_;
};

// The token in a file: its first line, without surrounding whitespace.
// kInvalidArgument naming the path if it is empty, kUnavailable if it cannot
// be read.
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);

}  // namespace ohfed

#endif  // OHFED_COMMON_TOKEN_H_
