#include "aggregator/ingest_service.h"


#include "absl/strings/str_cat.h"
#include "aggregator/validation.h"
#include "common/log.h"
#include "common/status.h"
#include "common/transport.h"

namespace ohfed::aggregator {
namespace {

v1::Ack MakeAck(const v1::UnitSummary& s, v1::Outcome outcome,
                absl::string_view reason = {}) {
  v1::Ack ack;
  // Echo identifiers bounded, so a hostile oversized code is not reflected.
  ack.set_trust(s.trust().substr(0, kMaxStringBytes));
  ack.set_period(s.period().substr(0, kMaxStringBytes));
  ack.set_revision(s.revision());
  ack.set_outcome(outcome);
  ack.set_reason(std::string(reason));
  return ack;
}

}  // namespace

absl::StatusOr<v1::SubmitResponse> IngestBatch(Store& store,
                                               const v1::SubmitRequest& request) {
  if (request.summaries_size() > kMaxSummariesPerBatch) {
    return absl::InvalidArgumentError(
        absl::StrCat("batch of ", request.summaries_size(),
                     " summaries exceeds the limit of ", kMaxSummariesPerBatch));
  }
  v1::SubmitResponse response;
  std::vector<v1::UnitSummary> valid;
  for (const v1::UnitSummary& s : request.summaries()) {
    absl::Status check =
        ValidateSummary(s, store.catalogue(), store.registry());
    if (check.ok()) check = store.coverage().CheckSummary(s, store.registry());
    if (check.ok()) {
      valid.push_back(s);
      continue;
    }
    LogLine(absl::StrCat("rejected ", s.trust().substr(0, 64), " ",
                         s.period().substr(0, 64), " revision ", s.revision(),
                         ": ", check.message()));
    *response.add_acks() = MakeAck(s, v1::OUTCOME_REJECTED, check.message());
  }
  store.CountReceived(request.ByteSizeLong(),
                      request.summaries_size() - valid.size());
  OHFED_ASSIGN_OR_RETURN(std::vector<v1::Outcome> outcomes, store.Commit(valid));
  for (size_t i = 0; i < valid.size(); ++i) {
    *response.add_acks() = MakeAck(valid[i], outcomes[i]);
  }
  return response;
}

grpc::Status IngestService::Submit(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::SubmitResponse, v1::SubmitRequest>* stream) {
  v1::SubmitRequest request;
  while (stream->Read(&request)) {
    absl::StatusOr<v1::SubmitResponse> response = IngestBatch(*store_, request);
    if (!response.ok()) {
      LogLine(absl::StrCat("ingest from ", context->peer(), ": ",
                           response.status().message()));
      return ToGrpc(response.status());
    }
    if (!stream->Write(*response)) break;  // the sender went away
  }
  return grpc::Status::OK;
}

}  // namespace ohfed::aggregator
