// neardup — command-line front end of the neardup library.
//
//   neardup dedup INPUT... -o OUTDIR [options]     near-duplicate removal
//   neardup --help | --version
//
// Each subcommand parses its options and calls the library; no algorithm
// lives here.
#include <malloc.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "options.hpp"
#include "commands.hpp"
#include "neardup/jobs/stored_index.hpp"
#include "neardup/io/output.hpp"
#include "neardup/io/output_run.hpp"
#include "neardup/signature.hpp"
#include "neardup/version.hpp"

namespace {

constexpr const char* kUsage = R"(neardup — find and remove near-duplicate and exact-duplicate documents

usage: neardup COMMAND INPUT... -o OUTDIR [options]

commands:
  dedup          remove near duplicates (MinHash LSH + verification)
  exact          remove exact duplicates (normalized fingerprint)
  lines          remove lines repeated across the corpus (boilerplate)
  decontaminate  remove documents sharing n-grams with benchmark data
  pairs          list document pairs with Jaccard >= threshold
  eval           measure dedup's precision/recall against exact Jaccard
  report         one self-contained HTML page showing a dedup run (neardup report OUTDIR)
  index          a stored index: build, info, compact (dedup NEW --against INDEX)
  query          stored documents near-duplicate to a text (neardup query INDEX --text ...)

Run 'neardup COMMAND --help' for the options of a command.
)";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (std::strcmp(argv[1], "--version") == 0) {
    std::printf("neardup %s\n", neardup::version_string());
    return 0;
  }
  const std::string command = argv[1];
  // glibc raises its mmap threshold to the size of every mmapped block freed
  // (up to 32 MiB); the scratch of a huge line (tokenizer::large_text_bytes
  // and up) would then come from the heap and stay resident after it is
  // freed. A fixed threshold gives it back at once: one 25 MB line added
  // 6.5x its size to the peak without this, 4.3x with it (and ran 2.5x
  // faster).
  mallopt(M_MMAP_THRESHOLD, 16 << 20);
  neardup::io::remove_temporary_files_on_signals();
  if (const std::string_view w = neardup::kernel_override_warning(); !w.empty()) {
    std::fprintf(stderr, "neardup: warning: %.*s\n", static_cast<int>(w.size()), w.data());
  }
  const neardup_cli::command* found = nullptr;
  for (const auto& c : neardup_cli::commands()) {
    if (command == c.name) found = &c;
  }
  if (found == nullptr) {
    std::fprintf(stderr, "neardup: unknown command '%s'\n\n%s", command.c_str(), kUsage);
    return 2;
  }
  try {
    return found->run(argc, argv);
  } catch (const neardup_cli::usage_error& e) {
    std::fprintf(stderr, "neardup %s: %s\n(see 'neardup %s --help')\n", command.c_str(), e.what(),
                 command.c_str());
    return 2;
  } catch (const neardup::jobs::index_error& e) {
    std::fprintf(stderr, "neardup %s: %s\n", command.c_str(), e.what());
    return 1;
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "neardup %s: invalid setting: %s\n", command.c_str(), e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "neardup: %s\n", e.what());
    if (found->marks_completion) {
      std::fprintf(stderr, "neardup %s: failed; this run did not complete (a complete run ends by writing OUTDIR/%s)\n",
                   command.c_str(), std::string(neardup::io::completion_marker_name).c_str());
    } else {
      std::fprintf(stderr, "neardup %s: failed\n", command.c_str());
    }
    return 1;
  }
}
