// neardup/io/input.hpp — reading corpora: JSONL (plain, gzip, zstd),
// directories of files, and record parsing.
//
// Reading is split in two so that parsing can run on many threads while the
// bytes are read in order by one:
//
//   1. expand_inputs() turns the command-line INPUTs into a fixed, sorted list
//      of sources. Compute it ONCE and reuse it for every pass over the corpus,
//      so that all passes see the same documents in the same order.
//   2. corpus_reader streams the sources in order as input_chunks: large
//      buffers holding only whole lines (decompressed), with the source index,
//      the 1-based number of the first line and its byte offset.
//   3. parse_chunk() (any thread, one record_parser per thread) calls a visitor
//      with one record per line: the raw line bytes, the unescaped text, the id.
//
//   const auto sources = neardup::io::expand_inputs({"data/", "extra.jsonl.zst"});
//   neardup::io::corpus_reader reader(sources.sources);
//   neardup::io::input_chunk chunk;
//   neardup::io::record_parser parser;
//   while (reader.next(chunk)) {              // hand the chunk to a worker ...
//     neardup::io::parse_chunk(chunk, {}, parser, [&](const neardup::io::record& r) {
//       if (r.status == neardup::io::record_status::ok) use(r.text);
//     });
//   }
//
// Sources (expand_inputs):
//   - An INPUT that is a file is read as JSONL whatever its name. Its
//     compression is found from its first bytes, not its name
//     (resolve_compression): gzip (multi-member allowed) and zstd
//     (multi-frame and skippable frames allowed) are decompressed; xz, bzip2
//     and lz4 are refused; a name ending in .gz/.zst/.zstd on other bytes is
//     an error. The source name is the INPUT as given.
//   - An INPUT that is a directory is walked recursively. Every regular file
//     in it is a source named by the INPUT as given (trailing '/' dropped),
//     '/', and its path relative to the directory ('/' separated): "data/a/b.txt"
//     for INPUT "data/", so files of two directories never share a name. Files whose name ends in .jsonl, .ndjson or .json (each
//     optionally followed by .gz/.zst/.zstd) are JSONL; every other file is
//     ONE document (kind text_file) whose id is its relative path; a text file
//     holding gzip or zstd data is decompressed. Extensions are matched
//     without regard to ASCII case. Files are ordered by the bytes
//     of their relative path (not locale, not directory-first), so the order
//     is the same on every machine. Hidden files (names starting with '.') are
//     included unless expand_options::skip_hidden. Symbolic links are followed;
//     a directory reached twice (a symlink loop, or two links to one
//     directory) is walked only the first time. Entries that are neither
//     regular files nor directories (sockets, FIFOs, devices) are skipped and
//     listed in expanded_inputs::skipped. An entry that cannot be read (a
//     dangling symbolic link, a file or link target without permission)
//     throws std::runtime_error naming it, unless
//     expand_options::skip_unreadable, which lists it in
//     expanded_inputs::unreadable instead. Temporary files that an
//     interrupted neardup run left ("NAME.tmp.PID.N") are skipped and listed
//     in expanded_inputs::skipped.
//   - The INPUT "-" is standard input. Most commands read the corpus more
//     than once, so unless standard input is a regular file it is first
//     copied ("spooled") into an unlinked temporary file in $TMPDIR (or
//     /tmp), which disappears when the process ends, however it ends. Its
//     source name is "-". It may be given once.
//   - Any other INPUT that cannot be read twice (a pipe, FIFO, socket,
//     /dev/stdin of a pipe, process substitution, a character device that
//     cannot seek) throws std::runtime_error up front saying so and naming
//     "-" as the way to read a stream.
//   - A missing INPUT throws std::runtime_error naming it.
//   - Source names are unique: a source whose name an earlier one has (the
//     same file given twice) is named "NAME#2", "NAME#3", ...
//
// Passes agree: expand_inputs() gives every source a ledger shared by all
// copies of its source_info. The first corpus_reader that reads a source to
// its end records the number of decoded bytes and their XXH3-64; every later
// reader that reaches the end of that source compares and throws
// std::runtime_error "NAME: the input changed while neardup was reading it"
// on a difference, so a file that shrinks, grows or is rewritten between
// passes never yields a finished output.
//
// Lines (JSONL sources):
//   - A line ends at '\n'. record::raw is the line WITHOUT that '\n'; a "\r"
//     before it stays in raw (so writing raw + "\n" reproduces a CRLF file
//     byte for byte), and JSON parsing treats it as whitespace. A last line
//     without a final '\n' is a normal line; writing it back adds the '\n'.
//   - A UTF-8 byte order mark at the start of a source is ignored for parsing
//     but kept in raw (flag record_flags::bom).
//   - A line of only JSON whitespace (space, tab, CR) is status blank.
//   - Lines may be of any length: a chunk grows to hold a whole line (about
//     1.5 times its size at most while it grows). If that memory cannot be
//     had, corpus_reader::next() throws std::runtime_error naming the source,
//     the line number and its byte offset (never a bare std::bad_alloc).
//     Lines longer than record_options::max_line_bytes are not parsed.
//
// Records (parse_chunk): see record and record_status below. Bad lines never
// throw and never affect other lines: every line of a chunk yields exactly one
// record, in order. record::text is always valid UTF-8.
//
// Errors: I/O failures (missing or unreadable file, read error, corrupt or
// truncated gzip/zstd stream, trailing garbage after a gzip member) throw
// std::runtime_error whose message names the source and, when known, the
// byte offset in the compressed file.
//
// Determinism: the source list, the chunks' line numbers and offsets, and the
// records are pure functions of the file-system contents. The way lines are
// split into chunks depends on reader_options::chunk_bytes only, never on
// timing. Not promised: the exact chunk boundaries across neardup versions.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "neardup/enum_names.hpp"

