#include "corpus_passes.hpp"

#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "chunk_pipeline.hpp"
#include "neardup/fingerprint.hpp"
#include "neardup/io/json.hpp"

namespace neardup::io::detail {

std::size_t resolve_threads(std::size_t threads) {
  if (threads != 0) return threads;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : hw;
}

void make_output_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error("neardup: " + dir + ": cannot create output directory: " + ec.message());
}

std::uint64_t stored_bytes(std::span<const source_info> sources) noexcept {
  std::uint64_t total = 0;
  for (const auto& s : sources) total += s.file_bytes;
  return total;
}

void stage_timer::start(std::string name) {
  name_ = std::move(name);
  t0_ = std::chrono::steady_clock::now();
}

void stage_timer::stop() {
  stages_.emplace_back(name_, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count());
}

// Calls visitor(doc, begin, end, line) for each document of chunk `seq`, with
// the document numbers of the first pass. A later pass that finds the input
// changed since (a file appended to or rewritten during the run) throws
// instead of indexing past the first pass's arrays.
template <class Visitor>
void for_each_document(const corpus_index& corpus, const input_chunk& chunk, std::size_t seq, Visitor&& visitor) {
  auto changed = [&] {
    return std::runtime_error("neardup: " + std::string(chunk.source_name) +
                              ": the input changed while neardup was reading it (passes over it disagree)");
  };
  if (seq >= corpus.chunk_first_doc.size()) throw changed();
  const std::uint64_t first = corpus.chunk_first_doc[seq];
  const std::uint64_t last = seq + 1 < corpus.chunk_first_doc.size() ? corpus.chunk_first_doc[seq + 1] : corpus.size();
  auto d = static_cast<doc_id>(first);
  if (chunk.whole_file_document) {
    if (last != first + 1) throw changed();
    visitor(d, std::size_t{0}, chunk.data.size(), std::uint64_t{1});
    return;
  }
  for_each_line(chunk, [&](std::size_t begin, std::size_t end, std::uint64_t line) {
    if (is_blank_record_line(std::string_view(chunk.data.data() + begin, end - begin), chunk.byte_offset + begin)) {
      return;
    }
    if (d >= last) throw changed();
    visitor(d++, begin, end, line);
  });
  if (d != last) throw changed();
}

bool problem_reporter::admit(std::size_t kind, std::string_view kind_name) {
  const std::uint64_t n = seen_[kind]++;
  if (n < max_) return true;
  if (max_ != 0 && n == max_) {
    meter_.message("neardup: further '" + std::string(kind_name) + "' records are counted in stats.json but not listed");
  }
  return false;
}

void problem_reporter::skipped(const record_problem& p) {
  if (!admit(static_cast<std::size_t>(p.status), to_string(p.status))) return;
  meter_.message("neardup: " + sources_[p.source].name + ":" + std::to_string(p.line) + ": skipped (" +
                 std::string(to_string(p.status)) + ": " + std::string(p.error) + "); " + outcome_);
}

void problem_reporter::note(std::uint32_t source, std::uint64_t line, std::string_view what) {
  if (!admit(8, "noted")) return;
  meter_.message("neardup: " + sources_[source].name + ":" + std::to_string(line) + ": " + std::string(what));
}

void append_document_line(std::string& out, const input_chunk& chunk, const record& r) {
  if (chunk.whole_file_document) {
    out += "{\"id\":";
    append_json_string(out, r.id);
    out += ",\"text\":";
    append_json_string(out, r.text);
    out += "}\n";
  } else {
    out += r.raw;
    out += '\n';
  }
}

bool append_rewritten_line(std::string& out, const input_chunk& chunk, const record& r, std::string_view text) {
  if (chunk.whole_file_document) {
    out += "{\"id\":";
    append_json_string(out, r.id);
    out += ",\"text\":";
    append_json_string(out, text);
    out += "}\n";
    return true;
  }
  if (r.text_token.empty()) return false;
  const auto before = static_cast<std::size_t>(r.text_token.data() - r.raw.data());
  out += r.raw.substr(0, before);
  append_json_string(out, text);
  out += r.raw.substr(before + r.text_token.size());
  out += '\n';
  return true;
}

std::string corpus_index::id_of(std::span<const source_info> sources, doc_id d) const {
  const doc_meta& m = docs[d];
  if (m.id_length != 0) return ids.substr(m.id_offset, m.id_length);
  return default_record_id(sources[m.source].name, m.line);
}

