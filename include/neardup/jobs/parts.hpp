// neardup/jobs/parts.hpp — dedup and exact over a corpus scanned in parts,
// possibly by other processes or machines (neardup.dask), with the result of
// one run_dedup over the whole corpus.
//
// A part is one source (an input file) or a byte range of a large plain
// JSONL file (part_ranges). scan_part() runs pass 1 of run_dedup (parse,
// tokenize, fingerprint, MinHash) over that part alone and returns what it
// learned as bytes (the layout below); run_dedup_parts() merges the parts,
// in input order, into the index that one pass over all sources builds,
// checks ids across parts, and runs the rest of run_dedup over it: grouping,
// verification, clustering, keep choice, and writing clusters.tsv,
// deduped.jsonl, stats.json and the evidence files.
//
//   // anywhere (e.g. one Dask task per part); ranges after the first of a
//   // file also need range_first_line, one more than the '\n's before them:
//   source_info part = sources[i];
//   part.range_begin = r.begin, part.range_end = r.end, part.range_first_line = line;
//   std::string bytes = neardup::jobs::scan_part(part, options);
//   // in one place that reads the same files (shared storage):
//   neardup::jobs::run_dedup_parts(sources, parts, part_sources, "out", options);
//
// Guarantee: the outputs are those of run_dedup(sources, "out", options),
// byte for byte (stats.json's timings and thread count aside): the reader
// cuts each source into the same chunks whether it reads it alone, after
// others, or range by range from chunk starts, so document numbers, byte
// offsets, line numbers and chunk numbers agree, and the later passes (re-reading candidates' shingle sets, copying
// kept lines) read the sources exactly as after a single pass. Bad records
// are reported (FILE:LINE, carried inside the part) and counted as in
// run_dedup; duplicate ids are found across all parts.
//
// Part layout, version 1 (little-endian, every field explicit):
//   "NDPART\0\0" | u32 version | u32 0 | u64 documents | u64 num_perm (0 for
//   exact) | u64 chunks | u64 range_begin | per document: u64 line,
//   text_bytes, id_offset, byte_offset, u32 id_length, raw_length, u8 status,
//   flags, has_tokens, short_doc | u64 n + n bytes of ids | u64 first document of each chunk |
//   u64 source bytes | 19 × u64 counts | f64 seconds | u64 notices, each
//   u64 n + n bytes | u64 n + signature batch (pipeline/format.hpp; n = 0
//   for exact) | u64 n + fingerprint run (pipeline/format.hpp) |
//   u64 XXH3-64 (seed 0) of everything before it.
// Shingle sets are not in a part: the candidates' sets are read again where
// run_dedup_parts runs (as run_dedup does past its --set-memory-mb budget).
// Stage data of other options is refused (format.hpp's header checks).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "neardup/io/input.hpp"
#include "neardup/jobs/dedup.hpp"

