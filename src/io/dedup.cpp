// The dedup job (see neardup/io/dedup.hpp): sign -> exact -> group/verify -> write.
#include "neardup/io/dedup.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>

#include "chunk_pipeline.hpp"
#include "neardup/candidates.hpp"
#include "neardup/cluster.hpp"
#include "neardup/fingerprint.hpp"
#include "neardup/io/json.hpp"
#include "neardup/io/progress.hpp"
#include "neardup/shingle.hpp"
#include "neardup/version.hpp"

namespace neardup::io {

std::string_view to_string(verify_mode m) noexcept {
  switch (m) {
    case verify_mode::none: return "none";
    case verify_mode::estimate: return "estimate";
    case verify_mode::exact: return "exact";
  }
  return "?";
}

std::string_view to_string(keep_policy k) noexcept {
  return k == keep_policy::first ? "first" : "longest";
}

std::uint64_t peak_rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

namespace {

using clock_type = std::chrono::steady_clock;

// Per-document bookkeeping kept between passes (~48 bytes + the id).
struct doc_meta {
  hash128 fingerprint;
  std::uint64_t line = 0;
  std::uint64_t text_bytes = 0;
  std::uint64_t id_offset = 0;  // into corpus_state::ids
  std::uint32_t id_length = 0;  // 0: the id is SOURCE:LINE
  std::uint32_t source = 0;
  record_status status = record_status::ok;
  std::uint8_t flags = 0;
  bool has_tokens = false;
  bool short_doc = false;  // fewer tokens than the n-gram size: one shingle
};

struct corpus_state {
  std::vector<doc_meta> docs;
  std::vector<sig_value> signatures;     // k per document (empty sentinel if not signed)
  std::string ids;                       // id bytes of documents that have one
  std::vector<std::uint64_t> chunk_first_doc;  // per chunk sequence number
};

// One record that is not deduplicated, reported as file:line.
struct record_problem {
  record_status status;
  std::uint8_t flags;
  std::uint32_t source;
  std::uint64_t line;
  std::string_view error;
};

struct sign_result {
  std::vector<doc_meta> docs;
  std::vector<sig_value> signatures;
  std::string ids;
  std::vector<record_problem> problems;
  std::uint64_t blank = 0;
  std::uint64_t text_bytes = 0;
  void clear() {
    docs.clear();
    signatures.clear();
    ids.clear();
    problems.clear();
    blank = 0;
    text_bytes = 0;
  }
};

std::string doc_id_string(const corpus_state& c, std::span<const source_info> sources, doc_id d) {
  const doc_meta& m = c.docs[d];
  if (m.id_length != 0) return c.ids.substr(m.id_offset, m.id_length);
  return default_record_id(sources[m.source].name, m.line);
}

std::size_t resolve_threads(std::size_t t) {
  if (t != 0) return t;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : hw;
}

void validate(const dedup_options& o) {
  if (!(o.threshold > 0.0 && o.threshold <= 1.0)) {
    throw std::invalid_argument("threshold = " + std::to_string(o.threshold) + " is outside (0, 1]");
  }
  if (o.ngram < 1 || o.ngram > max_ngram) {
    throw std::invalid_argument("ngram = " + std::to_string(o.ngram) + " is outside [1, " +
                                std::to_string(max_ngram) + "]");
  }
  if (o.records.text_field.empty()) throw std::invalid_argument("text field name is empty");
}

class stage_clock {
 public:
  explicit stage_clock(std::vector<stage_time>& out) : out_(out) {}
  void start(std::string name) {
    name_ = std::move(name);
    t0_ = clock_type::now();
  }
  void stop() {
    out_.push_back({name_, std::chrono::duration<double>(clock_type::now() - t0_).count()});
  }

