// RocksDB's info log (DIR/LOG) written so that a full disk cannot stop the
// process (issue 13).
//
// RocksDB 7.8's own file logger (EnvLogger) keeps writing through a
// WritableFileWriter after an append failed, and the next append trips an
// assertion that Debian's librocksdb keeps (`sync_without_flush_called_`,
// file/writable_file_writer.h): on a real full disk, the first failed write
// logs a line, the second aborts the daemon. This logger writes with stdio
// and loses a line it cannot write, nothing more. Like RocksDB's, it moves
// an existing DIR/LOG to DIR/LOG.old.<microseconds> first, so RocksDB's
// purge of old info logs (keep_log_file_num) still applies.
#ifndef OHFED_COMMON_DB_INFO_LOG_H_
#define OHFED_COMMON_DB_INFO_LOG_H_

#include <rocksdb/env.h>
#include <rocksdb/options.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace ohfed {

// The info log for the database in `dir` opened with `options`: this
// logger for the default Env; RocksDB's own for any other (an in-memory or
// fault-injecting Env in tests, whose files are not on disk). kUnavailable
// if the file cannot be created.
absl::StatusOr<std::shared_ptr<rocksdb::Logger>> OpenInfoLog(
    const std::string& dir, const rocksdb::Options& options);

}  // namespace ohfed

#endif  // OHFED_COMMON_DB_INFO_LOG_H_
