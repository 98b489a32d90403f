// The AgentControl gRPC service (proto/ohfed/v1/ohfed.proto) that the `ohfed`
// CLI talks to over the agent's unix socket. Thin: converts requests, calls
// the importer and the store, kicks the uploader, maps statuses.
//
// Sync counts held periods (awaiting `ohfed confirm`) as not complete, but
// not open months: they cannot be sent before the month ends, and are
// listed in its answer with state "open".
//
// Thread-safe (the store serialises writes). The store and uploader must
// outlive the service.
#ifndef OHFED_AGENT_SERVICE_H_
#define OHFED_AGENT_SERVICE_H_

#include <functional>
#include <string>

#include "agent/local_store.h"
#include "agent/quiet_trim.h"
#include "common/memory_trim.h"
#include "common/uploader.h"
#include "ohfed/v1/ohfed.grpc.pb.h"

namespace ohfed::agent {

struct ServiceInfo {
  std::string trust;
  std::string aggregator;  // shown by `ohfed status`
  // Gives memory back once the agent has been quiet for a second after an
  // import (agent/quiet_trim.h). nullptr: TrimMemory
  // (common/memory_trim.h); tests count the calls.
  std::function<void()> trim_memory;
  // An activity import that stages at least this much trims memory before
  // its months are stored, as well as once quiet.
  uint64_t trim_before_months_bytes = kTrimBeforeMonthsBytes;
  // Figure 5's 1,000,000 events stage 40 MB: its months then peaked at
  // 36.0-36.5 MiB RSS with the parse's library pages still mapped, 31.9-32.0
  // after a trim, for ~25 ms more; 100,000 events (4 MB) are not trimmed,
  // the trim would take a fifth of their import and they peak at start-up's.
  static constexpr uint64_t kTrimBeforeMonthsBytes = uint64_t{16} << 20;
};

class ControlService final : public v1::AgentControl::Service {
 public:
  ControlService(ServiceInfo info, LocalStore* store, Uploader* uploader,
                 Clock* clock = Clock::Real())
      : info_(std::move(info)),
        store_(store),
        uploader_(uploader),
        clock_(clock),
        trim_(info_.trim_memory ? info_.trim_memory : [] { TrimMemory(); }),
        quiet_trim_(QuietTrim::kDefaultDelay, trim_) {}

  grpc::Status Import(grpc::ServerContext*, const v1::ImportRequest* request,
                      v1::ImportResponse* response) override;
  grpc::Status ImportStream(grpc::ServerContext*,
                            grpc::ServerReader<v1::ImportChunk>* reader,
                            v1::ImportResponse* response) override;
  grpc::Status SetValue(grpc::ServerContext*,
                        const v1::SetValueRequest* request,
                        v1::SetValueResponse* response) override;
  grpc::Status Sync(grpc::ServerContext*, const v1::SyncRequest* request,
                    v1::SyncResponse* response) override;
  grpc::Status Status(grpc::ServerContext*, const v1::StatusRequest* request,
                      v1::StatusResponse* response) override;
  grpc::Status Summary(grpc::ServerContext*, const v1::SummaryRequest* request,
                       v1::UnitSummary* response) override;
  grpc::Status UnsetValue(grpc::ServerContext*,
                          const v1::UnsetValueRequest* request,
                          v1::PeriodChangeResponse* response) override;
  grpc::Status Retract(grpc::ServerContext*, const v1::RetractRequest* request,
                       v1::PeriodChangeResponse* response) override;
  grpc::Status Confirm(grpc::ServerContext*, const v1::ConfirmRequest* request,
                       v1::PeriodChangeResponse* response) override;

 private:
  // What ends both imports: a trim once quiet.
  void TrimAfterImport();
  // Both imports: the file's pieces come from `next` (false at the end).
  grpc::Status RunImport(const v1::ImportChunk& settings,
                         const std::function<bool(std::string*)>& next,
                         v1::ImportResponse* response);

  const ServiceInfo info_;
  LocalStore* const store_;
  Uploader* const uploader_;
  Clock* const clock_;
  // ServiceInfo::trim_memory, or TrimMemory: now, and once quiet.
  const std::function<void()> trim_;
  QuietTrim quiet_trim_;
};

}  // namespace ohfed::agent

#endif  // OHFED_AGENT_SERVICE_H_
