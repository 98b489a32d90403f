#include "cli/agent_client.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "agent/importer.h"
#include "common/status.h"
#include "common/transport.h"

namespace ohfed::agent {
namespace {

constexpr absl::Duration kCallDeadline = absl::Seconds(30);
// An import of a large file parses and syncs to disk in the agent.
constexpr absl::Duration kImportDeadline = absl::Minutes(5);

absl::StatusOr<v1::ImportKind> KindOf(const std::string& kind) {
  if (kind == "staffing") return v1::IMPORT_KIND_STAFFING;
  if (kind == "activity") return v1::IMPORT_KIND_ACTIVITY;
  if (kind == "profile") return v1::IMPORT_KIND_PROFILE;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown import kind '", kind, "': use staffing, activity or profile"));
}

}  // namespace

absl::StatusOr<AgentClient> AgentClient::Connect(const std::string& socket) {
  auto channel = MakeChannel("unix:" + socket, {});
  if (!channel.ok()) return channel.status();
  return AgentClient(socket, v1::AgentControl::NewStub(*channel));
}

template <typename Req, typename Resp, typename Method>
absl::StatusOr<Resp> AgentClient::Call(Method method, const Req& request,
                                       absl::Duration deadline) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  Resp response;
  grpc::Status s = (stub_.get()->*method)(&ctx, request, &response);
  if (!s.ok()) return Unreachable(s);
  return response;
}

absl::Status AgentClient::Unreachable(const grpc::Status& s) const {
  if (s.error_code() == grpc::StatusCode::UNAVAILABLE) {
    return absl::UnavailableError(absl::StrCat(
        "cannot reach the agent at ", socket_,
        " (is ohfed-agent running? use --agent or OHFED_AGENT_SOCKET): ",
        s.error_message()));
  }
  return FromGrpc(s);
}

absl::StatusOr<v1::ImportResponse> AgentClient::ImportPieces(
    const std::string& kind, const std::string& file_name,
    const NextPiece& next, bool skip_invalid, bool accept_outliers) {
  absl::StatusOr<v1::ImportKind> k = KindOf(kind);
  if (!k.ok()) return k.status();
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + kImportDeadline));
  v1::ImportResponse response;
  std::unique_ptr<grpc::ClientWriter<v1::ImportChunk>> writer =
      stub_->ImportStream(&ctx, &response);
  v1::ImportChunk chunk;
  chunk.set_kind(*k);
  chunk.set_file_name(file_name);
  chunk.set_skip_invalid(skip_invalid);
  chunk.set_accept_outliers(accept_outliers);
  bool sent = false;
  std::string piece;
  while (next(&piece)) {
    chunk.mutable_content()->swap(piece);
    // A failed write means the agent has answered already (a CSV error,
    // say): Finish says what.
    if (!writer->Write(chunk)) break;
    sent = true;
    chunk.Clear();
  }
  if (!sent) writer->Write(chunk);  // an empty file still says what it is
  writer->WritesDone();
  grpc::Status s = writer->Finish();
  if (!s.ok()) return Unreachable(s);
  return response;
}

absl::StatusOr<v1::ImportResponse> AgentClient::Import(
    const std::string& kind, const std::string& file_name,
    const std::string& content, bool skip_invalid, bool accept_outliers) {
  size_t offset = 0;
  return ImportPieces(
      kind, file_name,
      [&](std::string* piece) {
        if (offset >= content.size()) return false;
        piece->assign(content, offset, kPieceBytes);
        offset += piece->size();
        return true;
      },
      skip_invalid, accept_outliers);
}

