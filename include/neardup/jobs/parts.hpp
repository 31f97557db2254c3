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

#include <functional>
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

// The '\n' bytes in a byte range of a plain file (ranges of part_ranges):
// a range's range_first_line is one more than those of the ranges before it.
// Reads the range in 1 MiB blocks. Throws std::runtime_error naming the file
// when it cannot be read or ends before range.end; std::invalid_argument when
// range.end < range.begin.
//
//   line = 1 + part_range_lines(source, ranges[0]) + part_range_lines(source, ranges[1]);  // ranges[2]'s
std::uint64_t part_range_lines(const io::source_info& source, part_range range);

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
// needs from a part when given part_stages. Without `fingerprints`, also
// without its documents' fingerprints (an empty fingerprint run), for a run
// whose exact groups are found in tasks (part_stages::exact, below).
std::string part_metadata(std::string_view part, bool fingerprints = true);

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

// ---- verification as tasks (verify exact and estimate) ----
//
// Without them the finishing task receives the signatures and shingle sets
// of every candidate and verifies there. With them, the pairs are verified
// beforehand, in tasks, and the finishing task receives verdicts:
//
//   plan         = plan_verification({buckets[0], ...}, max_bucket, groups)
//   out[i]       = part_verification_data(source_i, part[i], plan.routes[i], options)  // where part i is
//   verdicts[h]  = verify_pairs(plan.pairs[h], {out[0][h], out[1][h], ...}, options)   // h < groups
//   run_dedup_parts(sources, meta, part_sources, out_dir, options,
//                   &stages{buckets, {out[0][groups], ...}, verdicts});
//
// Why the outputs stay run_dedup's: the clusterer only ever asks the
// verifier about two members of one bucket (cluster.hpp), and the verifier
// is a pure function of the pair. Every pair of every bucket of at most
// max_bucket members (before excluded documents are taken out) is verified
// by verify_pairs with the run's own verifier (pipeline::make_verifier:
// the same prefilter and jaccard_at_least), and its similarity for the
// evidence files is computed there too (exact Jaccard, or the MinHash
// estimate under --verify estimate). The finishing task answers those pairs
// from the verdicts (pipeline::spilled_stage_data::decided) and verifies the
// others, which lie in larger buckets only, from the data of those buckets'
// members, the only candidate data it receives. A pair's group is that of
// the first bucket (in band order) that holds it: mix64(first member) %
// groups, so a cluster's documents mostly travel to one group; a document
// travels to each group that verifies one of its pairs.
//
// Costs: a bucket of m <= max_bucket members gives m(m-1)/2 pairs (the
// clusterer asks about ~m of them), each verified once however many bands
// repeat it; each verdict costs 17 bytes to the finishing task.
//
// Layouts (version 1, part_bytes.hpp framing):
//   route       "NDROUTE\0" | u64 documents of the part | u32 groups | u32
//               max_bucket | per destination (the groups, then the
//               finishing task): u64 count | u32 document within the part,
//               ascending
//   pairs       "NDPAIRS\0" | u32 group | u32 groups | u32 max_bucket | u64
//               parts | u64 documents of each part | u64 count | u64 (a <<
//               32 | b) per pair (run-wide documents, a < b), ascending
//   verification data: candidate data (above), one per destination
//   verdicts    "NDVERDT\0" | u32 group | u32 groups | u32 max_bucket | u8
//               verify mode | f64 threshold | u64 num_perm | u64 seed | u64
//               documents of the run | u64 count | u64 (a << 32 | b) per
//               pair, ascending | u8 verdict (0, 1) per pair | f64
//               similarity per pair

// Limits of plan_verification's arguments.
inline constexpr std::uint32_t max_verified_bucket = 1024;
inline constexpr std::uint32_t max_verification_groups = 65536;

struct verification_plan {
  std::vector<std::string> routes;  // per part, in order
  std::vector<std::string> pairs;   // per group
};

// From the buckets of every band (group_part_band_keys): the pairs of
// buckets of at most max_bucket members, deduplicated across bands and split
// into `groups` groups, and for each part the documents each group needs
// and those the finishing task needs (members of larger buckets).
// REQUIRES: 1 <= groups <= max_verification_groups, max_bucket <=
// max_verified_bucket (else std::invalid_argument); max_bucket 0 or 1
// sends every pair to the finishing task.
verification_plan plan_verification(std::span<const std::string_view> buckets, std::uint32_t max_bucket,
                                    std::uint32_t groups);

// Candidate data (as part_candidate_data's) of a part's documents for each
// destination of its route: groups + 1 blobs, the last the finishing
// task's. The shingle sets are made once, as part_candidate_data makes them.
// REQUIRES: options.verify is exact or estimate (std::invalid_argument).
std::vector<std::string> part_verification_data(const io::source_info& source, std::string_view part,
                                                std::string_view route, const dedup_options& options,
                                                std::string_view part_sets = {});

// The verdicts of one group's pairs, from data[i] = part i's verification
// data for this group (every part, in order), with the run's verifier.
std::string verify_pairs(std::string_view pairs, std::span<const std::string_view> data,
                         const dedup_options& options);

