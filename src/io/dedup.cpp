// The dedup job (see neardup/io/dedup.hpp): sign -> exact -> group/verify -> write.
#include "neardup/io/dedup.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>

#include "corpus_passes.hpp"
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

namespace {

std::uint64_t status_field(const char* name) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::size_t len = std::strlen(name);
  while (std::getline(in, line)) {
    if (line.compare(0, len, name) == 0) return std::stoull(line.substr(len)) * 1024;
  }
  return 0;
}

}  // namespace

std::uint64_t peak_rss_bytes() { return status_field("VmHWM:"); }

namespace {

// Physical memory, or the memory limit of this process's cgroup (v2
// memory.max, v1 memory.limit_in_bytes) when that is lower: in a container
// the machine's memory is not what the process may use.
std::uint64_t usable_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  std::uint64_t limit =
      pages > 0 && page > 0 ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page) : 0;
  auto lower_to = [&](const std::string& file) {
    std::ifstream in(file);
    std::uint64_t v = 0;
    if (in >> v && v > 0 && (limit == 0 || v < limit)) limit = v;  // "max" fails to parse: no limit
  };
  std::ifstream cgroups("/proc/self/cgroup");
  std::string line;
  while (std::getline(cgroups, line)) {
    // "0::/path" (v2) or "N:memory:/path" (v1)
    const auto c1 = line.find(':'), c2 = line.find(':', c1 + 1);
    if (c1 == std::string::npos || c2 == std::string::npos) continue;
    const std::string controllers = line.substr(c1 + 1, c2 - c1 - 1), path = line.substr(c2 + 1);
    if (controllers.empty()) lower_to("/sys/fs/cgroup" + path + "/memory.max");
    if (controllers == "memory") lower_to("/sys/fs/cgroup/memory" + path + "/memory.limit_in_bytes");
  }
  return limit;
}

}  // namespace

namespace {

using clock_type = std::chrono::steady_clock;

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

void write_stats(const std::string& path, const dedup_report& r, const dedup_options& o,
                 std::span<const source_info> sources, std::size_t threads) {
  std::string s;
  json_writer w(s);
  w.begin_object();
  w.field("neardup_version", version_string());
  w.field("command", o.near ? "dedup" : "exact");
  w.key("inputs");
  w.begin_array();
  for (const auto& src : sources) w.value(src.name);
  w.end_array();
  w.key("documents");
  w.begin_object();
  w.field("read", r.documents);
  w.field("kept", r.kept);
  w.field("removed", r.removed_exact + r.removed_near);
  w.field("removed_exact_duplicates", r.removed_exact);
  w.field("removed_near_duplicates", r.removed_near);
  w.field("skipped", r.skipped);
  w.key("skipped_by_reason");
  w.begin_object();
  w.field("malformed_json", r.skipped_malformed_json);
  w.field("not_object", r.skipped_not_object);
  w.field("missing_text", r.skipped_missing_text);
  w.field("text_not_string", r.skipped_text_not_string);
  w.field("line_too_long", r.skipped_line_too_long);
  w.end_object();
  w.key("repaired");
  w.begin_object();
  w.field("invalid_utf8", r.repaired_invalid_utf8);
  w.field("lone_surrogate", r.repaired_lone_surrogate);
  w.field("control_chars", r.repaired_control_chars);
  w.end_object();
  w.field("blank_lines", r.blank_lines);
  w.field("empty", r.empty_documents);
  w.field("shorter_than_ngram", r.short_documents);
  w.field("duplicate_ids", r.duplicate_ids);
  w.end_object();
  w.key("clusters");
  w.begin_object();
  w.field("count", r.clusters);
  w.key("with_duplicates");
  std::uint64_t multi = 0;
  for (const auto& [size, count] : r.cluster_size_histogram) {
    if (size > 1) multi += count;
  }
  w.value(multi);
  w.key("largest");
  w.begin_object();
  w.field("size", r.largest_cluster);
  w.field("kept_id", r.largest_cluster_kept_id);
  w.end_object();
  w.key("size_histogram");
  w.begin_object();
  for (const auto& [size, count] : r.cluster_size_histogram) {
    w.field(std::to_string(size), static_cast<std::uint64_t>(count));
  }
  w.end_object();
  w.end_object();
  w.key("parameters");
  w.begin_object();
  w.field("tokens", o.tokens.kind == token_kind::word ? "word" : o.tokens.kind == token_kind::character ? "char" : "code");
  w.field("keep", to_string(o.keep));
  w.field("seed", o.seed);
  w.field("text_field", o.records.text_field);
  w.field("id_field", o.records.id_field);
  w.field("threads", static_cast<std::uint64_t>(threads));
  if (o.near) {  // `neardup exact` uses none of these
    w.field("threshold", o.threshold);
    w.field("num_perm", static_cast<std::uint64_t>(o.minhash.num_perm));
    w.key("scheme");
    w.value(o.minhash.scheme == minhash_scheme::classic       ? "classic"
            : o.minhash.scheme == minhash_scheme::superminhash ? "superminhash"
                                                               : "one_permutation");
    w.field("ngram", static_cast<std::uint64_t>(o.ngram));
    w.field("bands", r.lsh.bands);
    w.field("rows", r.lsh.rows);
    w.field("candidate_probability_at_threshold", r.candidate_probability_at_threshold);
    w.key("s_curve");
    w.begin_object();
    for (double j : {0.5, 0.6, 0.7, 0.8, 0.9, 0.95}) {
      char name[16];
      std::snprintf(name, sizeof name, "%.2f", j);
      w.field(name, candidate_probability(j, r.lsh));
  }
  w.end_object();
  w.field("verify", to_string(o.verify));
  w.field("exact_first", o.exact_first);
  w.field("kernel", r.kernel);
  }
  w.end_object();
  w.key("lsh");
  w.begin_object();
  w.field("candidate_documents", r.candidate_documents);
  w.field("verifications", r.verifications);
  w.field("verified", r.verified);
  w.field("rejected", r.rejected);
  w.end_object();
  w.field("input_bytes", r.input_bytes);
  w.field("text_bytes", r.text_bytes);
  w.key("seconds");
  w.begin_object();
  for (const auto& st : r.stages) {
    w.field(st.name, st.seconds);
  }
  w.field("total", r.seconds);
  w.end_object();
  w.field("peak_rss_bytes", r.peak_rss_bytes);
  w.key("memory");
  w.begin_object();
  w.field("signature_bytes_per_document", static_cast<std::uint64_t>(o.near ? o.minhash.num_perm * sizeof(sig_value) : 0));
  w.field("grouping_bytes_per_document", r.grouping_bytes_per_document);
  w.field("verification_shingle_set_bytes", r.verify_set_bytes);
  w.end_object();
  w.end_object();
  s += '\n';
  write_file_atomic(path, s);
}

}  // namespace

