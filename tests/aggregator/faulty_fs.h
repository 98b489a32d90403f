// A RocksDB environment whose file writes fail on demand, as a full or
// failing disk would: the seam RocksDB itself offers (a FileSystem wrapper
// behind Options::env). Header-only.
#ifndef OHFED_TESTS_AGGREGATOR_FAULTY_FS_H_
#define OHFED_TESTS_AGGREGATOR_FAULTY_FS_H_

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <atomic>
#include <memory>
#include <string>

namespace ohfed::aggregator::testing {

class FaultyFs : public rocksdb::FileSystemWrapper {
 public:
  FaultyFs() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "FaultyFs"; }

  // From now on every append and sync of a file opened through this file
  // system fails with an I/O error.
  void FailWrites(bool fail) { fail_->store(fail); }

  rocksdb::IOStatus NewWritableFile(
      const std::string& name, const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->NewWritableFile(name, options, result, dbg);
    if (s.ok()) result->reset(new File(std::move(*result), fail_));
    return s;
  }

 private:
  class File : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile> file,
         std::shared_ptr<std::atomic<bool>> fail)
        : FSWritableFileOwnerWrapper(std::move(file)), fail_(std::move(fail)) {}
    rocksdb::IOStatus Append(const rocksdb::Slice& data,
                             const rocksdb::IOOptions& o,
                             rocksdb::IODebugContext* dbg) override {
      if (*fail_) return Injected();
      return target()->Append(data, o, dbg);
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data,
                             const rocksdb::IOOptions& o,
                             const rocksdb::DataVerificationInfo& info,
                             rocksdb::IODebugContext* dbg) override {
      if (*fail_) return Injected();
      return target()->Append(data, o, info, dbg);
    }
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& o,
                           rocksdb::IODebugContext* dbg) override {
      if (*fail_) return Injected();
      return target()->Sync(o, dbg);
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o,
                            rocksdb::IODebugContext* dbg) override {
      if (*fail_) return Injected();
      return target()->Fsync(o, dbg);
    }

   private:
    static rocksdb::IOStatus Injected() {
      return rocksdb::IOStatus::IOError("injected write failure");
    }
    std::shared_ptr<std::atomic<bool>> fail_;
  };

  std::shared_ptr<std::atomic<bool>> fail_ =
      std::make_shared<std::atomic<bool>>(false);
};

// An Env over a FaultyFs, for SummaryStoreOptions::env. Keeps the file system
// alive.
struct FaultyEnv {
  std::shared_ptr<FaultyFs> fs = std::make_shared<FaultyFs>();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
};

}  // namespace ohfed::aggregator::testing

#endif  // OHFED_TESTS_AGGREGATOR_FAULTY_FS_H_
