#include "corpus_passes.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <filesystem>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include <absl/container/flat_hash_set.h>

#include "../io/chunk_pipeline.hpp"
#include "../io/io_internal.hpp"
#include "neardup/detail/radix_sort.hpp"
#include "neardup/detail/uninitialized.hpp"
#include "neardup/io/memory.hpp"
#include "neardup/pipeline/stages.hpp"
#include "neardup/fingerprint.hpp"
#include "neardup/io/json.hpp"

namespace neardup::jobs::detail {

using namespace neardup::io::detail;  // chunk pipeline, line splitting, parsing helpers

pass_options pass_options_for(const job_options& job, const pipeline::similarity_options& similarity,
                              executor& pool) {
  pass_options pass;
  pass.records = job.records;
  pass.shingles = similarity.shingles();
  pass.pool = &pool;
  pass.reader = job.reader;
  pass.max_reported_errors = job.max_reported_errors;
  return pass;
}

void validate(const job_options& o) {
  if (o.records.text_field.empty()) throw std::invalid_argument("text field name is empty");
  if (o.memory_bytes && *o.memory_bytes < min_memory_budget_bytes) {
    throw std::invalid_argument("memory budget of " + std::to_string(*o.memory_bytes) + " bytes is below the minimum, " +
                                std::to_string(min_memory_budget_bytes));
  }
}

job_events::job_events(const job_options& o) : sink_(o.events) {
  if (sink_ != nullptr) return;
  if (o.progress) {
    meter_ = std::make_unique<progress_meter>(progress_options{.enabled = true});
    sink_ = meter_.get();
  } else {
    sink_ = &silent_;
  }
}

void finish_stats(json_writer& w, std::string& json, double seconds, const std::string& out_dir) {
  w.field("seconds", seconds);
  w.field("peak_rss_bytes", peak_rss_bytes());
  w.end_object();
  json += '\n';
  write_file_atomic(out_dir + "/stats.json", json);
}

void make_output_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error(dir + ": cannot create output directory: " + ec.message());
}

std::uint64_t stored_bytes(std::span<const source_info> sources) noexcept {
  std::uint64_t total = 0;
  for (const auto& s : sources) total += s.file_bytes;
  return total;
}


