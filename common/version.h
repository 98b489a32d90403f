// The project's version, from CMakeLists.txt's project(VERSION), shared by
// every binary's --version (common/version.cc.in is generated at configure
// time so that the number lives in one place).
#ifndef OHFED_COMMON_VERSION_H_
#define OHFED_COMMON_VERSION_H_

#include "absl/strings/string_view.h"

namespace ohfed {

// e.g. "0.1.0".
absl::string_view Version();

}  // namespace ohfed

#endif  // OHFED_COMMON_VERSION_H_
