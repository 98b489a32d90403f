// A rollup cell's buckets (aggregator/rollup_buckets.h): copies share one
// array until one of them changes, so that a commit's copy of a rollup block
// copies no bucket array it does not change.
#include "aggregator/rollup_buckets.h"

#include <gtest/gtest.h>

#include <climits>
#include <cmath>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"

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

template <typename It>
std::vector<std::pair<double, uint64_t>> Entries(It begin, It end) {
  return std::vector<std::pair<double, uint64_t>>(begin, end);
}

// Values far apart, so kept as sorted entries (the layout by whole value
// has its own test below).
TEST(RollupBucketsTest, CopiesShareTheArrayUntilOneChanges) {
  RollupBuckets original{{1, 2}, {40, 1}, {90, 3}};
  original.shrink_to_fit();
  RollupBuckets copy = original;
  EXPECT_EQ(copy.begin(), original.begin());  // shared, not copied

  UnitCells cell = CellWith({{40, 1}, {50, 2}});
  copy.Apply(cell.begin()->buckets(), +1);
  EXPECT_NE(copy.begin(), original.begin());
  EXPECT_EQ(copy, (RollupBuckets{{1, 2}, {40, 2}, {50, 2}, {90, 3}}));
  EXPECT_EQ(original, (RollupBuckets{{1, 2}, {40, 1}, {90, 3}}));
  // Copied once, at the size it needed: one more value, no spare room.
  EXPECT_FALSE(copy.by_whole_value());
  EXPECT_EQ(copy.bytes(), original.bytes() + sizeof(RollupBuckets::value_type));

  // Owned now: changed in place.
  const RollupBuckets::const_iterator before = copy.begin();
  copy.Apply(cell.begin()->buckets(), -1);
  EXPECT_EQ(copy.begin(), before);
  EXPECT_EQ(copy, original);

  for (auto change : {+[](RollupBuckets& b) { b[1] += 1; },
                      +[](RollupBuckets& b) { b.erase(40); },
                      +[](RollupBuckets& b) { b.clear(); },
                      +[](RollupBuckets& b) {
                        UnitCells down = CellWith({{90, 3}});
                        b.Apply(down.begin()->buckets(), -1);
                      }}) {
    RollupBuckets changed = original;
    change(changed);
    EXPECT_NE(changed, original);
    EXPECT_EQ(original, (RollupBuckets{{1, 2}, {40, 1}, {90, 3}}));
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

// A rollup of days that fills its range (every day from the first to the
// longest wait, as national and regional rollups do) keeps one count per
// day: half the bytes of sorted (value, count) entries, and a unit's
// buckets added in place by index, in a copy made once while a snapshot
// shares the array.
TEST(RollupBucketsTest, ARangeOfDaysFilledIsCountedByDayInHalfTheBytes) {
  RollupBuckets b;
  std::mt19937 rng(2);
  std::vector<UnitCells> units;
  for (int unit = 0; unit < 20; ++unit) {
    std::vector<std::pair<double, uint64_t>> buckets;
    for (int k = 0; k < 5; ++k) buckets.emplace_back(1 + 7 * k + rng() % 7, 1);
    units.push_back(CellWith(buckets));
    b.Apply(units.back().begin()->buckets(), +1);
  }
  std::vector<std::pair<double, uint64_t>> every_day;
  for (int day = 1; day <= 35; ++day) every_day.emplace_back(day, 1);
  b.Apply(CellWith(every_day).begin()->buckets(), +1);
  ASSERT_TRUE(b.by_whole_value());
  EXPECT_EQ(b.size(), 35u);
  EXPECT_LE(b.bytes(), 16 + 35 * sizeof(uint64_t));

  const RollupBuckets snapshot = b;
  const std::vector<std::pair<double, uint64_t>> held(snapshot.begin(),
                                                      snapshot.end());
  b.Apply(units[0].begin()->buckets(), -1);  // copied once, same range
  EXPECT_NE(b.begin(), snapshot.begin());
  EXPECT_EQ(b.bytes(), snapshot.bytes());
  const RollupBuckets::const_iterator owned = b.begin();
  b.Apply(units[1].begin()->buckets(), -1);  // in place
  b.Apply(units[0].begin()->buckets(), +1);
  EXPECT_EQ(b.begin(), owned);
  EXPECT_EQ(Entries(snapshot.begin(), snapshot.end()), held);
  b.Apply(units[1].begin()->buckets(), +1);
  EXPECT_EQ(b, snapshot);
  EXPECT_EQ(b.rbegin()->first, 35);
  EXPECT_EQ(b.find(35)->second, snapshot.find(35)->second);

  // Values out of the range, or not whole, turn it back into entries
  // where those are smaller; either way it holds what a map would.
  b.Apply(CellWith({{0.5, 1}, {400, 2}}).begin()->buckets(), +1);
  EXPECT_FALSE(b.by_whole_value());
  EXPECT_EQ(b.size(), 37u);
  EXPECT_EQ(b.rbegin()->first, 400);
  EXPECT_EQ(b.begin()->first, 0.5);
}

// Random changes in every layout (whole days close together or far apart,
// halves, negative values, 0 and -0.0; buckets in or out of order), with
// copies taken along the way: the buckets always hold what a map changed
// the same way holds, and each copy what it held when taken.
TEST(RollupBucketsTest, RandomChangesUnderCopiesMatchAMap) {
  std::mt19937 rng(20261127);
  auto pick = [&](uint32_t n) { return rng() % n; };
  int by_value = 0, whole_ascending = 0, started_empty = 0;
  for (int run = 0; run < 40; ++run) {
    SCOPED_TRACE(absl::StrCat("run ", run));
    const int kind = run % 4;
    auto value = [&]() -> double {
      switch (kind) {
        case 0:
          return 1 + pick(20);
        case 1:
          return pick(2000);
        case 2:
          return pick(30) / 2.0 - 5;
        default:
          return pick(8) == 0 ? -0.0 : static_cast<double>(pick(6)) - 2;
      }
    };
    RollupBuckets b;
    std::map<double, uint64_t> expected;
    std::vector<std::pair<RollupBuckets, std::map<double, uint64_t>>> copies;
    for (int step = 0; step < 200; ++step) {
      std::map<double, uint64_t> distinct;
      for (int k = 1 + pick(6); k > 0; --k) distinct[value()] = pick(4);
      std::vector<std::pair<double, uint64_t>> buckets(distinct.begin(),
                                                       distinct.end());
      if (pick(5) == 0) std::shuffle(buckets.begin(), buckets.end(), rng);
      const int sign = pick(3) == 0 ? -1 : +1;
      // With the buckets' WholeAscending worked out by the caller (then
      // not checked again), or said to be unknown (checked here).
      const UnitCells cell = CellWith(buckets);
      const absl::Span<const UnitCell::Bucket> given = cell.begin()->buckets();
      if (pick(2) == 0) {
        const bool whole = WholeAscending(given);
        // Started from nothing: the array the merge makes of them.
        RollupBuckets merged;
        const bool started = b.empty();
        if (started) merged.Apply(given, sign, /*whole_ascending=*/false);
        b.Apply(given, sign, whole);
        whole_ascending += whole;
        if (started) {
          EXPECT_EQ(b.by_whole_value(), merged.by_whole_value());
          EXPECT_EQ(b.bytes(), merged.bytes());
          EXPECT_EQ(b, merged);
          started_empty += whole && !b.empty();
        }
      } else {
        b.Apply(given, sign, /*whole_ascending=*/false);
      }
      for (const auto& [v, count] : buckets) {
        uint64_t& to = expected[v];
        to = sign > 0 ? to + count : to - std::min(to, count);
        if (to == 0) expected.erase(v);
      }
      ASSERT_EQ(b.size(), expected.size()) << "step " << step;
      ASSERT_EQ(Entries(b.begin(), b.end()),
                Entries(expected.begin(), expected.end()))
          << "step " << step;
      ASSERT_EQ(Entries(b.rbegin(), b.rend()),
                Entries(expected.rbegin(), expected.rend()))
          << "step " << step;
      for (const auto& [v, count] : expected) {
        ASSERT_NE(b.find(v), b.end()) << v;
        EXPECT_EQ(b.find(v)->second, count);
        EXPECT_EQ(std::signbit(b.find(v)->first), std::signbit(v));
      }
      EXPECT_EQ(b.find(1000.25), b.end());
      by_value += b.by_whole_value();
      if (pick(8) == 0) copies.emplace_back(b, expected);
      if (pick(40) == 0) b.shrink_to_fit();
      if (pick(60) == 0) {
        const double v = value();
        b.erase(v);
        expected.erase(v);
      }
    }
    for (const auto& [copy, held] : copies) {
      EXPECT_EQ(Entries(copy.begin(), copy.end()),
                Entries(held.begin(), held.end()));
    }
  }
  EXPECT_GT(by_value, 0);         // the layout by whole value was exercised
  EXPECT_GT(whole_ascending, 0);  // and cells known whole and ascending
  EXPECT_GT(started_empty, 0);    // some of them starting a rollup cell
}

// Whether a cell's buckets ascend and are whole numbers a rollup counts by
// value, which the index works out once for a changed cell so that the
// rollups of its nodes do not check each bucket again: never for buckets
// out of order, repeated, not whole, beyond int32, or -0.0, whichever
// bucket it is.
TEST(RollupBucketsTest, WholeAscendingBucketsAreTold) {
  using Buckets = std::vector<std::pair<double, uint64_t>>;
  auto whole = [](const Buckets& buckets) {
    return WholeAscending(CellWith(buckets).begin()->buckets());
  };
  EXPECT_TRUE(WholeAscending({}));
  EXPECT_TRUE(whole({{3, 1}}));
  EXPECT_TRUE(whole({{-7, 1}, {0, 2}, {1, 1}, {365, 4}}));
  EXPECT_TRUE(whole({{INT32_MIN + 1.0, 1}, {INT32_MAX, 1}}));
  for (const double bad :
       {2.5, -0.0, static_cast<double>(INT32_MIN), INT32_MAX + 1.0, 0x1p53,
        HUGE_VAL, -HUGE_VAL, std::nan("")}) {
    // Alone, last, first or between buckets that ascend otherwise.
    std::vector<Buckets> lists = {{{bad, 1}}};
    if (bad > INT32_MIN + 1.0) {
      lists.push_back({{INT32_MIN + 1.0, 1}, {bad, 1}});
    }
    if (bad < INT32_MAX) lists.push_back({{bad, 1}, {INT32_MAX, 1}});
    if (bad > -100 && bad < 100) {
      lists.push_back({{-100, 1}, {bad, 1}, {100, 1}});
    }
    for (const Buckets& buckets : lists) {
      SCOPED_TRACE(absl::StrCat(bad, " of ", buckets.size()));
      EXPECT_FALSE(whole(buckets));
    }
  }
  for (const Buckets& unordered :
       {Buckets{{2, 1}, {1, 1}}, Buckets{{1, 1}, {3, 1}, {2, 1}},
        Buckets{{1, 1}, {1, 2}}, Buckets{{1, 1}, {5, 1}, {5, 1}}}) {
    EXPECT_FALSE(whole(unordered));
  }
}

}  // namespace
}  // namespace ohfed::aggregator