// Calls visitor(doc, begin, end, line) for each document of chunk `seq`, with
// the document numbers of the first pass. A later pass that finds the input
// changed since (a file appended to or rewritten during the run) throws
// instead of indexing past the first pass's arrays.
template <class Visitor>
void for_each_document(const corpus_index& corpus, const input_chunk& chunk, std::size_t seq, Visitor&& visitor) {
  auto changed = [&] {
    return std::runtime_error(std::string(chunk.source_name) +
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
    meter_.message("further '" + std::string(kind_name) + "' records are counted in stats.json but not listed");
  }
  return false;
}

void problem_reporter::skipped(const record_problem& p) {
  if (!admit(static_cast<std::size_t>(p.status), name(p.status))) return;
  meter_.message(sources_[p.source].name + ":" + std::to_string(p.line) + ": skipped (" +
                 std::string(name(p.status)) + ": " + std::string(p.error) + "); " + outcome_);
}

void problem_reporter::note(std::uint32_t source, std::uint64_t line, std::string_view what) {
  if (!admit(8, "noted")) return;
  meter_.message(sources_[source].name + ":" + std::to_string(line) + ": " + std::string(what));
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
  if (d >= docs.size()) return prior_id(static_cast<doc_id>(d - docs.size()));
  const doc_meta& m = docs[d];
  if (m.id_length == 0) return default_record_id(sources[m.source].name, m.line);
  std::string id(id_bytes(m));
  if (std::binary_search(repeated_ids.begin(), repeated_ids.end(), d)) {
    id += '@';
    id += default_record_id(sources[m.source].name, m.line);
  }
  return id;
}

void corpus_index::append_id_field(std::string& out, std::span<const source_info> sources, doc_id d) const {
  if (d >= docs.size()) return append_tsv_field(out, prior_id(static_cast<doc_id>(d - docs.size())));
  const doc_meta& m = docs[d];
  if (m.id_length != 0) {
    append_tsv_field(out, id_bytes(m));
    if (repeated_ids.empty() || !std::binary_search(repeated_ids.begin(), repeated_ids.end(), d)) return;
    out += '@';
  }
  // SOURCE:LINE; the ':' and the digits need no escaping.
  append_tsv_field(out, sources[m.source].name);
  char digits[24];
  digits[0] = ':';
  const auto end = std::to_chars(digits + 1, digits + sizeof digits, m.line).ptr;
  out.append(digits, end);
}

namespace {

struct scan_result {
  std::vector<doc_meta> docs;
  std::vector<hash128> fingerprints;
  neardup::detail::uninitialized_vector<sig_value> signatures;
  std::string ids;
  std::vector<record_problem> problems;
  std::uint64_t blank = 0;
  std::uint64_t text_bytes = 0;
  std::vector<std::uint64_t> set_values;  // shingle sets of the docs, when kept
  std::vector<std::uint32_t> set_sizes;   // one per doc, when kept
  bool has_sets = false;
  std::vector<std::vector<std::uint64_t>> band_keys;  // per band, one per doc (pass_options::band_keys)
  std::vector<std::uint64_t> key_row;                 // one document's keys
  neardup::detail::uninitialized_vector<sig_value> sig_row;  // one document's signature
  std::vector<std::uint32_t> signature_slot;  // per doc, with band keys: its row of `signatures` or no_slot
};

// Asks for transparent huge pages over the whole 2 MiB pages of a vector's
// reserved memory: filling it then faults once per 2 MiB instead of once per
// 4 KiB.
template <class T>
void advise_huge_pages(const std::vector<T>& v) {
#ifdef MADV_HUGEPAGE
  constexpr std::uintptr_t huge = std::uintptr_t{2} << 20;
  const auto begin = reinterpret_cast<std::uintptr_t>(v.data());
  const std::uintptr_t end = begin + v.capacity() * sizeof(T);
  const std::uintptr_t first = (begin + huge - 1) & ~(huge - 1), last = end & ~(huge - 1);
  if (last > first) (void)::madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
#else
  (void)v;
#endif
}

// Blocks of 64 MiB, or one set's size when larger, on huge pages (sign stage
// 1.61 -> 1.49 s on the 1.16 GB corpus).
std::vector<std::uint64_t> new_set_block(std::size_t values) {
  std::vector<std::uint64_t> block;
  block.reserve(std::max(values, std::size_t{8} << 20));
  advise_huge_pages(block);
  return block;
}

// The one reservation of the per-document arrays (with `sets`, the kept
// sets' spans too): for `estimate` documents with a quarter to spare,
// signatures on huge pages (growing them by
// doubling copied and faulted every signature about twice: 1 million tiny
// documents, ~0.3 s of 4.3 s). Whether huge pages pay depends on the VM's
// memory state: a first touch of 512 MB took 1.0-1.35 s of system time on
// huge pages against 0.3-0.6 s on 4 KiB pages in one hour, 0.11-0.16 s
// against 0.23 s the next. Reserved memory that is never filled is never
// touched, so a high estimate costs address space only; in memory it is
// still capped at half the usable memory. A spilled table reserves its
// files' blocks instead.
void reserve_documents(corpus_index& corpus, double estimate, bool signatures, bool sets) {
  const std::size_t per_doc = sizeof(doc_meta) + sizeof(hash128) + (signatures ? corpus.num_perm * sizeof(sig_value) : 0);
  const double cap = corpus.docs.spilled() ? UINT32_MAX
                                           : std::min<double>(UINT32_MAX, static_cast<double>(usable_memory_bytes() / 2 / per_doc));
  const auto want = static_cast<std::size_t>(std::min(estimate * 1.25 + 1024, cap));
  if (want <= corpus.docs.capacity()) return;
  corpus.docs.reserve(want);
  corpus.fingerprints.reserve(want);
  if (signatures) {
    corpus.signatures.reserve(want * corpus.num_perm);
    advise_huge_pages(corpus.signatures);
  }
  if (corpus.num_bands != 0) corpus.signature_slot.reserve(want);
  if (sets) corpus.sets.of.reserve(want);
}

// The documents the whole input probably holds, from the first chunk (`docs`
// documents in `bytes` bytes of an uncompressed source); 0 when unknown.
double documents_from_first_chunk(std::span<const source_info> sources, std::size_t docs, std::size_t bytes) {
  std::uint64_t plain = 0;
  for (const auto& s : sources) plain += s.codec == compression::none ? s.file_bytes : 0;
  if (docs == 0 || bytes == 0 || plain <= bytes) return 0;
  return static_cast<double>(docs) * static_cast<double>(plain) / static_cast<double>(bytes);
}

}  // namespace

std::vector<std::span<const std::uint64_t>> corpus_index::band_pieces(std::uint32_t band) const {
  std::vector<std::span<const std::uint64_t>> pieces;
  pieces.reserve(band_keys.size());
  for (const auto& chunk : band_keys) pieces.emplace_back(chunk[band]);
  return pieces;
}

void warn_duplicate_ids(std::span<const source_info> sources, corpus_index& corpus,
                        const pass_options& options, sink& meter, scan_counts& counts) {
  const std::size_t n = corpus.size();
  // (hash of the id, document), sorted by hash and then document (the radix
  // sort is stable) on the pool's threads, one slice of the hash space at a
  // time within options.sort_bytes: the warnings come in the same order.
  using neardup::detail::key_doc;
  const pipeline::key_slices slices = pipeline::key_slices::within(n, 2 * sizeof(key_doc), options.sort_bytes);
  const auto key_of = [&](std::size_t d) {
    const doc_meta& m = corpus.docs[d];
    // An id kept in `ids` and not yet marked repeated is those bytes.
    return m.id_length != 0 && corpus.repeated_ids.empty() ? hash64(corpus.id_bytes(m), 0)
                                                           : hash64(corpus.id_of(sources, static_cast<doc_id>(d)), 0);
  };
  // Not zero-filled: every record is written before it is read (the pages
  // are first touched by the threads that fill them).
  neardup::detail::uninitialized_vector<key_doc> h, scratch;
  std::size_t warned = 0;
  std::vector<doc_id> repeated;
  for (std::uint64_t slice = 0; slice < slices.count; ++slice) {
    if (slices.count == 1 && !corpus.docs.spilled()) {
      // All in memory: the hashes are computed on the pool's threads.
      h.resize(n);
      constexpr std::size_t block = 16384;
      run_on(n > block ? options.pool : nullptr, (n + block - 1) / block, [&](std::size_t s) {
        for (std::size_t d = s * block; d < std::min(n, (s + 1) * block); ++d) h[d] = {key_of(d), static_cast<doc_id>(d), 0};
      });
    } else {
      h.clear();
      for (std::size_t d = 0; d < n; ++d) {
        const std::uint64_t key = key_of(d);
        if (slices.count == 1 || slices.of(key) == slice) h.push_back({key, static_cast<doc_id>(d), 0});
        if ((d & table_release_mask) == 0) corpus.release_table();
      }
    }
    scratch.resize(h.size());
    neardup::detail::msd_radix_sort_key_doc_parallel(h, scratch, options.pool);
    std::size_t first = 0;  // the earliest document of the current run of one id
    for (std::size_t i = 1; i < h.size(); ++i) {
      if (h[i].key != h[i - 1].key) {
        first = i;
        continue;
      }
      const std::string id = corpus.id_of(sources, h[i].doc);
      if (corpus.id_of(sources, h[i - 1].doc) != id) continue;  // a 64-bit hash collision
      ++counts.duplicate_ids;
      if (corpus.docs[h[i].doc].id_length != 0) repeated.push_back(h[i].doc);
      if (warned++ < options.max_reported_errors) {
        const doc_meta& m = corpus.docs[h[i].doc];
        const doc_meta& f = corpus.docs[h[first].doc];
        meter.message("warning: " + sources[m.source].name + ":" + std::to_string(m.line) + ": duplicate id '" +
                      id + "', first at " + sources[f.source].name + ":" + std::to_string(f.line) +
                      "; clusters.tsv names this one " + id + "@" + sources[m.source].name + ":" +
                      std::to_string(m.line));
      }
    }
  }
  corpus.release_table();
  std::sort(repeated.begin(), repeated.end());
  corpus.repeated_ids = std::move(repeated);
}

std::span<const std::uint64_t> scanned_sets::store(std::span<const std::uint64_t> set) {
  if (blocks.empty() || blocks.back().capacity() - blocks.back().size() < set.size()) {
    blocks.push_back(new_set_block(set.size()));
  }
  std::vector<std::uint64_t>& block = blocks.back();
  const std::size_t at = block.size();
  block.insert(block.end(), set.begin(), set.end());
  bytes += set.size() * sizeof(std::uint64_t);
  return {block.data() + at, set.size()};
}

corpus_index scan_corpus(std::span<const source_info> sources, const pass_options& options,
                         const minhasher* hasher, sink& meter, scan_counts& counts) {
  corpus_index corpus;
  const std::size_t k = hasher ? hasher->num_perm() : 0;
  corpus.num_perm = k;
  problem_reporter problems(sources, options.max_reported_errors, "kept in the output unchanged", meter);
  corpus.source_bytes.assign(sources.size(), 0);
  if (!options.spill_table_dir.empty()) {
    corpus.docs.spill_to(options.spill_table_dir, *options.spill_bytes);
    corpus.fingerprints.spill_to(options.spill_table_dir, *options.spill_bytes);
    corpus.ids.spill_to(options.spill_table_dir, *options.spill_bytes);
  }
  const bool keep_signatures = k > 0 && !options.spill_signatures;
  const bander* const keyed = keep_signatures ? options.band_keys : nullptr;
  const std::size_t num_bands = keyed != nullptr ? keyed->params().bands : 0;
  corpus.num_bands = num_bands;
  if (options.expected_documents > 0) {
    reserve_documents(corpus, static_cast<double>(options.expected_documents), keep_signatures,
                      options.keep_sets_bytes > 0);
  }

  // Sets are kept chunk by chunk, in input order, until the first chunk that
  // would pass the budget: then the workers stop making them. The workers'
  // buffers are reused; only what is kept takes new memory.
  std::atomic<bool> keeping_sets{options.keep_sets_bytes > 0};
  corpus.sets.complete = options.keep_sets_bytes > 0;
  // Fingerprints are random bits: their low half is the hash. An open
  // addressing set (a node-based one took 17% of the CPU of 1 M tiny
  // documents, walking its chains in the ordered consumer).
  struct hash128_hasher {
    std::size_t operator()(const hash128& h) const noexcept { return static_cast<std::size_t>(h.low); }
  };
  absl::flat_hash_set<hash128, hash128_hasher> texts_seen;
  // Only texts whose set is not small are looked up: a small set is kept
  // even for a repeated text, which costs less than its slot in the table
  // (1 M tiny documents: 34 MB of table, ~0.1-0.3 s of the ordered consumer).
  const std::size_t small_set = small_set_values(k);
  // Reserved for the documents whose sets the budget can keep, if they have
  // more than max(small_set, 8) values (more grow the table): 100 M documents
  // with a set budget of 128 MiB need not reserve 2^27 slots (2.2 GB), nor
  // 2^25.
  if (options.sets_of_first_copy_only && options.keep_sets_bytes > 0 && options.expected_documents > 0) {
    texts_seen.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(
        {options.expected_documents,
         options.keep_sets_bytes / ((std::max<std::size_t>(small_set, 7) + 1) * sizeof(std::uint64_t)), UINT32_MAX})));
  }
  auto keep_sets = [&](const scan_result& res, std::size_t first_doc) {
    if (!corpus.sets.complete) return;
    if (!res.has_sets || corpus.sets.bytes + res.set_values.size() * sizeof(std::uint64_t) > options.keep_sets_bytes) {
      corpus.sets.complete = false;
      keeping_sets.store(false, std::memory_order_relaxed);
      decltype(texts_seen)().swap(texts_seen);  // no set is kept after this one
      return;
    }
    std::size_t pos = 0;
    // The set's slots of a document a few ahead are fetched while this one
    // is looked up: the table is larger than the cache, and waiting for each
    // lookup in turn took 0.23 s of 2.8 s on 1 million tiny documents.
    constexpr std::size_t ahead = 8;
    for (std::size_t i = 0; i < res.set_sizes.size(); ++i) {
      if (options.sets_of_first_copy_only && i + ahead < res.set_sizes.size() &&
          res.set_sizes[i + ahead] > small_set) {
        texts_seen.prefetch(corpus.fingerprints[first_doc + i + ahead]);
      }
      const std::span<const std::uint64_t> set(res.set_values.data() + pos, res.set_sizes[i]);
      pos += res.set_sizes[i];
      const doc_meta& m = corpus.docs[first_doc + i];
      // (Equal texts have equal sets: the first copy of a text whose set is
      // not small was looked up too.)
      const bool repeat = options.sets_of_first_copy_only && m.has_tokens && set.size() > small_set &&
                          !texts_seen.insert(corpus.fingerprints[first_doc + i]).second;
      corpus.sets.of.push_back(repeat ? std::span<const std::uint64_t>() : corpus.sets.store(set));
    }
  };

  for_each_chunk_ordered<scan_result>(
      sources, options.reader, options.pool,
      [&] {
        return [&, parser = record_parser(), signer = pipeline::document_signer(options.shingles, hasher)](
                   const input_chunk& chunk, std::size_t, scan_result& res) mutable {
          res.docs.clear();
          res.fingerprints.clear();
          res.signatures.clear();
          res.ids.clear();
          res.problems.clear();
          res.blank = 0;
          res.text_bytes = 0;
          res.set_values.clear();
          res.set_sizes.clear();
          res.has_sets = keeping_sets.load(std::memory_order_relaxed);
          // (Moved to the corpus by the consumer: made afresh, for as many
          // documents as this slot's largest chunk had.)
          res.band_keys.resize(num_bands);
          for (auto& keys : res.band_keys) {
            keys.clear();
            keys.reserve(res.docs.capacity());
          }
          res.signature_slot.clear();
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
            m.byte_offset = r.byte_offset;
            m.raw_length = static_cast<std::uint32_t>(std::min<std::size_t>(r.raw.size(), UINT32_MAX));
            if (!r.id.empty()) {
              m.id_offset = res.ids.size();
              m.id_length = static_cast<std::uint32_t>(std::min<std::size_t>(r.id.size(), UINT32_MAX));
              res.ids.append(r.id.substr(0, m.id_length));
            }
            // Uninitialized: the signer writes a signature for a text with
            // tokens; the others are filled with the empty-set signature.
            // With band keys, into a scratch row first: only some are kept.
            const std::size_t off = keyed != nullptr ? 0 : res.signatures.size();
            neardup::detail::uninitialized_vector<sig_value>& sigs = keyed != nullptr ? res.sig_row : res.signatures;
            sigs.resize(off + k);
            bool signed_values = false;
            hash128 fp{};
            std::span<const std::uint64_t> set;
            if (r.status == record_status::ok) {
              m.text_bytes = r.text.size();
              res.text_bytes += r.text.size();
              const pipeline::signed_text st =
                  signer.sign(r.text, std::span<sig_value>(sigs.data() + off, k), res.has_sets);
              m.has_tokens = st.has_tokens;
              m.short_doc = st.short_doc;
              signed_values = st.has_tokens;
              fp = st.fingerprint;
              set = signer.set();
            } else {
              res.problems.push_back({r.status, r.source, r.line, r.error});
            }
            if (!signed_values) std::fill_n(sigs.begin() + static_cast<std::ptrdiff_t>(off), k, empty_sig_value);
            if (keyed != nullptr) {
              // While the signature is in the cache; a document without
              // tokens takes part in no band (key 0).
              const std::span<const sig_value> sig(sigs.data(), k);
              std::vector<std::uint64_t>& row = res.key_row;
              row.resize(num_bands);
              if (!signed_values || !keyed->keys(sig, row)) std::fill(row.begin(), row.end(), 0);
              for (std::size_t b = 0; b < num_bands; ++b) res.band_keys[b].push_back(row[b]);
              // Kept unless the set stands in for it (the consumer makes it
              // again from the set if that set is not kept after all).
              const bool stands_in = res.has_sets && !set.empty() && set.size() <= small_set;
              if (signed_values && !stands_in) {
                res.signature_slot.push_back(static_cast<std::uint32_t>(res.signatures.size() / k));
                res.signatures.insert(res.signatures.end(), sig.begin(), sig.end());
              } else {
                res.signature_slot.push_back(corpus_index::no_slot);
              }
            }
            if (res.has_sets) {
              res.set_values.insert(res.set_values.end(), set.begin(), set.end());
              res.set_sizes.push_back(static_cast<std::uint32_t>(set.size()));
            }
            // A huge line's scratch (its n-grams) is not kept for the next one.
            if (r.text.size() >= tokenizer::large_text_bytes) signer.release_scratch();
            res.docs.push_back(m);
            res.fingerprints.push_back(fp);
          });
        };
      },
      [&](std::size_t seq, const input_chunk& chunk, scan_result& res) {
        if (corpus.chunk_first_doc.size() <= seq) corpus.chunk_first_doc.resize(seq + 1);
        corpus.chunk_first_doc[seq] = corpus.docs.size();
        corpus.source_bytes[chunk.source] = chunk.byte_offset + chunk.data.size();
        if (corpus.docs.size() + res.docs.size() > UINT32_MAX) {
          throw std::runtime_error(std::string(chunk.source_name) +
                                   ": more than 2^32-1 documents in one run; split the corpus");
        }
        if (seq == 0 && options.expected_documents == 0 && sources[chunk.source].codec == compression::none) {
          reserve_documents(corpus, documents_from_first_chunk(sources, res.docs.size(), chunk.data.size()),
                            keep_signatures, options.keep_sets_bytes > 0);
        }
        const std::size_t first_doc = corpus.docs.size();
        const std::uint64_t id_base = corpus.ids.size();
        for (auto& m : res.docs) {
          if (m.id_length != 0) m.id_offset += id_base;
        }
        corpus.docs.append(res.docs);
        corpus.ids.append(std::span<const char>(res.ids.data(), res.ids.size()));
        corpus.fingerprints.append(res.fingerprints);
        keep_sets(res, first_doc);
        if (options.spill_signatures) {
          options.spill_signatures(first_doc, res.signatures);
        } else if (keyed != nullptr) {
          corpus.band_keys.push_back(std::move(res.band_keys));
          res.band_keys.clear();
          // The signatures the workers kept, and those of documents whose
          // small set was not kept after all (past the set budget, or a
          // repeated text), made again from the chunk's sets.
          std::size_t set_at = 0;  // into res.set_values
          for (std::size_t i = 0; i < res.docs.size(); ++i) {
            const doc_meta& m = res.docs[i];
            const std::size_t d = first_doc + i;
            const std::uint32_t slot = res.signature_slot[i];
            const std::size_t set_size = res.has_sets ? res.set_sizes[i] : 0;
            const bool set_kept = d < corpus.sets.of.size() && !corpus.sets.of[d].empty();
            if (slot == corpus_index::no_slot && (!m.has_tokens || set_kept)) {
              corpus.signature_slot.push_back(corpus_index::no_slot);
            } else {
              corpus.signature_slot.push_back(static_cast<std::uint32_t>(corpus.signatures.size() / k));
              if (slot != corpus_index::no_slot) {
                const sig_value* from = res.signatures.data() + std::size_t{slot} * k;
                corpus.signatures.insert(corpus.signatures.end(), from, from + k);
              } else {
                const std::size_t at = corpus.signatures.size();
                corpus.signatures.resize(at + k);
                hasher->sign(std::span<const std::uint64_t>(res.set_values.data() + set_at, set_size),
                             std::span<sig_value>(corpus.signatures.data() + at, k));
              }
            }
            set_at += set_size;
          }
        } else {
          corpus.signatures.insert(corpus.signatures.end(), res.signatures.begin(), res.signatures.end());
        }
        // The copy of a huge line's set is not kept for the next chunk.
        if (res.set_values.capacity() * sizeof(std::uint64_t) >= tokenizer::large_text_bytes) {
          std::vector<std::uint64_t>().swap(res.set_values);
        }
        counts.blank_lines += res.blank;
        counts.text_bytes += res.text_bytes;
        for (const doc_meta& m : res.docs) {
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
        for (const auto& p : res.problems) problems.skipped(p);
        meter.add(chunk.data.size(), res.docs.size());
        corpus.release_table();  // a spilled table's pages leave memory chunk by chunk
      });

  if (options.check_duplicate_ids) warn_duplicate_ids(sources, corpus, options, meter, counts);
  return corpus;
}

