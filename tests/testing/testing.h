// Test helpers: a temporary directory per test and absl::Status matchers
// (Abseil 20220623 ships none).
#ifndef OHFED_TESTS_TESTING_TESTING_H_
#define OHFED_TESTS_TESTING_TESTING_H_

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ohfed::testing {

// A fresh directory under $TMPDIR, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }
  // Writes `content` to File(name) and returns its path.
  std::string Write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

// The project source tree (for shipped data files).
std::string SourceDir();

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& s = GetStatus(arg);
  if (!s.ok()) *result_listener << "status: " << s;
  return s.ok();
}

// Matches a non-OK status with the code whose message contains `substr`.
MATCHER_P2(StatusIs, code, substr,
           std::string("has code ") + absl::StatusCodeToString(code) +
               " and message containing '" + std::string(substr) + "'") {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status: " << s;
  return s.code() == code &&
         s.message().find(std::string(substr)) != std::string::npos;
}

}  // namespace ohfed::testing

#define OHFED_ASSERT_OK(expr) ASSERT_THAT((expr), ::ohfed::testing::IsOk())
#define OHFED_EXPECT_OK(expr) EXPECT_THAT((expr), ::ohfed::testing::IsOk())

#endif  // OHFED_TESTS_TESTING_TESTING_H_
