// `ohfed query`: one unary RPC to the aggregator's Query service, rendered by
// cli/query_format.h. `--measures completeness` asks the Completeness RPC
// instead of Query.
#include "cli/query_client.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "cli/query_format.h"
#include "common/query_rows.h"
#include "common/status.h"
#include "common/token.h"
#include "common/transport.h"
#include "ohfed/v1/ohfed.grpc.pb.h"

namespace ohfed {
namespace {

constexpr char kCompleteness[] = "completeness";

struct QueryFlags {
  std::string aggregator;
  std::string scope;  // empty: all the aggregator covers
  std::string period;
  std::string by = "self";
  std::string measures;
  std::vector<std::string> stats;
  std::string format = "table";
  bool insecure = false;
  std::string tls_cert, tls_key, tls_ca;
  std::string token_file;  // empty: $OHFED_TOKEN, if set
  int timeout_seconds = 30;
};

constexpr char kTokenVariable[] = "OHFED_TOKEN";

// The bearer token from --token-file, else $OHFED_TOKEN, else none ("").
absl::StatusOr<std::string> TokenFor(const QueryFlags& f) {
  if (!f.token_file.empty()) return ReadTokenFile(f.token_file);
  const char* env = std::getenv(kTokenVariable);
  if (env == nullptr) return std::string();
  return std::string(absl::StripAsciiWhitespace(env));
}

// Names the aggregator in transport failures, where the server's own text
// ("failed to connect to all addresses") does not say which one.
absl::Status RpcStatus(const grpc::Status& s, const std::string& aggregator) {
  absl::Status status = FromGrpc(s);
  if (status.code() != absl::StatusCode::kUnavailable &&
      status.code() != absl::StatusCode::kDeadlineExceeded) {
    return status;
  }
  return absl::Status(status.code(), absl::StrCat("aggregator ", aggregator,
                                                  ": ", status.message()));
}

// The aggregator flags an answer that may be partial (its store was
// damaged and recovered, and some agents have not resent yet): said on
// stderr, so the table or CSV on stdout stays as it is.
void WarnIfPartial(const std::string& warning) {
  if (!warning.empty())
    std::cerr << "ohfed query: warning: " << warning << "\n";
}

// Runs the RPC the flags ask for and returns the rendered answer.
absl::StatusOr<std::string> Run(const QueryFlags& f) {
  OHFED_ASSIGN_OR_RETURN(OutputFormat format, ParseOutputFormat(f.format));
  TransportOptions transport;
  transport.insecure = f.insecure;
  transport.cert_file = f.tls_cert;
  transport.key_file = f.tls_key;
  transport.ca_file = f.tls_ca;
  OHFED_ASSIGN_OR_RETURN(auto channel, MakeChannel(f.aggregator, transport));
  auto stub = v1::Query::NewStub(channel);
  OHFED_ASSIGN_OR_RETURN(std::string token, TokenFor(f));
  grpc::ClientContext ctx;
  // As plain metadata: gRPC's call credentials refuse plaintext channels,
  // and MakeChannel already allows plaintext only to loopback.
  if (!token.empty()) {
    ctx.AddMetadata("authorization", absl::StrCat("Bearer ", token));
  }
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::seconds(f.timeout_seconds));
  if (f.measures == kCompleteness) {
    v1::CompletenessRequest req;
    req.set_scope(f.scope);
    req.set_period(f.period);
    req.set_by(f.by);
    req.set_compact(true);  // as Query's below
    v1::CompletenessResponse compact;
    OHFED_RETURN_IF_ERROR(
        RpcStatus(stub->Completeness(&ctx, req, &compact), f.aggregator));
    OHFED_ASSIGN_OR_RETURN(v1::CompletenessResponse resp,
                           ExpandCompactCompleteness(std::move(compact)));
    WarnIfPartial(resp.warning());
    return RenderCompleteness(resp, format);
  }
  v1::QueryRequest req;
  req.set_scope(f.scope);
  req.set_period(f.period);
  req.set_by(f.by);
  req.set_measure_prefix(f.measures);
  for (const std::string& s : f.stats) req.add_stats(s);
  // Asked for in the compact form (a fraction of a large answer's bytes)
  // and printed as its tidy rows.
  req.set_compact(true);
  v1::QueryResponse compact;
  OHFED_RETURN_IF_ERROR(
      RpcStatus(stub->Query(&ctx, req, &compact), f.aggregator));
  OHFED_ASSIGN_OR_RETURN(v1::QueryResponse resp,
                         ExpandCompactRows(std::move(compact)));
  WarnIfPartial(resp.warning());
  return RenderQuery(resp, format);
}

}  // namespace

void AddQueryCommand(CLI::App& app) {
  auto flags = std::make_shared<QueryFlags>();
  CLI::App* q = app.add_subcommand(
      "query", "ask an aggregator for statistics or completeness");
  q->add_option("--aggregator", flags->aggregator, "aggregator HOST:PORT")
      ->required();
  q->add_option("--scope", flags->scope,
                "national, region:CODE, ics:CODE or trust:CODE (default: "
                "all the aggregator covers)");
  q->add_option("--period", flags->period,
                "YYYY-MM, YYYY-Qn, YYYY, FYYYYY or a range P1:P2")
      ->required();
  q->add_option("--by", flags->by,
                "break down by self, region, ics or trust; with completeness "
                "region or ics gives one row per unit, self or trust one per "
                "trust")
      ->capture_default_str();
  q->add_option("--measures", flags->measures,
                "measure prefix, e.g. staffing.wte (empty: all); "
                "'completeness' for who has reported");
  q->add_option("--stats", flags->stats,
                "comma-separated: sum,mean,median,min,max,p25,p75,yes,"
                "answered,pct,events,p90,value")
      ->delimiter(',');
  q->add_option("--format", flags->format, "table, csv or json")
      ->check(CLI::IsMember({"table", "csv", "json"}))
      ->capture_default_str();
  q->add_flag("--insecure", flags->insecure,
              "plaintext gRPC (loopback addresses only)");
  q->add_option("--tls-cert", flags->tls_cert,
                "client certificate (PEM) whose identity is the caller's");
  q->add_option("--tls-key", flags->tls_key, "its private key (PEM)");
  q->add_option("--tls-ca", flags->tls_ca,
                "CA certificate(s) the aggregator's certificate is checked "
                "against (PEM)");
  q->add_option("--token-file", flags->token_file,
                "file whose first line is a bearer token from `ohfed token "
                "new` (default: the OHFED_TOKEN environment variable)");
  q->add_option("--timeout", flags->timeout_seconds, "RPC deadline in seconds")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  q->callback([flags] {
    absl::StatusOr<std::string> out = Run(*flags);
    if (!out.ok()) {
      std::cerr << "ohfed query: " << out.status().message() << "\n";
      bool usage = out.status().code() == absl::StatusCode::kInvalidArgument;
      throw CLI::RuntimeError(usage ? 2 : 1);
    }
    std::cout << *out << std::flush;
  });
}

}  // namespace ohfed