shingle_sets load_shingle_sets(std::span<const source_info> sources, const corpus_index& corpus,
                               std::span<const std::uint8_t> wanted, const pass_options& options,
                               sink& meter, bool spill) {
  const std::size_t n = corpus.size();
  shingle_sets sets;
  if (spill && !options.spill_table_dir.empty()) sets.spill_to(options.spill_table_dir, *options.spill_bytes);
  sets.has.assign(n / 64 + 1, 0);
  struct load_result {
    std::vector<std::uint64_t> values;
    std::vector<std::pair<doc_id, std::uint64_t>> sizes;  // (doc, set size)
  };
  for_each_chunk_ordered<load_result>(
      sources, options.reader, options.pool,
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
      [&](std::size_t, const input_chunk& chunk, load_result& res) {
        std::size_t pos = 0;
        for (const auto& [doc, size] : res.sizes) {
          sets.add(doc, std::span<const std::uint64_t>(res.values.data() + pos, size));
          pos += size;
        }
        meter.add(chunk.data.size(), res.sizes.size());
        corpus.release_table();
      });
  sets.finish(n);
  return sets;
}

void shingle_sets::spill_to(const std::string& dir, spill_counter& counter) {
  if (begin.size() > 1) throw std::logic_error("shingle_sets::spill_to: sets were added");
  file = std::make_unique<spill_file>(dir, counter);
}