namespace neardup::io {

// ---------------------------------------------------------------- sources

enum class source_kind : std::uint8_t {
  jsonl,      // one record per line
  text_file,  // the whole file is one document; id = name
};

enum class compression : std::uint8_t { none, gzip, zstd };

namespace detail {
struct read_ledger;  // private to input.cpp
}  // namespace detail

struct source_info {
  std::string path;   // path to open
  std::string name;   // display name: INPUT as given, or path relative to the directory
  source_kind kind = source_kind::jsonl;
  compression codec = compression::none;
  std::uint64_t file_bytes = 0;  // size on disk when the list was made (progress only)
  // Modification time when the list was made, in ns since the epoch (0:
  // unknown). dedup's write stage, which copies lines by the byte ranges its
  // first pass found, refuses a file whose size or modification time changed.
  std::int64_t mtime_ns = 0;
  // What the first complete read saw (see "Passes agree"); null: unchecked.
  std::shared_ptr<detail::read_ledger> ledger;
  // A part of a plain (uncompressed) JSONL file, for reading a large file in
  // pieces (jobs/parts.hpp): the reader reads bytes [range_begin, range_end)
  // only, numbering the first line range_first_line. REQUIRES: range_begin
  // starts a line. Chunks start at range_begin; their byte offsets and line
  // numbers are those of the whole file. A range is not checked against
  // `ledger` (it is not a complete read).
  std::uint64_t range_begin = 0;
  std::uint64_t range_end = UINT64_MAX;
  std::uint64_t range_first_line = 1;
  bool is_range() const noexcept { return range_begin != 0 || range_end != UINT64_MAX; }
};

struct expand_options {
  bool skip_hidden = false;  // skip files and directories whose name starts with '.'
  // A file in a directory that cannot be read is listed in
  // expanded_inputs::unreadable instead of throwing.
  bool skip_unreadable = false;
  // The run's output directory (-o), if any: check_output_dir() applies, and
  // a directory walk that reaches it (through a symbolic link) throws.
  std::string output_dir{};
};

struct expanded_inputs {
  std::vector<source_info> sources;
  std::vector<std::string> skipped;  // paths skipped in directories, with the reason
  // With expand_options::skip_unreadable: files in directories that could
  // not be read, with the reason. Callers report them (stats.json).
  std::vector<std::string> unreadable;
  // Sentences about sources read other than their names suggest (a gzip
  // file not named .gz); callers print them.
  std::vector<std::string> notes;
  // Keeps the spooled copy of standard input ("-") open while any copy of
  // this object lives; null when "-" was not given.
  std::shared_ptr<const int> stdin_spool;
};

// The compression implied by a file name's extension (.gz, .zst, .zstd),
// matched without regard to ASCII case.
compression compression_from_name(std::string_view name) noexcept;

// What the first bytes of a file say it holds (its "magic number").
enum class magic : std::uint8_t { none, gzip, zstd, xz, bzip2, lz4 };
magic detect_magic(std::string_view head) noexcept;

// The codec to read a file with, from its name and its first bytes (at least
// 6 of them, or the whole file if shorter). The bytes decide:
//   - gzip or zstd data is read as such whatever the name; when the name says
//     otherwise, `note` (if not null) receives a sentence saying so;
//   - xz, bzip2 or lz4 data throws std::runtime_error (not read);
//   - a name ending in .gz/.zst/.zstd whose bytes are not that data (a
//     zero-filled, empty, truncated or plain-text file) throws
//     std::runtime_error naming the file and its first bytes.
compression resolve_compression(std::string_view name, std::string_view head, std::string* note);

// True when a file found in a directory is read as JSONL (.jsonl, .ndjson,
// .json, optionally followed by a compression extension).
bool is_jsonl_name(std::string_view name) noexcept;

// Throws std::runtime_error if `output_dir` is, or lies inside, an input
// directory (a later run would read the outputs as documents), or if an input
// file lies in it (output_run removes earlier outputs). Call it before
// creating the output directory's output_run.
void check_output_dir(std::span<const std::string> inputs, const std::string& output_dir);

// Expands INPUT paths (files and directories) to the ordered source list.
// Inputs keep their command-line order; each directory expands in place.
// Throws std::runtime_error naming a missing/unreadable input.
expanded_inputs expand_inputs(std::span<const std::string> inputs, const expand_options& options = {});
inline expanded_inputs expand_inputs(std::initializer_list<std::string> inputs,
                                     const expand_options& options = {}) {
  const std::vector<std::string> v(inputs);
  return expand_inputs(std::span<const std::string>(v), options);
}

// ---------------------------------------------------------------- chunks

// Bytes that stay readable (and zeroed) after a byte_buffer's size(): what
// simdjson needs to parse a line in place. At least SIMDJSON_PADDING.
inline constexpr std::size_t buffer_padding = 64;

// A growable byte array whose allocation always has buffer_padding readable
// bytes past size(). Move-only.
class byte_buffer {
 public:
  byte_buffer() = default;
  byte_buffer(byte_buffer&&) noexcept = default;
  byte_buffer& operator=(byte_buffer&&) noexcept = default;

