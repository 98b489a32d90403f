// Where the end-to-end benchmarks write unit summaries: the real aggregator
// over TLS (its Ingest protocol), a raw RocksDB WriteBatch synced, or
// PostgreSQL upserts maintaining rollups. Each Sink is one stream (or one
// connection) and is used by one thread at a time; Write returns once the
// batch is durable at the receiver.
#ifndef OHFED_TESTS_BENCH_E2E_SINKS_H_
#define OHFED_TESTS_BENCH_E2E_SINKS_H_

#include <grpcpp/grpcpp.h>

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ohfed/v1/ohfed.grpc.pb.h"

namespace rocksdb {
class DB;
}

namespace ohfed::bench {

class Sink {
 public:
  virtual ~Sink() = default;
  // Durable on return (the aggregator's ack, a synced write, a commit).
  virtual absl::Status Write(const std::vector<v1::UnitSummary>& batch) = 0;
  // A window of batches (the driver's --window): Send starts a batch
  // (copied: the caller may change its own afterwards) without waiting for
  // it; Collect returns once the oldest batch sent and not yet collected is
  // durable. The defaults write synchronously in Send.
  virtual absl::Status Send(const std::vector<v1::UnitSummary>& batch) {
    return Write(batch);
  }
  virtual absl::Status Collect() { return absl::OkStatus(); }
};

// A TLS channel to `target` presenting CERTS/NAME.pem (CA CERTS/ca.pem).
// Channels with different `shard` never share a connection, so many streams
// spread over several HTTP/2 connections as many agents would.
absl::StatusOr<std::shared_ptr<grpc::Channel>> TlsChannel(
    const std::string& target, const std::string& certs,
    const std::string& name, int shard);

// One Ingest.Submit stream on `channel`.
// The floor under figure 1: an in-process Ingest server over the same TLS
// (`certs`/server.pem, client certificates required) that parses each
// SubmitRequest and acks every summary ACCEPTED, storing nothing. Listens
// on 127.0.0.1; *port is where.
absl::StatusOr<std::unique_ptr<grpc::Server>> StartEchoServer(
    const std::string& certs, int* port);

absl::StatusOr<std::unique_ptr<Sink>> OpenIngestSink(
    std::shared_ptr<grpc::Channel> channel);

// Puts each summary at "u/<trust>/<period>" in one WriteBatch, sync=true.
// Windowed (Send/Collect), the batches sent since the last sync are kept in
// one WriteBatch and written, synced, when the oldest of them is collected:
// with a window of W, one WriteBatch+sync per W batches.
std::unique_ptr<Sink> RocksSink(rocksdb::DB* db);
absl::StatusOr<std::unique_ptr<rocksdb::DB>> OpenRocks(const std::string& dir);

// One libpq connection; a batch is one transaction of ingest() calls (see
// pg_schema.sql in pg.cc): upsert unless stale, replace the cells, apply
// the deltas to the ICS, region and national rollups. Windowed, as
// RocksSink: the batches sent since the last commit are one transaction,
// committed when the oldest of them is collected.
absl::StatusOr<std::unique_ptr<Sink>> PgSink(const std::string& conninfo);

}  // namespace ohfed::bench

#endif  // OHFED_TESTS_BENCH_E2E_SINKS_H_
