// A rollup cell's buckets (aggregator/rollup_buckets.h): copies share one
// array until one of them changes, so that a commit's copy of a rollup block
// copies no bucket array it does not change.
#include "aggregator/rollup_buckets.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace ohfed::aggregator {
namespace {

// One cell's buckets as a unit holds them (a summary of one cell).
UnitCells CellWith(std::vector<std::pair<double, uint64_t>> buckets) {
  google::protobuf::RepeatedPtrField<v1::Cell> all;
  v1::Cell* c = all.Add();
  c->set_measure("d.wait");
  for (const auto& [value, count] : buckets) {
    v1::Bucket* b = c->add_buckets();
    b->set_value(value);
    b->set_count(count);
  }
  return UnitCells(all);
}

TEST(RollupBucketsTest, CopiesShareTheArrayUntilOneChanges) {
  RollupBuckets original{{1, 2}, {4, 1}, {9, 3}};
  original.shrink_to_fit();
  RollupBuckets copy = original;
  EXPECT_EQ(copy.begin(), original.begin());  // shared, not copied

  UnitCells cell = CellWith({{4, 1}, {5, 2}});
  copy.Apply(cell.begin()->buckets(), +1);
  EXPECT_NE(copy.begin(), original.begin());
  EXPECT_EQ(copy, (RollupBuckets{{1, 2}, {4, 2}, {5, 2}, {9, 3}}));
  EXPECT_EQ(original, (RollupBuckets{{1, 2}, {4, 1}, {9, 3}}));
  // Copied once, at the size it needed: one more value, no spare room.
  EXPECT_EQ(copy.bytes(), original.bytes() + sizeof(RollupBuckets::value_type));

  // Owned now: changed in place.
  const RollupBuckets::const_iterator before = copy.begin();
  copy.Apply(cell.begin()->buckets(), -1);
  EXPECT_EQ(copy.begin(), before);
  EXPECT_EQ(copy, original);

  for (auto change : {+[](RollupBuckets& b) { b[1] += 1; },
                      +[](RollupBuckets& b) { b.erase(4); },
                      +[](RollupBuckets& b) { b.clear(); },
                      +[](RollupBuckets& b) {
                        UnitCells down = CellWith({{9, 3}});
                        b.Apply(down.begin()->buckets(), -1);
                      }}) {
    RollupBuckets changed = original;
    change(changed);
    EXPECT_NE(changed, original);
    EXPECT_EQ(original, (RollupBuckets{{1, 2}, {4, 1}, {9, 3}}));
  }
}

TEST(RollupBucketsTest, TakingAwayNeverGoesBelowZeroNorKeepsEmptyValues) {
  RollupBuckets b{{2, 1}};
  UnitCells more = CellWith({{2, 5}, {3, 1}});
  b.Apply(more.begin()->buckets(), -1);
  EXPECT_TRUE(b.empty());
  b.Apply(more.begin()->buckets(), -1);
  EXPECT_TRUE(b.empty());
  UnitCells none = CellWith({{2, 0}});
  b.Apply(none.begin()->buckets(), +1);
  EXPECT_TRUE(b.empty());
}

// Copies made, read and dropped on other threads while the original is
// changed (a published snapshot's blocks, read by queries): each copy keeps
// what it was copied with (run under TSan by tests/sanitize.sh).
TEST(RollupBucketsTest, CopiesOnOtherThreadsKeepWhatTheyHeld) {
  RollupBuckets b{{1, 1}};
  UnitCells one = CellWith({{1, 1}, {2, 1}});
  std::vector<std::thread> readers;
  for (int round = 0; round < 50; ++round) {
    RollupBuckets copy = b;
    const uint64_t total = [&] {
      uint64_t t = 0;
      for (const auto& [value, count] : copy) t += count;
      return t;
    }();
    readers.emplace_back([copy = std::move(copy), total] {
      uint64_t t = 0;
      for (const auto& [value, count] : copy) t += count;
      EXPECT_EQ(t, total);
    });
    b.Apply(one.begin()->buckets(), +1);
  }
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(b, (RollupBuckets{{1, 51}, {2, 50}}));
}

}  // namespace
}  // namespace ohfed::aggregator
