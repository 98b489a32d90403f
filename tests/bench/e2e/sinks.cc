#include "tests/bench/e2e/sinks.h"

#include <grpcpp/security/tls_credentials_options.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/summary_wire.h"
#include "common/transport.h"

namespace ohfed::bench {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class IngestSink : public Sink {
 public:
  explicit IngestSink(std::shared_ptr<grpc::Channel> channel)
      : stub_(v1::Ingest::NewStub(channel)) {
    stream_ = stub_->Submit(&context_);
  }
  ~IngestSink() override {
    stream_->WritesDone();
    v1::SubmitResponse ignored;
    while (stream_->Read(&ignored)) {
    }
    stream_->Finish().IgnoreError();
  }

  absl::Status Write(const std::vector<v1::UnitSummary>& batch) override {
    if (absl::Status s = Send(batch); !s.ok()) return s;
    return Collect();
  }

  // As an agent's uploader sends (common/uploader.h): each summary
  // serialized (an agent holds them so), put into the request as bytes,
  // rather than copied message by message (~2,000 cells and buckets a
  // batch, each allocated and freed again by the client).
  absl::Status Send(const std::vector<v1::UnitSummary>& batch) override {
    v1::SubmitRequest request;
    for (const auto& s : batch) {
      AddSerializedSummary(s.SerializeAsString(), &request);
    }
    if (!stream_->Write(request)) {
      return absl::UnavailableError(absl::StrCat(
          "stream write failed: ", stream_->Finish().error_message()));
    }
    sizes_.push_back(SerializedSummaryCount(request));
    return absl::OkStatus();
  }

  // The receiver answers a stream's batches in order, one response each.
  absl::Status Collect() override {
    if (sizes_.empty()) return absl::OkStatus();
    v1::SubmitResponse response;
    if (!stream_->Read(&response)) {
      return absl::UnavailableError(
          absl::StrCat("stream ended: ", stream_->Finish().error_message()));
    }
    for (const v1::Ack& ack : response.acks()) {
      if (ack.outcome() == v1::OUTCOME_REJECTED) {
        return absl::FailedPreconditionError(absl::StrCat(
            "rejected ", ack.trust(), " ", ack.period(), ": ", ack.reason()));
      }
    }
    const int expected = sizes_.front();
    sizes_.pop_front();
    if (response.acks_size() != expected) {
      return absl::InternalError("ack count differs from batch size");
    }
    return absl::OkStatus();
  }

 private:
  std::deque<int> sizes_;  // summaries per batch sent, not yet answered
  std::unique_ptr<v1::Ingest::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<
      grpc::ClientReaderWriter<v1::SubmitRequest, v1::SubmitResponse>>
      stream_;
};

void PutBatch(const std::vector<v1::UnitSummary>& batch,
              rocksdb::WriteBatch* wb) {
  for (const auto& s : batch) {
    wb->Put(absl::StrCat("u/", s.trust(), "/", s.period()),
            s.SerializeAsString());
  }
}

absl::Status WriteSynced(rocksdb::DB* db, rocksdb::WriteBatch* wb) {
  rocksdb::WriteOptions options;
  options.sync = true;
  rocksdb::Status st = db->Write(options, wb);
  if (!st.ok()) return absl::InternalError(st.ToString());
  return absl::OkStatus();
}

class RocksBatchSink : public Sink {
 public:
  explicit RocksBatchSink(rocksdb::DB* db) : db_(db) {}
  absl::Status Write(const std::vector<v1::UnitSummary>& batch) override {
    rocksdb::WriteBatch wb;
    PutBatch(batch, &wb);
    return WriteSynced(db_, &wb);
  }

  absl::Status Send(const std::vector<v1::UnitSummary>& batch) override {
    PutBatch(batch, &unsynced_);
    ++sent_;
    return absl::OkStatus();
  }
  absl::Status Collect() override {
    if (collected_ == sent_) return absl::OkStatus();
    if (collected_ == synced_) {  // the oldest is not durable yet
      if (absl::Status s = WriteSynced(db_, &unsynced_); !s.ok()) return s;
      unsynced_.Clear();
      synced_ = sent_;
    }
    ++collected_;
    return absl::OkStatus();
  }