void shingle_sets::add(doc_id d, std::span<const std::uint64_t> set) {
  has[d >> 6] |= std::uint64_t{1} << (d & 63);
  values.insert(values.end(), set.begin(), set.end());
  begin.push_back(filed + values.size());
  if (file && values.size() >= (std::size_t{1} << 17)) flush();  // 1 MiB
}

void shingle_sets::flush() {
  file->append(std::as_bytes(std::span<const std::uint64_t>(values)));
  filed += values.size();
  values.clear();
}

std::span<const std::uint64_t> shingle_sets::read(doc_id d, std::vector<std::uint64_t>& buf) const {
  const std::size_t i = index(d);
  if (i == SIZE_MAX) return {};
  if (!file) return {values.data() + begin[i], begin[i + 1] - begin[i]};
  buf.resize(static_cast<std::size_t>(begin[i + 1] - begin[i]));
  file->read(begin[i] * sizeof(std::uint64_t), std::as_writable_bytes(std::span<std::uint64_t>(buf)));
  return buf;
}

std::vector<std::uint64_t> shingle_sets::dense_begin() const {
  std::vector<std::uint64_t> out(documents + 1);
  std::size_t i = 0;  // sets so far
  for (std::size_t d = 0; d < documents; ++d) {
    out[d] = begin[i];
    if ((has[d >> 6] >> (d & 63)) & 1) ++i;
  }
  out[documents] = begin[i];
  return out;
}

