#include "neardup/version.hpp"

namespace neardup {
const char* version_string() noexcept { return NEARDUP_VERSION_STRING; }
}  // namespace neardup
