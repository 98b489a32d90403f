#include "agent/import_stage.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace ohfed::agent {
namespace {

// Field lengths are one byte: the importer bounds every field it keeps
// (ids to 64 bytes, dates to 10, activities to catalogue names).
void PutString(std::string* out, const std::string& s) {
  const size_t n = std::min<size_t>(s.size(), 255);
  out->push_back(static_cast<char>(n));
  out->append(s.data(), n);
}

bool GetString(absl::string_view* in, std::string* s) {
  if (in->empty()) return false;
  const size_t n = static_cast<unsigned char>((*in)[0]);
  if (in->size() < n + 1) return false;
  s->assign(in->data() + 1, n);
  in->remove_prefix(n + 1);
  return true;
}

void Encode(const ActivityRow& r, std::string* out) {
  PutString(out, r.date);
  PutString(out, r.activity);
  PutString(out, r.client_org);
  PutString(out, r.subject_ref);
  const int32_t w = r.wait_days;
  out->append(reinterpret_cast<const char*>(&w), sizeof(w));
}

bool Decode(absl::string_view* in, ActivityRow* r) {
  if (!GetString(in, &r->date) || !GetString(in, &r->activity) ||
      !GetString(in, &r->client_org) || !GetString(in, &r->subject_ref) ||
      in->size() < sizeof(int32_t)) {
    return false;
  }
  int32_t w;
  std::memcpy(&w, in->data(), sizeof(w));
  r->wait_days = w;
  in->remove_prefix(sizeof(w));
  return true;
}

std::atomic<uint64_t> next_file{0};

}  // namespace

ActivityStage::ActivityStage(std::string dir, size_t memory_budget)
    : dir_(std::move(dir)), budget_(memory_budget) {}

ActivityStage::~ActivityStage() {
  if (fd_ >= 0) close(fd_);
  if (!path_.empty()) unlink(path_.c_str());
}

absl::Status ActivityStage::Add(Month month, const ActivityRow& row) {
  MonthRows& m = months_[month];
  const size_t before = m.buffer.size();
  Encode(row, &m.buffer);
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
  return out;
}

absl::StatusOr<std::vector<ActivityRow>> ActivityStage::Take(Month month) {
  auto it = months_.find(month);
  if (it == months_.end()) return std::vector<ActivityRow>();
  MonthRows m = std::move(it->second);
  months_.erase(it);
  buffered_ -= m.buffer.size();
  std::string bytes;
  for (const auto& [offset, length] : m.spilled) {
    const size_t start = bytes.size();
    bytes.resize(start + length);
    size_t done = 0;
    while (done < length) {
      ssize_t n = pread(fd_, bytes.data() + start + done, length - done,
                        static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        return absl::UnavailableError(
            absl::StrCat("cannot read import staging file ", path_, ": ",
                         n == 0 ? "truncated" : std::strerror(errno)));
      }
      done += static_cast<size_t>(n);
    }
  }
  bytes += m.buffer;
  std::string().swap(m.buffer);
  std::vector<ActivityRow> rows;
  rows.reserve(m.rows);
  absl::string_view in = bytes;
  while (!in.empty()) {
    ActivityRow r;
    if (!Decode(&in, &r)) {
      return absl::DataLossError(
          absl::StrCat("corrupt import staging file ", path_));
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

}  // namespace ohfed::agent