 private:
  rocksdb::DB* db_;
  rocksdb::WriteBatch unsynced_;  // batches sent since the last sync
  uint64_t sent_ = 0, synced_ = 0, collected_ = 0;
};

// Parses and acks, nothing more: what TLS, HTTP/2, gRPC and protobuf cost
// a batch on both sides.
class EchoIngest final : public v1::Ingest::Service {
  grpc::Status Submit(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::SubmitResponse, v1::SubmitRequest>* stream)
      override {
    v1::SubmitRequest request;
    while (stream->Read(&request)) {
      v1::SubmitResponse response;
      for (const v1::UnitSummary& s : request.summaries()) {
        v1::Ack* ack = response.add_acks();
        ack->set_trust(s.trust());
        ack->set_period(s.period());
        ack->set_revision(s.revision());
        ack->set_held_revision(s.revision());
        ack->set_outcome(v1::OUTCOME_ACCEPTED);
      }
      if (!stream->Write(response)) break;
    }
    return grpc::Status::OK;
  }
};

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::Channel>> TlsChannel(
    const std::string& target, const std::string& certs,
    const std::string& name, int shard) {
  auto ca = ReadFile(certs + "/ca.pem");
  auto cert = ReadFile(certs + "/" + name + ".pem");
  auto key = ReadFile(certs + "/" + name + ".key");
  if (!ca.ok()) return ca.status();
  if (!cert.ok()) return cert.status();
  if (!key.ok()) return key.status();
  auto provider =
      std::make_shared<grpc::experimental::StaticDataCertificateProvider>(
          *ca,
          std::vector<grpc::experimental::IdentityKeyCertPair>{{*key, *cert}});
  grpc::experimental::TlsChannelCredentialsOptions tls;
  tls.set_certificate_provider(provider);
  tls.watch_root_certs();
  tls.watch_identity_key_cert_pairs();
  tls.set_verify_server_certs(true);
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxMessageBytes);
  args.SetMaxSendMessageSize(kMaxMessageBytes);
  // A distinct argument per shard: gRPC shares a connection only between
  // channels with equal arguments.
  args.SetInt("ohfed.bench.shard", shard);
  return grpc::CreateCustomChannel(
      target, grpc::experimental::TlsCredentials(tls), args);
}

absl::StatusOr<std::unique_ptr<Sink>> OpenIngestSink(
    std::shared_ptr<grpc::Channel> channel) {
  if (!channel->WaitForConnected(std::chrono::system_clock::now() +
                                 std::chrono::seconds(30))) {
    return absl::UnavailableError("cannot connect to the aggregator");
  }
  return std::make_unique<IngestSink>(std::move(channel));
}

std::unique_ptr<Sink> RocksSink(rocksdb::DB* db) {
  return std::make_unique<RocksBatchSink>(db);
}

absl::StatusOr<std::unique_ptr<rocksdb::DB>> OpenRocks(const std::string& dir) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* db = nullptr;
  rocksdb::Status st = rocksdb::DB::Open(options, dir, &db);
  if (!st.ok()) return absl::InternalError(st.ToString());
  return std::unique_ptr<rocksdb::DB>(db);
}

}  // namespace ohfed::bench

namespace ohfed::bench {

absl::StatusOr<std::unique_ptr<grpc::Server>> StartEchoServer(
    const std::string& certs, int* port) {
  auto ca = ReadFile(certs + "/ca.pem");
  auto cert = ReadFile(certs + "/server.pem");
  auto key = ReadFile(certs + "/server.key");
  if (!ca.ok()) return ca.status();
  if (!cert.ok()) return cert.status();
  if (!key.ok()) return key.status();
  grpc::SslServerCredentialsOptions tls(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  tls.pem_root_certs = *ca;
  tls.pem_key_cert_pairs.push_back({*key, *cert});
  static EchoIngest* service = new EchoIngest();  // outlives every server
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(tls),
                           port);
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.SetMaxSendMessageSize(kMaxMessageBytes);
  builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || *port == 0) {
    return absl::UnavailableError("cannot start the echo server");
  }
  return server;
}

}  // namespace ohfed::bench