dedup_report run_dedup(std::span<const source_info> sources, const std::string& out_dir,
                       const dedup_options& options) {
  validate(options);
  const auto t_start = clock_type::now();
  const std::size_t threads = detail::resolve_threads(options.threads);

  minhash_options mh_opts = options.minhash;
  mh_opts.seed = options.seed;
  const minhasher hasher(mh_opts);
  const std::size_t k = hasher.num_perm();
  const lsh_params lsh = options.lsh ? *options.lsh : default_lsh_params(options.threshold, k, options.verify);
  validate_lsh_params(lsh, k);
  const bander band_hasher(lsh, k, options.seed);

  detail::pass_options pass = detail::pass_options_for(options);
  if (options.near && options.verify == verify_mode::exact) {
    pass.keep_sets_bytes = options.set_memory_bytes ? *options.set_memory_bytes : usable_memory_bytes() / 4;
    pass.sets_of_first_copy_only = options.exact_first;  // exact duplicates are left out of LSH
  }

  detail::make_output_dir(out_dir);

  dedup_report report;
  if (options.near) {
    report.lsh = lsh;
    report.candidate_probability_at_threshold = candidate_probability(options.threshold, lsh);
  }
  report.kernel = std::string(kernel_name(hasher.kernel() == sig_kernel::automatic ? default_kernel()
                                                                                     : hasher.kernel()));
  report.input_bytes = detail::stored_bytes(sources);

  progress_meter meter({.enabled = options.progress});
  detail::stage_timer stage;

  // ---- pass 1: parse, tokenize, fingerprint, sign ---------------------------
  stage.start("sign");
  meter.begin_stage(options.near ? "sign" : "fingerprint", report.input_bytes);
  detail::scan_counts counts;
  const detail::corpus_index corpus =
      detail::scan_corpus(sources, pass, options.near ? &hasher : nullptr, meter, counts);
  meter.end_stage();
  stage.stop();

  const std::size_t n = corpus.size();
  report.documents = n;
  report.blank_lines = counts.blank_lines;
  report.text_bytes = counts.text_bytes;
  report.skipped = counts.skipped;
  report.skipped_malformed_json = counts.skipped_by_status[static_cast<int>(record_status::malformed_json)];
  report.skipped_not_object = counts.skipped_by_status[static_cast<int>(record_status::not_object)];
  report.skipped_missing_text = counts.skipped_by_status[static_cast<int>(record_status::missing_text)];
  report.skipped_text_not_string = counts.skipped_by_status[static_cast<int>(record_status::text_not_string)];
  report.skipped_line_too_long = counts.skipped_by_status[static_cast<int>(record_status::line_too_long)];
  report.repaired_invalid_utf8 = counts.repaired_invalid_utf8;
  report.repaired_lone_surrogate = counts.repaired_lone_surrogate;
  report.repaired_control_chars = counts.repaired_control_chars;
  report.empty_documents = counts.empty_documents;
  report.short_documents = counts.short_documents;
  report.duplicate_ids = counts.duplicate_ids;

  // Bad records and documents without tokens take part in nothing.
  std::vector<std::uint8_t> excluded(n, 0);
  for (std::size_t d = 0; d < n; ++d) {
    const auto& m = corpus.docs[d];
    excluded[d] = m.status != record_status::ok || !m.has_tokens;
  }

  // ---- exact duplicates: equal fingerprints ---------------------------------
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
        if (options.exact_first || !options.near) excluded[fp[i].second] = 1;  // LSH sees each text once
      }
    }
  }
  stage.stop();

  std::vector<doc_id> rep(n);
  if (!options.near) {
    rep = exact_leader;
  } else {
    // ---- LSH: band keys grouped by radix sort, candidates verified ---------
    std::vector<std::uint64_t> keys(n, 0);
    auto keys_of_band = [&](std::size_t band) -> std::span<const std::uint64_t> {
      for (std::size_t d = 0; d < n; ++d) {
        if (!excluded[d]) {
          keys[d] = band_hasher.key(corpus.signature(static_cast<doc_id>(d)), static_cast<std::uint32_t>(band))
                        .value_or(0);
        }
      }
      return keys;
    };

    const std::uint64_t peak_before = peak_rss_bytes();
    std::size_t grouper_bytes = 0;
    stage.start("candidates");
    std::vector<std::uint8_t> candidate(n, 0);
    {
      band_grouper grouper;
      bucket_list buckets;
      for (std::size_t b = 0; b < lsh.bands; ++b) {
        grouper.group(keys_of_band(b), excluded, buckets);
        grouper_bytes = std::max(grouper_bytes, grouper.bytes_reserved() + buckets.docs.capacity() * sizeof(doc_id) +
                                                    buckets.offsets.capacity() * sizeof(std::uint32_t));
        for (doc_id d : buckets.docs) candidate[d] = 1;
      }
    }
    for (auto c : candidate) report.candidate_documents += c;
    stage.stop();

    // Candidates whose set pass 1 did not keep are read again.
    detail::shingle_sets sets;
    const std::size_t scanned = corpus.sets.of.size();
    if (options.verify == verify_mode::exact) {
      std::fill(candidate.begin(), candidate.begin() + static_cast<std::ptrdiff_t>(std::min(scanned, n)), 0);
      if (std::find(candidate.begin(), candidate.end(), 1) != candidate.end()) {
        stage.start("load_candidates");
        meter.begin_stage("load candidates", report.input_bytes);
        sets = detail::load_shingle_sets(sources, corpus, candidate, pass, meter);
        meter.end_stage();
        stage.stop();
      }
    }
    std::vector<std::uint8_t>().swap(candidate);
    auto set_of = [&](doc_id d) { return d < scanned ? corpus.sets.of[d] : sets[d]; };

    stage.start("cluster");
    pair_verifier verifier;
    const double threshold = options.threshold;
    if (options.verify == verify_mode::estimate) {
      verifier = [&](doc_id a, doc_id b) {
        return jaccard(corpus.signature(a), corpus.signature(b)).estimate >= threshold;
      };
    } else if (options.verify == verify_mode::exact) {
      // The MinHash estimate rules out most false candidates cheaply: a pair
      // whose Wilson upper bound at z = 5 is below the threshold (over 4
      // standard errors even for one-permutation hashing on tiny sets, whose
      // variance is up to ~1.45x binomial) is rejected without reading its
      // shingle sets; a pair at the threshold is lost this way with
      // probability ~1e-5. jaccard_at_least then rejects pairs well below
      // the threshold from a sample of their sets (a pair at the threshold
      // is lost this way with probability < 1e-7) and decides every merge
      // by exact Jaccard.
      std::size_t min_equal = k + 1;  // fewest equal positions whose upper bound reaches the threshold
      for (std::size_t m = k + 1; m-- > 0;) {
        if (jaccard_from_count(m, k, 5.0).upper < threshold) break;
        min_equal = m;
      }
      verifier = [&, min_equal](doc_id a, doc_id b) {
        if (equal_positions(corpus.signature(a), corpus.signature(b)) < min_equal) return false;
        return jaccard_at_least(set_of(a), set_of(b), threshold, 1e-9);
      };
    }
    cluster_options copts;
    copts.mode = options.verify == verify_mode::none ? verification::none : verification::verify;
    copts.threads = threads;
    // Progress by band: each band counts as an equal share of the input.
    meter.begin_stage("cluster", report.input_bytes);
    std::size_t bands_done = 0;
    auto keys_with_progress = [&](std::size_t band) {
      if (bands_done++ > 0) meter.add(report.input_bytes / lsh.bands, 0);
      return keys_of_band(band);
    };
    cluster_result clusters = cluster_band_keys(n, lsh.bands, keys_with_progress, excluded, verifier, copts);
    meter.end_stage();
    report.verifications = clusters.stats.verifications;
    report.verified = clusters.stats.verified;
    report.rejected = clusters.stats.rejected;
    // Exact-duplicate groups join their leader's cluster.
    for (std::size_t d = 0; d < n; ++d) rep[d] = clusters.representative[exact_leader[d]];
    stage.stop();
    report.verify_set_bytes = corpus.sets.bytes + corpus.sets.of.size() * sizeof(corpus.sets.of[0]) +
                              (sets.values.size() + sets.begin.size()) * sizeof(std::uint64_t);
    if (n > 0) {
      // Accounted, not sampled (freed memory is reused, so RSS growth says
      // little): the per-document arrays held while grouping (band keys,
      // exclusion flags, exact-duplicate leaders, representatives), the
      // grouper's buffers and buckets as measured above, and the clusterer's
      // union-find, links and output (cluster.hpp: <= 16 bytes per document).
      const std::size_t held = keys.capacity() * sizeof(std::uint64_t) + excluded.capacity() +
                               exact_leader.capacity() * sizeof(doc_id) + rep.capacity() * sizeof(doc_id) +
                               grouper_bytes + 16 * n;
      report.grouping_bytes_per_document = static_cast<double>(held) / static_cast<double>(n);
    }
    report.peak_rss_before_grouping = peak_before;
  }

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
  if (n > 0) {
    std::vector<std::uint32_t> size(n, 0);
    for (std::size_t d = 0; d < n; ++d) ++size[rep[d]];
    const auto biggest = static_cast<doc_id>(std::max_element(size.begin(), size.end()) - size.begin());
    report.largest_cluster = size[biggest];
    report.largest_cluster_kept_id = corpus.id_of(sources, keeper[biggest]);
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

  // ---- write outputs in input order -----------------------------------------
  stage.start("write");
  meter.begin_stage("write", report.input_bytes);
  if (options.write_documents) {
    detail::write_kept(sources, corpus, keeper, out_dir + "/clusters.tsv",
                       out_dir + (options.compression == output_compression::zstd ? "/deduped.jsonl.zst"
                                                                                  : "/deduped.jsonl"),
                       options.compression, pass, meter);
  }
  meter.end_stage();
  stage.stop();

  for (const auto& [name, secs] : stage.stages()) report.stages.push_back({name, secs});
  if (options.return_clusters) report.kept_of = std::move(keeper);
  report.seconds = std::chrono::duration<double>(clock_type::now() - t_start).count();
  report.peak_rss_bytes = std::max(peak_rss_bytes(), report.peak_rss_before_grouping);
  write_stats(out_dir + "/stats.json", report, options, sources, threads);
  return report;
}

lsh_params default_lsh_params(double threshold, std::size_t num_perm, verify_mode verify) {
  // threshold 1 (only equal shingle sets) is outside the choosers' domain;
  // every banding catches J = 1, and one band of all rows has the fewest
  // false candidates.
  if (threshold >= 1.0) return lsh_params{1, static_cast<std::uint32_t>(num_perm)};
  // Verified candidates cannot become false merges, so a false candidate
  // costs only a comparison: favour recall. Unverified, balance both errors
  // as datasketch does.
  if (verify == verify_mode::none) return choose_params(threshold, num_perm);
  // Few permutations or a low threshold may not reach the target at all
  // (e.g. --num-perm 2, or --threshold 0.03 with 128): then take the banding
  // of highest recall, one row per band, instead of refusing valid settings.
  const lsh_params most_recall{static_cast<std::uint32_t>(num_perm), 1};
  if (candidate_probability(threshold, most_recall) < default_recall_at_threshold) return most_recall;
  return choose_params_for_recall(threshold, num_perm, default_recall_at_threshold);
}

}  // namespace neardup::io
