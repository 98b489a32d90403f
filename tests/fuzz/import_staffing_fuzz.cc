// Fuzz target: the CSV importer for staffing files (tests/fuzz/import_fuzz.h).
#include "tests/fuzz/import_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return ohfed::fuzz::FuzzImport(ohfed::v1::IMPORT_KIND_STAFFING, data, size);
}