namespace neardup::jobs {

// A byte range [begin, end) of a source; {0, UINT64_MAX}: all of it.
struct part_range {
  std::uint64_t begin = 0;
  std::uint64_t end = UINT64_MAX;
  friend bool operator==(const part_range&, const part_range&) = default;
};

// Cuts a plain JSONL file larger than part_bytes into ranges of about
// part_bytes (at least), each starting where io::corpus_reader (with
// `reader`) starts a chunk when it reads the whole file, so that the ranges
// read alone give the same chunks. Reads a few KiB near each chunk's end.
// Compressed and text-file sources, and files of at most part_bytes, are
// one range {0, UINT64_MAX}. Throws std::runtime_error naming the file.
std::vector<part_range> part_ranges(const io::source_info& source, std::uint64_t part_bytes,
                                    const io::reader_options& reader = {});

// Pass 1 over one source (or one range of it: source_info::range_begin,
// range_end and range_first_line, the line number at range_begin). Throws as
// run_dedup does (std::invalid_argument for bad options, std::runtime_error
// for I/O errors naming the file).
// `sets`, when not null, receives the shingle sets of the part's documents
// (for verify_mode::exact with near; else empty), for part_candidate_data:
// "NDPSETS\0" | u64 documents | u64 size of each set | the sets' u64
// values, set after set (part_bytes.hpp framing).
std::string scan_part(const io::source_info& source, const dedup_options& options, std::string* sets = nullptr);

// ---- the stages after pass 1, as tasks over the parts (neardup.dask) ----
//
// Instead of sending whole parts (signatures: num_perm x 4 bytes per
// document) to one place that groups, loads sets and clusters, a run can
// split that work:
//
//   keys[i][g]  = part_band_keys(part[i], options, lo_g, hi_g)    // where part i is
//   buckets[g]  = group_part_band_keys({keys[0][g], ...}, options, lo_g, hi_g)
//   cands       = part_candidates({buckets[0], ...})             // one per part
//   data[i]     = part_candidate_data(source_i, part[i], cands[i], options)  // where part i is
//   meta[i]     = part_metadata(part[i])                          // where part i is
//   run_dedup_parts(sources, meta, part_sources, out, options, &stages{buckets, data});
//
// The bands [lo_g, hi_g) must cover 0..bands-1 (options.banding()), each
// once. Only the candidates' signatures and shingle sets, the buckets and
// the documents' metadata reach the last step; the shingle sets are made
// where the part's documents are read (its byte range, again). The outputs
// are those of run_dedup, byte for byte: the buckets are the documents
// sharing a band key (band_grouper's, before excluded documents are taken
// out), and the clusterer's result does not depend on how a band's buckets
// are ordered (cluster.hpp).
//
// Layouts (version 1, part_bytes.hpp framing: magic, u32 version, u32 0,
// fields, XXH3-64):
//   band keys   "NDBKEYS\0" | u32 lo | u32 hi | u64 documents | per band:
//               u64 n + n bytes of a band-key run (pipeline/format.hpp,
//               documents numbered within the part)
//   buckets     "NDBUCKT\0" | u32 lo | u32 hi | u64 parts | u64 documents
//               of each part | per band: u64 buckets | u64 members |
//               u32 size of each bucket | u32 member (run-wide document
//               number), bucket by bucket, each sorted
//   candidates  "NDCAND\0\0" | u64 documents of the part | u64 count |
//               u32 document within the part, ascending
//   candidate data "NDCSETS\0" | u64 documents of the part | u64 n + n
//               bytes of a signature batch (documents within the part) |
//               u8 has sets | per candidate, with sets: u64 m + m u64
//               shingle hashes (sorted)

// A part without its signatures (the rest as is): what run_dedup_parts
// needs from a part when given part_stages.
std::string part_metadata(std::string_view part);

// The band keys of bands [band_begin, band_end) of a part's documents.
// REQUIRES: options.near; band_begin < band_end <= options.banding().bands
// (std::invalid_argument).
std::string part_band_keys(std::string_view part, const dedup_options& options, std::uint32_t band_begin,
                           std::uint32_t band_end);

// The buckets (documents sharing a key, 2 or more) of bands [band_begin,
// band_end) from every part's band keys, keys[i] of part i in input order.
std::string group_part_band_keys(std::span<const std::string_view> keys, const dedup_options& options,
                                 std::uint32_t band_begin, std::uint32_t band_end);

// From the buckets of every band (group_part_band_keys, any band ranges):
// for each part, its documents that are in some bucket.
std::vector<std::string> part_candidates(std::span<const std::string_view> buckets);

// The signatures of a part's candidates and, for verify_mode::exact, their
// shingle sets: from `part_sets` (scan_part's) when given, else read again
// from the part's byte range of `source` (source_info::range_begin,
// range_end, range_first_line as for scan_part).
std::string part_candidate_data(const io::source_info& source, std::string_view part, std::string_view candidates,
                                const dedup_options& options, std::string_view part_sets = {});

// What run_dedup_parts takes instead of the parts' signatures.
struct part_stages {
  std::span<const std::string_view> buckets;         // group_part_band_keys of every band range
  std::span<const std::string_view> candidate_data;  // part_candidate_data of each part, in order
};

// Merges the parts (parts[i]: scan_part of a range of sources[part_sources[i]]
// with the same options; in input order, the ranges of each source
// consecutive, from 0 to its end, cut by part_ranges) and runs the rest of
// the job into out_dir. With `stages` (dedup only), the parts may be
// part_metadata() parts, and the bands' buckets and candidates' signatures
// and sets are taken from `stages`. Throws std::invalid_argument when the
// parts do not cover the sources in order, std::runtime_error naming the
// source for a part that is damaged, of another version, made with other
// options, or whose range does not continue the previous one; otherwise as
// run_dedup.
dedup_report run_dedup_parts(std::span<const io::source_info> sources, std::span<const std::string_view> parts,
                             std::span<const std::uint32_t> part_sources, const std::string& out_dir,
                             const dedup_options& options, const part_stages* stages = nullptr);

}  // namespace neardup::jobs
