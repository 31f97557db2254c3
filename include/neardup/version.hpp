// neardup/version.hpp — library version. Binary formats carry their own
// serial versions; this number names the release.
#pragma once

#define NEARDUP_VERSION_MAJOR 0
#define NEARDUP_VERSION_MINOR 1
#define NEARDUP_VERSION_PATCH 0
#define NEARDUP_VERSION_STRING "0.1.0"

namespace neardup {
const char* version_string() noexcept;
}  // namespace neardup
