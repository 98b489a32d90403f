#include "common/health.h"

#include <grpcpp/health_check_service_interface.h>

namespace ohfed {

void EnableHealthChecking() { grpc::EnableDefaultHealthCheckService(true); }

void MarkServing(grpc::Server& server,
                 const std::vector<std::string>& services) {
  grpc::HealthCheckServiceInterface* health = server.GetHealthCheckService();
  if (health == nullptr) return;
  health->SetServingStatus("", true);
  for (const std::string& name : services) health->SetServingStatus(name, true);
}

void MarkNotServing(grpc::Server& server) {
  grpc::HealthCheckServiceInterface* health = server.GetHealthCheckService();
  // Shutdown (rather than SetServingStatus(false)) also ignores any later
  // SetServingStatus(true), so nothing turns it back on while draining.
  if (health != nullptr) health->Shutdown();
}

}  // namespace ohfed