void shingle_sets::finish(std::size_t n) {
  if (file) {
    flush();
    std::vector<std::uint64_t>().swap(values);
  }
  documents = n;
  has.resize(n / 64 + 1, 0);
  rank.resize(has.size());
  std::uint32_t r = 0;
  for (std::size_t w = 0; w < has.size(); ++w) {
    rank[w] = r;
    r += static_cast<std::uint32_t>(std::popcount(has[w]));
  }
}

namespace {

std::runtime_error input_changed(std::string_view name, const std::string& how) {
  return std::runtime_error(std::string(name) + ": the input changed while neardup was reading it (" +
                            how + ")");
}

// clusters.tsv's rows of documents [begin, end) appended to `out`, the
// bytes append_id_field writes. Most rows are a kept document with a
// printable id of its own, "ID\tID\n": made in one piece from the id.
void append_cluster_rows(std::string& out, std::span<const source_info> sources, const corpus_index& corpus,
                         std::span<const doc_id> keeper, std::size_t begin, std::size_t end) {
  const std::vector<doc_id>& repeated = corpus.repeated_ids;  // sorted
  auto next_repeated = std::lower_bound(repeated.begin(), repeated.end(), begin);
  constexpr std::size_t row_max = 128;
  char row[row_max];
  std::size_t scattered = 0;  // reads of another document's row
  for (std::size_t d = begin; d < end; ++d) {
    const doc_meta& m = corpus.docs[d];
    const bool is_repeated = next_repeated != repeated.end() && *next_repeated == d;
    next_repeated += is_repeated ? 1 : 0;
    const doc_id kept = keeper[d];
    if (kept == d && m.id_length != 0 && !is_repeated && 2 * std::size_t{m.id_length} + 2 <= row_max) {
      const std::string_view id = corpus.id_bytes(m);
      if (io::tsv_field_is_plain(id)) {
        std::memcpy(row, id.data(), id.size());
        row[id.size()] = '\t';
        std::memcpy(row + id.size() + 1, id.data(), id.size());
        row[2 * id.size() + 1] = '\n';
        out.append(row, 2 * id.size() + 2);
        continue;
      }
    }
    corpus.append_id_field(out, sources, static_cast<doc_id>(d));
    out += '\t';
    corpus.append_id_field(out, sources, kept);
    out += '\n';
    if (kept != d && (++scattered & scattered_release_mask) == 0) corpus.release_table();
  }
}

// Writes clusters.tsv in blocks of rows that any number of threads format
// at once (work()), each block written as soon as those before it are: the
// bytes one thread writes. At most `window` blocks are formatted ahead of the
// last one written, so memory stays a few blocks whatever the corpus.
class cluster_rows_writer {
 public:
  cluster_rows_writer(atomic_file& out, std::span<const source_info> sources, const corpus_index& corpus,
                      std::span<const doc_id> keeper, std::size_t window)
      : out_(out), sources_(sources), corpus_(corpus), keeper_(keeper),
        blocks_((corpus.size() + block_docs - 1) / block_docs), window_(std::max<std::size_t>(window, 1)),
        ready_(window_), has_(window_, 0) {}

  // Formats and writes blocks until none is left (or stop(), or an error,
  // which finish() rethrows). Safe to call from several threads at once.
  void work() {
    std::string block;
    while (true) {
      std::unique_lock<std::mutex> lock(mutex_);
      progress_.wait(lock, [&] { return stopped_ || next_ >= blocks_ || next_ < written_ + window_; });
      if (stopped_ || next_ >= blocks_) return;
      const std::size_t i = next_++;
      take_spare(block);
      lock.unlock();
      block.clear();
      try {
        append_cluster_rows(block, sources_, corpus_, keeper_, i * block_docs,
                            std::min(corpus_.size(), (i + 1) * block_docs));
      } catch (...) {
        fail(std::current_exception());
        return;
      }
      lock.lock();
      ready_[i % window_] = std::move(block);
      has_[i % window_] = 1;
      if (writing_) continue;  // the thread writing takes it in its turn
      writing_ = true;
      while (!stopped_ && written_ < blocks_ && has_[written_ % window_] != 0) {
        std::string next = std::move(ready_[written_ % window_]);
        has_[written_ % window_] = 0;
        lock.unlock();
        try {
          out_.write(next);
          corpus_.release_table();
        } catch (...) {
          lock.lock();
          writing_ = false;
          lock.unlock();
          fail(std::current_exception());
          return;
        }
        next.clear();
        lock.lock();
        spare_.push_back(std::move(next));
        ++written_;
        progress_.notify_all();
      }
      writing_ = false;
    }
  }

  // Makes work() return after its current block (another writer failed).
  void stop() {
    const std::lock_guard<std::mutex> lock(mutex_);
    stopped_ = true;
    progress_.notify_all();
  }

  // After every work() has returned: rethrows the first error.
  void finish() {
    if (error_) std::rethrow_exception(error_);
    if (written_ != blocks_) throw std::logic_error("clusters.tsv: blocks left unwritten");
  }

 private:
  static constexpr std::size_t block_docs = table_release_mask + 1;  // ~1 MiB of short ids

  void take_spare(std::string& block) {
    if (spare_.empty()) return;
    block = std::move(spare_.back());
    spare_.pop_back();
  }

  void fail(std::exception_ptr e) {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (!error_) error_ = std::move(e);
    stopped_ = true;
    progress_.notify_all();
  }

  atomic_file& out_;
  std::span<const source_info> sources_;
  const corpus_index& corpus_;
  std::span<const doc_id> keeper_;
  const std::size_t blocks_;
  const std::size_t window_;
  std::mutex mutex_;
  std::condition_variable progress_;
  std::size_t next_ = 0;     // blocks handed out
  std::size_t written_ = 0;  // blocks written, in order
  bool writing_ = false;     // a thread is writing blocks
  bool stopped_ = false;
  std::exception_ptr error_;
  std::vector<std::string> ready_;  // block i in ready_[i % window_] while has_
  std::vector<std::uint8_t> has_;
  std::vector<std::string> spare_;  // written blocks' buffers, to fill again
};

}  // namespace

// Documents' sources never decrease: a binary search per source, not a read
// of the whole table.
std::vector<std::size_t> first_doc_of_sources(const corpus_index& corpus, std::size_t num_sources) {
  std::vector<std::size_t> first(num_sources + 1, corpus.size());
  const doc_meta* docs = corpus.docs.data();
  for (std::size_t s = 0; s < num_sources; ++s) {
    first[s] = static_cast<std::size_t>(
        std::partition_point(docs, docs + corpus.size(), [&](const doc_meta& m) { return m.source < s; }) - docs);
  }
  corpus.release_table();
  return first;
}

