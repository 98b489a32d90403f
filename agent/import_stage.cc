#include "agent/import_stage.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "agent/sorted_runs.h"
#include "common/status.h"

namespace ohfed::agent {
namespace {

std::atomic<uint64_t> next_file{0};

absl::Status Corrupt(const std::string& path) {
  return absl::DataLossError(absl::StrCat("corrupt import staging file ",
                                          path.empty() ? "(in memory)" : path));
}

absl::Status DecodeAll(
    absl::string_view in, const std::string& path,
    absl::FunctionRef<absl::Status(const ActivityView&)> fn) {
  while (!in.empty()) {
    ActivityView r;
    if (!DecodeStaged(&in, &r)) return Corrupt(path);
    OHFED_RETURN_IF_ERROR(fn(r));
  }
  return absl::OkStatus();
}

// Numbers distinct strings as first seen: a few (a file's activities and
// client organisations) by a linear search, cheaper than hashing each row's,
// more in a hash map.
class Numbering {
 public:
  uint32_t Of(absl::string_view s) {
    if (map_.empty()) {
      for (uint32_t i = 0; i < names_.size(); ++i) {
        if (names_[i] == s) return i;
      }
      if (names_.size() < kLinear) {
        names_.push_back(s);
        return static_cast<uint32_t>(names_.size() - 1);
      }
      for (uint32_t i = 0; i < names_.size(); ++i) map_.emplace(names_[i], i);
    }
    auto [it, fresh] = map_.try_emplace(s, names_.size());
    if (fresh) names_.push_back(s);
    return it->second;
  }
  size_t size() const { return names_.size(); }
  // The first-seen numbers' ranks in name order.
  std::vector<uint64_t> Ranks() const {
    std::vector<uint32_t> order(names_.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](uint32_t a, uint32_t b) { return names_[a] < names_[b]; });
    std::vector<uint64_t> rank(names_.size());
    for (uint32_t i = 0; i < order.size(); ++i) rank[order[i]] = i;
    return rank;
  }

 private:
  static constexpr size_t kLinear = 16;
  std::vector<absl::string_view> names_;
  absl::flat_hash_map<absl::string_view, uint32_t> map_;
};

}  // namespace

// A staged row's integer sort key and where its record lies in the batch:
// 24 bytes a row (the record is decoded again to break a tie).
struct ActivityStage::Keyed {
  uint64_t high = 0, low = 0;
  uint32_t offset = 0, length = 0;
};

