#include "common/reference_files.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status.h"

namespace ohfed {
namespace {

namespace fs = std::filesystem;

// The *.csv files of folder `dir`, by name.
absl::StatusOr<std::vector<std::string>> CsvFilesIn(const std::string& dir,
                                                    absl::string_view what) {
  std::vector<std::string> files;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (absl::StartsWith(name, ".") || !absl::EndsWith(name, ".csv")) continue;
    if (it->is_regular_file(ec)) files.push_back(it->path().string());
  }
  if (ec) {
    return absl::UnavailableError(absl::StrCat("cannot list ", what, " folder ",
                                               dir, ": ", ec.message()));
  }
  if (files.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " folder ", dir, " holds no .csv file"));
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ExpandCsvPaths(
    const std::vector<std::string>& paths, absl::string_view what) {
  if (paths.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("no ", what, " file given"));
  }
  std::vector<std::string> files;
  for (const std::string& path : paths) {
    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    if (!fs::exists(status)) {
      return absl::NotFoundError(
          absl::StrCat(what, " file or folder ", path, " not found"));
    }
    if (!fs::is_directory(status)) {
      files.push_back(path);
      continue;
    }
    OHFED_ASSIGN_OR_RETURN(std::vector<std::string> in, CsvFilesIn(path, what));
    files.insert(files.end(), in.begin(), in.end());
  }
  return files;
}

absl::StatusOr<std::shared_ptr<const RegistryHistory>> LoadRegistryHistory(
    const std::vector<std::string>& paths) {
  if (paths.empty()) {
    return std::make_shared<const RegistryHistory>(Registry::England());
  }
  OHFED_ASSIGN_OR_RETURN(std::vector<std::string> files,
                         ExpandCsvPaths(paths, "registry"));
  std::shared_ptr<RegistryHistory> history;
  std::map<Month, std::string> source;  // which file each month came from
  for (const std::string& file : files) {
    OHFED_ASSIGN_OR_RETURN(std::shared_ptr<const Registry> version,
                           Registry::LoadFile(file));
    const Month from = version->effective_from();
    auto [it, inserted] = source.emplace(from, file);
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat(
          "registry files ", it->second, " and ", file,
          " are both effective from ", from.ToString(),
          " (a '# effective_from: YYYY-MM' line, one version per month)"));
    }
    if (history == nullptr) {
      history = std::make_shared<RegistryHistory>(std::move(version));
    } else {
      OHFED_RETURN_IF_ERROR(history->Add(std::move(version)));
    }
  }
  return std::shared_ptr<const RegistryHistory>(std::move(history));
}

absl::StatusOr<std::shared_ptr<const CatalogueVersions>> LoadCatalogueVersions(
    const std::vector<std::string>& paths) {
  if (paths.empty()) {
    return std::make_shared<const CatalogueVersions>(Catalogue::Default());
  }
  OHFED_ASSIGN_OR_RETURN(std::vector<std::string> files,
                         ExpandCsvPaths(paths, "catalogue"));
  std::vector<std::shared_ptr<const Catalogue>> loaded;
  std::map<std::string, std::string> source;  // which file each version is
  for (const std::string& file : files) {
    OHFED_ASSIGN_OR_RETURN(std::shared_ptr<const Catalogue> c,
                           Catalogue::LoadFile(file));
    auto [it, inserted] = source.emplace(c->version(), file);
    if (!inserted) {
      return absl::InvalidArgumentError(
          absl::StrCat("catalogue files ", it->second, " and ", file,
                       " are both version ", c->version()));
    }
    loaded.push_back(std::move(c));
  }
  auto newest = std::max_element(
      loaded.begin(), loaded.end(), [](const auto& a, const auto& b) {
        return CompareVersions(a->version(), b->version()) < 0;
      });
  auto versions = std::make_shared<CatalogueVersions>(*newest);
  for (const auto& c : loaded) versions->AddKnown(c);
  versions->AddKnown(Catalogue::Default());  // what agents are built with
  return std::shared_ptr<const CatalogueVersions>(std::move(versions));
}

std::string Describe(const RegistryHistory& history) {
  std::vector<std::string> parts;
  for (const Registry* r : history.versions()) {
    parts.push_back(absl::StrCat(r->version(), " (from ",
                                 r->effective_from().ToString(), ", ",
                                 r->trust_count(), " trusts)"));
  }
  return absl::StrCat(
      parts.size() == 1 ? "registry version " : "registry versions ",
      absl::StrJoin(parts, ", "));
}

std::string Describe(const CatalogueVersions& catalogues) {
  std::vector<std::string> versions = catalogues.versions();
  std::string out = absl::StrCat("catalogue ", versions.front());
  if (versions.size() > 1) {
    versions.erase(versions.begin());
    absl::StrAppend(&out, " (also accepting summaries of ",
                    absl::StrJoin(versions, ", "), ")");
  }
  return out;
}

}  // namespace ohfed
