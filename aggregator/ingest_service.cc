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
    v1::Ack* ack = response.add_acks();
    *ack = MakeAck(valid[i], outcomes[i]);
    // With STALE, tells a sender whose data is older than what is held
    // (restored backup, clock gone back) which revision to go above.
    ack->set_held_revision(
        store.HeldRevisionOf(valid[i].trust(), valid[i].period()));
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

grpc::Status IngestService::Feedback(grpc::ServerContext*,
                                     const v1::FeedbackRequest* request,
                                     v1::FeedbackResponse* response) {
  const std::string& trust = request->trust();
  if (trust.empty() || trust.size() > static_cast<size_t>(kMaxStringBytes) ||
      trust.find('/') != std::string::npos) {
    return ToGrpc(absl::InvalidArgumentError("feedback needs a trust code"));
  }
  if (forwarder_ == nullptr) return grpc::Status::OK;
  for (v1::Ack& ack : forwarder_->Refused(trust)) {
    *response->add_upstream() = std::move(ack);
  }
  return grpc::Status::OK;
}

}  // namespace ohfed::aggregator