 private:
  std::vector<stage_time>& out_;
  std::string name_;
  clock_type::time_point t0_;
};

void write_stats(const std::string& path, const dedup_report& r, const dedup_options& o,
                 std::span<const source_info> sources, std::size_t threads) {
  std::string s;
  json_writer w(s);
  w.begin_object();
  w.key("neardup_version");
  w.value(version_string());
  w.key("command");
  w.value("dedup");
  w.key("inputs");
  w.begin_array();
  for (const auto& src : sources) w.value(src.name);
  w.end_array();
  w.key("documents");
  w.begin_object();
  w.key("read");
  w.value(r.documents);
  w.key("kept");
  w.value(r.kept);
  w.key("removed");
  w.value(r.removed_exact + r.removed_near);
  w.key("removed_exact_duplicates");
  w.value(r.removed_exact);
  w.key("removed_near_duplicates");
  w.value(r.removed_near);
  w.key("skipped");
  w.value(r.skipped);
  w.key("skipped_by_reason");
  w.begin_object();
  w.key("malformed_json");
  w.value(r.skipped_malformed_json);
  w.key("not_object");
  w.value(r.skipped_not_object);
  w.key("missing_text");
  w.value(r.skipped_missing_text);
  w.key("text_not_string");
  w.value(r.skipped_text_not_string);
  w.end_object();
  w.key("repaired");
  w.begin_object();
  w.key("invalid_utf8");
  w.value(r.repaired_invalid_utf8);
  w.key("lone_surrogate");
  w.value(r.repaired_lone_surrogate);
  w.key("control_chars");
  w.value(r.repaired_control_chars);
  w.end_object();
  w.key("blank_lines");
  w.value(r.blank_lines);
  w.key("empty");
  w.value(r.empty_documents);
  w.key("shorter_than_ngram");
  w.value(r.short_documents);
  w.key("duplicate_ids");
  w.value(r.duplicate_ids);
  w.end_object();
  w.key("clusters");
  w.begin_object();
  w.key("count");
  w.value(r.clusters);
  w.key("with_duplicates");
  std::uint64_t multi = 0;
  for (const auto& [size, count] : r.cluster_size_histogram) {
    if (size > 1) multi += count;
  }
  w.value(multi);
  w.key("largest");
  w.begin_object();
  w.key("size");
  w.value(r.largest_cluster);
  w.key("kept_id");
  w.value(r.largest_cluster_kept_id);
  w.end_object();
  w.key("size_histogram");
  w.begin_object();
  for (const auto& [size, count] : r.cluster_size_histogram) {
    w.key(std::to_string(size));
    w.value(static_cast<std::uint64_t>(count));
  }
  w.end_object();
  w.end_object();
  w.key("parameters");
  w.begin_object();
  w.key("threshold");
  w.value(o.threshold);
  w.key("num_perm");
  w.value(static_cast<std::uint64_t>(o.minhash.num_perm));
  w.key("scheme");
  w.value(o.minhash.scheme == minhash_scheme::classic       ? "classic"
          : o.minhash.scheme == minhash_scheme::superminhash ? "superminhash"
                                                             : "one_permutation");
  w.key("ngram");
  w.value(static_cast<std::uint64_t>(o.ngram));
  w.key("tokens");
  w.value(o.tokens.kind == token_kind::word ? "word" : o.tokens.kind == token_kind::character ? "char" : "code");
  w.key("bands");
  w.value(r.lsh.bands);
  w.key("rows");
  w.value(r.lsh.rows);
  w.key("candidate_probability_at_threshold");
  w.value(r.candidate_probability_at_threshold);
  w.key("s_curve");
  w.begin_object();
  for (double j : {0.5, 0.6, 0.7, 0.8, 0.9, 0.95}) {
    char name[16];
    std::snprintf(name, sizeof name, "%.2f", j);
    w.key(name);
    w.value(candidate_probability(j, r.lsh));
  }
  w.end_object();
  w.key("verify");
  w.value(to_string(o.verify));
  w.key("keep");
  w.value(to_string(o.keep));
  w.key("exact_first");
  w.value(o.exact_first);
  w.key("seed");
  w.value(o.seed);
  w.key("text_field");
  w.value(o.records.text_field);
  w.key("id_field");
  w.value(o.records.id_field);
  w.key("threads");
  w.value(static_cast<std::uint64_t>(threads));
  w.key("kernel");
  w.value(r.kernel);
  w.end_object();
  w.key("lsh");
  w.begin_object();
  w.key("candidate_documents");
  w.value(r.candidate_documents);
  w.key("verifications");
  w.value(r.verifications);
  w.key("verified");
  w.value(r.verified);
  w.key("rejected");
  w.value(r.rejected);
  w.end_object();
  w.key("input_bytes");
  w.value(r.input_bytes);
  w.key("text_bytes");
  w.value(r.text_bytes);
  w.key("seconds");
  w.begin_object();
  for (const auto& st : r.stages) {
    w.key(st.name);
    w.value(st.seconds);
  }
  w.key("total");
  w.value(r.seconds);
  w.end_object();
  w.key("peak_rss_bytes");
  w.value(r.peak_rss_bytes);
  w.end_object();
  s += '\n';
  write_file_atomic(path, s);
}

}  // namespace

dedup_report run_dedup(std::span<const source_info> sources, const std::string& out_dir,
                       const dedup_options& options) {
  validate(options);
  const auto t_start = clock_type::now();
  const std::size_t threads = resolve_threads(options.threads);

  minhash_options mh_opts = options.minhash;
  mh_opts.seed = options.seed;
  const minhasher hasher(mh_opts);
  const std::size_t k = hasher.num_perm();
  const lsh_params lsh = options.lsh ? *options.lsh : choose_params(options.threshold, k);
  validate_lsh_params(lsh, k);
  const bander band_hasher(lsh, k, options.seed);
  const shingle_options sh_opts{options.tokens, options.ngram, options.seed};

  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) throw std::runtime_error("neardup: " + out_dir + ": cannot create output directory: " + ec.message());

