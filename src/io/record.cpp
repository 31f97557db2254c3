// Record parsing with simdjson On-Demand (see neardup/io/input.hpp).
//
// Each line is parsed in place inside the chunk buffer: the buffer keeps
// buffer_padding readable bytes after its end, so simdjson's padding
// requirement holds for every line without copying it. Only lines that need
// repair (invalid UTF-8, raw control characters) are copied.
#include <simdjson.h>

#include "io_internal.hpp"
#include "neardup/io/input.hpp"

namespace neardup::io {

static_assert(buffer_padding >= simdjson::SIMDJSON_PADDING, "chunk buffers must satisfy simdjson's padding");

namespace {

namespace od = simdjson::ondemand;

constexpr std::size_t big_parser_capacity = std::size_t{64} << 20;

bool is_blank(std::string_view s) noexcept {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

std::string_view trim_right(std::string_view s) noexcept {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

constexpr std::string_view bom = "\xEF\xBB\xBF";

}  // namespace

struct record_parser::impl {
  od::parser parser;
  simdjson::dom::parser dom;
  std::string repaired;   // repaired copy of the current line (padded by reserve)
  std::string text_buf;   // lenient unescape of the text field
  std::string id_buf;     // lenient unescape of the id field
  std::string doc_buf;    // repaired text_file document

  enum class field_result { absent, ok, null, not_string, scalar, error };

  // Reads a string value; falls back to the lenient unescaper when simdjson
  // rejects the string (lone surrogates).
  simdjson::error_code read_string(od::value& v, std::string& buf, std::string_view& out, std::uint8_t& flags) {
    const std::string_view token = v.raw_json_token();
    auto err = v.get_string().get(out);
    if (err != simdjson::STRING_ERROR) return err;
    bool lone = false;
    if (!detail::unescape_json_string(token, buf, lone)) return simdjson::STRING_ERROR;
    if (lone) flags |= record_flags::lone_surrogate;
    out = buf;
    return simdjson::SUCCESS;
  }

  // Text field value -> status.
  void take_text(od::value& v, record& r, simdjson::error_code& err) {
    od::json_type t{};
    if ((err = v.type().get(t))) return;
    r.text_token = {};
    if (t == od::json_type::null) {
      r.status = record_status::missing_text;
      r.text = {};
      return;
    }
    if (t != od::json_type::string) {
      r.status = record_status::text_not_string;
      r.text = {};
      return;
    }
    const std::string_view token = trim_right(v.raw_json_token());
    std::string_view s;
    if ((err = read_string(v, text_buf, s, r.flags))) return;
    r.status = record_status::ok;
    r.text = s;
    // The literal's place in raw, when the line was parsed in place.
    const auto at = reinterpret_cast<std::uintptr_t>(token.data());
    const auto raw_at = reinterpret_cast<std::uintptr_t>(r.raw.data());
    if (at >= raw_at && at + token.size() <= raw_at + r.raw.size()) {
      r.text_token = token;
    }
  }

  void take_id(od::value& v, record& r, simdjson::error_code& err) {
    od::json_type t{};
    if ((err = v.type().get(t))) return;
    r.id = {};
    switch (t) {
      case od::json_type::string: {
        std::string_view s;
        if ((err = read_string(v, id_buf, s, r.flags))) return;
        r.id = s;
        return;
      }
      case od::json_type::number:
      case od::json_type::boolean:
        r.id = trim_right(v.raw_json_token());
        return;
      default:
        return;  // null, array, object: no id (skipped by the iterator)
    }
  }

  // Parses json[0, len) with `capacity` readable bytes; fills r.status/text/id.
  simdjson::error_code parse(const char* json, std::size_t len, std::size_t capacity, const record_options& o,
                             record& r) {
    od::document doc;
    auto err = parser.iterate(json, len, capacity).get(doc);
    if (err) return err;
    od::json_type root{};
    if ((err = doc.type().get(root))) return err;
    if (root != od::json_type::object) {
      // Rare: tell "[1,2]" (not_object) from "not json" (malformed) with a
      // full validation by the DOM parser. The buffer is padded the same way.
      simdjson::dom::element ignored;
      if ((err = dom.parse(json, len, false).get(ignored))) return err;
      r.status = record_status::not_object;
      r.error = "the line is valid JSON but not an object";
      return simdjson::SUCCESS;
    }
    r.status = record_status::missing_text;
    const bool text_ptr = !o.text_field.empty() && o.text_field.front() == '/';
    const bool id_ptr = !o.id_field.empty() && o.id_field.front() == '/';
    if (!text_ptr && !id_ptr) {
      od::object obj;
      if ((err = doc.get_object().get(obj))) return err;
      for (auto field : obj) {
        od::field f;
        if ((err = std::move(field).get(f))) return err;
        std::string_view key;
        if ((err = f.unescaped_key().get(key))) return err;
        const bool is_text = key == o.text_field;
        const bool is_id = !o.id_field.empty() && key == o.id_field;
        od::value v = f.value();
        if (!is_text && !is_id) {
          // Every other value is read too, so the whole line is validated.
          if ((err = consume(v, 0))) return err;
          continue;
        }
        if (is_text) {
          take_text(v, r, err);
        } else {
          take_id(v, r, err);
        }
        if (err) return err;
      }
      // Anything after the object is an error ("{...} x", "{...}}").
      if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) return simdjson::TRAILING_CONTENT;
    } else {
      // JSON pointer lookups: each one rewinds the document.
      od::value v;
      err = doc.at_pointer(text_ptr ? std::string_view(o.text_field) : "/" + o.text_field).get(v);
      if (err == simdjson::SUCCESS) {
        take_text(v, r, err);
        if (err) return err;
      } else if (err != simdjson::NO_SUCH_FIELD && err != simdjson::INVALID_JSON_POINTER &&
                 err != simdjson::INCORRECT_TYPE && err != simdjson::INDEX_OUT_OF_BOUNDS) {
        return err;
      }
      if (!o.id_field.empty()) {
        // The next at_pointer rewinds the document, which reuses simdjson's
        // string buffer: keep the text in our own buffer first.
        if (r.status == record_status::ok && r.text.data() != text_buf.data()) {
          text_buf.assign(r.text);
          r.text = text_buf;
        }
        err = doc.at_pointer(id_ptr ? std::string_view(o.id_field) : "/" + o.id_field).get(v);
        if (err == simdjson::SUCCESS) {
          take_id(v, r, err);
          if (err) return err;
        } else if (err != simdjson::NO_SUCH_FIELD && err != simdjson::INVALID_JSON_POINTER &&
                   err != simdjson::INCORRECT_TYPE && err != simdjson::INDEX_OUT_OF_BOUNDS) {
          return err;
        }
      }
    }
    // With JSON pointers On-Demand reads only the fields it needs; the rest of
    // the line must be valid JSON too ("meta":[1,,2] or "meta":tru is malformed).
    if ((text_ptr || id_ptr) && (err = validate(json, len))) return err;
    if (r.status == record_status::missing_text) r.error = "the object has no text field (or it is null)";
    if (r.status == record_status::text_not_string) r.error = "the text field is not a string";
    return simdjson::SUCCESS;
  }

  // Reads a value and everything in it, which makes On-Demand check it:
  // numbers, literals, string escapes, commas and brackets. Lone surrogate
  // escapes are accepted (as read_string does).
  simdjson::error_code consume(od::value& v, int depth) {
    od::json_type t{};
    auto err = v.type().get(t);
    if (err) return err;
    switch (t) {
      case od::json_type::object: {
        od::object obj;
        if ((err = v.get_object().get(obj))) return err;
        for (auto field : obj) {
          od::field f;
          if ((err = std::move(field).get(f))) return err;
          std::string_view key;
          if ((err = f.unescaped_key().get(key))) return err;
          od::value inner = f.value();
          if ((err = consume(inner, depth + 1))) return err;
        }
        return simdjson::SUCCESS;
      }
      case od::json_type::array: {
        od::array arr;
        if ((err = v.get_array().get(arr))) return err;
        for (auto element : arr) {
          od::value inner;
          if ((err = std::move(element).get(inner))) return err;
          if ((err = consume(inner, depth + 1))) return err;
        }
        return simdjson::SUCCESS;
      }
      case od::json_type::string: {
        std::string_view ignored;
        std::uint8_t flags = 0;
        return read_string(v, skip_buf, ignored, flags);
      }
      case od::json_type::number: {
        od::number n;
        return v.get_number().get(n);
      }
      case od::json_type::boolean: {
        bool b = false;
        return v.get_bool().get(b);
      }
      case od::json_type::null: {
        bool is_null = false;
        if ((err = v.is_null().get(is_null))) return err;
        return is_null ? simdjson::SUCCESS : simdjson::N_ATOM_ERROR;
      }
    }
    return simdjson::TAPE_ERROR;
  }
  std::string skip_buf;

  // Full validation of json[0, len) (padded) by the DOM parser. Lone UTF-16
  // surrogate escapes ("\ud800"), which the JSON grammar allows and simdjson
  // rejects, are accepted: a copy with each replaced by "\ufffd" is checked.
  simdjson::error_code validate(const char* json, std::size_t len) {
    simdjson::dom::element ignored;
    const auto err = dom.parse(json, len, false).get(ignored);
    if (err != simdjson::STRING_ERROR) return err;
    surrogate_buf.assign(json, len);
    bool replaced = false;
    for (std::size_t i = 0; i + 1 < surrogate_buf.size(); ++i) {
      if (surrogate_buf[i] != '\\') continue;
      if (surrogate_buf[i + 1] == 'u' && i + 5 < surrogate_buf.size() && (surrogate_buf[i + 2] | 0x20) == 'd' &&
          std::string_view("89abcdefABCDEF").find(surrogate_buf[i + 3]) != std::string_view::npos) {
        surrogate_buf.replace(i + 2, 4, "fffd");
        replaced = true;
      }
      ++i;  // the escaped character
    }
    if (!replaced) return err;
    surrogate_buf.reserve(surrogate_buf.size() + simdjson::SIMDJSON_PADDING);
    return dom.parse(surrogate_buf.data(), surrogate_buf.size(), false).get(ignored);
  }
  std::string surrogate_buf;
};

bool is_blank_record_line(std::string_view raw, std::uint64_t byte_offset) noexcept {
  if (byte_offset == 0 && raw.substr(0, 3) == bom) raw.remove_prefix(3);
  return is_blank(raw);
}

record_parser::record_parser() : impl_(std::make_unique<impl>()) {}
record_parser::~record_parser() = default;
record_parser::record_parser(record_parser&&) noexcept = default;
record_parser& record_parser::operator=(record_parser&&) noexcept = default;

record record_parser::parse_line(const input_chunk& chunk, std::size_t begin, std::size_t end, std::uint64_t line,
                                 const record_options& options) {
  impl& m = *impl_;
  record r;
  r.source = chunk.source;
  r.line = line;
  r.byte_offset = chunk.byte_offset + begin;
  const char* base = chunk.data.data();
  r.raw = std::string_view(base + begin, end - begin);
  std::string_view json = r.raw;
  if (r.byte_offset == 0 && json.substr(0, 3) == bom) {
    json.remove_prefix(3);
    r.flags |= record_flags::bom;
  }
  if (is_blank_record_line(r.raw, r.byte_offset)) {
    r.status = record_status::blank;
    r.error = "blank line";
    return r;
  }
  if (options.max_line_bytes != 0 && json.size() > options.max_line_bytes) {
    r.status = record_status::line_too_long;
    r.error = "the line is longer than --max-line-mb; not parsed";
    return r;
  }
  // Give back the memory of a huge line once lines are ordinary again.
  if (m.parser.capacity() > big_parser_capacity && json.size() < big_parser_capacity / 4) m.parser = od::parser{};

  const std::size_t readable = chunk.data.capacity() + buffer_padding - static_cast<std::size_t>(json.data() - base);
  auto err = m.parse(json.data(), json.size(), readable, options, r);
  if (err == simdjson::UTF8_ERROR || err == simdjson::UNESCAPED_CHARS) {
    m.repaired.clear();
    const std::uint8_t fixed = detail::repair_line(json, true, m.repaired);
    if (fixed != 0) {
      m.repaired.reserve(m.repaired.size() + simdjson::SIMDJSON_PADDING);
      // Start over on the repaired copy, keeping the line's identity.
      const record before = r;
      r = record{};
      r.source = before.source;
      r.line = before.line;
      r.byte_offset = before.byte_offset;
      r.raw = before.raw;
      r.flags = static_cast<std::uint8_t>(before.flags | fixed);
      err = m.parse(m.repaired.data(), m.repaired.size(), m.repaired.capacity(), options, r);
    }
  }
  if (err) {
    r.status = record_status::malformed_json;
    r.text = {};
    r.text_token = {};
    r.id = {};
    r.error = simdjson::error_message(err);
  }
  return r;
}

record record_parser::parse_document(const input_chunk& chunk) {
  record r;
  r.source = chunk.source;
  r.line = 1;
  r.byte_offset = chunk.byte_offset;
  r.raw = chunk.data.view();
  r.id = chunk.source_name;
  std::string_view text = r.raw;
  if (text.substr(0, 3) == bom) {
    text.remove_prefix(3);
    r.flags |= record_flags::bom;
  }
  if (!detail::is_valid_utf8(text)) {
    impl_->doc_buf.clear();
    r.flags |= detail::repair_line(text, false, impl_->doc_buf);
    text = impl_->doc_buf;
  }
  r.text = text;
  r.status = record_status::ok;
  return r;
}

bool detail::is_json_value(std::string_view s) {
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(s);
  return parser.parse(padded).error() == simdjson::SUCCESS;
}

}  // namespace neardup::io
