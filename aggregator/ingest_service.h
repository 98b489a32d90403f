// The Ingest gRPC service (ohfed.v1.Ingest): agents and regional aggregators
// stream batches of unit summaries; each batch is answered with one Ack per
// summary once the accepted ones are durable (Store::Commit, group commit
// across every stream). Invalid summaries are REJECTED with the reason from
// ValidateSummary and never stored.
//
// Thread-safe (gRPC's sync server calls Submit on its own threads). The
// store must outlive the service.
#ifndef OHFED_AGGREGATOR_INGEST_SERVICE_H_
#define OHFED_AGGREGATOR_INGEST_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "aggregator/forwarder.h"
#include "aggregator/store.h"
#include "ohfed/v1/ohfed.grpc.pb.h"

namespace ohfed::aggregator {

// Acks for one batch: validation, then one commit for the valid summaries.
// kInvalidArgument for an oversized batch; the store's error if the commit
// fails (then no summary of the batch is acknowledged).
absl::StatusOr<v1::SubmitResponse> IngestBatch(Store& store,
                                               const v1::SubmitRequest& request);

class IngestService final : public v1::Ingest::Service {
 public:
  explicit IngestService(Store* store) : store_(store) {}

  grpc::Status Submit(grpc::ServerContext* context,
                      grpc::ServerReaderWriter<v1::SubmitResponse,
                                               v1::SubmitRequest>* stream) override;

  // Units of the trust whose held revision the upstream aggregator refused
  // (empty without an upstream). kInvalidArgument for a malformed trust.
  grpc::Status Feedback(grpc::ServerContext* context,
                        const v1::FeedbackRequest* request,
                        v1::FeedbackResponse* response) override;

  // The forwarder Feedback answers from; nullptr (the default) when there is
  // no upstream. Set before serving; must outlive the service.
  void set_forwarder(const Forwarder* forwarder) { forwarder_ = forwarder; }

 private:
  Store* const store_;
  const Forwarder* forwarder_ = nullptr;
};

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_INGEST_SERVICE_H_