  dedup_report report;
  report.lsh = lsh;
  report.candidate_probability_at_threshold = candidate_probability(options.threshold, lsh);
  report.kernel = std::string(kernel_name(hasher.kernel() == sig_kernel::automatic ? default_kernel()
                                                                                     : hasher.kernel()));
  for (const auto& s : sources) report.input_bytes += s.file_bytes;

  progress_meter meter({.enabled = options.progress});
  stage_clock stage(report.stages);
  corpus_state corpus;

  // ---- pass 1: sign -----------------------------------------------------
  stage.start("sign");
  meter.begin_stage("sign", report.input_bytes);
  std::uint64_t reported[8] = {};
  auto report_problem = [&](const record_problem& p) {
    const auto kind = static_cast<std::size_t>(p.status);
    if (reported[kind]++ < options.max_reported_errors) {
      meter.message("neardup: " + sources[p.source].name + ":" + std::to_string(p.line) + ": skipped (" +
                    std::string(to_string(p.status)) + ": " + std::string(p.error) +
                    "); kept in the output unchanged");
    } else if (reported[kind] == options.max_reported_errors + 1) {
      meter.message("neardup: further '" + std::string(to_string(p.status)) +
                    "' records are counted in stats.json but not listed");
    }
  };
  detail::for_each_chunk_ordered<sign_result>(
      sources, options.reader, threads,
      [&] {
        return [&, parser = record_parser(), sh = shingler(sh_opts), ngrams = std::vector<std::uint64_t>()](
                   const input_chunk& chunk, std::size_t, sign_result& res) mutable {
          res.clear();
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
              if (m.has_tokens) {
                m.fingerprint = fingerprint(tokens, options.seed);
                hasher.sign(ngrams, std::span<sig_value>(res.signatures.data() + off, k));
              }
              m.short_doc = m.has_tokens && tokens.size() < options.ngram;
            } else {
              res.problems.push_back({r.status, r.flags, r.source, r.line, r.error});
            }
            res.docs.push_back(m);
          });
        };
      },
      [&](std::size_t seq, const input_chunk& chunk, sign_result& res) {
        if (corpus.chunk_first_doc.size() <= seq) corpus.chunk_first_doc.resize(seq + 1);
        corpus.chunk_first_doc[seq] = corpus.docs.size();
        if (corpus.docs.size() + res.docs.size() > UINT32_MAX) {
          throw std::runtime_error("neardup: more than 2^32-1 documents; split the corpus");
        }
        const std::uint64_t id_base = corpus.ids.size();
        for (auto& m : res.docs) {
          if (m.id_length != 0) m.id_offset += id_base;
          corpus.docs.push_back(m);
        }
        corpus.ids += res.ids;
        corpus.signatures.insert(corpus.signatures.end(), res.signatures.begin(), res.signatures.end());
        report.blank_lines += res.blank;
        report.text_bytes += res.text_bytes;
        for (const auto& p : res.problems) report_problem(p);
        meter.add(chunk.data.size(), res.docs.size());
      });
  meter.end_stage();
  stage.stop();

  const std::size_t n = corpus.docs.size();
  report.documents = n;

  // Per-document counts.
  std::vector<std::uint8_t> excluded(n, 0);
  for (std::size_t d = 0; d < n; ++d) {
    const doc_meta& m = corpus.docs[d];
    if (m.flags & record_flags::invalid_utf8) ++report.repaired_invalid_utf8;
    if (m.flags & record_flags::lone_surrogate) ++report.repaired_lone_surrogate;
    if (m.flags & record_flags::control_chars) ++report.repaired_control_chars;
    switch (m.status) {
      case record_status::ok: break;
      case record_status::malformed_json: ++report.skipped_malformed_json; break;
      case record_status::not_object: ++report.skipped_not_object; break;
      case record_status::missing_text: ++report.skipped_missing_text; break;
      case record_status::text_not_string: ++report.skipped_text_not_string; break;
      case record_status::blank: break;
    }
    if (m.status != record_status::ok) {
      ++report.skipped;
      excluded[d] = 1;
    } else if (!m.has_tokens) {
      ++report.empty_documents;
      excluded[d] = 1;
    } else if (m.short_doc) {
      ++report.short_documents;
    }
  }

  // Duplicate ids: a warning; documents are keyed by position, never by id.
  {
    std::vector<std::pair<std::uint64_t, doc_id>> h(n);
    for (std::size_t d = 0; d < n; ++d) {
      h[d] = {hash64(doc_id_string(corpus, sources, static_cast<doc_id>(d)), 0), static_cast<doc_id>(d)};
    }
    std::sort(h.begin(), h.end());
    std::size_t warned = 0;
    for (std::size_t i = 1; i < h.size(); ++i) {
      if (h[i].first != h[i - 1].first) continue;
      const std::string a = doc_id_string(corpus, sources, h[i - 1].second);
      const std::string b = doc_id_string(corpus, sources, h[i].second);
      if (a != b) continue;
      ++report.duplicate_ids;
      if (warned++ < options.max_reported_errors) {
        const doc_meta& m = corpus.docs[h[i].second];
        meter.message("neardup: warning: " + sources[m.source].name + ":" + std::to_string(m.line) +
                      ": duplicate id '" + b + "' (documents are told apart by position)");
      }
    }
  }

  // ---- exact duplicates: equal fingerprints -------------------------------
  stage.start("exact");
  std::vector<doc_id> exact_leader(n);
  for (std::size_t d = 0; d < n; ++d) exact_leader[d] = static_cast<doc_id>(d);
  {
    std::vector<std::pair<hash128, doc_id>> fp;
    fp.reserve(n);
    for (std::size_t d = 0; d < n; ++d) {
      if (!excluded[d]) fp.emplace_back(corpus.docs[d].fingerprint, static_cast<doc_id>(d));
    }
    std::sort(fp.begin(), fp.end());
    for (std::size_t i = 1; i < fp.size(); ++i) {
      if (fp[i].first == fp[i - 1].first) {
        exact_leader[fp[i].second] = exact_leader[fp[i - 1].second];
        if (options.exact_first) excluded[fp[i].second] = 1;  // LSH sees each distinct text once
      }
    }
  }
  stage.stop();

  // ---- LSH grouping and verification --------------------------------------
  auto sig_of = [&](doc_id d) {
    return std::span<const sig_value>(corpus.signatures.data() + static_cast<std::size_t>(d) * k, k);
  };
  std::vector<std::uint64_t> keys(n, 0);
  auto keys_of_band = [&](std::size_t band) -> std::span<const std::uint64_t> {
    for (std::size_t d = 0; d < n; ++d) {
      if (!excluded[d]) keys[d] = band_hasher.key(sig_of(static_cast<doc_id>(d)), static_cast<std::uint32_t>(band)).value_or(0);
    }
    return keys;
  };

  // Flat shingle sets of candidate documents (verify = exact only).
  std::vector<std::uint64_t> set_values;
  std::vector<std::uint64_t> set_begin;  // per document; set d = [set_begin[d], set_begin[d+1])
  {
    stage.start("candidates");
    std::vector<std::uint8_t> candidate(n, 0);
    band_grouper grouper;
    bucket_list buckets;
    for (std::size_t b = 0; b < lsh.bands; ++b) {
      grouper.group(keys_of_band(b), excluded, buckets);
      for (doc_id d : buckets.docs) candidate[d] = 1;
    }
    grouper.release();
    for (auto c : candidate) report.candidate_documents += c;
    stage.stop();
    if (options.verify == verify_mode::exact) {

    stage.start("load_candidates");
    meter.begin_stage("load candidates", report.input_bytes);
    set_begin.assign(n + 1, 0);
    struct load_result {
      std::vector<std::uint64_t> values;
      std::vector<std::pair<doc_id, std::uint64_t>> sizes;  // (doc, set size)
    };
    detail::for_each_chunk_ordered<load_result>(
        sources, options.reader, threads,
        [&] {
          return [&, parser = record_parser(), sh = shingler(sh_opts), set = std::vector<std::uint64_t>()](
                     const input_chunk& chunk, std::size_t seq, load_result& res) mutable {
            res.values.clear();
            res.sizes.clear();
            auto d = static_cast<doc_id>(corpus.chunk_first_doc[seq]);
            parse_chunk(chunk, options.records, parser, [&](const record& r) {
              if (r.status == record_status::blank) return;
              if (candidate[d]) {
                sh.shingles(r.text, set);
                res.values.insert(res.values.end(), set.begin(), set.end());
                res.sizes.emplace_back(d, set.size());
              }
              ++d;
            });
          };
        },
        [&](std::size_t, const input_chunk& chunk, load_result& res) {
          std::size_t pos = 0;
          for (const auto& [d, size] : res.sizes) {
            set_begin[d] = set_values.size() + pos;
            pos += size;
            set_begin[d + 1] = set_values.size() + pos;
          }
          set_values.insert(set_values.end(), res.values.begin(), res.values.end());
          meter.add(chunk.data.size(), res.sizes.size());
        });
    meter.end_stage();
    stage.stop();
    }
  }

  stage.start("cluster");
  meter.begin_stage("cluster", 0);
  pair_verifier verifier;
  const double threshold = options.threshold;
  switch (options.verify) {
    case verify_mode::none: break;
    case verify_mode::estimate:
      verifier = [&](doc_id a, doc_id b) { return jaccard(sig_of(a), sig_of(b)).estimate >= threshold; };
      break;
    case verify_mode::exact:
      verifier = [&](doc_id a, doc_id b) {
        const std::span<const std::uint64_t> sa(set_values.data() + set_begin[a], set_begin[a + 1] - set_begin[a]);
        const std::span<const std::uint64_t> sb(set_values.data() + set_begin[b], set_begin[b + 1] - set_begin[b]);
        return exact_jaccard(sa, sb) >= threshold;
      };
      break;
  }
  cluster_options copts;
  copts.mode = options.verify == verify_mode::none ? verification::none : verification::verify;
  copts.threads = threads;
  cluster_result clusters = cluster_band_keys(n, lsh.bands, keys_of_band, excluded, verifier, copts);
  report.verifications = clusters.stats.verifications;
  report.verified = clusters.stats.verified;
  report.rejected = clusters.stats.rejected;
  std::vector<std::uint64_t>().swap(keys);
  std::vector<std::uint64_t>().swap(set_values);
  std::vector<std::uint64_t>().swap(set_begin);

  // Final clusters: exact-duplicate groups joined to their leader's cluster.
  std::vector<doc_id> rep(n);
  for (std::size_t d = 0; d < n; ++d) rep[d] = clusters.representative[exact_leader[d]];
  clusters.representative.clear();
  clusters.representative.shrink_to_fit();
  std::vector<doc_id> keeper;
  if (options.keep == keep_policy::longest) {
    std::vector<std::uint64_t> priority(n);
    for (std::size_t d = 0; d < n; ++d) priority[d] = corpus.docs[d].text_bytes;
    keeper = choose_kept(rep, priority);
  } else {
    keeper = rep;
  }
  report.clusters = count_clusters(rep);
  report.cluster_size_histogram = cluster_size_histogram(rep);
  {
    std::vector<std::uint32_t> size(n, 0);
    for (std::size_t d = 0; d < n; ++d) ++size[rep[d]];
    doc_id biggest = 0;
    for (std::size_t d = 0; d < n; ++d) {
      if (size[d] > size[biggest]) biggest = static_cast<doc_id>(d);
    }
    if (n > 0) {
      report.largest_cluster = size[biggest];
      report.largest_cluster_kept_id = doc_id_string(corpus, sources, keeper[biggest]);
    }
  }
  for (std::size_t d = 0; d < n; ++d) {
    if (keeper[d] == d) {
      ++report.kept;
    } else if (corpus.docs[d].fingerprint == corpus.docs[keeper[d]].fingerprint) {
      ++report.removed_exact;
    } else {
      ++report.removed_near;
    }
  }
  meter.end_stage();
  stage.stop();

  // ---- pass: write outputs in input order ---------------------------------
  stage.start("write");
  meter.begin_stage("write", report.input_bytes);
  output_options out_opts;
  out_opts.compression = options.compression;
  atomic_file clusters_tsv(out_dir + "/clusters.tsv");
  atomic_file deduped(out_dir + (options.compression == output_compression::zstd ? "/deduped.jsonl.zst"
                                                                                  : "/deduped.jsonl"),
                      out_opts);
  struct write_result {
    std::string tsv;
    std::string jsonl;
    std::uint64_t docs = 0;
  };
  detail::for_each_chunk_ordered<write_result>(
      sources, options.reader, threads,
      [&] {
        return [&, parser = record_parser()](const input_chunk& chunk, std::size_t seq,
                                            write_result& res) mutable {
          res.tsv.clear();
          res.jsonl.clear();
          res.docs = 0;
          auto d = static_cast<doc_id>(corpus.chunk_first_doc[seq]);
          parse_chunk(chunk, options.records, parser, [&](const record& r) {
            if (r.status == record_status::blank) return;
            append_tsv_field(res.tsv, doc_id_string(corpus, sources, d));
            res.tsv += '\t';
            append_tsv_field(res.tsv, doc_id_string(corpus, sources, keeper[d]));
            res.tsv += '\n';
            if (keeper[d] == d) {
              if (chunk.whole_file_document) {
                res.jsonl += "{\"id\":";
                append_json_string(res.jsonl, r.id);
                res.jsonl += ",\"text\":";
                append_json_string(res.jsonl, r.text);
                res.jsonl += "}\n";
              } else {
                res.jsonl += r.raw;
                res.jsonl += '\n';
              }
            }
            ++d;
            ++res.docs;
          });
        };
      },
      [&](std::size_t, const input_chunk& chunk, write_result& res) {
        clusters_tsv.write(res.tsv);
        deduped.write(res.jsonl);
        meter.add(chunk.data.size(), res.docs);
      });
  meter.end_stage();
  clusters_tsv.commit();
  deduped.commit();
  stage.stop();

  if (options.return_clusters) report.kept_of = std::move(keeper);
  report.seconds = std::chrono::duration<double>(clock_type::now() - t_start).count();
  report.peak_rss_bytes = peak_rss_bytes();
  write_stats(out_dir + "/stats.json", report, options, sources, threads);
  return report;
}

}  // namespace neardup::io
