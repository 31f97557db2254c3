// JSON and TSV writing (see neardup/io/json.hpp).
#include "neardup/io/json.hpp"

#include <cassert>
#include <charconv>
#include <cmath>

#include "io_internal.hpp"

namespace neardup::io {

namespace {

// Appends s, escaping for JSON; s must be valid UTF-8 if !repair.
void escape_into(std::string& out, std::string_view s, bool repair) {
  static constexpr char hex[] = "0123456789abcdef";
  std::size_t run = 0;  // start of the pending unescaped run
  std::size_t i = 0;
  const auto flush = [&](std::size_t to) {
    out.append(s.data() + run, to - run);
  };
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      if (!repair) {
        ++i;
        continue;
      }
      const utf8::decoded d = utf8::decode(s, i);
      if (d.code_point == utf8::invalid) {  // one U+FFFD per maximal invalid subpart
        flush(i);
        out.append(detail::replacement_char);
        run = i + d.length;
      }
      i += d.length;
      continue;
    }
    flush(i);
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\t': out.append("\\t"); break;
      case '\r': out.append("\\r"); break;
      case '\b': out.append("\\b"); break;
      case '\f': out.append("\\f"); break;
      default: {
        const char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        out.append(esc, 6);
      }
    }
    ++i;
    run = i;
  }
  flush(s.size());
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  out.reserve(out.size() + s.size() + 2);
  out.push_back('"');
  escape_into(out, s, !detail::is_valid_utf8(s));
  out.push_back('"');
}

void append_tsv_field(std::string& out, std::string_view s) {
  // Most fields (ids, names) are printable ASCII without a backslash: valid
  // UTF-8 with nothing to escape, appended as they are (validating each
  // short field with the SIMD validator cost more than the write itself).
  if (tsv_field_is_plain(s)) {
    out.append(s);
    return;
  }
  std::string repaired;
  if (!detail::is_valid_utf8(s)) {  // as append_json_string: the same id in TSV and JSON
    (void)detail::repair_line(s, false, repaired);
    s = repaired;
  }
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const char* esc = nullptr;
    switch (c) {
      case '\\': esc = "\\\\"; break;
      case '\t': esc = "\\t"; break;
      case '\n': esc = "\\n"; break;
      case '\r': esc = "\\r"; break;
      case '\0': esc = "\\0"; break;
      default: continue;
    }
    out.append(s.data() + run, i - run);
    out.append(esc);
    run = i + 1;
  }
  out.append(s.data() + run, s.size() - run);
}

void json_writer::newline() {
  if (indent_ <= 0) return;
  out_.push_back('\n');
  out_.append(first_.size() * static_cast<std::size_t>(indent_), ' ');
}

void json_writer::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back()) out_.push_back(',');
    first_.back() = false;
    newline();
  }
}

void json_writer::begin_object() {
  before_value();
  out_.push_back('{');
  first_.push_back(true);
}

void json_writer::begin_array() {
  before_value();
  out_.push_back('[');
  first_.push_back(true);
}

void json_writer::end_object() {
  assert(!first_.empty() && !after_key_);
  const bool empty = first_.back();
  first_.pop_back();
  if (!empty) newline();
  out_.push_back('}');
}

void json_writer::end_array() {
  assert(!first_.empty() && !after_key_);
  const bool empty = first_.back();
  first_.pop_back();
  if (!empty) newline();
  out_.push_back(']');
}

void json_writer::key(std::string_view k) {
  assert(!after_key_);
  before_value();
  append_json_string(out_, k);
  out_.append(indent_ > 0 ? ": " : ":");
  after_key_ = true;
}

void json_writer::value(std::string_view s) {
  before_value();
  append_json_string(out_, s);
}

void json_writer::value(bool b) {
  before_value();
  out_.append(b ? "true" : "false");
}

void json_writer::value(std::int64_t v) {
  before_value();
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out_.append(buf, r.ptr);
}

void json_writer::value(std::uint64_t v) {
  before_value();
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out_.append(buf, r.ptr);
}

void json_writer::value(double v) {
  before_value();
  if (!std::isfinite(v)) {
    out_.append("null");
    return;
  }
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out_.append(buf, r.ptr);
}

void json_writer::null() {
  before_value();
  out_.append("null");
}

}  // namespace neardup::io