// ---- exact groups as tasks ----
//
// Without them the finishing task receives every document's fingerprint (20
// of the 71 bytes per document of a part's metadata) and groups them. With
// them, the fingerprints are grouped in tasks, by a hash of the fingerprint,
// and the finishing task receives only the documents whose text another
// document repeats:
//
//   fps[i]    = part_fingerprints(part[i], options, groups)        // where part i is: `groups` pieces
//   exact[g]  = group_part_fingerprints({fps[0][g], fps[1][g], ...}, options)
//   meta[i]   = part_metadata(part[i], false)                       // no fingerprints
//   run_dedup_parts(..., &stages{buckets, data, verdicts, exact});
//
// Why the outputs stay run_dedup's: exact_groups (pipeline/stages.hpp)
// groups the usable documents by equal fingerprints and makes the first of
// each group its leader; a document whose fingerprint no other usable
// document has is its own leader whatever its fingerprint is. The finishing
// task gives each unlisted document a fingerprint no other document has
// ({document, 2^64-1}: a real fingerprint equal to one of those is a 128-bit
// hash collision) and the listed ones their own.
//
// Layouts (version 1, part_bytes.hpp framing):
//   fingerprint piece  "NDFPPCE\0" | u32 group | u32 groups | u64 documents
//               of the part | u64 n + n bytes of a fingerprint run
//               (pipeline/format.hpp, documents within the part): the usable
//               documents whose fingerprint's low half % groups == group
//   exact groups "NDEXACT\0" | u32 group | u32 groups | u64 parts | u64
//               documents of each part | u64 count | u32 document (run-wide,
//               ascending) per entry | u64 low, u64 high of its fingerprint
//               per entry: the documents of the group whose fingerprint
//               another document shares

// Splits a part's usable documents' fingerprints into `groups` pieces.
// REQUIRES: 1 <= groups <= max_verification_groups (std::invalid_argument).
std::vector<std::string> part_fingerprints(std::string_view part, const dedup_options& options,
                                           std::uint32_t groups);

// The exact groups of one fingerprint group from every part's piece of it
// (pieces[i] of part i, in input order).
std::string group_part_fingerprints(std::span<const std::string_view> pieces, const dedup_options& options);

// What run_dedup_parts takes instead of the parts' signatures (dedup), or,
// for `neardup exact` (dedup_options::near off), with only `exact`.
struct part_stages {
  std::span<const std::string_view> buckets;         // group_part_band_keys of every band range
  // part_candidate_data of each part, in order; with verdicts, the last
  // blob of part_verification_data of each part.
  std::span<const std::string_view> candidate_data;
  // verify_pairs of every group of one plan (any order), or none.
  std::span<const std::string_view> verdicts = {};
  // group_part_fingerprints of every group (any order), or none; with them,
  // the parts may be part_metadata(part, false) parts.
  std::span<const std::string_view> exact = {};
};

// ---- writing deduped.jsonl where the parts are ----
//
// Without `writes`, run_dedup_parts copies every kept line itself. With it,
// run_dedup_parts decides which documents are kept and writes clusters.tsv,
// the evidence files and stats.json, and one task per part writes that
// part's kept lines:
//
//   part_writes writes = [&](std::span<const std::string> keep, const std::string& path) {
//     // for each part i, in any order, anywhere that sees `path` (shared storage):
//     write_part_kept(source_i, meta[i], keep[i], path, options);
//   };
//   run_dedup_parts(sources, meta, part_sources, out_dir, options, &stages, &writes);
//
// `path` is deduped.jsonl's temporary file in OUTDIR (atomic_file's
// "deduped.jsonl.tmp.PID.N"), made at its final size: each kept line is its
// raw bytes and one '\n', so a part's place (the kept bytes of the parts
// before it) is known from pass 1's metadata. When `writes` returns, the file
// is made durable and renamed to deduped.jsonl (before stats.json and
// _SUCCESS); when it throws, the file is removed and the exception passes on.
// The bytes are those one writer writes: write_part_kept copies by the same
// code (jobs' write_kept, pwrite(2) at the part's offset instead of
// appending). Runs whose line sizes are not known beforehand (a text-file
// source, a line of 4 GiB or more) or whose output is compressed (--compress
// zstd) are written by run_dedup_parts alone; `writes` is then not called.
//
// Layout (version 1, part_bytes.hpp framing):
//   keep list   "NDKEEP\0\0" | u64 documents of the part | u64 its range_begin
//               | u64 bytes of the whole source as pass 1 read it | u64 offset
//               in the output | u64 bytes to write | u64 count | u32 kept
//               document within the part, ascending
using part_writes = std::function<void(std::span<const std::string> keep, const std::string& path)>;

// Writes the kept lines of one part (scan_part's or part_metadata()'s bytes;
// `source` with the part's range, as for scan_part) listed in `keep` (made by
// run_dedup_parts for this part) into the existing file `path` at the keep
// list's offset. Returns the bytes written. Throws std::runtime_error naming
// the source when the keep list is damaged or of another part, or the input
// changed since pass 1.
std::uint64_t write_part_kept(const io::source_info& source, std::string_view part, std::string_view keep,
                              const std::string& path, const dedup_options& options);

// Merges the parts (parts[i]: scan_part of a range of sources[part_sources[i]]
// with the same options; in input order, the ranges of each source
// consecutive, from 0 to its end, cut by part_ranges) and runs the rest of
// the job into out_dir. With `stages` (dedup only), the parts may be
// part_metadata() parts, and the bands' buckets and candidates' signatures
// and sets are taken from `stages`. With `writes`, the parts' tasks write
// deduped.jsonl (above). Throws std::invalid_argument when the
// parts do not cover the sources in order, std::runtime_error naming the
// source for a part that is damaged, of another version, made with other
// options, or whose range does not continue the previous one; otherwise as
// run_dedup.
dedup_report run_dedup_parts(std::span<const io::source_info> sources, std::span<const std::string_view> parts,
                             std::span<const std::uint32_t> part_sources, const std::string& out_dir,
                             const dedup_options& options, const part_stages* stages = nullptr,
                             const part_writes* writes = nullptr);

}  // namespace neardup::jobs
