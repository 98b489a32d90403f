#include "daemon/reflection.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>

#include "common/health.h"

namespace ohfed {

void EnableDiscovery() {
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  EnableHealthChecking();
}

}  // namespace ohfed
