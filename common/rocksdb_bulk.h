// A change too large to hold in memory as one WriteBatch, written atomically
// all the same: its bulk entries, given in increasing key order, go to an
// SST file as they come; Commit adds a small WriteBatch (whose keys must lie
// outside the bulk entries' key range) as up to two more files and ingests
// them all in one IngestExternalFile call, which RocksDB records in one
// MANIFEST entry: after a crash the database has all of the change or none
// of it, and it is durable when Commit returns (the files and the MANIFEST
// are synced).
//
// Memory is that of one SST block being built, not the change. Files are
// written in `dir`, which must be on the database's filesystem (they are
// moved in, not copied); the ones not ingested are removed when the
// BulkWrite is destroyed. Not thread-safe.
#ifndef OHFED_COMMON_ROCKSDB_BULK_H_
#define OHFED_COMMON_ROCKSDB_BULK_H_

#include <rocksdb/db.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/write_batch.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace ohfed {

class BulkWrite {
 public:
  BulkWrite(rocksdb::DB* db, std::string dir);
  ~BulkWrite();
  BulkWrite(const BulkWrite&) = delete;
  BulkWrite& operator=(const BulkWrite&) = delete;

  // Keys must increase from one call to the next (kInvalidArgument if
  // not). kUnavailable for an I/O error, naming the file.
  absl::Status Put(absl::string_view key, absl::string_view value);
  // Deletes `key`, in the same order as Put.
  absl::Status Delete(absl::string_view key);
  bool empty() const { return first_key_.empty(); }

  // Writes `small` with the bulk entries, atomically and durably (an empty
  // BulkWrite just writes `small`, synced). kInvalidArgument if a key of
  // `small` falls inside the bulk entries' range; kUnavailable for I/O.
  // Once only.
  absl::Status Commit(rocksdb::WriteBatch* small);

 private:
  std::string NewPath();
  // Checks the order and opens the file at the first entry.
  absl::Status Next(absl::string_view key);

  rocksdb::DB* const db_;
  const std::string dir_;
  std::unique_ptr<rocksdb::SstFileWriter> writer_;
  std::vector<std::string> paths_;  // removed at destruction if still there
  std::string first_key_, last_key_;
};

}  // namespace ohfed

#endif  // OHFED_COMMON_ROCKSDB_BULK_H_
