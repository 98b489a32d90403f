// Fault injection at the storage seam: a RocksDB FileSystem wrapper (behind
// Options::env, which OpenDb, LocalStoreOptions::env and
// SummaryStoreOptions::env take) whose writable files fail or stall on
// demand, as a failing or full disk would. Switchable at any time from any
// thread; counts what it injected. Header-only.
//
//   FaultEnv faults;                     // owns the file system and its Env
//   options.env = faults.env.get();
//   faults.fs->FailSyncs(true);          // Sync/Fsync: IOError
//   faults.fs->FailWrites(true);         // Append too
//   faults.fs->SetDiskFull(true);        // Append/Sync/new files: NoSpace
//   faults.fs->DelaySyncs(true);         // Sync/Fsync block until released
//   faults.fs->AwaitDelayedSyncs(1);     // ... until one is blocked
//   faults.fs->DelaySyncs(false);        // releases them
//   faults.fs->Clear();                  // everything back to normal
#ifndef OHFED_TESTS_TESTING_FAULT_FS_H_
#define OHFED_TESTS_TESTING_FAULT_FS_H_

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"

namespace ohfed::testing {

class FaultFs : public rocksdb::FileSystemWrapper {
 public:
  FaultFs()
      : FileSystemWrapper(rocksdb::FileSystem::Default()),
        state_(std::make_shared<State>()) {}
  const char* Name() const override { return "FaultFs"; }

  // Sync and Fsync of writable files fail with an I/O error.
  void FailSyncs(bool on) { Set(&State::fail_syncs, on); }
  // Appends fail with an I/O error, and so do syncs.
  void FailWrites(bool on) { Set(&State::fail_writes, on); }
  // Appends, syncs and new writable files fail with NoSpace ("No space left
  // on device"), as a full disk does.
  void SetDiskFull(bool on) { Set(&State::disk_full, on); }
  // Sync and Fsync block until this is turned off again (or Clear()).
  void DelaySyncs(bool on) { Set(&State::delay_syncs, on); }
  // Every fault off; blocked syncs go on.
  void Clear() {
    absl::MutexLock l(&state_->mu);
    state_->fail_syncs = state_->fail_writes = false;
    state_->disk_full = state_->delay_syncs = false;
  }

  // Blocks until at least `n` syncs are (or have been) held by DelaySyncs.
  void AwaitDelayedSyncs(uint64_t n) const {
    State* s = state_.get();
    absl::MutexLock l(&s->mu);
    auto reached = [s, n]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return s->syncs_delayed >= n;
    };
    s->mu.Await(absl::Condition(&reached));
  }

  // What was injected so far.
  struct Counts {
    uint64_t failed_syncs = 0;    // Sync/Fsync that returned an error
    uint64_t failed_appends = 0;  // Append that returned an error
    uint64_t failed_creates = 0;  // NewWritableFile refused (disk full)
    uint64_t delayed_syncs = 0;   // Sync/Fsync held by DelaySyncs
    uint64_t total() const {
      return failed_syncs + failed_appends + failed_creates;
    }
  };
  Counts counts() const {
    absl::MutexLock l(&state_->mu);
    return {state_->syncs_failed, state_->appends_failed,
            state_->creates_failed, state_->syncs_delayed};
  }

  rocksdb::IOStatus NewWritableFile(
      const std::string& name, const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override {
    {
      absl::MutexLock l(&state_->mu);
      if (state_->disk_full) {
        ++state_->creates_failed;
        return NoSpace();
      }
    }
    rocksdb::IOStatus s = target()->NewWritableFile(name, options, result, dbg);
    if (s.ok()) result->reset(new File(std::move(*result), state_));
    return s;
  }

 private:
  struct State {
    mutable absl::Mutex mu;
    bool fail_syncs ABSL_GUARDED_BY(mu) = false;
    bool fail_writes ABSL_GUARDED_BY(mu) = false;
    bool disk_full ABSL_GUARDED_BY(mu) = false;
    bool delay_syncs ABSL_GUARDED_BY(mu) = false;
    uint64_t syncs_failed ABSL_GUARDED_BY(mu) = 0;
    uint64_t appends_failed ABSL_GUARDED_BY(mu) = 0;
    uint64_t creates_failed ABSL_GUARDED_BY(mu) = 0;
    uint64_t syncs_delayed ABSL_GUARDED_BY(mu) = 0;
  };

  static rocksdb::IOStatus NoSpace() {
    return rocksdb::IOStatus::NoSpace("injected: disk full");
  }
  static rocksdb::IOStatus Failed(const char* what) {
    return rocksdb::IOStatus::IOError(what);
  }

  void Set(bool State::*field, bool on) {
    absl::MutexLock l(&state_->mu);
    state_.get()->*field = on;
  }

  class File : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile> file,
         std::shared_ptr<State> state)
        : FSWritableFileOwnerWrapper(std::move(file)),
          state_(std::move(state)) {}

    rocksdb::IOStatus Append(const rocksdb::Slice& data,
                             const rocksdb::IOOptions& o,
                             rocksdb::IODebugContext* dbg) override {
      rocksdb::IOStatus s = AppendFault();
      return s.ok() ? target()->Append(data, o, dbg) : s;
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data,
                             const rocksdb::IOOptions& o,
                             const rocksdb::DataVerificationInfo& info,
                             rocksdb::IODebugContext* dbg) override {
      rocksdb::IOStatus s = AppendFault();
      return s.ok() ? target()->Append(data, o, info, dbg) : s;
    }
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& o,
                           rocksdb::IODebugContext* dbg) override {
      rocksdb::IOStatus s = SyncFault();
      return s.ok() ? target()->Sync(o, dbg) : s;
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o,
                            rocksdb::IODebugContext* dbg) override {
      rocksdb::IOStatus s = SyncFault();
      return s.ok() ? target()->Fsync(o, dbg) : s;
    }
    rocksdb::IOStatus RangeSync(uint64_t offset, uint64_t nbytes,
                                const rocksdb::IOOptions& o,
                                rocksdb::IODebugContext* dbg) override {
      rocksdb::IOStatus s = SyncFault();
      return s.ok() ? target()->RangeSync(offset, nbytes, o, dbg) : s;
    }

   private:
    rocksdb::IOStatus AppendFault() {
      absl::MutexLock l(&state_->mu);
      if (state_->disk_full) {
        ++state_->appends_failed;
        return NoSpace();
      }
      if (state_->fail_writes) {
        ++state_->appends_failed;
        return Failed("injected write failure");
      }
      return rocksdb::IOStatus::OK();
    }

    rocksdb::IOStatus SyncFault() {
      absl::MutexLock l(&state_->mu);
      if (state_->delay_syncs) {
        ++state_->syncs_delayed;
        State* s = state_.get();
        auto released = [s]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
          return !s->delay_syncs;
        };
        s->mu.Await(absl::Condition(&released));
      }
      if (state_->disk_full) {
        ++state_->syncs_failed;
        return NoSpace();
      }
      if (state_->fail_syncs || state_->fail_writes) {
        ++state_->syncs_failed;
        return Failed("injected sync failure");
      }
      return rocksdb::IOStatus::OK();
    }

    std::shared_ptr<State> state_;
  };

  std::shared_ptr<State> state_;
};

// An Env over a FaultFs, for OpenDb and the stores' options. Keeps the file
// system alive; must outlive every database opened with it.
struct FaultEnv {
  std::shared_ptr<FaultFs> fs = std::make_shared<FaultFs>();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
};

}  // namespace ohfed::testing

#endif  // OHFED_TESTS_TESTING_FAULT_FS_H_
