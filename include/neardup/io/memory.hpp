// neardup/io/memory.hpp — what this process may use and has used.
#pragma once

#include <cstdint>

namespace neardup::io {

// Peak resident set size of this process so far (VmHWM), 0 if unknown.
std::uint64_t peak_rss_bytes();

// Physical memory, or the memory limit of this process's cgroup (v2
// memory.max, v1 memory.limit_in_bytes) when that is lower: in a container
// the machine's memory is not what the process may use.
std::uint64_t usable_memory_bytes();

// The memory budget of a job given none (--memory-mb): half of
// usable_memory_bytes(), leaving the rest to the page cache and other
// processes.
std::uint64_t default_memory_budget_bytes();

}  // namespace neardup::io
