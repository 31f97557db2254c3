#include "neardup/io/memory.hpp"

#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>

namespace neardup::io {

namespace {

std::uint64_t status_field(const char* name) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::size_t len = std::strlen(name);
  while (std::getline(in, line)) {
    if (line.compare(0, len, name) == 0) return std::stoull(line.substr(len)) * 1024;
  }
  return 0;
}

}  // namespace

std::uint64_t peak_rss_bytes() { return status_field("VmHWM:"); }

std::uint64_t usable_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  std::uint64_t limit =
      pages > 0 && page > 0 ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page) : 0;
  auto lower_to = [&](const std::string& file) {
    std::ifstream in(file);
    std::uint64_t v = 0;
    if (in >> v && v > 0 && (limit == 0 || v < limit)) limit = v;  // "max" fails to parse: no limit
  };
  std::ifstream cgroups("/proc/self/cgroup");
  std::string line;
  while (std::getline(cgroups, line)) {
    // "0::/path" (v2) or "N:memory:/path" (v1)
    const auto c1 = line.find(':'), c2 = line.find(':', c1 + 1);
    if (c1 == std::string::npos || c2 == std::string::npos) continue;
    const std::string controllers = line.substr(c1 + 1, c2 - c1 - 1), path = line.substr(c2 + 1);
    if (controllers.empty()) lower_to("/sys/fs/cgroup" + path + "/memory.max");
    if (controllers == "memory") lower_to("/sys/fs/cgroup/memory" + path + "/memory.limit_in_bytes");
  }
  return limit;
}

std::uint64_t default_memory_budget_bytes() { return usable_memory_bytes() / 2; }

}  // namespace neardup::io