namespace {

using Keyed = ActivityStage::Keyed;

// The rows of `batch` (stage form) as views of their records, in canonical
// order. Sorting by string comparisons dominated an import's profile: each
// row gets an integer key that orders as the row does (date, ranks of
// activity and client_org among the batch's distinct values, then the
// first 8 bytes of subject_ref, zero-padded, which can tie but never
// invert), and only rows with equal keys are compared in full.
absl::Status SortStaged(absl::string_view batch, const std::string& path,
                        std::vector<Keyed>& keyed) {
  const auto record = [&](const Keyed& k) {
    return batch.substr(k.offset, k.length);
  };
  const auto row_of = [](absl::string_view record) {
    ActivityView row;
    DecodeStaged(&record, &row);
    return row;
  };
  const auto by_row = [&](const Keyed& a, const Keyed& b) {
    return CompareRows(row_of(record(a)), row_of(record(b))) < 0;
  };
  keyed.clear();
  // Distinct activities and client organisations, numbered as first seen,
  // then ranked: one lookup each a row, one decoding a row.
  Numbering activity, client;
  bool keyable = batch.size() <= UINT32_MAX;
  for (absl::string_view in = batch; !in.empty();) {
    const size_t offset = static_cast<size_t>(in.data() - batch.data());
    ActivityView row;
    if (!DecodeStaged(&in, &row)) return Corrupt(path);
    const size_t end = static_cast<size_t>(in.data() - batch.data());
    Keyed k{0, 0, static_cast<uint32_t>(offset),
            static_cast<uint32_t>(end - offset)};
    // "YYYY-MM-DD" as the number YYYYMMDD orders as the date does.
    const absl::string_view d = row.date;
    uint64_t date = 0;
    if (d.size() == 10 && d[4] == '-' && d[7] == '-') {
      for (char c : d) {
        if (c == '-') continue;
        keyable &= c >= '0' && c <= '9';
        date = date * 10 + static_cast<uint64_t>(c - '0');
      }
    } else {
      keyable = false;
    }
    const uint64_t a = activity.Of(row.activity);
    const uint64_t c = client.Of(row.client_org);
    uint64_t subject = 0;
    const absl::string_view s = row.subject_ref;
    for (size_t i = 0; i < 8; ++i) {
      subject =
          subject << 8 | (i < s.size() ? static_cast<unsigned char>(s[i]) : 0);
    }
    k.high = (date << 32) | (a & 0xFFFF) << 16 | (c & 0xFFFF);
    k.low = subject;
    keyed.push_back(k);
  }
  if (!keyable || activity.size() > 0xFFFF || client.size() > 0xFFFF) {
    std::sort(keyed.begin(), keyed.end(), by_row);
  } else {
    // First-seen numbers to ranks in name order.
    const std::vector<uint64_t> activity_rank = activity.Ranks();
    const std::vector<uint64_t> client_rank = client.Ranks();
    for (Keyed& k : keyed) {
      k.high = (k.high >> 32) << 32 |
               activity_rank[(k.high >> 16) & 0xFFFF] << 16 |
               client_rank[k.high & 0xFFFF];
    }
    std::sort(keyed.begin(), keyed.end(), [&](const Keyed& a, const Keyed& b) {
      if (a.high != b.high) return a.high < b.high;
      if (a.low != b.low) return a.low < b.low;
      return by_row(a, b);
    });
  }
  return absl::OkStatus();
}

// The records of `batch` in the order of `keyed`.
std::vector<absl::string_view> Records(absl::string_view batch,
                                       const std::vector<Keyed>& keyed) {
  std::vector<absl::string_view> out;
  out.reserve(keyed.size());
  for (const Keyed& k : keyed) out.push_back(batch.substr(k.offset, k.length));
  return out;
}

// Calls `fn` for the records of `batch` in the order of `keyed`, each
// fetched ahead: they lie all over the batch, so would miss the cache.
absl::Status DecodeInOrder(
    absl::string_view batch, const std::vector<Keyed>& keyed,
    const std::string& path,
    absl::FunctionRef<absl::Status(const ActivityView&)> fn) {
  constexpr size_t kAhead = 8;
  for (size_t i = 0; i < keyed.size(); ++i) {
    if (i + kAhead < keyed.size()) {
      __builtin_prefetch(batch.data() + keyed[i + kAhead].offset);
    }
    absl::string_view record = batch.substr(keyed[i].offset, keyed[i].length);
    ActivityView row;
    if (!DecodeStaged(&record, &row) || !record.empty()) return Corrupt(path);
    OHFED_RETURN_IF_ERROR(fn(row));
  }
  return absl::OkStatus();
}

}  // namespace

ActivityStage::ActivityStage(std::string dir, size_t memory_budget,
                             size_t sort_budget)
    : dir_(std::move(dir)),
      budget_(memory_budget),
      sort_budget_(std::max<size_t>(sort_budget, 1)),
      current_(std::make_unique<Sorted>()),
      spare_(std::make_unique<Sorted>()) {}

ActivityStage::~ActivityStage() {
  if (ahead_ != nullptr) ahead_->thread.join();
  if (fd_ >= 0) close(fd_);
  if (!path_.empty()) unlink(path_.c_str());
}

absl::Status ActivityStage::AddView(Month month, const ActivityView& row) {
  RestoreAhead();
  MonthRows& m = months_[month];
  const size_t before = m.buffer.size();
  EncodeStaged(row, &m.buffer);
  buffered_ += m.buffer.size() - before;
  ++m.rows;
  ++rows_;
  return buffered_ > budget_ ? Spill() : absl::OkStatus();
}