  char* data() noexcept { return data_.get(); }
  const char* data() const noexcept { return data_.get(); }
  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return capacity_; }  // excluding padding
  bool empty() const noexcept { return size_ == 0; }
  std::string_view view() const noexcept { return {data_.get(), size_}; }
  void clear() noexcept { size_ = 0; }

  // Keeps the first min(size(), n) bytes; grows geometrically.
  void reserve(std::size_t n) {
    if (n <= capacity_ && data_) return;
    std::size_t cap = capacity_ < 4096 ? 4096 : capacity_;
    while (cap < n) cap += cap / 2;
    std::unique_ptr<char[]> fresh(new char[cap + buffer_padding]);
    if (size_ != 0) std::memcpy(fresh.get(), data_.get(), size_);
    std::memset(fresh.get() + cap, 0, buffer_padding);
    data_ = std::move(fresh);
    capacity_ = cap;
  }
  // New bytes are uninitialized.
  void resize(std::size_t n) {
    reserve(n);
    size_ = n;
  }
  void assign(std::string_view s) {
    resize(s.size());
    if (!s.empty()) std::memcpy(data_.get(), s.data(), s.size());
  }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

// A run of whole lines of one source (or a whole text_file document).
struct input_chunk {
  std::uint32_t source = 0;          // index into the source list
  std::string_view source_name;      // that source's name (points into the source list)
  std::uint64_t first_line = 1;      // 1-based line number of the first line in data
  std::uint64_t byte_offset = 0;     // offset of data[0] in the decompressed source
  bool whole_file_document = false;  // data is one text_file document
  // Whole lines including their '\n' (the last line of a source may lack it).
  // Never empty for JSONL; may be empty for an empty text_file.
  byte_buffer data;
};

struct reader_options {
  // Target size of a chunk's data. A chunk is larger when a single line is.
  std::size_t chunk_bytes = std::size_t{8} << 20;
};

// Reads sources in order and cuts them into chunks. One thread at a time.
// Memory: about chunk_bytes + the longest line + fixed decompression buffers.
// For a new pass over the corpus construct a new reader over the same list.
class corpus_reader {
 public:
  // REQUIRES: `sources` outlives the reader and the chunks it fills.
  // Throws std::invalid_argument if options.chunk_bytes == 0.
  explicit corpus_reader(std::span<const source_info> sources, const reader_options& options = {});
  // A temporary list would dangle: keep the list in a variable.
  explicit corpus_reader(std::vector<source_info>&& sources, const reader_options& options = {}) = delete;
  ~corpus_reader();
  corpus_reader(corpus_reader&&) noexcept;
  corpus_reader& operator=(corpus_reader&&) noexcept;

