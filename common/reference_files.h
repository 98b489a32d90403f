// Loading the aggregator's reference data from the files an operator names
// (`--registry`, `--catalogue`): each flag takes several files and/or
// folders, a folder standing for every `*.csv` file in it (by name order;
// names starting with '.' are skipped, as editors' and packagers' leftovers).
//
//   registry:  every file is one registry version, placed by its
//              "# effective_from: YYYY-MM" line (common/registry.h). Two
//              versions effective from the same month are refused, naming
//              both files.
//   catalogue: every file is one catalogue version ("# version: X"). The
//              newest version given (CompareVersions) is the current one,
//              which queries use; the others, and the catalogue built into
//              ohfed, stay known so that agents still on them are accepted
//              (each summary is checked against its own version). Two files
//              of the same version are refused, naming both.
//
// A malformed file is refused naming the file and line (the parsers' errors).
#ifndef OHFED_COMMON_REFERENCE_FILES_H_
#define OHFED_COMMON_REFERENCE_FILES_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/catalogue.h"
#include "common/registry.h"

namespace ohfed {

// The files `paths` name: files as given, folders replaced by their *.csv
// files in name order. kNotFound naming a path that does not exist,
// kInvalidArgument naming a folder without any *.csv file or an empty list.
absl::StatusOr<std::vector<std::string>> ExpandCsvPaths(
    const std::vector<std::string>& paths, absl::string_view what);

// Every registry version in `paths` (see above). Empty `paths`: England,
// embedded.
absl::StatusOr<std::shared_ptr<const RegistryHistory>> LoadRegistryHistory(
    const std::vector<std::string>& paths);

// Every catalogue version in `paths` plus the embedded one (see above).
// Empty `paths`: the embedded catalogue alone.
absl::StatusOr<std::shared_ptr<const CatalogueVersions>> LoadCatalogueVersions(
    const std::vector<std::string>& paths);

// One line for the log: "registry versions v1 (from 2022-07), v2 (from
// 2024-04)" / "catalogue 2027.1 (also accepting 2026.1)".
std::string Describe(const RegistryHistory& history);
std::string Describe(const CatalogueVersions& catalogues);

}  // namespace ohfed

#endif  // OHFED_COMMON_REFERENCE_FILES_H_