absl::Status ActivityStage::Spill() {
  if (fd_ < 0) {
    path_ =
        absl::StrCat(dir_, "/activity-", getpid(), "-", next_file++, ".stage");
    fd_ = open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd_ < 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot create import staging file ", path_, ": ",
                       std::strerror(errno)));
    }
  }
  for (auto& [month, m] : months_) {
    if (m.buffer.empty()) continue;
    const char* p = m.buffer.data();
    size_t left = m.buffer.size();
    while (left > 0) {
      ssize_t n = write(fd_, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        return absl::UnavailableError(
            absl::StrCat("cannot write import staging file ", path_, ": ",
                         std::strerror(errno)));
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    m.spilled.emplace_back(file_size_, m.buffer.size());
    file_size_ += m.buffer.size();
    std::string().swap(m.buffer);  // give the memory back
  }
  buffered_ = 0;
  return absl::OkStatus();
}

std::vector<Month> ActivityStage::Months() const {
  std::vector<Month> out;
  for (const auto& [month, m] : months_) out.push_back(month);
  if (ahead_ != nullptr) {
    out.insert(std::lower_bound(out.begin(), out.end(), ahead_->month),
               ahead_->month);
  }
  return out;
}

uint64_t ActivityStage::rows(Month month) const {
  if (ahead_ != nullptr && ahead_->month == month) return ahead_->rows.rows;
  auto it = months_.find(month);
  return it == months_.end() ? 0 : it->second.rows;
}

ActivityStage::MonthRows ActivityStage::Remove(Month month) {
  auto it = months_.find(month);
  if (it == months_.end()) return MonthRows();
  MonthRows m = std::move(it->second);
  months_.erase(it);
  buffered_ -= m.buffer.size();
  return m;
}

absl::Status ActivityStage::ReadExtent(std::pair<uint64_t, uint64_t> extent,
                                       std::string* out) const {
  const auto [offset, length] = extent;
  const size_t start = out->size();
  out->resize(start + length);
  size_t done = 0;
  while (done < length) {
    ssize_t n = pread(fd_, out->data() + start + done, length - done,
                      static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot read import staging file ", path_, ": ",
                       n == 0 ? "truncated" : std::strerror(errno)));
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ActivityRow>> ActivityStage::Take(Month month) {
  std::vector<ActivityRow> rows;
  OHFED_RETURN_IF_ERROR(ForEachStaged(month, [&](const ActivityView& r) {
    rows.push_back(r.ToRow());
    return absl::OkStatus();
  }));
  return rows;
}

absl::Status ActivityStage::ForEachStaged(
    Month month, absl::FunctionRef<absl::Status(const ActivityView&)> fn) {
  RestoreAhead();
  MonthRows m = Remove(month);
  std::string bytes;
  for (const auto& extent : m.spilled) {
    bytes.clear();
    OHFED_RETURN_IF_ERROR(ReadExtent(extent, &bytes));
    OHFED_RETURN_IF_ERROR(DecodeAll(bytes, path_, fn));
  }
  return DecodeAll(m.buffer, path_, fn);
}

absl::Status ActivityStage::SortWhole(const MonthRows& m, Sorted& out) const {
  out.batch.clear();
  for (const auto& extent : m.spilled) {
    OHFED_RETURN_IF_ERROR(ReadExtent(extent, &out.batch));
  }
  out.batch += m.buffer;
  return SortStaged(out.batch, path_, out.keyed);
}

void ActivityStage::StartAhead(Month month) {
  auto next = months_.upper_bound(month);
  if (next == months_.end()) return;
  size_t bytes = next->second.buffer.size();
  for (const auto& [offset, length] : next->second.spilled) bytes += length;
  if (bytes > sort_budget_) return;  // sorted in runs, when asked for
  // Both months' rows and keys within 3 sort budgets: two months of 1.6
  // MiB (figure 5's file, 24 months of 41,667 rows) take 5.3 MiB; two of
  // the sort budget each, with short rows, would take 7.7.
  const auto held = [](size_t batch, size_t rows) {
    return batch + rows * sizeof(Keyed);
  };
  if (held(bytes, next->second.rows) +
          held(current_->batch.size(), current_->keyed.size()) >
      3 * sort_budget_) {
    return;
  }
  // Sized here, once: from this thread's arena, with no copies as they grow.
  spare_->batch.reserve(bytes);
  spare_->keyed.reserve(next->second.rows);
  ahead_ = std::make_unique<Ahead>();
  ahead_->month = next->first;
  ahead_->rows = Remove(next->first);
  ahead_->thread =
      std::thread([this, ahead = ahead_.get(), out = spare_.get()] {
        ahead->status = SortWhole(ahead->rows, *out);
      });
}

void ActivityStage::RestoreAhead() {
  if (ahead_ == nullptr) return;
  ahead_->thread.join();
  buffered_ += ahead_->rows.buffer.size();
  months_[ahead_->month] = std::move(ahead_->rows);
  ahead_.reset();
}

absl::Status ActivityStage::ForEachSorted(
    Month month, absl::FunctionRef<absl::Status(const ActivityView&)> fn) {
  last_sort_runs_ = 0;
  // Once the file is read, a large import's rows left in memory go to the
  // staging file too: they would otherwise stay until their month is
  // taken, alongside the batches being sorted.
  if (fd_ >= 0 && buffered_ > 0) OHFED_RETURN_IF_ERROR(Spill());
  if (ahead_ != nullptr && ahead_->month == month) {
    ahead_->thread.join();
    const absl::Status sorted = ahead_->status;
    ahead_.reset();
    if (!sorted.ok()) return sorted;
    ++months_sorted_ahead_;
    std::swap(current_, spare_);
    StartAhead(month);
    return DecodeInOrder(current_->batch, current_->keyed, path_, fn);
  }
  RestoreAhead();
  MonthRows m = Remove(month);
  size_t next = 0;  // the next spilled extent
  bool tail = false;
  std::string& batch = current_->batch;
  std::vector<Keyed>& keyed = current_->keyed;
  // The next batch of whole rows, of about the sort budget; false: none.
  auto fill = [&]() -> absl::StatusOr<bool> {
    batch.clear();
    while (batch.size() < sort_budget_ && next < m.spilled.size()) {
      OHFED_RETURN_IF_ERROR(ReadExtent(m.spilled[next++], &batch));
    }
    if (batch.size() < sort_budget_ && !tail) {
      batch += m.buffer;
      std::string().swap(m.buffer);
      tail = true;
    }
    return !batch.empty();
  };
  auto more = [&] {
    return next < m.spilled.size() || (!tail && !m.buffer.empty());
  };
  auto decode = [&](absl::string_view record) -> absl::Status {
    ActivityView row;
    if (!DecodeStaged(&record, &row) || !record.empty()) {
      return absl::DataLossError(
          absl::StrCat("corrupt import staging file ", path_));
    }
    return fn(row);
  };
  OHFED_ASSIGN_OR_RETURN(bool any, fill());
  if (!any) return absl::OkStatus();
  if (!more()) keyed.reserve(m.rows);  // no copies as it grows
  OHFED_RETURN_IF_ERROR(SortStaged(batch, path_, keyed));
  if (!more()) {  // the month fits: no run written
    StartAhead(month);
    return DecodeInOrder(batch, keyed, path_, fn);
  }
  SortedRuns runs(dir_, "sort");
  while (true) {
    OHFED_RETURN_IF_ERROR(runs.AddRun(Records(batch, keyed)));
    OHFED_ASSIGN_OR_RETURN(any, fill());
    if (!any) break;
    OHFED_RETURN_IF_ERROR(SortStaged(batch, path_, keyed));
  }
  std::string().swap(batch);
  std::vector<Keyed>().swap(keyed);
  last_sort_runs_ = runs.runs();
  return runs.Merge(
      [](absl::string_view a, absl::string_view b) {
        ActivityView x, y;
        DecodeStaged(&a, &x);
        DecodeStaged(&b, &y);
        return CompareRows(x, y) < 0;
      },
      sort_budget_, decode);
}

}  // namespace ohfed::agent