namespace {

struct scan_result {
  std::vector<doc_meta> docs;
  std::vector<sig_value> signatures;
  std::string ids;
  std::vector<record_problem> problems;
  std::uint64_t blank = 0;
  std::uint64_t text_bytes = 0;
};

void warn_duplicate_ids(std::span<const source_info> sources, const corpus_index& corpus,
                        const pass_options& options, progress_meter& meter, scan_counts& counts) {
  const std::size_t n = corpus.size();
  std::vector<std::pair<std::uint64_t, doc_id>> h(n);
  for (std::size_t d = 0; d < n; ++d) {
    h[d] = {hash64(corpus.id_of(sources, static_cast<doc_id>(d)), 0), static_cast<doc_id>(d)};
  }
  std::sort(h.begin(), h.end());
  std::size_t warned = 0;
  for (std::size_t i = 1; i < h.size(); ++i) {
    if (h[i].first != h[i - 1].first) continue;
    const std::string id = corpus.id_of(sources, h[i].second);
    if (corpus.id_of(sources, h[i - 1].second) != id) continue;  // a 64-bit hash collision
    ++counts.duplicate_ids;
    if (warned++ < options.max_reported_errors) {
      const doc_meta& m = corpus.docs[h[i].second];
      meter.message("neardup: warning: " + sources[m.source].name + ":" + std::to_string(m.line) +
                    ": duplicate id '" + id + "' (documents are told apart by position)");
    }
  }
}

}  // namespace

corpus_index scan_corpus(std::span<const source_info> sources, const pass_options& options,
                         const minhasher* hasher, progress_meter& meter, scan_counts& counts) {
  corpus_index corpus;
  const std::size_t k = hasher ? hasher->num_perm() : 0;
  corpus.num_perm = k;
  const std::uint64_t seed = options.shingles.seed;
  const std::size_t ngram = options.shingles.n;
  problem_reporter problems(sources, options.max_reported_errors, "kept in the output unchanged", meter);

  for_each_chunk_ordered<scan_result>(
      sources, options.reader, options.threads,
      [&] {
        return [&, parser = record_parser(), sh = shingler(options.shingles),
                ngrams = std::vector<std::uint64_t>()](const input_chunk& chunk, std::size_t,
                                                       scan_result& res) mutable {
          res.docs.clear();
          res.signatures.clear();
          res.ids.clear();
          res.problems.clear();
          res.blank = 0;
          res.text_bytes = 0;
          parse_chunk(chunk, options.records, parser, [&](const record& r) {
            if (r.status == record_status::blank) {
              ++res.blank;
              return;
            }
            doc_meta m;
            m.source = r.source;
            m.line = r.line;
            m.status = r.status;
            m.flags = r.flags;
            if (!r.id.empty()) {
              m.id_offset = res.ids.size();
              m.id_length = static_cast<std::uint32_t>(std::min<std::size_t>(r.id.size(), UINT32_MAX));
              res.ids.append(r.id.substr(0, m.id_length));
            }
            const std::size_t off = res.signatures.size();
            res.signatures.resize(off + k, empty_sig_value);
            if (r.status == record_status::ok) {
              m.text_bytes = r.text.size();
              res.text_bytes += r.text.size();
              sh.ngram_hashes(r.text, ngrams);
              const auto& tokens = sh.token_hashes();
              m.has_tokens = !tokens.empty();
              m.short_doc = m.has_tokens && tokens.size() < ngram;
              if (m.has_tokens) {
                m.fingerprint = fingerprint(tokens, seed);
                if (hasher) hasher->sign(ngrams, std::span<sig_value>(res.signatures.data() + off, k));
              }
            } else {
              res.problems.push_back({r.status, r.source, r.line, r.error});
            }
            res.docs.push_back(m);
          });
        };
      },
      [&](std::size_t seq, const input_chunk& chunk, scan_result& res) {
        if (corpus.chunk_first_doc.size() <= seq) corpus.chunk_first_doc.resize(seq + 1);
        corpus.chunk_first_doc[seq] = corpus.docs.size();
        if (corpus.docs.size() + res.docs.size() > UINT32_MAX) {
          throw std::runtime_error("neardup: " + std::string(chunk.source_name) +
                                   ": more than 2^32-1 documents in one run; split the corpus");
        }
        const std::uint64_t id_base = corpus.ids.size();
        for (auto& m : res.docs) {
          if (m.id_length != 0) m.id_offset += id_base;
          corpus.docs.push_back(m);
        }
        corpus.ids += res.ids;
        corpus.signatures.insert(corpus.signatures.end(), res.signatures.begin(), res.signatures.end());
        counts.blank_lines += res.blank;
        counts.text_bytes += res.text_bytes;
        for (const auto& p : res.problems) problems.skipped(p);
        meter.add(chunk.data.size(), res.docs.size());
      });

  for (const doc_meta& m : corpus.docs) {
    if (m.flags & record_flags::invalid_utf8) ++counts.repaired_invalid_utf8;
    if (m.flags & record_flags::lone_surrogate) ++counts.repaired_lone_surrogate;
    if (m.flags & record_flags::control_chars) ++counts.repaired_control_chars;
    if (m.status != record_status::ok) {
      ++counts.skipped;
      ++counts.skipped_by_status[static_cast<std::size_t>(m.status)];
    } else if (!m.has_tokens) {
      ++counts.empty_documents;
    } else if (m.short_doc) {
      ++counts.short_documents;
    }
  }
  warn_duplicate_ids(sources, corpus, options, meter, counts);
  return corpus;
}

