#include "evidence_files.hpp"

#include <charconv>
#include <cstdint>
#include <filesystem>
#include <system_error>
#include <utility>
#include <vector>

#include "neardup/io/json.hpp"
#include "neardup/io/output.hpp"

namespace neardup::jobs::detail {

namespace {

void append_number(std::string& out, std::uint64_t v) {
  char buf[24];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

// The shortest text that reads back as the same double.
void append_number(std::string& out, double v) {
  char buf[32];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

class tsv_file {
 public:
  tsv_file(const std::string& path, std::string_view header) : file_(path) { block_.append(header); }
  std::string& line() { return block_; }
  void end_line() {
    block_ += '\n';
    if (block_.size() >= (std::size_t{1} << 20)) {
      file_.write(block_);
      block_.clear();
    }
  }
  // The file with everything written, to be committed.
  atomic_file finish() && {
    file_.write(block_);
    return std::move(file_);
  }

 private:
  atomic_file file_;
  std::string block_;
};

// The source's path as the report can open it from any directory: absolute
// (lexically normalized) unless it is stdin ("-") or cannot be made absolute.
std::string absolute_path(const std::string& path) {
  if (path.empty() || path == "-") return path;
  std::error_code ec;
  const std::filesystem::path abs = std::filesystem::absolute(path, ec);
  return ec ? path : abs.lexically_normal().string();
}

}  // namespace

std::vector<atomic_file> write_evidence_files(const std::string& out_dir, std::span<const source_info> sources,
                                              const corpus_index& corpus, std::span<const doc_id> kept_of,
                                              const pipeline::dedup_evidence& evidence) {
  tsv_file removed(out_dir + "/evidence.tsv", "id\tkept_id\tpartner_id\tkind\tsimilarity\tband\tdoc\tpartner_doc\tkept_doc\n");
  // A spilled document table's pages are dropped as the loops go; the
  // loops over removed documents and near misses read it in no order.
  std::size_t read = 0;
  auto release_scattered = [&] {
    if ((++read & scattered_release_mask) == 0) corpus.release_table();
  };
  // The three documents of a row are anywhere in the table (and the id
  // bytes anywhere in the ids): rows further on are fetched ahead, each level
  // (kept_of, the table rows, the ids) at its own distance, so that their
  // cache misses overlap instead of following one another.
  const std::span<const pipeline::removal_evidence> rows = evidence.removed;
  const auto fetch_row = [&](doc_id d) {
    if (d < corpus.size()) __builtin_prefetch(&corpus.docs[d]);
  };
  const auto fetch_id = [&](doc_id d) {
    if (d < corpus.size()) __builtin_prefetch(corpus.ids.data() + corpus.docs[d].id_offset);
  };
  constexpr std::size_t ahead = 8;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (i + 3 * ahead < rows.size()) __builtin_prefetch(&kept_of[rows[i + 3 * ahead].doc]);
    if (i + 2 * ahead < rows.size()) {
      const pipeline::removal_evidence& f = rows[i + 2 * ahead];
      fetch_row(f.doc);
      fetch_row(f.partner);
      fetch_row(kept_of[f.doc]);
    }
    if (i + ahead < rows.size()) {
      const pipeline::removal_evidence& f = rows[i + ahead];
      fetch_id(f.doc);
      fetch_id(f.partner);
      fetch_id(kept_of[f.doc]);
    }
    const pipeline::removal_evidence& e = rows[i];
    release_scattered();
    std::string& s = removed.line();
    corpus.append_id_field(s, sources, e.doc);
    s += '\t';
    corpus.append_id_field(s, sources, kept_of[e.doc]);
    s += '\t';
    corpus.append_id_field(s, sources, e.partner);
    s += '\t';
    s += neardup::name(e.kind);
    s += '\t';
    append_number(s, e.similarity);
    s += '\t';
    if (e.kind == pipeline::evidence_kind::exact) {
      s += '-';
    } else {
      append_number(s, std::uint64_t{e.band});
    }
    for (doc_id d : {e.doc, e.partner, kept_of[e.doc]}) {
      s += '\t';
      append_number(s, std::uint64_t{d});
    }
    removed.end_line();
  }

  tsv_file misses(out_dir + "/near_misses.tsv", "a_id\tb_id\tkind\tsimilarity\tband\ta_doc\tb_doc\n");
  for (const pipeline::pair_evidence& p : evidence.near_misses) {
    release_scattered();
    std::string& s = misses.line();
    corpus.append_id_field(s, sources, p.a);
    s += '\t';
    corpus.append_id_field(s, sources, p.b);
    s += '\t';
    s += neardup::name(p.kind);
    s += '\t';
    append_number(s, p.similarity);
    s += '\t';
    append_number(s, std::uint64_t{p.band});
    s += '\t';
    append_number(s, std::uint64_t{p.a});
    s += '\t';
    append_number(s, std::uint64_t{p.b});
    misses.end_line();
  }

  // Per source, in source order: documents (a contiguous range of document
  // numbers), what was kept and removed, and the text bytes removed.
  struct counts {
    std::uint64_t documents = 0, kept = 0, exact = 0, near = 0, bytes = 0;
  };
  std::vector<counts> per(sources.size());
  const std::vector<std::size_t> first = first_doc_of_sources(corpus, sources.size());
  for (std::size_t s = 0; s < sources.size(); ++s) {
    per[s].documents = first[s + 1] - first[s];
    for (std::size_t d = first[s]; d < first[s + 1]; ++d) per[s].kept += kept_of[d] == d ? 1 : 0;
  }
  for (const pipeline::removal_evidence& e : evidence.removed) {
    release_scattered();
    counts& c = per[corpus.docs[e.doc].source];
    (e.kind == pipeline::evidence_kind::exact ? c.exact : c.near) += 1;
    c.bytes += corpus.docs[e.doc].text_bytes;
  }
  tsv_file src(out_dir + "/sources.tsv", "source\tpath\tkind\tdocuments\tkept\tremoved_exact\tremoved_near\tremoved_text_bytes\n");
  for (std::size_t i = 0; i < sources.size(); ++i) {
    std::string& s = src.line();
    append_tsv_field(s, sources[i].name);
    s += '\t';
    append_tsv_field(s, absolute_path(sources[i].path));
    s += '\t';
    s += sources[i].kind == source_kind::jsonl ? "jsonl" : "text";
    for (std::uint64_t v : {per[i].documents, per[i].kept, per[i].exact, per[i].near, per[i].bytes}) {
      s += '\t';
      append_number(s, v);
    }
    src.end_line();
  }
  corpus.release_table();
  std::vector<atomic_file> files;
  files.push_back(std::move(removed).finish());
  files.push_back(std::move(misses).finish());
  files.push_back(std::move(src).finish());
  return files;
}

}  // namespace neardup::jobs::detail