absl::StatusOr<v1::ImportResponse> AgentClient::ImportFile(
    const std::string& kind, const std::string& path,
    const std::string& file_name, bool skip_invalid, bool accept_outliers) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    std::string msg = absl::StrCat("cannot open ", path, ": ", strerror(err));
    if (err == ENOENT) return absl::NotFoundError(msg);
    return absl::UnavailableError(msg);
  }
  bool read_failed = false;
  absl::StatusOr<v1::ImportResponse> r = ImportPieces(
      kind, file_name,
      [&](std::string* piece) {
        piece->resize(kPieceBytes);
        in.read(piece->data(), static_cast<std::streamsize>(piece->size()));
        piece->resize(static_cast<size_t>(in.gcount()));
        read_failed = in.bad();
        return !read_failed && !piece->empty();
      },
      skip_invalid, accept_outliers);
  if (read_failed) {
    return absl::UnavailableError(
        absl::StrCat("cannot read ", path, ": ", strerror(errno)));
  }
  return r;
}

absl::StatusOr<v1::ImportResponse> AgentClient::ImportOneMessage(
    const std::string& kind, const std::string& file_name,
    const std::string& content, bool skip_invalid, bool accept_outliers) {
  absl::StatusOr<v1::ImportKind> k = KindOf(kind);
  if (!k.ok()) return k.status();
  absl::Status size = CheckImportSize(file_name, content.size());
  if (!size.ok()) return size;
  v1::ImportRequest req;
  req.set_kind(*k);
  req.set_file_name(file_name);
  req.set_content(content);
  req.set_skip_invalid(skip_invalid);
  req.set_accept_outliers(accept_outliers);
  return Call<v1::ImportRequest, v1::ImportResponse>(
      &v1::AgentControl::Stub::Import, req, kImportDeadline);
}

absl::StatusOr<v1::SetValueResponse> AgentClient::SetValue(
    const std::string& period, const std::string& measure,
    const std::string& value) {
  v1::SetValueRequest req;
  req.set_period(period);
  req.set_measure(measure);
  req.set_value(value);
  return Call<v1::SetValueRequest, v1::SetValueResponse>(
      &v1::AgentControl::Stub::SetValue, req, kCallDeadline);
}

absl::StatusOr<v1::SyncResponse> AgentClient::Sync(absl::Duration timeout) {
  v1::SyncRequest req;
  req.set_timeout_ms(static_cast<uint32_t>(absl::ToInt64Milliseconds(timeout)));
  return Call<v1::SyncRequest, v1::SyncResponse>(&v1::AgentControl::Stub::Sync,
                                                 req, timeout + kCallDeadline);
}

absl::StatusOr<v1::StatusResponse> AgentClient::Status() {
  return Call<v1::StatusRequest, v1::StatusResponse>(
      &v1::AgentControl::Stub::Status, v1::StatusRequest(), kCallDeadline);
}

absl::StatusOr<v1::UnitSummary> AgentClient::Summary(
    const std::string& period) {
  v1::SummaryRequest req;
  req.set_period(period);
  return Call<v1::SummaryRequest, v1::UnitSummary>(
      &v1::AgentControl::Stub::Summary, req, kCallDeadline);
}

absl::StatusOr<v1::PeriodChangeResponse> AgentClient::UnsetValue(
    const std::string& period, const std::string& measure) {
  v1::UnsetValueRequest req;
  req.set_period(period);
  req.set_measure(measure);
  return Call<v1::UnsetValueRequest, v1::PeriodChangeResponse>(
      &v1::AgentControl::Stub::UnsetValue, req, kCallDeadline);
}

absl::StatusOr<v1::PeriodChangeResponse> AgentClient::Retract(
    const std::string& period) {
  v1::RetractRequest req;
  req.set_period(period);
  return Call<v1::RetractRequest, v1::PeriodChangeResponse>(
      &v1::AgentControl::Stub::Retract, req, kCallDeadline);
}

absl::StatusOr<v1::PeriodChangeResponse> AgentClient::Confirm(
    const std::string& period) {
  v1::ConfirmRequest req;
  req.set_period(period);
  return Call<v1::ConfirmRequest, v1::PeriodChangeResponse>(
      &v1::AgentControl::Stub::Confirm, req, kCallDeadline);
}

}  // namespace ohfed::agent
