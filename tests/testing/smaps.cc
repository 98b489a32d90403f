#include "tests/testing/smaps.h"

#include <algorithm>
#include <fstream>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace ohfed::testing {

bool Mapping::Has(const std::string& flag) const {
  return std::find(vm_flags.begin(), vm_flags.end(), flag) != vm_flags.end();
}

std::vector<Mapping> ReadSmaps(pid_t pid) {
  std::vector<Mapping> out;
  std::ifstream in(absl::StrCat("/proc/", pid, "/smaps"));
  std::string line;
  while (std::getline(in, line)) {
    std::vector<absl::string_view> f =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (f.empty()) continue;
    if (f[0] == "VmFlags:" && !out.empty()) {
      for (size_t i = 1; i < f.size(); ++i) {
        out.back().vm_flags.emplace_back(f[i]);
      }
    } else if (f[0] == "THPeligible:" && !out.empty()) {
      out.back().thp_eligible = f.size() > 1 && f[1] == "1";
    } else if (f[0].back() != ':') {  // "start-end perms offset dev inode"
      std::pair<absl::string_view, absl::string_view> range =
          absl::StrSplit(f[0], '-');
      Mapping m;
      uint64_t start = 0, end = 0;
      if (absl::SimpleHexAtoi(range.first, &start) &&
          absl::SimpleHexAtoi(range.second, &end)) {
        m.start = start;
        m.end = end;
        out.push_back(std::move(m));
      }
    }
  }
  return out;
}

Mapping MappingOf(const std::vector<Mapping>& maps, const void* address) {
  const auto a = reinterpret_cast<uintptr_t>(address);
  for (const Mapping& m : maps) {
    if (m.start <= a && a < m.end) return m;
  }
  return Mapping{};
}

std::string TransparentHugePageMode() {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  const size_t open = text.find('['), close = text.find(']');
  if (open == std::string::npos || close == std::string::npos) return "";
  return text.substr(open + 1, close - open - 1);
}

}  // namespace ohfed::testing