  // Fills `chunk` (reusing its buffer) with the next chunk; false at the end.
  // Throws std::runtime_error on I/O or decompression errors (the message
  // names the source); the reader is unusable afterwards.
  bool next(input_chunk& chunk);

  // Compressed/plain bytes read from disk so far (for progress reports).
  std::uint64_t bytes_read() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// ---------------------------------------------------------------- records

enum class record_status : std::uint8_t {
  ok,               // text holds the text field
  blank,            // the line holds only whitespace
  malformed_json,   // not valid JSON (error says why)
  not_object,       // valid JSON, but not an object
  missing_text,     // an object without the text field (or it is null)
  text_not_string,  // the text field is a number, bool, array or object
  line_too_long,    // longer than record_options::max_line_bytes: not parsed
};

// Spellings (enum_names.hpp), as messages and stats.json's skipped_* use them.
constexpr std::array<enum_name<record_status>, 7> enum_names(record_status) noexcept {
  return {{{record_status::ok, "ok"},
           {record_status::blank, "blank"},
           {record_status::malformed_json, "malformed_json"},
           {record_status::not_object, "not_object"},
           {record_status::missing_text, "missing_text"},
           {record_status::text_not_string, "text_not_string"},
           {record_status::line_too_long, "line_too_long"}}};
}

// Bits of record::flags: how the line was repaired to yield a record. A
// repaired record is still status ok; the pipeline counts and may report it.
namespace record_flags {
// The line held invalid UTF-8; each maximal invalid subsequence was replaced
// by U+FFFD (as Python's errors="replace") before parsing. raw is unchanged.
inline constexpr std::uint8_t invalid_utf8 = 1;
// A string of the line held raw control characters (< 0x20), which strict
// JSON forbids; they were accepted as if escaped (Python's strict=False).
inline constexpr std::uint8_t control_chars = 2;
// The text or id held a lone UTF-16 surrogate escape (e.g. "\ud800"); it was
// replaced by U+FFFD.
inline constexpr std::uint8_t lone_surrogate = 4;
// The line started with a UTF-8 byte order mark, ignored for parsing.
inline constexpr std::uint8_t bom = 8;
}  // namespace record_flags

struct record {
  std::uint32_t source = 0;
  std::uint64_t line = 0;         // 1-based line number in the source
  std::uint64_t byte_offset = 0;  // offset of raw[0] in the decompressed source
  // The line exactly as in the input, without its '\n' (see the header notes).
  // For a text_file: the whole file.
  std::string_view raw;
  // Unescaped text field, valid UTF-8. Empty unless status == ok. For a
  // text_file: the file contents (without a leading BOM, invalid UTF-8
  // replaced).
  std::string_view text;
  // The id field: a string is unescaped; a number or bool is its JSON text;
  // empty if absent, null, an array or an object (the caller then names the
  // record SOURCE:LINE). For a text_file: its source name.
  std::string_view id;
  // The text field's JSON string literal (quotes included) as it stands in
  // raw, so a tool can rewrite the text and keep every other byte of the
  // line. Empty when unknown: text files, and lines repaired before parsing
  // (flags invalid_utf8 or control_chars), where raw and the parsed bytes differ.
  std::string_view text_token;
  record_status status = record_status::ok;
  std::uint8_t flags = 0;   // record_flags bits
  std::string_view error;   // why status is not ok (a static message)
};

struct record_options {
  // Names of the text and id fields. A name starting with '/' is a JSON
  // pointer (RFC 6901) into nested objects, e.g. "/meta/id"; otherwise it is
  // one top-level key matched exactly. With duplicate keys the last one wins
  // (as Python's json). An empty id_field means "no id field".
  std::string text_field = "text";
  std::string id_field = "id";
  // A line longer than this (BOM excluded) is not parsed: status
  // line_too_long, so every command keeps it unchanged, reports it as
  // FILE:LINE and counts it. Parsing needs several times a line's size
  // (simdjson's index); this bounds that. 0: no limit. (--max-line-mb)
  std::size_t max_line_bytes = std::size_t{64} << 20;
};

// Per-thread parser state: a simdjson parser and scratch buffers. Views in a
// record point into the chunk or into this parser and stay valid until the
// next call that parses with this parser.
class record_parser {
 public:
  record_parser();
  ~record_parser();
  record_parser(record_parser&&) noexcept;
  record_parser& operator=(record_parser&&) noexcept;

