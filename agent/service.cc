#include "agent/service.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/importer.h"
#include "common/log.h"
#include "common/status.h"
#include "common/transport.h"

namespace ohfed::agent {
namespace {

// Sync waits at most this long, whatever the caller asks.
constexpr absl::Duration kMaxSyncWait = absl::Hours(1);
constexpr absl::Duration kSyncRekickInterval = absl::Seconds(1);

absl::string_view KindName(v1::ImportKind kind) {
  switch (kind) {
    case v1::IMPORT_KIND_STAFFING:
      return "staffing";
    case v1::IMPORT_KIND_ACTIVITY:
      return "activity";
    case v1::IMPORT_KIND_PROFILE:
      return "profile";
    default:
      return "unknown";
  }
}

}  // namespace

grpc::Status ControlService::Import(grpc::ServerContext*,
                                    const v1::ImportRequest* request,
                                    v1::ImportResponse* response) {
  absl::Status size =
      CheckImportSize(request->file_name(), request->content().size());
  if (!size.ok()) return ToGrpc(size);
  v1::ImportChunk settings;
  settings.set_kind(request->kind());
  settings.set_file_name(request->file_name());
  settings.set_skip_invalid(request->skip_invalid());
  settings.set_accept_outliers(request->accept_outliers());
  bool given = false;
  grpc::Status status = RunImport(
      settings,
      [&](std::string* piece) {
        if (given) return false;
        given = true;
        *piece = request->content();
        return true;
      },
      response);
  TrimAfterImport();
  return status;
}

grpc::Status ControlService::ImportStream(
    grpc::ServerContext*, grpc::ServerReader<v1::ImportChunk>* reader,
    v1::ImportResponse* response) {
  v1::ImportChunk chunk;
  if (!reader->Read(&chunk)) {
    return ToGrpc(absl::InvalidArgumentError("empty import stream"));
  }
  v1::ImportChunk settings = chunk;
  settings.clear_content();
  bool first = true;
  grpc::Status status = RunImport(
      settings,
      [&](std::string* piece) {
        if (!first && !reader->Read(&chunk)) return false;
        first = false;
        piece->swap(*chunk.mutable_content());
        return true;
      },
      response);
  TrimAfterImport();
  return status;
}

void ControlService::TrimAfterImport() {
  // An import's pages (parser, stage, RocksDB's file writer) are not used
  // again until the next one: back to the idle footprint once the answer,
  // a following `ohfed show` and RocksDB are done. Not before answering:
  // that made every import wait for the trim and fault its pages back in.
  quiet_trim_.Poke();
}

grpc::Status ControlService::RunImport(
    const v1::ImportChunk& request,
    const std::function<bool(std::string*)>& next,
    v1::ImportResponse* response) {
  // Today is a UTC day, as the current month is (Month::Containing).
  const absl::Time now = clock_->Now();
  ImportContext ctx{&store_->catalogue(), info_.trust, Month::Containing(now),
                    request.file_name(),
                    absl::ToCivilDay(now, absl::UTCTimeZone())};
  // Activity rows wait in a stage, not in memory, until the file is read.
  std::unique_ptr<ActivityStage> stage;
  if (request.kind() == v1::IMPORT_KIND_ACTIVITY) {
    stage = std::make_unique<ActivityStage>(store_->staging_dir());
  }
  ImportParser parser(request.kind(), ctx, stage.get());
  std::string piece;
  while (next(&piece)) {
    absl::Status fed = parser.Feed(piece);
    if (!fed.ok()) return ToGrpc(fed);
  }
  absl::StatusOr<ParsedImport> parsed = parser.Finish();
  if (!parsed.ok()) return ToGrpc(parsed.status());
  ReportParse(*parsed, response);
  const std::string what = absl::StrCat(
      KindName(request.kind()), " import of '", request.file_name(), "'");
  // Atomic unless asked otherwise; a missing column is never skippable.
  if (parsed->fatal || (!parsed->errors.empty() && !request.skip_invalid())) {
    LogWarning(absl::StrCat(what, " rejected: ", parsed->errors_total,
                            " problems, nothing stored"));
    return grpc::Status::OK;
  }
  if (stage != nullptr && stage->bytes() >= info_.trim_before_months_bytes) {
    trim_();
  }
  absl::StatusOr<ImportOutcome> outcome =
      stage != nullptr
          ? store_->ApplyActivityImport(*stage, request.accept_outliers())
          : store_->ApplyImport(RecordsOf(*parsed), request.accept_outliers());
  if (!outcome.ok()) {
    LogError(absl::StrCat(what, " failed: ", outcome.status().message()));
    return ToGrpc(outcome.status());
  }
  response->set_rows_imported(outcome->rows_imported);
  response->set_rows_unchanged(outcome->rows_unchanged);
  response->set_rows_skipped(parsed->rows_invalid);
  NameLines(*parsed, &outcome->warnings);
  for (auto& w : outcome->warnings) *response->add_warnings() = std::move(w);
  for (auto& p : outcome->periods_changed) response->add_periods_changed(p);
  for (auto& p : outcome->periods_held) response->add_periods_held(p);
  LogLine(absl::StrCat(
      what, ": ", outcome->rows_imported, " rows imported, ",
      outcome->rows_unchanged, " unchanged, ", parsed->rows_invalid,
      " skipped; periods changed: ",
      outcome->periods_changed.empty()
          ? "none"
          : absl::StrJoin(outcome->periods_changed, " "),
      outcome->periods_held.empty()
          ? ""
          : absl::StrCat("; held for outlier review: ",
                         absl::StrJoin(outcome->periods_held, " "))));
  if (!outcome->periods_changed.empty()) uploader_->Kick();
  return grpc::Status::OK;
}

grpc::Status ControlService::SetValue(grpc::ServerContext*,
                                      const v1::SetValueRequest* request,
                                      v1::SetValueResponse* response) {
  absl::StatusOr<v1::SetValueResponse> r =
      store_->SetValue(request->period(), request->measure(), request->value());
  if (!r.ok()) return ToGrpc(r.status());
  *response = std::move(*r);
  LogLine(absl::StrCat("set ", request->period(), " ", request->measure(),
                       " = ", request->value(), " (revision ",
                       response->revision(), ")"));
  uploader_->Kick();
  return grpc::Status::OK;
}

grpc::Status ControlService::Sync(grpc::ServerContext*,
                                  const v1::SyncRequest* request,
                                  v1::SyncResponse* response) {
  // Someone is waiting: re-kick every second so a just-restarted aggregator
  // is reached within the channel's reconnect backoff rather than after the
  // uploader's (up to 30 s). Idle agents never do this.
  absl::Time deadline =
      absl::Now() +
      std::min(absl::Milliseconds(request->timeout_ms()), kMaxSyncWait);
  do {
    uploader_->Kick();
    if (store_->AwaitDrained(
            std::min(deadline - absl::Now(), kSyncRekickInterval))) {
      break;
    }
  } while (absl::Now() < deadline && !store_->waits_cancelled());
  bool complete = true;
  for (v1::PeriodState& s : store_->States()) {
    if (s.state() == "current") continue;
    if (s.state() == "rejected") {
      response->set_rejected(response->rejected() + 1);
    } else if (s.state() != "open") {
      response->set_pending(response->pending() + 1);  // pending or held
    }
    complete &= s.state() == "open";
    *response->add_periods() = std::move(s);
  }
  response->set_complete(complete);
  response->set_last_error(uploader_->stats().last_error);
  return grpc::Status::OK;
}

grpc::Status ControlService::Status(grpc::ServerContext*,
                                    const v1::StatusRequest*,
                                    v1::StatusResponse* response) {
  response->set_trust(info_.trust);
  response->set_aggregator(info_.aggregator);
  absl::Time last = store_->last_ack();
  response->set_last_sync_unix_ms(
      last == absl::InfinitePast() ? 0 : absl::ToUnixMillis(last));
  response->set_last_error(uploader_->stats().last_error);
  response->set_catalogue_version(store_->catalogue().version());
  for (v1::PeriodState& s : store_->States()) {
    *response->add_periods() = std::move(s);
  }
  return grpc::Status::OK;
}

grpc::Status ControlService::Summary(grpc::ServerContext*,
                                     const v1::SummaryRequest* request,
                                     v1::UnitSummary* response) {
  absl::StatusOr<v1::UnitSummary> s = store_->Summary(request->period());
  if (!s.ok()) return ToGrpc(s.status());
  *response = std::move(*s);
  return grpc::Status::OK;
}

namespace {

void ToResponse(const PeriodChange& change,
                v1::PeriodChangeResponse* response) {
  response->set_revision(change.revision);
  response->set_changed(change.changed);
}

}  // namespace

grpc::Status ControlService::UnsetValue(grpc::ServerContext*,
                                        const v1::UnsetValueRequest* request,
                                        v1::PeriodChangeResponse* response) {
  absl::StatusOr<PeriodChange> r =
      store_->UnsetValue(request->period(), request->measure());
  if (!r.ok()) return ToGrpc(r.status());
  ToResponse(*r, response);
  if (r->changed) {
    LogLine(absl::StrCat("unset ", request->period(), " ", request->measure(),
                         " (revision ", r->revision, ")"));
    uploader_->Kick();
  }
  return grpc::Status::OK;
}

grpc::Status ControlService::Retract(grpc::ServerContext*,
                                     const v1::RetractRequest* request,
                                     v1::PeriodChangeResponse* response) {
  absl::StatusOr<PeriodChange> r = store_->Retract(request->period());
  if (!r.ok()) return ToGrpc(r.status());
  ToResponse(*r, response);
  if (r->changed) {
    LogLine(absl::StrCat("retracted ", request->period(), " (revision ",
                         r->revision, ")"));
    uploader_->Kick();
  }
  return grpc::Status::OK;
}

grpc::Status ControlService::Confirm(grpc::ServerContext*,
                                     const v1::ConfirmRequest* request,
                                     v1::PeriodChangeResponse* response) {
  absl::StatusOr<PeriodChange> r = store_->Confirm(request->period());
  if (!r.ok()) return ToGrpc(r.status());
  ToResponse(*r, response);
  if (r->changed) {
    LogLine(absl::StrCat("confirmed ", request->period(),
                         " after outlier review (revision ", r->revision, ")"));
    uploader_->Kick();
  }
  return grpc::Status::OK;
}

}  // namespace ohfed::agent