namespace {

// True when the kept lines of a source can be copied by their byte ranges
// from pass 1: a plain JSONL regular file of the size pass 1 read (a /proc
// file reports 0 bytes and is read again instead) with all line lengths known.
// (A length is unknown, UINT32_MAX, only for a line that long: never in a
// smaller file, whose documents are then not read.)
bool copyable(const source_info& src, std::uint64_t size, const corpus_index& corpus, std::size_t first,
              std::size_t last) {
  if (src.kind != source_kind::jsonl || src.codec != compression::none) return false;
  struct stat st {};
  if (::stat(src.path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  if (static_cast<std::uint64_t>(st.st_size) != size) return false;
  if (size < UINT32_MAX) return true;
  for (std::size_t d = first; d < last; ++d) {
    if (corpus.docs[d].raw_length == UINT32_MAX) return false;
    if ((d & table_release_mask) == 0) corpus.release_table();
  }
  return true;
}

// Where kept lines go: the whole output (an atomic_file), or one part's
// place in it (positioned_output).
class kept_output {
 public:
  virtual ~kept_output() = default;
  virtual void write(std::string_view bytes) = 0;
  virtual void put(char c) = 0;
  // As atomic_file::copy_from.
  virtual std::uint64_t copy_from(int fd, std::uint64_t offset, std::uint64_t length) = 0;
};

class atomic_output final : public kept_output {
 public:
  explicit atomic_output(atomic_file& f) : f_(f) {}
  void write(std::string_view bytes) override { f_.write(bytes); }
  void put(char c) override { f_.put(c); }
  std::uint64_t copy_from(int fd, std::uint64_t offset, std::uint64_t length) override {
    return f_.copy_from(fd, offset, length);
  }

 private:
  atomic_file& f_;
};

// Writes into an existing file from byte `at` on (pwrite(2), buffered), so
// that tasks writing disjoint ranges of one file need no coordination. As
// atomic_file does, it starts the writeback as it goes, and finish() waits
// for its range to reach the disk: the commit's fsync, in the one process
// that renames the file, then finds little left to do.
class positioned_output final : public kept_output {
 public:
  positioned_output(const std::string& path, std::uint64_t at)
      : path_(path), begin_(at), at_(at), writeback_started_(at) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);  // never created here: the file is the run's
    if (fd_ < 0) throw std::runtime_error(path + ": cannot open for writing: " + std::strerror(errno));
    buf_.reserve(buffer_bytes);
  }
  ~positioned_output() override {
    if (fd_ >= 0) ::close(fd_);
  }
  positioned_output(const positioned_output&) = delete;
  positioned_output& operator=(const positioned_output&) = delete;

  void write(std::string_view bytes) override {
    if (buf_.size() + bytes.size() > buffer_bytes) flush();
    if (bytes.size() >= buffer_bytes) {
      raw_write(bytes.data(), bytes.size());
    } else {
      buf_.append(bytes);
    }
  }
  void put(char c) override { write(std::string_view(&c, 1)); }
  std::uint64_t copy_from(int fd, std::uint64_t offset, std::uint64_t length) override {
    flush();
    if (!block_) block_.reset(new char[buffer_bytes]);
    std::uint64_t done = 0;
    while (done < length) {
      const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(length - done, buffer_bytes));
      const ssize_t n = ::pread(fd, block_.get(), want, static_cast<off_t>(offset + done));
      if (n > 0) {
        raw_write(block_.get(), static_cast<std::size_t>(n));
        done += static_cast<std::uint64_t>(n);
      } else if (n == 0) {
        break;
      } else if (errno != EINTR) {
        throw std::runtime_error(path_ + ": cannot read the input copied into it: " + std::strerror(errno));
      }
    }
    return done;
  }
  // Writes what is buffered, waits for the range written to reach the disk
  // and closes the file; returns the bytes written.
  std::uint64_t finish() {
    flush();
#ifdef SYNC_FILE_RANGE_WRITE
    const int synced = ::sync_file_range(fd_, static_cast<off_t>(begin_), static_cast<off_t>(at_ - begin_),
                                         SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                                             SYNC_FILE_RANGE_WAIT_AFTER);
#else
    const int synced = ::fdatasync(fd_);
#endif
    if (synced != 0) throw std::runtime_error(path_ + ": cannot write to the disk: " + std::strerror(errno));
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) throw std::runtime_error(path_ + ": close failed: " + std::strerror(errno));
    return written_;
  }

 private:
  static constexpr std::size_t buffer_bytes = std::size_t{1} << 20;
  void flush() {
    raw_write(buf_.data(), buf_.size());
    buf_.clear();
  }
  void raw_write(const char* p, std::size_t n) {
    while (n > 0) {
      const ssize_t w = ::pwrite(fd_, p, std::min<std::size_t>(n, std::size_t{1} << 30), static_cast<off_t>(at_));
      if (w < 0) {
        if (errno == EINTR) continue;
        throw std::runtime_error(path_ + ": write error: " + std::strerror(errno));
      }
      p += w;
      n -= static_cast<std::size_t>(w);
      at_ += static_cast<std::uint64_t>(w);
      written_ += static_cast<std::uint64_t>(w);
    }
#ifdef SYNC_FILE_RANGE_WRITE
    if (at_ - writeback_started_ >= writeback_step) {
      (void)::sync_file_range(fd_, static_cast<off_t>(writeback_started_),
                              static_cast<off_t>(at_ - writeback_started_), SYNC_FILE_RANGE_WRITE);
      writeback_started_ = at_;
    }
#endif
  }
  static constexpr std::uint64_t writeback_step = std::uint64_t{8} << 20;
  std::string path_;
  std::uint64_t begin_;
  std::uint64_t at_;
  std::uint64_t writeback_started_;
  std::uint64_t written_ = 0;
  int fd_ = -1;
  std::string buf_;
  std::unique_ptr<char[]> block_;
};

// Copies the kept lines of copyable sources into `out`, each line's bytes
// then one '\n', as the streaming path writes them. Adjacent kept lines form
// one run of file bytes. Long runs go through atomic_file::copy_from (large
// preads, or the kernel's copy where enabled); short ones near each other are
// read with one pread() and written from memory, which takes fewer system
// calls when many short kept lines alternate with removed ones.
class kept_line_copier {
 public:
  kept_line_copier(kept_output& out, const corpus_index& corpus, std::span<const doc_id> keeper)
      : out_(out), corpus_(corpus), keeper_(keeper) {}

  void copy(const source_info& src, std::uint64_t size, std::size_t first, std::size_t last) {
    const int fd = ::open(src.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      throw std::runtime_error(src.name + ": cannot open: " + std::strerror(errno));
    }
    const fd_closer closer{fd};
    check_unchanged(src, fd, size);
    // A window of documents at a time: a run cut at a window's end goes on
    // in the next, with the same bytes written.
    for (std::size_t w = first; w < last; w += window_docs) {
      find_runs(w, std::min(last, w + window_docs), size);
      copy_runs(src, fd, size);
      corpus_.release_table();
    }
    check_unchanged(src, fd, size);
  }

 private:
  static constexpr std::size_t window_docs = table_release_mask + 1;

