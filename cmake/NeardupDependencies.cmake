# Finds the libraries that neardup itself is built from (every one a Debian
# package). Build-time only: the installed package config
# (neardup-config.cmake.in) asks consumers for the subset they need, with
# find_dependency. GoogleTest and Google Benchmark are found in tests/ and
# bench/, only when NEARDUP_BUILD_TESTS / NEARDUP_BUILD_BENCH are on, so a
# library-only build needs neither.
find_package(Threads REQUIRED)
find_package(xxhash REQUIRED)  # header-only, compiled into the core library
find_package(utf8proc REQUIRED)
find_package(absl CONFIG REQUIRED)
# neardup::io only:
find_package(simdjson CONFIG REQUIRED)
find_package(ZLIB REQUIRED)
find_package(zstd CONFIG REQUIRED)
if(TARGET zstd::libzstd_shared)
  set(NEARDUP_ZSTD_TARGET zstd::libzstd_shared)
else()
  set(NEARDUP_ZSTD_TARGET zstd::libzstd_static)
endif()
