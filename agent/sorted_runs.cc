#include "agent/sorted_runs.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace ohfed::agent {
namespace {

std::atomic<uint64_t> next_file{0};
constexpr size_t kMinReadBuffer = 4096;
constexpr size_t kMaxRecord = 0xFFFF;

}  // namespace

// Reads one run's records through a buffer (u16 length, then the bytes).
class SortedRuns::Reader {
 public:
  Reader(int fd, const std::string* path, uint64_t offset, uint64_t length,
         size_t buffer)
      : fd_(fd),
        path_(path),
        next_(offset),
        end_(offset + length),
        capacity_(std::max(buffer, kMinReadBuffer)) {}

  // Moves to the next record; false at the end of the run.
  absl::StatusOr<bool> Next() {
    pos_ += current_.size();
    if (!Fill(2)) return status_or_end();
    size_t n = static_cast<unsigned char>(buf_[pos_]) |
               static_cast<size_t>(static_cast<unsigned char>(buf_[pos_ + 1]))
                   << 8;
    pos_ += 2;
    if (!Fill(n)) {
      if (status_.ok()) status_ = Corrupt();
      return status_;
    }
    current_ = absl::string_view(buf_.data() + pos_, n);
    return true;
  }
  absl::string_view current() const { return current_; }

 private:
  absl::StatusOr<bool> status_or_end() {
    if (!status_.ok()) return status_;
    if (pos_ != buf_.size()) return Corrupt();
    return false;
  }
  absl::Status Corrupt() const {
    return absl::DataLossError(
        absl::StrCat("corrupt import staging file ", *path_));
  }
  // Makes `n` bytes available from pos_; false at the end or on error.
  bool Fill(size_t n) {
    current_ = {};
    if (buf_.size() - pos_ >= n) return true;
    buf_.erase(0, pos_);
    pos_ = 0;
    const size_t capacity = std::max(capacity_, n);
    while (buf_.size() < n && next_ < end_) {
      const size_t want = static_cast<size_t>(
          std::min<uint64_t>(capacity - buf_.size(), end_ - next_));
      const size_t start = buf_.size();
      buf_.resize(start + want);
      ssize_t got =
          pread(fd_, buf_.data() + start, want, static_cast<off_t>(next_));
      if (got < 0 && errno == EINTR) {
        buf_.resize(start);
        continue;
      }
      if (got <= 0) {
        buf_.resize(start);
        status_ = absl::UnavailableError(
            absl::StrCat("cannot read import staging file ", *path_, ": ",
                         got == 0 ? "truncated" : std::strerror(errno)));
        return false;
      }
      buf_.resize(start + static_cast<size_t>(got));
      next_ += static_cast<uint64_t>(got);
    }
    return buf_.size() >= n;
  }

  const int fd_;
  const std::string* path_;
  uint64_t next_, end_;
  const size_t capacity_;
  std::string buf_;
  size_t pos_ = 0;
  absl::string_view current_;
  absl::Status status_;
};

SortedRuns::SortedRuns(std::string dir, std::string stem)
    : dir_(std::move(dir)), stem_(std::move(stem)) {}

SortedRuns::~SortedRuns() {
  if (fd_ >= 0) close(fd_);
  if (!path_.empty()) unlink(path_.c_str());
}

absl::Status SortedRuns::Open() {
  if (fd_ >= 0) return absl::OkStatus();
  path_ =
      absl::StrCat(dir_, "/", stem_, "-", getpid(), "-", next_file++, ".runs");
  fd_ = open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot create import staging file ", path_, ": ",
                     std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status SortedRuns::Write(absl::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n =
        pwrite(fd_, bytes.data(), bytes.size(), static_cast<off_t>(size_));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot write import staging file ", path_, ": ",
                       std::strerror(errno)));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
    size_ += static_cast<uint64_t>(n);
  }
  return absl::OkStatus();
}

absl::Status SortedRuns::AddRun(const std::vector<absl::string_view>& records) {
  OHFED_RETURN_IF_ERROR(Open());
  const uint64_t start = size_;
  std::string out;
  for (absl::string_view r : records) {
    r = r.substr(0, kMaxRecord);
    out.push_back(static_cast<char>(r.size() & 0xFF));
    out.push_back(static_cast<char>(r.size() >> 8));
    out.append(r.data(), r.size());
    if (out.size() >= (size_t{1} << 16)) {
      OHFED_RETURN_IF_ERROR(Write(out));
      out.clear();
    }
  }
  OHFED_RETURN_IF_ERROR(Write(out));
  runs_.emplace_back(start, size_ - start);
  return absl::OkStatus();
}

absl::Status SortedRuns::MergeRange(
    size_t first, size_t n, Less less, size_t buffer_bytes,
    absl::FunctionRef<absl::Status(absl::string_view)> fn) {
  std::vector<std::unique_ptr<Reader>> readers;
  const size_t each =
      std::max(kMinReadBuffer, buffer_bytes / std::max<size_t>(n, 1));
  for (size_t i = first; i < first + n; ++i) {
    auto r = std::make_unique<Reader>(fd_, &path_, runs_[i].first,
                                      runs_[i].second, each);
    OHFED_ASSIGN_OR_RETURN(bool more, r->Next());
    if (more) readers.push_back(std::move(r));
  }
  // A min-heap of readers by their current record.
  auto after = [&](const std::unique_ptr<Reader>& a,
                   const std::unique_ptr<Reader>& b) {
    return less(b->current(), a->current());
  };
  std::make_heap(readers.begin(), readers.end(), after);
  while (!readers.empty()) {
    std::pop_heap(readers.begin(), readers.end(), after);
    Reader& r = *readers.back();
    OHFED_RETURN_IF_ERROR(fn(r.current()));
    OHFED_ASSIGN_OR_RETURN(bool more, r.Next());
    if (more) {
      std::push_heap(readers.begin(), readers.end(), after);
    } else {
      readers.pop_back();
    }
  }
  return absl::OkStatus();
}

absl::Status SortedRuns::MergeInto(size_t first, size_t n, Less less,
                                   size_t buffer_bytes) {
  const uint64_t start = size_;
  std::string out;
  OHFED_RETURN_IF_ERROR(
      MergeRange(first, n, less, buffer_bytes / 2,
                 [&](absl::string_view r) -> absl::Status {
                   out.push_back(static_cast<char>(r.size() & 0xFF));
                   out.push_back(static_cast<char>(r.size() >> 8));
                   out.append(r.data(), r.size());
                   if (out.size() >= buffer_bytes / 2) {
                     OHFED_RETURN_IF_ERROR(Write(out));
                     out.clear();
                   }
                   return absl::OkStatus();
                 }));
  OHFED_RETURN_IF_ERROR(Write(out));
  runs_.emplace_back(start, size_ - start);
  return absl::OkStatus();
}

absl::Status SortedRuns::Merge(
    Less less, size_t buffer_bytes,
    absl::FunctionRef<absl::Status(absl::string_view)> fn) {
  // Too many runs to read at once: merge the oldest into longer ones. The
  // file grows by what it holds each time; it is removed at the end.
  size_t first = 0;
  while (runs_.size() - first > kFanIn) {
    OHFED_RETURN_IF_ERROR(MergeInto(first, kFanIn, less, buffer_bytes));
    first += kFanIn;
  }
  absl::Status s =
      MergeRange(first, runs_.size() - first, less, buffer_bytes, fn);
  runs_.clear();
  return s;
}

}  // namespace ohfed::agent
