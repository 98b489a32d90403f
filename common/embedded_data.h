// The data files shipped in common/data/, compiled in as the defaults.
#ifndef OHFED_COMMON_EMBEDDED_DATA_H_
#define OHFED_COMMON_EMBEDDED_DATA_H_

#include "absl/strings/string_view.h"

namespace ohfed {

absl::string_view EmbeddedCatalogueCsv();        // common/data/catalogue.csv
absl::string_view EmbeddedEnglandRegistryCsv();  // common/data/england_orgs.csv

}  // namespace ohfed

#endif  // OHFED_COMMON_EMBEDDED_DATA_H_
