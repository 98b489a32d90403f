#include "aggregator/store_recovery.h"

#include <rocksdb/write_batch.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "aggregator/codec.h"
#include "common/rocksdb_util.h"
#include "common/status.h"

namespace ohfed::aggregator {
namespace {

// Bounds the description kept (it is repeated in warnings).
constexpr size_t kMaxWhat = 300;

}  // namespace

absl::Status StoreRecovery::Load() {
  absl::StatusOr<std::string> damaged = GetValue(db_, kDamagedKey);
  if (absl::IsNotFound(damaged.status())) return absl::OkStatus();
  OHFED_RETURN_IF_ERROR(damaged.status());
  absl::string_view v = *damaged;
  size_t space = v.find(' ');
  int64_t ms = 0;
  if (!absl::SimpleAtoi(v.substr(0, space), &ms)) {
    return absl::DataLossError("corrupt record m/damaged");
  }
  absl::MutexLock l(&mu_);
  damaged_ms_ = ms;
  what_ =
      std::string(space == absl::string_view::npos ? "" : v.substr(space + 1));
  return ScanPrefix(
      db_, kConfirmedPrefix, [&](absl::string_view key, absl::string_view) {
        confirmed_.insert(std::string(key.substr(kConfirmedPrefix.size())));
        return absl::OkStatus();
      });
}

absl::Status StoreRecovery::MarkDamaged(absl::string_view what) {
  const int64_t now = absl::ToUnixMillis(clock_->Now());
  const std::string bounded(what.substr(0, kMaxWhat));
  rocksdb::WriteBatch batch;
  batch.Put(rocksdb::Slice(kDamagedKey.data(), kDamagedKey.size()),
            absl::StrCat(now, " ", bounded));
  // '0' follows '/': the range covers every "m/confirmed/" key.
  batch.DeleteRange(
      rocksdb::Slice(kConfirmedPrefix.data(), kConfirmedPrefix.size()),
      "m/confirmed0");
  OHFED_RETURN_IF_ERROR(WriteSynced(db_, &batch));
  absl::MutexLock l(&mu_);
  damaged_ms_ = now;
  what_ = bounded;
  confirmed_.clear();
  asked_.clear();
  return absl::OkStatus();
}

absl::Status StoreRecovery::OnFeedback(absl::string_view trust) {
  {
    absl::MutexLock l(&mu_);
    if (!Active() || confirmed_.contains(trust)) return absl::OkStatus();
    if (asked_.insert(std::string(trust)).second) return absl::OkStatus();
  }
  rocksdb::WriteBatch batch;
  batch.Put(absl::StrCat(kConfirmedPrefix, trust), "");
  OHFED_RETURN_IF_ERROR(WriteSynced(db_, &batch));
  absl::MutexLock l(&mu_);
  confirmed_.insert(std::string(trust));
  return absl::OkStatus();
}

bool StoreRecovery::Active() const {
  return damaged_ms_ != 0 &&
         clock_->Now() < absl::FromUnixMillis(damaged_ms_) + kConfirmWindow;
}

bool StoreRecovery::Unconfirmed(absl::string_view trust) const {
  absl::ReaderMutexLock l(&mu_);
  return Active() && !confirmed_.contains(trust);
}

std::string StoreRecovery::Note() const {
  absl::ReaderMutexLock l(&mu_);
  if (!Active()) return {};
  return absl::StrCat(
      "this aggregator's store was damaged and recovered at ",
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixMillis(damaged_ms_),
                       absl::UTCTimeZone()),
      " (", what_, ")");
}

}  // namespace ohfed::aggregator
