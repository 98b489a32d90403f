#include "tests/testing/testing.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace ohfed::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base ? base : "/tmp") + "/ohfed_test_XXXXXX";
  char* made = mkdtemp(tmpl.data());
  if (made == nullptr) std::abort();
  path_ = made;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::Write(const std::string& name,
                           const std::string& content) const {
  std::string p = File(name);
  std::ofstream(p, std::ios::binary) << content;
  return p;
}

std::string SourceDir() {
  const char* dir = std::getenv("OHFED_SOURCE_DIR");
  return dir ? dir : OHFED_SOURCE_DIR_DEFAULT;
}

}  // namespace ohfed::testing
