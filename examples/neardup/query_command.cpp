// neardup query: which stored documents are near duplicates of a text?
#include <cstdio>
#include <string>

#include "commands.hpp"
#include "neardup/io/json.hpp"
#include "neardup/jobs/stored_index.hpp"

namespace neardup_cli {

namespace {

constexpr const char* kHelp = R"(usage: neardup query INDEX --text "..." | --input queries.jsonl [options]

Prints, for each query, one JSON line on stdout:
  {"query": ID, "matches": [{"id": ..., "jaccard": ..., "estimate": false}, ...]}
the kept documents of INDEX whose Jaccard similarity to the query is at least
the threshold, most similar first. The Jaccard is exact when the index stores
shingle sets (built with --verify exact) and otherwise a MinHash estimate,
marked "estimate": true. Candidates come from the index's LSH bands, so a
pair below the index's threshold may be missed.
)";

struct query_cli {
  neardup::jobs::query_options options;
  std::string text, input;
  neardup::io::record_options records;
  bool quiet = false;
};

option_table query_table(query_cli& s, std::string intro) {
  option_table t("query", std::move(intro));
  option path;
  path.positional = true;
  path.value_name = "INDEX";
  path.help = "the index directory (neardup index build)";
  t.add(std::move(path));
  t.add(text("text", "TEXT", s.text, "one query text"));
  t.add(text("input", "FILE", s.input, "JSONL queries, one per line (--text-field, --id-field)"));
  t.add(integer("top-k", "K", s.options.top_k, 0, 1u << 30, "matches per query, most similar first (0: all)"));
  t.add(real("threshold", "T", s.options.threshold, interval::closed(0, 1), "least Jaccard shown (0: the index's)"));
  t.add(neardup_cli::text("text-field", "NAME", s.records.text_field, "JSON field holding the text"));
  t.add(neardup_cli::text("id-field", "NAME", s.records.id_field, "JSON field holding the query's id"));
  t.add(flag("quiet", "no notices on stderr", [&s] { s.quiet = true; }));
  return t;
}

void print_result(const std::string& id, const std::vector<neardup::jobs::index_match>& m) {
  std::string out;
  neardup::io::json_writer w(out, 0);
  w.begin_object();
  w.field("query", id);
  w.key("matches");
  w.begin_array();
  for (const auto& x : m) {
    w.begin_object();
    w.field("id", x.id);
    w.field("jaccard", x.jaccard);
    w.field("estimate", !x.exact);
    w.end_object();
  }
  w.end_array();
  w.end_object();
  out += '\n';
  std::fwrite(out.data(), 1, out.size(), stdout);
}

}  // namespace

std::vector<std::string> query_option_names() {
  query_cli s;
  return names_of(query_table(s, ""));
}

int run_query(int argc, char** argv) {
  query_cli s;
  const option_table t = query_table(s, kHelp);
  const parsed p = t.parse(argc, argv);
  if (p.help) return 0;
  if (p.positional.size() != 1) throw usage_error("expected one INDEX");
  if (s.text.empty() == s.input.empty()) throw usage_error("give one of --text and --input");
  const auto idx = neardup::jobs::stored_index::open(p.positional[0]);
  if (!s.text.empty()) {
    print_result("text", idx.query(s.text, s.options));
    return 0;
  }
  const auto sources = neardup::io::expand_inputs({s.input});
  neardup::io::corpus_reader reader(sources.sources);
  neardup::io::record_parser parser;
  neardup::io::input_chunk chunk;
  std::uint64_t queries = 0, skipped = 0;
  while (reader.next(chunk)) {
    neardup::io::parse_chunk(chunk, s.records, parser, [&](const neardup::io::record& r) {
      if (r.status == neardup::io::record_status::blank) return;
      const std::string id =
          r.id.empty() ? neardup::io::default_record_id(chunk.source_name, r.line) : std::string(r.id);
      if (r.status != neardup::io::record_status::ok) {
        ++skipped;
        if (!s.quiet) {
          std::fprintf(stderr, "neardup query: %s:%llu: skipped (%s: %s)\n", std::string(chunk.source_name).c_str(),
                       static_cast<unsigned long long>(r.line), std::string(neardup::name(r.status)).c_str(),
                       std::string(r.error).c_str());
        }
        return;
      }
      ++queries;
      print_result(id, idx.query(r.text, s.options));
    });
  }
  if (!s.quiet) {
    std::fprintf(stderr, "neardup query: %llu queries, %llu bad lines skipped\n",
                 static_cast<unsigned long long>(queries), static_cast<unsigned long long>(skipped));
  }
  return skipped > 0 && queries == 0 ? 1 : 0;
}

}  // namespace neardup_cli
