// neardup index build|info|compact, and dedup's --against/--update-index.
#include <cstdio>
#include <cstring>
#include <string>

#include "commands.hpp"
#include "neardup/io/json.hpp"
#include "neardup/jobs/stored_index.hpp"

namespace neardup_cli {

namespace {

constexpr const char* kHelp = R"(usage: neardup index build INPUT... -o INDEX [dedup options]
       neardup index info INDEX
       neardup index compact INDEX

A stored index of deduplicated documents (a directory), for deduplicating new
batches against everything kept before ('neardup dedup NEW... --against INDEX
[--update-index]') and for near-duplicate queries ('neardup query INDEX').

  build    deduplicates INPUT... (against INDEX when it exists) and stores it;
           typically INPUT is the deduped.jsonl of a run. The dedup options
           (seed, tokens, n-gram, k, scheme, threshold, bands x rows, verify)
           are stored in INDEX; later runs must use the same ones. With
           --verify exact (the default) the index stores shingle sets, and
           queries and later dedups compare exact Jaccard; otherwise MinHash
           estimates.
  info     prints the options, the segments, documents and bytes (JSON).
  compact  merges the segments into one.
)";

std::string bytes_text(std::uint64_t b) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(b) / 1e6);
  return buf;
}

int run_build(int argc, char** argv) {
  dedup_cli s;
  const option_table t = dedup_table(s, "index build", kHelp, output_dir::required);
  const parsed p = t.parse(argc, argv, 3);
  if (p.help) return 0;
  finish_similarity(s.options, s.similarity);
  if (s.options.keep != neardup::jobs::keep_policy::first) throw usage_error("an index keeps the first copy: --keep first");
  const std::string index = s.job.out_dir;
  s.job.out_dir.clear();  // the index is not an OUTDIR of outputs
  s.job.command = "index build";
  finish_job(s.job, p, output_dir::optional);
  s.options.events = s.job.display.get();
  const auto r = neardup::jobs::build_index(s.job.sources.sources, index, s.options);
  s.job.require_parsed(r.documents, r.skipped);
  if (!s.job.quiet) {
    const auto i = neardup::jobs::stored_index::open(index).info();
    std::fprintf(stderr,
                 "neardup index build: %llu documents read, %llu kept, %llu stored; index %s: %llu documents "
                 "(%llu kept) in %zu segments, %s; %.2fs\n",
                 static_cast<unsigned long long>(r.documents), static_cast<unsigned long long>(r.kept),
                 static_cast<unsigned long long>(r.stored), index.c_str(),
                 static_cast<unsigned long long>(i.documents), static_cast<unsigned long long>(i.kept),
                 i.segments.size(), bytes_text(i.bytes).c_str(), r.seconds);
  }
  return 0;
}

std::string index_argument(const parsed& p, const char* what) {
  if (p.positional.size() != 1) throw usage_error(std::string("expected one INDEX to ") + what);
  return p.positional[0];
}

option_table path_table(const char* command) {
  option_table t(command, kHelp);
  option path;
  path.positional = true;
  path.value_name = "INDEX";
  path.help = "the index directory";
  t.add(std::move(path));
  return t;
}

int run_info(int argc, char** argv) {
  const option_table t = path_table("index info");
  const parsed p = t.parse(argc, argv, 3);
  if (p.help) return 0;
  const auto idx = neardup::jobs::stored_index::open(index_argument(p, "describe"));
  const auto& i = idx.info();
  const auto& s = i.settings;
  std::string out;
  neardup::io::json_writer w(out);
  w.begin_object();
  w.field("index", idx.path());
  w.key("options");
  w.begin_object();
  w.field("seed", s.seed);
  w.field("tokens", neardup::name(s.tokens.kind));
  w.field("ngram", static_cast<std::uint64_t>(s.ngram));
  w.field("num_perm", static_cast<std::uint64_t>(s.num_perm));
  w.field("scheme", neardup::name(s.scheme));
  w.field("threshold", s.threshold);
  w.field("bands", s.banding().bands);
  w.field("rows", s.banding().rows);
  w.field("verify", neardup::name(s.verify));
  w.field("exact_first", s.exact_first);
  w.field("stores_sets", s.stores_sets());
  w.end_object();
  w.field("documents", i.documents);
  w.field("kept", i.kept);
  w.field("bytes", i.bytes);
  w.field("set_bytes", i.set_bytes);
  w.field("bytes_per_document", i.documents > 0 ? static_cast<double>(i.bytes) / static_cast<double>(i.documents) : 0.0);
  w.key("segments");
  w.begin_array();
  for (const auto& g : i.segments) {
    w.begin_object();
    w.field("name", g.name);
    w.field("documents", g.documents);
    w.field("kept", g.kept);
    w.field("bytes", g.bytes);
    w.end_object();
  }
  w.end_array();
  w.end_object();
  std::printf("%s\n", out.c_str());
  return 0;
}

int run_compact(int argc, char** argv) {
  const option_table t = path_table("index compact");
  const parsed p = t.parse(argc, argv, 3);
  if (p.help) return 0;
  const std::string path = index_argument(p, "compact");
  neardup::jobs::index_writer w(path, nullptr);
  const std::size_t before = w.current().info().segments.size();
  w.compact();
  std::fprintf(stderr, "neardup index compact: %zu segments -> %zu, %s\n", before,
               w.current().info().segments.size(), bytes_text(w.current().info().bytes).c_str());
  return 0;
}

}  // namespace

void add_index_options(option_table& t, index_cli& s) {
  t.add(text("against", "INDEX", s.against,
             "also remove documents that duplicate a document stored in INDEX\n(neardup index build); needs --keep first")
            .in_group("index"));
  t.add(flag("update-index", "with --against: add this batch to INDEX once the outputs are written",
             [&s] { s.update = true; })
            .in_group("index"));
}

std::vector<std::string> index_option_names() {
  dedup_cli s;
  return names_of(dedup_table(s, "index build", "", output_dir::required));
}

int run_index(int argc, char** argv) {
  if (argc < 3 || std::strcmp(argv[2], "--help") == 0 || std::strcmp(argv[2], "-h") == 0) {
    std::fputs(kHelp, argc < 3 ? stderr : stdout);
    return argc < 3 ? 2 : 0;
  }
  const std::string sub = argv[2];
  if (sub == "build") return run_build(argc, argv);
  if (sub == "info") return run_info(argc, argv);
  if (sub == "compact") return run_compact(argc, argv);
  throw usage_error("unknown 'neardup index' command '" + sub + "' (build, info, compact)");
}

}  // namespace neardup_cli
