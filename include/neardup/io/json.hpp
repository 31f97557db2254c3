// neardup/io/json.hpp — writing JSON strings, small JSON documents and TSV
// fields (stats.json, {"id":..,"text":..} lines, pair lists).
//
//   std::string line;
//   neardup::io::append_json_string(line, "say \"hi\"\n");   // "say \"hi\"\n"
//
//   std::string stats;
//   neardup::io::json_writer w(stats);
//   w.begin_object();
//   w.key("documents"); w.value(std::uint64_t{42});
//   w.key("input"); w.begin_array(); w.value("a.jsonl"); w.end_array();
//   w.end_object();                                         // pretty-printed, 2 spaces
//
// Guarantees: the output is valid JSON and valid UTF-8 for any input bytes.
//   - '"' and '\\' are escaped; control characters (< 0x20) use \n, \t, \r,
//     \b, \f or \u00XX; DEL and every valid non-ASCII UTF-8 sequence are
//     copied unchanged (no \u escapes for them).
//   - Invalid UTF-8 is replaced by U+FFFD, one per maximal invalid subpart
//     (the same rule as the reader), so ids/texts from broken input stay
//     printable. The original bytes are not recoverable from the JSON.
//   - Doubles are written shortest-round-trip; NaN and infinities as null.
//
// TSV fields (append_tsv_field): '\\' -> "\\\\", TAB -> "\\t", LF -> "\\n",
// CR -> "\\r", NUL -> "\\0"; invalid UTF-8 is replaced by U+FFFD as in JSON
// strings (so an id reads the same in clusters.tsv and deduped.jsonl); all
// other bytes unchanged. A reader splits on TAB and undoes these five escapes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace neardup::io {

// Appends `s` as a JSON string literal, quotes included.
void append_json_string(std::string& out, std::string_view s);

// Appends `s` escaped as one TSV field (no surrounding quotes).
void append_tsv_field(std::string& out, std::string_view s);

// True when append_tsv_field appends `s` unchanged: every byte printable
// ASCII (0x20..0x7f) and none a backslash. (Most ids and names are.)
inline bool tsv_field_is_plain(std::string_view s) noexcept {
  bool plain = true;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    plain &= static_cast<unsigned char>(c - 0x20) < 0x60 && c != '\\';
  }
  return plain;
}

// A minimal streaming writer for small JSON documents. Misuse (a value where a
// key is required, unbalanced end_*) is a programming error, checked with
// assertions only.
class json_writer {
 public:
  // Appends to `out`, which must outlive the writer. indent = 0: compact.
  explicit json_writer(std::string& out, int indent = 2) : out_(out), indent_(indent) {}

  void begin_object();
  void end_object();
  void begin_array();
  void end_array();
  void key(std::string_view k);

  void value(std::string_view s);
  void value(const char* s) { value(std::string_view(s)); }
  void value(bool b);
  void value(std::int64_t v);
  void value(std::uint64_t v);
  void value(int v) { value(static_cast<std::int64_t>(v)); }
  void value(unsigned v) { value(static_cast<std::uint64_t>(v)); }
  void value(double v);
  void null();
  // key(k) then value(v): one member of an object.
  template <class T>
  void field(std::string_view k, const T& v) {
    key(k);
    value(v);
  }

 private:
  void before_value();
  void newline();

  std::string& out_;
  int indent_;
  // One entry per open container: true while it is still empty.
  std::vector<bool> first_;
  bool after_key_ = false;
};

}  // namespace neardup::io
