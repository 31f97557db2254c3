#include "neardup/pipeline/stages.hpp"

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>

#include "neardup/detail/radix_sort.hpp"
#include "neardup/detail/uninitialized.hpp"
#include "neardup/fingerprint.hpp"

namespace neardup::pipeline {

// ---- sign ----------------------------------------------------------------------

document_signer::document_signer(const shingle_options& options, const minhasher* hasher)
    : shingler_(options), hasher_(hasher), seed_(options.seed), ngram_(options.n) {}

signed_text document_signer::sign(std::string_view text, std::span<sig_value> sig, bool make_set) {
  signed_text out;
  const bool large = text.size() >= tokenizer::large_text_bytes;
  shingler_.ngram_hashes(text, ngrams_);
  const std::span<const std::uint64_t> tokens = shingler_.token_hashes();
  out.has_tokens = !tokens.empty();
  out.short_doc = out.has_tokens && tokens.size() < ngram_;
  if (out.has_tokens) out.fingerprint = fingerprint(tokens, seed_);
  if (large) shingler_.release_scratch();  // the token hashes: as many as the n-grams
  if (out.has_tokens && hasher_ != nullptr) hasher_->sign(ngrams_, sig);
  set_ = {};
  if (make_set && out.has_tokens) {
    // The shingle set, as shingler::shingles() makes it; in place for a huge
    // text (sort_unique's scratch would be one more copy of the n-grams).
    if (large) {
      std::sort(ngrams_.begin(), ngrams_.end());
      ngrams_.erase(std::unique(ngrams_.begin(), ngrams_.end()), ngrams_.end());
    } else {
      neardup::detail::sort_unique(ngrams_, sorter_);
    }
    set_ = ngrams_;
  }
  if (large && set_.empty()) release_scratch();
  return out;
}

void document_signer::release_scratch() noexcept {
  shingler_.release_scratch();
  std::vector<std::uint64_t>().swap(ngrams_);
  sorter_ = {};
  set_ = {};
}

signed_batch sign_batch(std::span<const std::string_view> texts, const similarity_options& options, executor* pool,
                        sign_outputs outputs) {
  options.validate();
  const minhasher hasher(options.minhash());
  const bool keep_sets = outputs.sets;
  const std::size_t n = texts.size(), k = outputs.signatures ? hasher.num_perm() : 0;
  signed_batch batch;
  batch.num_perm = k;
  batch.signatures.assign(n * k, empty_sig_value);
  batch.docs.resize(n);
  // Slices of documents in input order; each slice's sets are appended in
  // slice order afterwards, so the layout does not depend on the threads.
  const std::size_t threads = pool != nullptr ? pool->threads() : 1;
  const std::size_t slices = std::min(n, threads * 8);
  std::vector<flat_sets> slice_sets(keep_sets ? slices : 0);
  run_on(pool, slices, [&](std::size_t s) {
    document_signer signer(options.shingles(), outputs.signatures ? &hasher : nullptr);
    const std::size_t begin = n * s / slices, end = n * (s + 1) / slices;
    for (std::size_t d = begin; d < end; ++d) {
      batch.docs[d] = signer.sign(texts[d], std::span<sig_value>(batch.signatures.data() + d * k, k),
                                  keep_sets);
      if (keep_sets) {
        const std::span<const std::uint64_t> set = signer.set();
        flat_sets& fs = slice_sets[s];
        fs.values.insert(fs.values.end(), set.begin(), set.end());
        fs.offsets.push_back(fs.values.size());
      }
    }
  });
  if (keep_sets) {
    batch.sets.values.reserve([&] {
      std::size_t total = 0;
      for (const auto& fs : slice_sets) total += fs.values.size();
      return total;
    }());
    for (const flat_sets& fs : slice_sets) {
      const std::uint64_t base = batch.sets.values.size();
      batch.sets.values.insert(batch.sets.values.end(), fs.values.begin(), fs.values.end());
      for (std::size_t i = 1; i < fs.offsets.size(); ++i) batch.sets.offsets.push_back(base + fs.offsets[i]);
    }
  }
  return batch;
}

// ---- exact -----------------------------------------------------------------------

std::vector<doc_id> exact_groups(std::span<const hash128> fingerprints, std::span<std::uint8_t> excluded,
                                 bool exclude_repeats, executor* pool, std::uint64_t max_bytes,
                                 const std::function<void()>& release) {
  const std::size_t n = fingerprints.size();
  if (excluded.size() != n) {
    throw std::invalid_argument("exact_groups: excluded has " + std::to_string(excluded.size()) +
                                " entries, fingerprints " + std::to_string(n));
  }
  std::vector<doc_id> leader(n);
  // Sorted by the fingerprint's low half, stably (so by document within
  // equal halves); a run of equal low halves is one text unless its high
  // halves differ (a 64-bit collision), which is sorted again in full. Equal
  // fingerprints fall in one slice of the low halves, so the slices are
  // grouped one after another within max_bytes (a record and its radix
  // scratch per document).
  using neardup::detail::key_doc;
  const key_slices slices = key_slices::within(n, 2 * sizeof(key_doc), max_bytes);
  // Not zero-filled: each record is written before it is read.
  neardup::detail::uninitialized_vector<key_doc> fp, scratch;
  // In memory, in one slice, the records are gathered block by block on the
  // pool's threads (each block's count first, then its place), in document
  // order as the serial loop gathers them.
  const bool gather_in_parallel = slices.count == 1 && !release && pool != nullptr && pool->threads() > 1;
  constexpr std::size_t gather_block = std::size_t{1} << 16;
  if (gather_in_parallel) {
    const std::size_t blocks = (n + gather_block - 1) / gather_block;
    std::vector<std::size_t> at(blocks + 1, 0);
    run_on(pool, blocks, [&](std::size_t b) {
      const std::size_t lo = b * gather_block, hi = std::min(n, lo + gather_block);
      std::size_t count = 0;
      for (std::size_t d = lo; d < hi; ++d) {
        leader[d] = static_cast<doc_id>(d);
        count += excluded[d] ? 0 : 1;
      }
      at[b + 1] = count;
    });
    for (std::size_t b = 0; b < blocks; ++b) at[b + 1] += at[b];
    fp.resize(at[blocks]);
    scratch.resize(at[blocks]);
    run_on(pool, blocks, [&](std::size_t b) {
      const std::size_t lo = b * gather_block, hi = std::min(n, lo + gather_block);
      key_doc* out = fp.data() + at[b];
      for (std::size_t d = lo; d < hi; ++d) {
        if (!excluded[d]) *out++ = {fingerprints[d].low, static_cast<doc_id>(d), 0};
      }
    });
  } else {
    for (std::size_t d = 0; d < n; ++d) leader[d] = static_cast<doc_id>(d);
    fp.reserve(slices.count == 1 ? n : n / slices.count + n / slices.count / 4 + 1024);
  }
  std::vector<std::pair<hash128, doc_id>> collided;
  for (std::uint64_t slice = 0; slice < slices.count; ++slice) {
    if (!gather_in_parallel) {
      fp.clear();
      for (std::size_t d = 0; d < n; ++d) {
        if (!excluded[d] && (slices.count == 1 || slices.of(fingerprints[d].low) == slice)) {
          fp.push_back({fingerprints[d].low, static_cast<doc_id>(d), 0});
        }
        if (release && (d & ((std::size_t{1} << 20) - 1)) == 0) release();
      }
    }
    if (release) release();
    scratch.resize(fp.size());
    neardup::detail::msd_radix_sort_key_doc_parallel(fp, scratch, pool);
    const std::size_t m = fp.size();
    // The fingerprints of the members of runs of equal keys (the documents
    // that may repeat a text) are compared in full. A mapped array (release
    // set) is not read in sorted order, which would fault its pages back in
    // all over: the members' fingerprints are gathered first, in document
    // order, dropping the pages behind (24 bytes per member, at most 3/4 of
    // the slice's sort memory).
    std::vector<hash128> gathered;  // per member, in sorted order
    if (release) {
      std::vector<std::pair<doc_id, std::uint32_t>> by_doc;  // (document, member number)
      for (std::size_t i = 0; i < m;) {
        std::size_t j = i + 1;
        while (j < m && fp[j].key == fp[i].key) ++j;
        if (j - i >= 2) {
          for (std::size_t t = i; t < j; ++t) by_doc.emplace_back(fp[t].doc, static_cast<std::uint32_t>(by_doc.size()));
        }
        i = j;
      }
      std::sort(by_doc.begin(), by_doc.end());
      gathered.resize(by_doc.size());
      doc_id released_at = 0;
      for (const auto& [d, member] : by_doc) {
        gathered[member] = fingerprints[d];
        if (d - released_at >= (doc_id{1} << 20)) {
          release();
          released_at = d;
        }
      }
      release();
    }
    std::size_t first_member = 0;  // of the current run, when gathered
    for (std::size_t i = 0; i < m;) {
      std::size_t j = i + 1;
      while (j < m && fp[j].key == fp[i].key) ++j;
      if (j - i < 2) {
        i = j;
        continue;
      }
      const auto full = [&](std::size_t t) -> const hash128& {
        return release ? gathered[first_member + (t - i)] : fingerprints[fp[t].doc];
      };
      bool same = true;
      for (std::size_t t = i + 1; t < j && same; ++t) same = full(t) == full(i);
      if (same) {
        for (std::size_t t = i + 1; t < j; ++t) {
          leader[fp[t].doc] = fp[i].doc;
          if (exclude_repeats) excluded[fp[t].doc] = 1;  // in this slice: later slices skip it anyway
        }
      } else {
        collided.clear();
        for (std::size_t t = i; t < j; ++t) collided.emplace_back(full(t), fp[t].doc);
        std::sort(collided.begin(), collided.end());
        for (std::size_t t = 1; t < collided.size(); ++t) {
          if (collided[t].first != collided[t - 1].first) continue;
          leader[collided[t].second] = leader[collided[t - 1].second];
          if (exclude_repeats) excluded[collided[t].second] = 1;
        }
      }
      first_member += j - i;
      i = j;
    }
    if (release) release();
  }
  return leader;
}

// ---- band ------------------------------------------------------------------------

void band_columns(std::span<const sig_value> signatures, const bander& bands, std::uint32_t first_band,
                  std::uint32_t count, std::span<const std::uint8_t> excluded, std::span<std::uint64_t> keys,
                  executor* pool) {
  const std::size_t n = excluded.size(), k = bands.num_perm();
  if (keys.size() != std::size_t{count} * n || signatures.size() != n * k ||
      std::size_t{first_band} + count > bands.params().bands) {
    throw std::invalid_argument("band_columns: " + std::to_string(keys.size()) + " keys for " + std::to_string(count) +
                                " bands from band " + std::to_string(first_band) + " of " +
                                std::to_string(bands.params().bands) + ", " + std::to_string(n) +
                                " exclusion flags and " + std::to_string(signatures.size()) +
                                " signature values for num_perm " + std::to_string(k));
  }
  // Slices of 16384 documents: enough to share out, few enough to schedule.
  constexpr std::size_t slice = 16384;
  // The bands' rows of a signature a few documents ahead, line by line:
  // each document reads its rows once for all `count` bands.
  const std::size_t rows = bands.params().rows;
  const std::size_t row_begin = std::size_t{first_band} * rows, row_end = (std::size_t{first_band} + count) * rows;
  constexpr std::size_t line_values = 64 / sizeof(sig_value);
  constexpr std::size_t prefetch_distance = 8;
  run_on(n > slice ? pool : nullptr, (n + slice - 1) / slice, [&](std::size_t s) {
    const std::size_t end = std::min(n, (s + 1) * slice);
    for (std::size_t d = s * slice; d < end; ++d) {
      if (d + prefetch_distance < n) {
        const sig_value* ahead = signatures.data() + (d + prefetch_distance) * k;
        for (std::size_t r = row_begin; r < row_end; r += line_values) __builtin_prefetch(ahead + r);
        __builtin_prefetch(ahead + row_end - 1);
      }
      if (excluded[d]) continue;
      const std::span<const sig_value> sig = signatures.subspan(d * k, k);
      for (std::uint32_t i = 0; i < count; ++i) keys[i * n + d] = bands.key(sig, first_band + i).value_or(0);
    }
  });
}

void band_column(std::span<const sig_value> signatures, const bander& bands, std::uint32_t band,
                 std::span<const std::uint8_t> excluded, std::span<std::uint64_t> keys, executor* pool) {
  const std::size_t n = keys.size(), k = bands.num_perm();
  if (excluded.size() != n || signatures.size() != n * k || band >= bands.params().bands) {
    throw std::invalid_argument("band_column: " + std::to_string(n) + " keys, " + std::to_string(excluded.size()) +
                                " exclusion flags and " + std::to_string(signatures.size()) +
                                " signature values for num_perm " + std::to_string(k) + ", band " +
                                std::to_string(band) + " of " + std::to_string(bands.params().bands));
  }
  band_columns(signatures, bands, band, 1, excluded, keys, pool);
}

std::uint32_t bands_keyed_together(std::uint32_t bands, std::size_t num_perm) noexcept {
  const auto most = static_cast<std::uint32_t>(std::clamp<std::size_t>(num_perm / 16, 1, UINT32_MAX));
  if (bands == 0) return 1;
  const std::uint32_t passes = (bands - 1) / most + 1;
  return (bands - 1) / passes + 1;
}

// ---- candidates --------------------------------------------------------------------

void for_each_band_buckets(std::span<const sig_value> signatures, const bander& bands,
                           std::span<const std::uint8_t> excluded, executor* pool,
                           const std::function<void(std::uint32_t band, const bucket_list& buckets)>& fn,
                           std::size_t* grouping_bytes) {
  const std::size_t n = excluded.size();
  const std::uint32_t num_bands = bands.params().bands, together = bands_keyed_together(num_bands, bands.num_perm());
  std::vector<std::uint64_t> keys(std::size_t{together} * n, 0);
  band_grouper grouper(pool);
  bucket_list buckets;
  std::size_t most = 0;
  for (std::uint32_t first = 0; first < num_bands; first += together) {
    const std::uint32_t count = std::min(together, num_bands - first);
    const std::span<std::uint64_t> columns = std::span<std::uint64_t>(keys).first(std::size_t{count} * n);
    band_columns(signatures, bands, first, count, excluded, columns, pool);
    for (std::uint32_t i = 0; i < count; ++i) {
      grouper.group(columns.subspan(std::size_t{i} * n, n), excluded, buckets);
      most = std::max(most, grouper.bytes_reserved() + buckets.docs.capacity() * sizeof(doc_id) +
                                buckets.offsets.capacity() * sizeof(std::uint32_t));
      fn(first + i, buckets);
    }
  }
  if (grouping_bytes != nullptr) *grouping_bytes = most + keys.size() * sizeof(std::uint64_t);
}

std::vector<std::uint8_t> candidate_documents(std::span<const sig_value> signatures, const bander& bands,
                                              std::span<const std::uint8_t> excluded, executor* pool,
                                              std::size_t* grouping_bytes) {
  std::vector<std::uint8_t> candidate(excluded.size(), 0);
  for_each_band_buckets(
      signatures, bands, excluded, pool,
      [&](std::uint32_t, const bucket_list& buckets) {
        for (doc_id d : buckets.docs) candidate[d] = 1;
      },
      grouping_bytes);
  return candidate;
}

// ---- verify ------------------------------------------------------------------------

namespace {

// Fewest equal signature positions whose Wilson upper bound (z = 5) reaches
// the threshold: pairs with fewer are rejected without their sets.
//
// The MinHash estimate rules out most false candidates cheaply: a pair
// whose Wilson upper bound at z = 5 is below the threshold (over 4
// standard errors even for one-permutation hashing on tiny sets, whose
// variance is up to ~1.45x binomial) is rejected without its shingle
// sets; a pair at the threshold is lost this way with probability ~1e-5.
// jaccard_at_least then rejects pairs well below the threshold from a
// sample of their sets (a pair at the threshold is lost this way with
// probability < 1e-7) and decides every merge by exact Jaccard.
std::size_t min_equal_positions(std::size_t k, double threshold) {
  std::size_t min_equal = k + 1;
  for (std::size_t m = k + 1; m-- > 0;) {
    if (jaccard_from_count(m, k, 5.0).upper < threshold) break;
    min_equal = m;
  }
  return min_equal;
}

// The verifier of `options.verify` over sig(d) -> span of d's signature.
template <class Sig>
pair_verifier verifier_over(const similarity_options& options, Sig sig, set_lookup set_of) {
  const double threshold = options.threshold;
  switch (options.verify) {
    case verify_mode::none:
      return nullptr;
    case verify_mode::estimate:
      return [sig, threshold](doc_id a, doc_id b) {
        return jaccard(sig(a, 0), sig(b, 1)).estimate >= threshold;
      };
    case verify_mode::exact:
      break;
  }
  const std::size_t min_equal = min_equal_positions(options.num_perm, threshold);
  return [sig, threshold, min_equal, set_of = std::move(set_of)](doc_id a, doc_id b) {
    if (!equal_positions_at_least(sig(a, 0), sig(b, 1), min_equal)) return false;
    return jaccard_at_least(set_of(a), set_of(b), threshold, 1e-9);
  };
}

}  // namespace

pair_verifier make_verifier(const similarity_options& options, std::span<const sig_value> signatures,
                            set_lookup set_of) {
  const std::size_t k = options.num_perm;
  return verifier_over(
      options,
      [signatures, k](doc_id d, int) { return signatures.subspan(static_cast<std::size_t>(d) * k, k); },
      std::move(set_of));
}

pair_verifier make_verifier(const similarity_options& options, signature_reader read_signature, set_lookup set_of) {
  const std::size_t k = options.num_perm;
  // Two buffers per thread: the pair's signatures.
  return verifier_over(
      options,
      [read = std::move(read_signature), k](doc_id d, int which) {
        thread_local std::vector<sig_value> buffers[2];
        std::vector<sig_value>& buf = buffers[which];
        buf.resize(k);
        read(d, buf);
        return std::span<const sig_value>(buf);
      },
      std::move(set_of));
}

pair_verifier make_verifier(const similarity_options& options, signature_lookup signature_of, set_lookup set_of) {
  if (options.verify != verify_mode::exact) {
    return verifier_over(
        options, [of = std::move(signature_of)](doc_id d, int) { return of(d); }, std::move(set_of));
  }
  const double threshold = options.threshold;
  const std::size_t k = options.num_perm, min_equal = min_equal_positions(k, threshold);
  auto hasher = std::make_shared<const minhasher>(options.minhash());
  return [of = std::move(signature_of), set_of = std::move(set_of), hasher, threshold, k, min_equal](doc_id a,
                                                                                                     doc_id b) {
    std::span<const sig_value> sa = of(a), sb = of(b);
    if (!sa.empty() && !sb.empty()) {
      if (!equal_positions_at_least(sa, sb, min_equal)) return false;
      return jaccard_at_least(set_of(a), set_of(b), threshold, 1e-9);
    }
    // A signature not kept: sets first, signatures made again only for a
    // pair that passes (rare: most candidates are rejected).
    const std::span<const std::uint64_t> set_a = set_of(a), set_b = set_of(b);
    if (!jaccard_at_least(set_a, set_b, threshold, 1e-9)) return false;
    thread_local std::vector<sig_value> made[2];
    const auto remake = [&](std::span<const sig_value>& sig, std::span<const std::uint64_t> set, int which) {
      if (!sig.empty()) return;
      made[which].resize(k);
      hasher->sign(set, made[which]);
      sig = made[which];
    };
    remake(sa, set_a, 0);
    remake(sb, set_b, 1);
    return equal_positions_at_least(sa, sb, min_equal);
  };
}

// ---- cluster -----------------------------------------------------------------------

cluster_result cluster_bands(std::span<const sig_value> signatures, const bander& bands,
                             std::span<const std::uint8_t> excluded, pair_verifier verify, executor* pool,
                             sink* events, std::uint64_t progress_total, cluster_trace* trace,
                             std::vector<std::uint8_t>* candidates, std::size_t* grouping_bytes) {
  const std::size_t n = excluded.size();
  const std::size_t num_bands = bands.params().bands;
  if (candidates != nullptr) candidates->assign(n, 0);
  cluster_options copts;
  copts.mode = verify ? verification::verify : verification::none;
  copts.pool = pool;
  copts.trace = trace;
  clusterer c(n, std::move(verify), copts);
  // The bands as for_each_band_buckets groups them (what cluster_band_keys
  // in cluster.hpp does), so the candidates come with the clusters.
  for_each_band_buckets(
      signatures, bands, excluded, pool,
      [&](std::uint32_t band, const bucket_list& buckets) {
        // Progress by band: each band counts as an equal share of the total.
        if (band > 0 && events != nullptr) events->add(progress_total / num_bands, 0);
        if (candidates != nullptr) {
          for (doc_id d : buckets.docs) (*candidates)[d] = 1;
        }
        c.add_band(buckets);
      },
      grouping_bytes);
  return c.result();
}

// ---- keep --------------------------------------------------------------------------

std::vector<doc_id> choose_kept_documents(std::span<const doc_id> representative, keep_policy keep,
                                          std::span<const std::uint64_t> text_bytes) {
  if (keep == keep_policy::first) return {representative.begin(), representative.end()};
  return choose_kept(representative, text_bytes);
}

}  // namespace neardup::pipeline