shingle_sets load_shingle_sets(std::span<const source_info> sources, const corpus_index& corpus,
                               std::span<const std::uint8_t> wanted, const pass_options& options,
                               progress_meter& meter) {
  const std::size_t n = corpus.size();
  shingle_sets sets;
  sets.begin.assign(n + 1, 0);
  struct load_result {
    std::vector<std::uint64_t> values;
    std::vector<std::pair<doc_id, std::uint64_t>> sizes;  // (doc, set size)
  };
  for_each_chunk_ordered<load_result>(
      sources, options.reader, options.threads,
      [&] {
        return [&, parser = record_parser(), sh = shingler(options.shingles), set = std::vector<std::uint64_t>()](
                   const input_chunk& chunk, std::size_t seq, load_result& res) mutable {
          res.values.clear();
          res.sizes.clear();
          // Only the wanted documents are parsed and shingled.
          auto take = [&](doc_id d, const record& r) {
            if (r.status != record_status::ok) return;
            sh.shingles(r.text, set);
            res.values.insert(res.values.end(), set.begin(), set.end());
            res.sizes.emplace_back(d, set.size());
          };
          for_each_document(corpus, chunk, seq,
                            [&](doc_id d, std::size_t begin, std::size_t end, std::uint64_t line) {
                              if (!wanted[d]) return;
                              take(d, chunk.whole_file_document
                                          ? parser.parse_document(chunk)
                                          : parser.parse_line(chunk, begin, end, line, options.records));
                            });
        };
      },
      [&](std::size_t seq, const input_chunk& chunk, load_result& res) {
        // Documents without a set get an empty range at the current end.
        std::uint64_t d = corpus.chunk_first_doc[seq];
        std::uint64_t pos = sets.values.size();
        for (const auto& [doc, size] : res.sizes) {
          for (; d <= doc; ++d) sets.begin[d] = pos;
          pos += size;
          sets.begin[doc + 1] = pos;
          d = doc + 1;
        }
        const std::uint64_t chunk_end = seq + 1 < corpus.chunk_first_doc.size() ? corpus.chunk_first_doc[seq + 1] : n;
        for (; d <= chunk_end; ++d) sets.begin[d] = pos;
        sets.values.insert(sets.values.end(), res.values.begin(), res.values.end());
        meter.add(chunk.data.size(), res.sizes.size());
      });
  return sets;
}

void write_kept(std::span<const source_info> sources, const corpus_index& corpus,
                std::span<const doc_id> keeper, const std::string& clusters_path,
                const std::string& kept_path, output_compression compression, const pass_options& options,
                progress_meter& meter) {
  output_options out_opts;
  out_opts.compression = compression;
  atomic_file clusters_tsv(clusters_path);
  atomic_file kept(kept_path, out_opts);
  struct write_result {
    std::string tsv;
    std::string jsonl;
    std::uint64_t docs = 0;
  };
  std::uint64_t written = 0;
  for_each_chunk_ordered<write_result>(
      sources, options.reader, options.threads,
      [&] {
        return [&, parser = record_parser()](const input_chunk& chunk, std::size_t seq,
                                            write_result& res) mutable {
          res.tsv.clear();
          res.jsonl.clear();
          res.docs = 0;
          // JSONL lines are copied without parsing; only text files need it.
          for_each_document(corpus, chunk, seq,
                            [&](doc_id d, std::size_t begin, std::size_t end, std::uint64_t) {
                              append_tsv_field(res.tsv, corpus.id_of(sources, d));
                              res.tsv += '\t';
                              append_tsv_field(res.tsv, corpus.id_of(sources, keeper[d]));
                              res.tsv += '\n';
                              ++res.docs;
                              if (keeper[d] != d) return;
                              if (chunk.whole_file_document) {
                                append_document_line(res.jsonl, chunk, parser.parse_document(chunk));
                              } else {
                                res.jsonl.append(chunk.data.data() + begin, end - begin);
                                res.jsonl += '\n';
                              }
                            });
        };
      },
      [&](std::size_t, const input_chunk& chunk, write_result& res) {
        clusters_tsv.write(res.tsv);
        kept.write(res.jsonl);
        meter.add(chunk.data.size(), res.docs);
        written += res.docs;
      });
  if (written != corpus.size()) {
    throw std::runtime_error("neardup: the input changed while neardup was reading it (" +
                             std::to_string(corpus.size()) + " documents, then " + std::to_string(written) + ")");
  }
  clusters_tsv.commit();
  kept.commit();
}

}  // namespace neardup::io::detail
