#include "common/db_info_log.h"

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/status.h"

namespace ohfed {
namespace {

class StdioLogger : public rocksdb::Logger {
 public:
  StdioLogger(FILE* file, rocksdb::InfoLogLevel level)
      : Logger(level), file_(file) {}
  ~StdioLogger() override { CloseFile(); }

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    va_list copy;
    va_copy(copy, ap);
    char small[512];
    const int n = std::vsnprintf(small, sizeof(small), format, copy);
    va_end(copy);
    if (n < 0) return;
    std::string line;
    if (static_cast<size_t>(n) < sizeof(small)) {
      line.assign(small, n);
    } else {
      // RocksDB's option dumps run long: format again at full length.
      std::vector<char> big(n + 1);
      std::vsnprintf(big.data(), big.size(), format, ap);
      line.assign(big.data(), n);
    }
    const std::string stamp = absl::FormatTime(
        "%Y/%m/%d-%H:%M:%E6S ", absl::Now(), absl::LocalTimeZone());
    absl::MutexLock l(&mu_);
    if (file_ == nullptr) return;
    // A failed write (a full disk) loses this line; the next may fit.
    std::fputs(stamp.c_str(), file_);
    std::fputs(line.c_str(), file_);
    if (line.empty() || line.back() != '\n') std::fputc('\n', file_);
    std::fflush(file_);
    std::clearerr(file_);
  }

  void Flush() override {
    absl::MutexLock l(&mu_);
    if (file_ != nullptr) std::fflush(file_);
  }

 protected:
  rocksdb::Status CloseImpl() override {
    CloseFile();
    return rocksdb::Status::OK();
  }

 private:
  void CloseFile() {
    absl::MutexLock l(&mu_);
    if (file_ != nullptr) std::fclose(file_);
    file_ = nullptr;
  }

  absl::Mutex mu_;
  FILE* file_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

absl::StatusOr<std::shared_ptr<rocksdb::Logger>> OpenInfoLog(
    const std::string& dir, const rocksdb::Options& options) {
  if (options.env != rocksdb::Env::Default()) {
    std::shared_ptr<rocksdb::Logger> logger;
    rocksdb::Status s = rocksdb::CreateLoggerFromOptions(dir, options, &logger);
    if (!s.ok()) return FromRocks(s, absl::StrCat("open database ", dir));
    return logger;
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::string path = dir + "/LOG";
  if (std::filesystem::exists(path, ec)) {
    std::filesystem::rename(
        path, absl::StrCat(path, ".old.", absl::ToUnixMicros(absl::Now())), ec);
  }
  FILE* file = std::fopen(path.c_str(), "w");
  if (file == nullptr) {
    return absl::UnavailableError(absl::StrCat("open database ", dir,
                                               ": cannot create ", path, ": ",
                                               std::strerror(errno)));
  }
  return std::shared_ptr<rocksdb::Logger>(
      std::make_shared<StdioLogger>(file, options.info_log_level));
}

}  // namespace ohfed
