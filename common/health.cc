#include "common/health.h"

#include <grpcpp/ext/health_check_service_server_builder_option.h>
#include <grpcpp/health_check_service_interface.h>

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "absl/synchronization/mutex.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace ohfed {
namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;
using Status = HealthCheckResponse::ServingStatus;

std::atomic<bool> enabled{false};

class HealthService;

// One Watch stream: sends the status of its service whenever it changes
// (only the latest, if several change while a write is in flight), and
// after shutdown the last one, then ends.
class Watcher : public grpc::ServerWriteReactor<HealthCheckResponse> {
 public:
  Watcher(HealthService* service, std::string name)
      : service_(service), name_(std::move(name)) {}
  const std::string& name() const { return name_; }

  // Sends `status`; with `last`, ends the stream after it.
  void Send(Status status, bool last) {
    absl::MutexLock l(&mu_);
    if (finished_) return;
    next_ = status;
    last_ = last_ || last;
    if (!writing_) StartNextLocked();
  }

 private:
  void StartNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!next_.has_value()) return;
    response_.set_status(*next_);
    next_.reset();
    writing_ = true;
    if (last_) {
      finished_ = true;
      StartWriteAndFinish(&response_, grpc::WriteOptions(),
                          grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                       "the server is shutting down"));
    } else {
      StartWrite(&response_);
    }
  }
  void OnWriteDone(bool ok) override {
    absl::MutexLock l(&mu_);
    writing_ = false;
    if (finished_) return;
    if (!ok) {
      FinishLocked(grpc::Status::CANCELLED);
      return;
    }
    StartNextLocked();
  }
  void OnCancel() override {
    absl::MutexLock l(&mu_);
    if (!finished_) FinishLocked(grpc::Status::CANCELLED);
  }
  void OnDone() override;
  void FinishLocked(const grpc::Status& status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    finished_ = true;
    Finish(status);
  }

  HealthService* const service_;
  const std::string name_;
  absl::Mutex mu_;
  HealthCheckResponse response_ ABSL_GUARDED_BY(mu_);
  std::optional<Status> next_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool last_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

// grpc.health.v1.Health over a table of statuses by service name. Owned by
// the server (HealthCheckServiceServerBuilderOption), which destroys it
// only once every call is done.
class HealthService : public grpc::health::v1::Health::CallbackService,
                      public grpc::HealthCheckServiceInterface {
 public:
  HealthService() { statuses_[""] = HealthCheckResponse::SERVING; }

  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* ctx,
                                  const HealthCheckRequest* request,
                                  HealthCheckResponse* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    absl::MutexLock l(&mu_);
    auto it = statuses_.find(request->service());
    if (it == statuses_.end()) {
      reactor->Finish(
          grpc::Status(grpc::StatusCode::NOT_FOUND, "service name unknown"));
    } else {
      response->set_status(it->second);
      reactor->Finish(grpc::Status::OK);
    }
    return reactor;
  }

  grpc::ServerWriteReactor<HealthCheckResponse>* Watch(
      grpc::CallbackServerContext* ctx,
      const HealthCheckRequest* request) override {
    auto* watcher = new Watcher(this, request->service());
    absl::MutexLock l(&mu_);
    watchers_.insert(watcher);
    watcher->Send(StatusLocked(watcher->name()), shutdown_);
    return watcher;
  }

  void SetServingStatus(const std::string& name, bool serving) override {
    absl::MutexLock l(&mu_);
    if (shutdown_) return;
    statuses_[name] = serving ? HealthCheckResponse::SERVING
                              : HealthCheckResponse::NOT_SERVING;
    for (Watcher* w : watchers_) {
      if (w->name() == name) w->Send(statuses_[name], false);
    }
  }

  void SetServingStatus(bool serving) override {
    absl::MutexLock l(&mu_);
    if (shutdown_) return;
    for (auto& [name, status] : statuses_) {
      status = serving ? HealthCheckResponse::SERVING
                       : HealthCheckResponse::NOT_SERVING;
    }
    for (Watcher* w : watchers_) w->Send(StatusLocked(w->name()), false);
  }

  void Shutdown() override {
    absl::MutexLock l(&mu_);
    if (shutdown_) return;
    shutdown_ = true;
    for (auto& [name, status] : statuses_) {
      status = HealthCheckResponse::NOT_SERVING;
    }
    for (Watcher* w : watchers_) w->Send(StatusLocked(w->name()), true);
  }

  void Forget(Watcher* watcher) {
    absl::MutexLock l(&mu_);
    watchers_.erase(watcher);
  }

 private:
  Status StatusLocked(const std::string& name)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = statuses_.find(name);
    return it == statuses_.end() ? HealthCheckResponse::SERVICE_UNKNOWN
                                 : it->second;
  }

  absl::Mutex mu_;
  std::map<std::string, Status> statuses_ ABSL_GUARDED_BY(mu_);
  std::set<Watcher*> watchers_ ABSL_GUARDED_BY(mu_);
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
};

void Watcher::OnDone() {
  service_->Forget(this);
  delete this;
}

}  // namespace

void EnableHealthChecking() { enabled.store(true); }

void AddHealthService(grpc::ServerBuilder& builder) {
  if (!enabled.load()) return;
  auto service = std::make_unique<HealthService>();
  builder.RegisterService(service.get());
  builder.SetOption(
      std::make_unique<grpc::HealthCheckServiceServerBuilderOption>(
          std::move(service)));
}

void MarkServing(grpc::Server& server,
                 const std::vector<std::string>& services) {
  grpc::HealthCheckServiceInterface* health = server.GetHealthCheckService();
  if (health == nullptr) return;
  health->SetServingStatus("", true);
  for (const std::string& name : services) health->SetServingStatus(name, true);
}

void SetServiceServing(grpc::Server& server, const std::string& service,
                       bool serving) {
  grpc::HealthCheckServiceInterface* health = server.GetHealthCheckService();
  if (health != nullptr) health->SetServingStatus(service, serving);
}

void MarkNotServing(grpc::Server& server) {
  grpc::HealthCheckServiceInterface* health = server.GetHealthCheckService();
  if (health != nullptr) health->Shutdown();
}

}  // namespace ohfed
