// Links the installed package and checks one stable value through it.
#include <neardup/neardup.hpp>

#include <cstdio>

int main() {
  const bool ok = neardup::hash64("", 0) == 0x2d06800538d394c2ULL;
  std::printf("consumer: neardup %s %s\n", neardup::version_string(), ok ? "ok" : "MISMATCH");
  return ok ? 0 : 1;
}