  // Parses data[begin, end) of chunk (one line without its '\n').
  // REQUIRES: !chunk.whole_file_document; begin <= end <= chunk.data.size().
  record parse_line(const input_chunk& chunk, std::size_t begin, std::size_t end, std::uint64_t line,
                    const record_options& options);

  // The single record of a whole_file_document chunk.
  // REQUIRES: chunk.whole_file_document.
  record parse_document(const input_chunk& chunk);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// True when parse_line() would give the line status blank without parsing
// it: only spaces, tabs and CRs, after a UTF-8 BOM at the start of a source.
// `raw` is the line without its '\n'; byte_offset is raw's offset in its source.
bool is_blank_record_line(std::string_view raw, std::uint64_t byte_offset) noexcept;

// Calls visitor(std::size_t begin, std::size_t end, std::uint64_t line) for
// each line data[begin, end) of a JSONL chunk ('\n' excluded), in order, with
// its 1-based line number. For passes that need the line bytes, not the JSON.
// REQUIRES: !chunk.whole_file_document.
template <class Visitor>
void for_each_line(const input_chunk& chunk, Visitor&& visitor) {
  const char* const base = chunk.data.data();
  const std::size_t size = chunk.data.size();
  std::size_t begin = 0;
  std::uint64_t line = chunk.first_line;
  while (begin < size) {
    const void* nl = std::memchr(base + begin, '\n', size - begin);
    const std::size_t end = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - base) : size;
    visitor(begin, end, line);
    ++line;
    begin = end + 1;
  }
}

// Calls visitor(const record&) once per line of the chunk, in order (once for
// a whole_file_document chunk). Never throws on bad input.
template <class Visitor>
void parse_chunk(const input_chunk& chunk, const record_options& options, record_parser& parser,
                 Visitor&& visitor) {
  if (chunk.whole_file_document) {
    visitor(static_cast<const record&>(parser.parse_document(chunk)));
    return;
  }
  for_each_line(chunk, [&](std::size_t begin, std::size_t end, std::uint64_t line) {
    visitor(static_cast<const record&>(parser.parse_line(chunk, begin, end, line, options)));
  });
}

// "SOURCE:LINE", the name of a record without an id.
std::string default_record_id(std::string_view source_name, std::uint64_t line);

// The number of '\n' bytes in [p, p + n) (how the readers number lines).
std::uint64_t count_newlines(const char* p, std::size_t n) noexcept;

}  // namespace neardup::io
