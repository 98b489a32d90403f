#include "common/query_rows.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/impl/codegen/proto_utils.h>

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/status.h"

namespace ohfed {
namespace {

// kInternal unless each of `column`'s entries indexes a table of `size`.
absl::Status CheckIndices(
    const char* name, const google::protobuf::RepeatedField<uint32_t>& column,
    int size) {
  for (uint32_t i : column) {
    if (i >= static_cast<uint32_t>(size)) {
      return absl::InternalError(
          absl::StrCat("query answer: compact rows: ", name, " index ", i,
                       " outside its table of ", size));
    }
  }
  return absl::OkStatus();
}

}  // namespace

grpc::Status QueryCompact(
    const std::shared_ptr<grpc::ChannelInterface>& channel,
    grpc::ClientContext* context, const v1::QueryRequest& request,
    v1::CompactQueryResponse* answer) {
  std::string bytes = request.SerializeAsString();
  v1::QueryForm form;
  form.set_compact(true);
  form.AppendToString(&bytes);  // merged into the request by its parser
  grpc::Slice slice(bytes);
  grpc::ByteBuffer raw(&slice, 1), response;
  grpc::GenericStub stub(channel);
  absl::Notification done;
  grpc::Status status;
  stub.UnaryCall(context, "/ohfed.v1.Query/Query", grpc::StubOptions(), &raw,
                 &response, [&](grpc::Status s) {
                   status = std::move(s);
                   done.Notify();
                 });
  done.WaitForNotification();
  if (!status.ok()) return status;
  if (!grpc::SerializationTraits<v1::CompactQueryResponse>::Deserialize(
           &response, answer)
           .ok()) {
    return grpc::Status(grpc::StatusCode::INTERNAL,
                        "query answer: not a CompactQueryResponse");
  }
  return grpc::Status::OK;
}

absl::Status CheckCompactRows(const v1::CompactRows& c) {
  const int rows = c.unit_size();
  if (c.measure_size() != rows || c.stat_size() != rows ||
      c.value_size() != rows || c.suppressed_size() != rows ||
      c.n_units_size() != rows || c.unit_names_size() != c.units_size()) {
    return absl::InternalError(
        "query answer: compact rows: columns of different lengths");
  }
  OHFED_RETURN_IF_ERROR(CheckIndices("unit", c.unit(), c.units_size()));
  OHFED_RETURN_IF_ERROR(
      CheckIndices("measure", c.measure(), c.measures_size()));
  return CheckIndices("stat", c.stat(), c.stats_size());
}

absl::StatusOr<v1::QueryResponse> ExpandCompactRows(
    v1::CompactQueryResponse answer) {
  v1::QueryResponse out;
  out.mutable_rows()->Swap(answer.mutable_rows());
  out.set_catalogue_version(std::move(*answer.mutable_catalogue_version()));
  out.set_registry_version(std::move(*answer.mutable_registry_version()));
  out.set_warning(std::move(*answer.mutable_warning()));
  const v1::CompactRows& c = answer.compact();
  OHFED_RETURN_IF_ERROR(CheckCompactRows(c));
  out.mutable_rows()->Reserve(out.rows_size() + c.unit_size());
  for (int i = 0; i < c.unit_size(); ++i) {
    v1::Row* row = out.add_rows();
    row->set_scope(c.scope());
    row->set_unit(c.units(c.unit(i)));
    row->set_unit_name(c.unit_names(c.unit(i)));
    row->set_period(c.period());
    row->set_measure(c.measures(c.measure(i)));
    row->set_stat(c.stats(c.stat(i)));
    row->set_value(c.value(i));
    row->set_suppressed(c.suppressed(i));
    row->set_n_units(c.n_units(i));
  }
  return out;
}

}  // namespace ohfed
