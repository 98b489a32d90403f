// The index's copy-on-write map (aggregator/cow_map.h): copies share every
// entry until one changes, and then only the changed chunk is copied.
#include "aggregator/cow_map.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace ohfed::aggregator {
namespace {

std::map<std::string, int> Entries(const CowMap<int>& m) {
  std::map<std::string, int> out;
  m.ForEach([&](const std::string& k, int v) { out.emplace(k, v); });
  return out;
}

TEST(CowMapTest, ACopySharesWhatNeitherChanges) {
  CowMap<int> map;
  for (int i = 0; i < 200; ++i) map.Mutable(absl::StrCat("R", i)) = i;
  const CowMap<int> snapshot = map;
  map.Mutable("R7") = -7;
  // The snapshot keeps its value; most entries are still the same objects
  // (only the changed key's chunk was copied).
  EXPECT_EQ(*snapshot.Find("R7"), 7);
  EXPECT_EQ(*map.Find("R7"), -7);
  int shared = 0;
  for (int i = 0; i < 200; ++i) {
    const std::string key = absl::StrCat("R", i);
    if (map.Find(key) == snapshot.Find(key)) ++shared;
  }
  EXPECT_GE(shared, 150);
  EXPECT_LT(shared, 200);
  // Changing it again copies nothing more: the chunk is the map's own now.
  const int* before = map.Find("R7");
  map.Mutable("R7") = -8;
  EXPECT_EQ(map.Find("R7"), before);
}

TEST(CowMapTest, RandomChangesUnderSnapshotsMatchAPlainMap) {
  std::mt19937 rng(14);
  CowMap<int> map;
  std::map<std::string, int> want;
  std::vector<std::pair<CowMap<int>, std::map<std::string, int>>> snapshots;
  for (int step = 0; step < 3000; ++step) {
    const std::string key = absl::StrCat("k", rng() % 300);
    if (rng() % 4 == 0) {
      EXPECT_EQ(map.Erase(key), want.erase(key) == 1) << key;
    } else {
      bool inserted = false;
      int& v = map.Mutable(key, &inserted);
      EXPECT_EQ(inserted, !want.contains(key)) << key;
      if (inserted) EXPECT_EQ(v, 0);
      v = step;
      want[key] = step;
    }
    ASSERT_EQ(map.size(), want.size());
    if (rng() % 50 == 0) snapshots.emplace_back(map, want);
  }
  EXPECT_EQ(Entries(map), want);
  map.ForEachMutable([](const std::string&, int& v) { v = -v; });
  for (auto& [key, v] : want) v = -v;
  EXPECT_EQ(Entries(map), want);
  for (const auto& [snapshot, held] : snapshots) {
    EXPECT_EQ(Entries(snapshot), held);
    EXPECT_EQ(snapshot.size(), held.size());
    for (const auto& [key, v] : held) EXPECT_EQ(*snapshot.Find(key), v);
  }
  map.Clear();
  EXPECT_TRUE(map.empty());
  EXPECT_EQ(map.Find("k1"), nullptr);
}

}  // namespace
}  // namespace ohfed::aggregator
