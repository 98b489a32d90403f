// TEMPORARY placeholder so the CLI links while the client is written;
// replaced by the real implementation.
#include "common/query_client.h"

#include <iostream>

namespace ohfed {

void AddQueryCommand(CLI::App& app) {
  CLI::App* q = app.add_subcommand("query", "query an aggregator");
  q->allow_extras();
  q->callback([] {
    std::cerr << "ohfed query: not built yet\n";
    throw CLI::RuntimeError(1);
  });
}

}  // namespace ohfed