  void copy_runs(const source_info& src, int fd, std::uint64_t size) {
    for (std::size_t i = 0; i < runs_.size();) {
      if (runs_[i].bytes() >= kernel_copy_min_bytes) {
        const run& r = runs_[i++];
        if (out_.copy_from(fd, r.begin, r.bytes()) != r.bytes()) throw shorter(src, size);
        if (!r.newline) out_.put('\n');
        continue;
      }
      // Short runs that lie close together: one read.
      std::size_t j = i + 1;
      while (j < runs_.size() && runs_[j].bytes() < kernel_copy_min_bytes &&
             runs_[j].begin - runs_[j - 1].stop() <= max_gap_bytes &&
             runs_[j].stop() - runs_[i].begin <= block_bytes) {
        ++j;
      }
      const std::uint64_t base = runs_[i].begin;
      const auto span = static_cast<std::size_t>(runs_[j - 1].stop() - base);
      read_block(src, fd, base, span, size);
      for (; i < j; ++i) {
        const run& r = runs_[i];
        out_.write(std::string_view(block_.get() + (r.begin - base), static_cast<std::size_t>(r.bytes())));
        if (!r.newline) out_.put('\n');
      }
    }
  }

  static constexpr std::uint64_t kernel_copy_min_bytes = std::uint64_t{64} << 10;
  static constexpr std::uint64_t max_gap_bytes = std::uint64_t{64} << 10;
  static constexpr std::size_t block_bytes = std::size_t{1} << 20;

  struct fd_closer {
    int fd;
    ~fd_closer() { ::close(fd); }
  };

  // File bytes [begin, stop()) written as they are; `newline`: they end with
  // the last line's '\n' (false for a last line without one).
  struct run {
    std::uint64_t begin;
    std::uint64_t end;  // end of the last line, before its '\n'
    bool newline;
    std::uint64_t stop() const noexcept { return end + (newline ? 1 : 0); }
    std::uint64_t bytes() const noexcept { return stop() - begin; }
  };

  void find_runs(std::size_t first, std::size_t last, std::uint64_t size) {
    runs_.clear();
    const doc_meta* docs = corpus_.docs.data();
    for (std::size_t d = first; d < last;) {
      if (keeper_[d] != d) {
        ++d;
        continue;
      }
      const std::uint64_t begin = docs[d].byte_offset;
      std::uint64_t end = begin + docs[d].raw_length;
      // A run continues while the next line is kept and follows right after
      // the '\n' (no removed document or blank line between).
      for (++d; d < last && keeper_[d] == d && docs[d].byte_offset == end + 1; ++d) {
        end = docs[d].byte_offset + docs[d].raw_length;
      }
      runs_.push_back({begin, end, end < size});
    }
  }

  void read_block(const source_info& src, int fd, std::uint64_t offset, std::size_t bytes, std::uint64_t size) {
    if (block_capacity_ < bytes) {
      block_.reset(new char[bytes]);
      block_capacity_ = bytes;
    }
    std::size_t got = 0;
    while (got < bytes) {
      const ssize_t n = ::pread(fd, block_.get() + got, bytes - got, static_cast<off_t>(offset + got));
      if (n > 0) {
        got += static_cast<std::size_t>(n);
      } else if (n == 0) {
        throw shorter(src, size);
      } else if (errno != EINTR) {
        throw std::runtime_error(src.name + ": read error: " + std::strerror(errno));
      }
    }
  }

  static void check_unchanged(const source_info& src, int fd, std::uint64_t size) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      throw std::runtime_error(src.name + ": cannot stat: " + std::strerror(errno));
    }
    if (static_cast<std::uint64_t>(st.st_size) != size) {
      throw input_changed(src.name, std::to_string(size) + " bytes, then " + std::to_string(st.st_size));
    }
    if (src.mtime_ns != 0 && mtime_ns(st) != src.mtime_ns) {
      throw input_changed(src.name, "modified since it was listed");
    }
  }

  static std::runtime_error shorter(const source_info& src, std::uint64_t size) {
    return input_changed(src.name, "shorter than " + std::to_string(size) + " bytes");
  }

  kept_output& out_;
  const corpus_index& corpus_;
  std::span<const doc_id> keeper_;
  std::vector<run> runs_;
  std::unique_ptr<char[]> block_;
  std::size_t block_capacity_ = 0;
};

// The kept lines of every source, in input order, into `kept` (write_kept's
// deduped.jsonl, or write_kept_at's part of it).
void write_kept_lines(std::span<const source_info> sources, const corpus_index& corpus,
                      std::span<const doc_id> keeper, kept_output& kept, const pass_options& options, sink& meter) {
  const std::vector<std::size_t> first = first_doc_of_sources(corpus, sources.size());
  std::vector<std::uint8_t> copy(sources.size(), 0);
  std::vector<source_info> streamed;           // the sources read again, in input order
  std::vector<std::uint32_t> streamed_source;  // their index in `sources`
  for (std::size_t s = 0; s < sources.size(); ++s) {
    if (copyable(sources[s], corpus.source_bytes[s], corpus, first[s], first[s + 1])) {
      copy[s] = 1;
    } else {
      streamed.push_back(sources[s]);
      streamed_source.push_back(static_cast<std::uint32_t>(s));
    }
  }

  // The copyable sources before `end` not yet written, in input order.
  kept_line_copier copier(kept, corpus, keeper);
  std::size_t next_source = 0;
  auto copy_up_to = [&](std::size_t end) {
    for (; next_source < end; ++next_source) {
      if (!copy[next_source]) continue;
      copier.copy(sources[next_source], corpus.source_bytes[next_source], first[next_source], first[next_source + 1]);
      meter.add(corpus.source_bytes[next_source], first[next_source + 1] - first[next_source]);
    }
  };

  if (!streamed.empty()) {
    // Every line read again must be where pass 1 found a document (same byte
    // offset, line number and length), and each source must end where it did.
    struct stream_result {
      std::string jsonl;
      std::uint64_t docs = 0;
    };
    std::vector<std::uint64_t> streamed_end(streamed.size(), 0);
    for_each_chunk_ordered<stream_result>(
        streamed, options.reader, options.pool,
        [&] {
          return [&, parser = record_parser()](const input_chunk& chunk, std::size_t, stream_result& res) mutable {
            res.jsonl.clear();
            const std::size_t s = streamed_source[chunk.source];
            if (chunk.whole_file_document) {
              const std::size_t d = first[s];
              if (first[s + 1] != d + 1) throw input_changed(chunk.source_name, "passes over it disagree");
              res.docs = 1;
              if (keeper[d] == d) append_document_line(res.jsonl, chunk, parser.parse_document(chunk));
              return;
            }
            // The documents pass 1 found in this chunk's bytes.
            const auto docs_begin = corpus.docs.begin();
            auto first_at = [&](std::uint64_t offset) {
              return static_cast<std::size_t>(
                  std::partition_point(docs_begin + static_cast<std::ptrdiff_t>(first[s]),
                                       docs_begin + static_cast<std::ptrdiff_t>(first[s + 1]),
                                       [&](const doc_meta& m) { return m.byte_offset < offset; }) -
                  docs_begin);
            };
            std::size_t d = first_at(chunk.byte_offset);
            const std::size_t end = first_at(chunk.byte_offset + chunk.data.size());
            res.docs = end - d;
            for_each_line(chunk, [&](std::size_t begin, std::size_t stop, std::uint64_t line) {
              const std::string_view raw(chunk.data.data() + begin, stop - begin);
              const std::uint64_t offset = chunk.byte_offset + begin;
              if (is_blank_record_line(raw, offset)) return;
              const doc_meta* m = d < end ? &corpus.docs[d] : nullptr;
              if (m == nullptr || m->byte_offset != offset || m->line != line ||
                  m->raw_length != std::min<std::size_t>(raw.size(), UINT32_MAX)) {
                throw input_changed(chunk.source_name, "passes over it disagree at line " + std::to_string(line));
              }
              if (keeper[d] == d) {
                res.jsonl += raw;
                res.jsonl += '\n';
              }
              ++d;
            });
            if (d != end) throw input_changed(chunk.source_name, "passes over it disagree");
          };
        },
        [&](std::size_t, const input_chunk& chunk, stream_result& res) {
          copy_up_to(streamed_source[chunk.source]);
          kept.write(res.jsonl);
          streamed_end[chunk.source] = chunk.byte_offset + chunk.data.size();
          meter.add(chunk.data.size(), res.docs);
          corpus.release_table();
        });
    for (std::size_t i = 0; i < streamed.size(); ++i) {
      const std::uint64_t expected = corpus.source_bytes[streamed_source[i]];
      if (streamed_end[i] != expected) {
        throw input_changed(streamed[i].name,
                            std::to_string(expected) + " bytes, then " + std::to_string(streamed_end[i]));
      }
    }
  }
  copy_up_to(sources.size());
}

