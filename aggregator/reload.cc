// Aggregator::Reload, on SIGHUP: what can change under running streams.
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "aggregator/aggregator.h"
#include "common/disclosure.h"
#include "common/log.h"
#include "common/reference_files.h"
#include "common/status.h"

namespace ohfed::aggregator {
namespace {

// `next`'s reference data, with the defaults Start would give.
ReferenceData ReferenceOf(const SummaryStoreOptions& next) {
  ReferenceData r{next.catalogues, next.registry, next.disclosure};
  if (r.catalogues == nullptr) {
    r.catalogues = std::make_shared<CatalogueVersions>(Catalogue::Default());
  }
  if (r.registry == nullptr) {
    r.registry = std::make_shared<RegistryHistory>(Registry::England());
  }
  return r;
}

}  // namespace

absl::Status LoadReferenceData(const std::vector<std::string>& registry,
                               const std::vector<std::string>& catalogue,
                               SummaryStoreOptions& store) {
  OHFED_ASSIGN_OR_RETURN(store.registry, LoadRegistryHistory(registry));
  OHFED_ASSIGN_OR_RETURN(store.catalogues, LoadCatalogueVersions(catalogue));
  return absl::OkStatus();
}

absl::Status Aggregator::Reload(const AggregatorOptions& next) {
  ReferenceData reference = ReferenceOf(next.store);
  absl::Status checked = CheckDisclosureOptions(reference.disclosure);
  // The coverage cannot move while serving, but its code must still exist.
  if (checked.ok() && !options_.covers.empty()) {
    checked =
        Coverage::Parse(options_.covers, reference.registry->Latest()).status();
  }
  // Authz was built with or without tokens; only their file can change.
  std::string tokens_file = next.tokens_file;
  if (tokens_ == nullptr && !tokens_file.empty()) {
    LogWarning(
        absl::StrCat("tokens changed: needs a restart (started "
                     "without a tokens file); ",
                     tokens_file, " not read"));
  } else if (tokens_ != nullptr && tokens_file.empty()) {
    LogWarning(absl::StrCat("tokens removed: needs a restart; re-reading ",
                            options_.tokens_file));
    tokens_file = options_.tokens_file;
  }
  std::optional<TokenTable> tokens;
  if (checked.ok() && tokens_ != nullptr) {
    absl::StatusOr<TokenTable> table =
        TokenTable::Load(tokens_file, reference.registry->Latest());
    if (table.ok()) tokens.emplace(*std::move(table));
    checked = table.status();
  }
  if (!checked.ok()) return checked;

  std::vector<std::string> done = {Describe(*reference.registry),
                                   Describe(*reference.catalogues)};
  absl::StatusOr<bool> rebuilt = store_->Reconfigure(reference);
  if (!rebuilt.ok()) return rebuilt.status();
  if (*rebuilt) {
    done.push_back("rollups rebuilt for the new placement of trusts");
  }
  options_.store.registry = reference.registry;
  options_.store.catalogues = reference.catalogues;
  options_.store.disclosure = reference.disclosure;
  if (tokens.has_value()) {
    done.push_back(
        absl::StrCat(tokens->size(), " query tokens from ", tokens_file));
    tokens_->Replace(*std::move(tokens));
    options_.tokens_file = tokens_file;
  }
  if (uploader_ != nullptr) {
    uploader_->SetBackoff(next.uploader.initial_backoff,
                          next.uploader.max_backoff);
    options_.uploader.initial_backoff = next.uploader.initial_backoff;
    options_.uploader.max_backoff = next.uploader.max_backoff;
  }
  LogLine(absl::StrCat("reload: ", absl::StrJoin(done, "; ")));
  return absl::OkStatus();
}

}  // namespace ohfed::aggregator
