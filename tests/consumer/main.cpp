// Links the installed package and checks stable values through it: the core
// always, neardup::io when the consumer is built with it.
#include <neardup/neardup.hpp>
#if CONSUMER_IO
#include <neardup/io.hpp>
#endif

#include <cstdio>
#include <cstring>
#include <string>

// neardup's headers hash through the library: no xxHash macro reaches here.
#if defined(XXH_INLINE_ALL) || defined(XXH_VERSION_MAJOR)
#error "xxhash.h leaked into a consumer translation unit"
#endif

int main() {
  bool ok = neardup::hash64("", 0) == 0x2d06800538d394c2ULL;  // XXH3_64("") per xxHash spec
  // One version: the package config's, the header's and the library's agree.
  ok = ok && std::strcmp(neardup::version_string(), NEARDUP_VERSION_STRING) == 0 &&
       std::strcmp(NEARDUP_VERSION_STRING, NEARDUP_EXPECTED_VERSION) == 0;
#if CONSUMER_IO
  std::string s;
  neardup::io::append_json_string(s, "a\"b");
  ok = ok && s == "\"a\\\"b\"";
  const char* mode = "core+io";
#else
  const char* mode = "core";
#endif
  std::printf("consumer (%s): neardup %s %s\n", mode, neardup::version_string(), ok ? "ok" : "MISMATCH");
  return ok ? 0 : 1;
}