// With a pool thread to spare, the kept lines of copyable sources are
// written by two writers into the one temporary file: the calling thread
// writes the documents that fill the first half of the output through
// `file`, a pool thread the rest at its place (positioned_output), and
// `file` then adopts those bytes. Each kept line is its raw bytes and one
// '\n' (raw_length + 1), so the place of the second half is known before
// anything is written. On this VM most of the copy's cost is the kernel
// filling fresh page-cache pages, which two threads do in parallel. Returns
// false (nothing written, `started` not called) when the output is
// compressed, a source must be read again, or the output is smaller than
// options.kept_split_min_bytes;
// otherwise calls `started` once the pool thread has its share (to queue
// other work behind it).
bool write_kept_lines_in_two(std::span<const source_info> sources, const corpus_index& corpus,
                             std::span<const doc_id> keeper, atomic_file& file, output_compression compression,
                             const pass_options& options, sink& meter, const std::function<void()>& started) {
  if (compression != output_compression::none || options.pool == nullptr || options.pool->threads() < 2 ||
      corpus.docs.spilled()) {
    return false;
  }
  const std::size_t n = corpus.size();
  const std::vector<std::size_t> first = first_doc_of_sources(corpus, sources.size());
  for (std::size_t s = 0; s < sources.size(); ++s) {
    if (!copyable(sources[s], corpus.source_bytes[s], corpus, first[s], first[s + 1])) return false;
  }
  const doc_meta* docs = corpus.docs.data();
  std::uint64_t total = 0;
  for (std::size_t d = 0; d < n; ++d) total += keeper[d] == d ? std::uint64_t{docs[d].raw_length} + 1 : 0;
  if (total < options.kept_split_min_bytes || total == 0) return false;
  std::size_t split = 0;
  std::uint64_t before = 0;  // the first half's bytes: where the second half starts
  for (; split < n && before < total / 2; ++split) {
    before += keeper[split] == split ? std::uint64_t{docs[split].raw_length} + 1 : 0;
  }
  // Documents [from, to) of every source, in input order.
  const auto copy_docs = [&](kept_output& out, std::size_t from, std::size_t to) {
    kept_line_copier copier(out, corpus, keeper);
    for (std::size_t s = 0; s < sources.size(); ++s) {
      const std::size_t lo = std::max(first[s], from), hi = std::min(first[s + 1], to);
      if (lo < hi) copier.copy(sources[s], corpus.source_bytes[s], lo, hi);
    }
  };
  positioned_output second(file.temp_path(), before);
  std::uint64_t second_bytes = 0;
  executor::group task = options.pool->start(1, [&](std::size_t) {
    copy_docs(second, split, n);
    second_bytes = second.finish();
  });
  started();
  atomic_output out(file);
  copy_docs(out, 0, split);
  task.wait();
  if (file.bytes_written() != before || second_bytes != total - before) {
    throw std::runtime_error(file.path() + ": " + std::to_string(total) + " kept bytes expected, " +
                             std::to_string(file.bytes_written() + second_bytes) +
                             " written (an input changed while neardup was reading it)");
  }
  file.adopt(second_bytes);
  for (std::size_t s = 0; s < sources.size(); ++s) meter.add(corpus.source_bytes[s], first[s + 1] - first[s]);
  return true;
}

}  // namespace

std::vector<atomic_file> write_kept(std::span<const source_info> sources, const corpus_index& corpus,
                                   std::span<const doc_id> keeper, const std::string& clusters_path,
                const std::string& kept_path, output_compression compression, const pass_options& options,
                sink& meter) {
  output_options out_opts;
  out_opts.compression = compression;
  atomic_file clusters_tsv(clusters_path);
  std::optional<atomic_file> kept;  // none: clusters.tsv only
  if (!kept_path.empty()) kept.emplace(kept_path, out_opts);

  // clusters.tsv needs only the index: its rows are formatted on the pool's
  // threads while the kept lines are copied, then by this thread too.
  // (Joined before the files are destroyed.)
  const std::size_t helpers = options.pool != nullptr && options.pool->threads() > 1 ? options.pool->threads() : 0;
  cluster_rows_writer tsv(clusters_tsv, sources, corpus, keeper, 2 * (helpers + 1));
  executor::group tsv_tasks;
  const auto start_tsv = [&] {
    if (helpers > 0) tsv_tasks = options.pool->start(helpers, [&](std::size_t) { tsv.work(); });
  };
  try {
    // The kept lines in two shares when they can be (the pool thread's share
    // queued before clusters.tsv: it is the larger), else in one.
    if (!kept || !write_kept_lines_in_two(sources, corpus, keeper, *kept, compression, options, meter, start_tsv)) {
      start_tsv();
      if (kept) {
        atomic_output out(*kept);
        write_kept_lines(sources, corpus, keeper, out, options, meter);
      }
    }
  } catch (...) {
    tsv.stop();
    throw;
  }

  tsv.work();
  tsv_tasks.wait();
  tsv.finish();
  std::vector<atomic_file> files;
  files.push_back(std::move(clusters_tsv));
  if (kept) files.push_back(std::move(*kept));
  return files;
}

std::uint64_t write_kept_at(const source_info& source, const corpus_index& corpus, std::span<const doc_id> keeper,
                            const std::string& path, std::uint64_t offset, const pass_options& options, sink& meter) {
  positioned_output out(path, offset);
  write_kept_lines(std::span<const source_info>(&source, 1), corpus, keeper, out, options, meter);
  return out.finish();
}

}  // namespace neardup::jobs::detail
