// The HTML report of a dedup run; see neardup/jobs/report.hpp.
#include "neardup/jobs/report.hpp"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "neardup/banding.hpp"
#include "neardup/enum_names.hpp"
#include "neardup/shingle.hpp"
#include "neardup/io/input.hpp"
#include "neardup/io/output.hpp"
#include "neardup/version.hpp"

namespace neardup::jobs {

namespace {

namespace dom = simdjson::dom;

// ---------------------------------------------------------------- reading

std::string read_text_file(const std::string& path, bool required) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (required) throw std::runtime_error(path + ": cannot open (is it the output directory of `neardup dedup`?)");
    return {};
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string unescape_tsv(std::string_view f) {
  std::string out;
  out.reserve(f.size());
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (f[i] == '\\' && i + 1 < f.size()) {
      const char c = f[++i];
      out += c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r' : c;
    } else {
      out += f[i];
    }
  }
  return out;
}

// A TSV file with a header line; fields stay escaped views into `data`.
struct tsv_table {
  std::string data;
  std::vector<std::string_view> fields;  // row-major, `columns` per row
  std::size_t columns = 0;
  std::size_t rows() const { return columns == 0 ? 0 : fields.size() / columns; }
  std::string_view at(std::size_t row, std::size_t col) const { return fields[row * columns + col]; }
};

tsv_table read_tsv(const std::string& path, std::size_t columns, bool required) {
  tsv_table t;
  t.data = read_text_file(path, required);
  t.columns = columns;
  std::string_view s(t.data);
  bool header = true;
  std::size_t line_no = 0;
  while (!s.empty()) {
    const std::size_t nl = s.find('\n');
    const std::string_view line = s.substr(0, nl);
    s = nl == std::string_view::npos ? std::string_view() : s.substr(nl + 1);
    ++line_no;
    if (header) {
      header = false;
      continue;
    }
    std::size_t got = 0, begin = 0;
    for (;;) {
      const std::size_t tab = line.find('\t', begin);
      if (got < columns) t.fields.push_back(line.substr(begin, tab == std::string_view::npos ? line.npos : tab - begin));
      ++got;
      if (tab == std::string_view::npos) break;
      begin = tab + 1;
    }
    if (got != columns) {
      throw std::runtime_error(path + ":" + std::to_string(line_no) + ": " + std::to_string(got) + " fields, expected " +
                               std::to_string(columns));
    }
  }
  return t;
}

std::uint64_t to_u64(std::string_view s) {
  std::uint64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}
double to_f64(std::string_view s) {
  double v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

double json_number(const dom::element& root, const char* pointer, double fallback = 0) {
  double v = 0;
  if (root.at_pointer(pointer).get_double().get(v) != simdjson::SUCCESS) return fallback;
  return v;
}
std::uint64_t json_count(const dom::element& root, const char* pointer) {
  const double v = json_number(root, pointer);
  return v > 0 ? static_cast<std::uint64_t>(std::min(v, 9.0e18)) : 0;  // a damaged file must not overflow the cast
}
std::uint64_t json_u64(const dom::element& root, const char* pointer, std::uint64_t fallback) {
  std::uint64_t v = 0;
  if (root.at_pointer(pointer).get_uint64().get(v) != simdjson::SUCCESS) return fallback;
  return v;
}
std::string json_string(const dom::element& root, const char* pointer) {
  std::string_view v;
  if (root.at_pointer(pointer).get_string().get(v) != simdjson::SUCCESS) return {};
  return std::string(v);
}
// Scalars of an object as text, in file order.
std::vector<std::pair<std::string, std::string>> json_fields(const dom::element& root, const char* pointer) {
  std::vector<std::pair<std::string, std::string>> out;
  dom::object obj;
  if (root.at_pointer(pointer).get_object().get(obj) != simdjson::SUCCESS) return out;
  for (const dom::key_value_pair kv : obj) {
    std::string v;
    if (kv.value.is_object() || kv.value.is_array()) continue;
    if (kv.value.is_string()) {
      v = std::string(std::string_view(kv.value.get_string().value_unsafe()));
    } else {
      v = simdjson::minify(kv.value);
    }
    out.emplace_back(std::string(kv.key), v);
  }
  return out;
}

// ---------------------------------------------------------------- HTML text

void escape(std::string& out, std::string_view s) {
  for (const char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
}
std::string esc(std::string_view s) {
  std::string out;
  escape(out, s);
  return out;
}

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}
std::string count(std::uint64_t v) {  // 1234567 -> "1,234,567"
  std::string s = std::to_string(v), out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i != 0 && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out;
}
std::string bytes(double b) {
  const char* unit[] = {"B", "KB", "MB", "GB", "TB"};
  int u = 0;
  while (b >= 1000 && u < 4) {
    b /= 1000;
    ++u;
  }
  return fmt(u == 0 ? "%.0f" : "%.1f", b) + " " + unit[u];
}
std::string percent(double part, double whole) { return whole > 0 ? fmt("%.1f%%", 100 * part / whole) : "-"; }

// ---------------------------------------------------------------- SVG charts

constexpr double chart_w = 660, chart_h = 300, m_left = 70, m_right = 20, m_top = 30, m_bottom = 56;
constexpr double plot_w = chart_w - m_left - m_right, plot_h = chart_h - m_top - m_bottom;

// Round tick positions covering [lo, hi].
std::vector<double> nice_ticks(double lo, double hi, int want = 5) {
  if (!std::isfinite(lo) || !std::isfinite(hi) || hi - lo > 1e300) return {0, 1};
  if (!(hi > lo)) hi = lo + 1;
  const double raw = (hi - lo) / want;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  }
  std::vector<double> t;
  for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9 && t.size() < 50; v += step) {
    t.push_back(std::abs(v) < 1e-12 ? 0 : v);
  }
  if (t.empty()) t.push_back(lo);
  return t;
}
std::string tick_label(double v) {
  if (std::abs(v) >= 1e6) return fmt("%.3g", v);
  if (v == std::floor(v)) return count(static_cast<std::uint64_t>(std::max(0.0, v)));
  return fmt("%g", v);
}

class svg_chart {
 public:
  svg_chart(std::string& out, std::string_view css_class, std::string_view title) : out_(out) {
    out_ += "<svg class=\"chart ";
    escape(out_, css_class);
    out_ += "\" role=\"img\" viewBox=\"0 0 " + fmt("%.0f", chart_w) + " " + fmt("%.0f", chart_h) +
            "\" xmlns=\"http://www.w3.org/2000/svg\"><title>";
    escape(out_, title);
    out_ += "</title>";
    text(chart_w / 2, 18, title, "middle", "ctitle");
  }
  ~svg_chart() { out_ += "</svg>\n"; }
  svg_chart(const svg_chart&) = delete;
  svg_chart& operator=(const svg_chart&) = delete;

  void x_range(double lo, double hi) { xlo_ = lo, xhi_ = hi; }
  void y_range(double lo, double hi, bool log = false) {
    ylog_ = log;
    ylo_ = log ? std::log10(lo) : lo;
    yhi_ = log ? std::log10(hi) : hi;
  }
  double px(double x) const { return m_left + (x - xlo_) / (xhi_ - xlo_) * plot_w; }
  double py(double y) const {
    const double v = ylog_ ? std::log10(std::max(y, std::pow(10.0, ylo_))) : y;
    return m_top + plot_h - (v - ylo_) / (yhi_ - ylo_) * plot_h;
  }

  void text(double x, double y, std::string_view s, const char* anchor = "start", const char* cls = "lbl",
            double rotate = 0) {
    out_ += "<text class=\"" + std::string(cls) + "\" x=\"" + fmt("%.1f", x) + "\" y=\"" + fmt("%.1f", y) +
            "\" text-anchor=\"" + anchor + "\"";
    if (rotate != 0) out_ += " transform=\"rotate(" + fmt("%.0f", rotate) + " " + fmt("%.1f", x) + " " + fmt("%.1f", y) + ")\"";
    out_ += ">";
    escape(out_, s);
    out_ += "</text>";
  }
  void line(double x1, double y1, double x2, double y2, const char* cls) {
    out_ += "<line class=\"" + std::string(cls) + "\" x1=\"" + fmt("%.1f", x1) + "\" y1=\"" + fmt("%.1f", y1) +
            "\" x2=\"" + fmt("%.1f", x2) + "\" y2=\"" + fmt("%.1f", y2) + "\"/>";
  }
  void rect(double x, double y, double w, double h, const char* cls, std::string_view tip) {
    out_ += "<rect class=\"" + std::string(cls) + "\" x=\"" + fmt("%.1f", x) + "\" y=\"" + fmt("%.1f", y) +
            "\" width=\"" + fmt("%.1f", std::max(w, 0.0)) + "\" height=\"" + fmt("%.1f", std::max(h, 0.0)) + "\"><title>";
    escape(out_, tip);
    out_ += "</title></rect>";
  }
  void raw(std::string_view s) { out_ += s; }

  // Frame, y grid with labels, axis titles. x ticks are the caller's.
  void y_axis(std::string_view title) {
    std::vector<double> ticks;
    if (ylog_) {
      for (double e = std::ceil(ylo_); e <= yhi_ + 1e-9; e += 1) ticks.push_back(std::pow(10.0, e));
    } else {
      ticks = nice_ticks(ylo_, yhi_);
    }
    for (double t : ticks) {
      const double y = py(t);
      line(m_left, y, m_left + plot_w, y, "grid");
      text(m_left - 6, y + 4, tick_label(t), "end");
    }
    line(m_left, m_top, m_left, m_top + plot_h, "axis");
    line(m_left, m_top + plot_h, m_left + plot_w, m_top + plot_h, "axis");
    text(16, m_top + plot_h / 2, title, "middle", "atitle", -90);
  }
  void x_title(std::string_view title) { text(m_left + plot_w / 2, chart_h - 10, title, "middle", "atitle"); }
  void x_ticks(const std::vector<double>& ticks) {
    for (double t : ticks) {
      line(px(t), m_top + plot_h, px(t), m_top + plot_h + 5, "axis");
      text(px(t), m_top + plot_h + 18, tick_label(t), "middle");
    }
  }
  void legend(const std::vector<std::pair<std::string, const char*>>& items) {
    double x = m_left + plot_w - 10;
    for (auto it = items.rbegin(); it != items.rend(); ++it) {
      const double w = 22 + 6.5 * static_cast<double>(it->first.size());
      x -= w;
      rect(x, m_top + 4, 12, 12, it->second, it->first);
      text(x + 16, m_top + 14, it->first);
    }
  }

 private:
  std::string& out_;
  double xlo_ = 0, xhi_ = 1, ylo_ = 0, yhi_ = 1;
  bool ylog_ = false;
};

// Vertical bars, one per category, one or more series side by side.
struct bar_series {
  std::string name;
  const char* cls;
  std::vector<double> values;
  std::vector<const char*> cls_each = {};  // a class per category, when not empty
};
// A vertical marker at a fractional category position (e.g. a threshold).
struct bar_marker {
  double position = -1;  // in category slots from the left; < 0: none
  std::string label;
};
void bar_chart(std::string& out, std::string_view css, std::string_view title, const std::vector<std::string>& categories,
               const std::vector<bar_series>& series, bool log_y, std::string_view x_title, std::string_view y_title,
               const bar_marker& marker = {}) {
  svg_chart c(out, css, title);
  double top = 0;
  for (const auto& s : series) {
    for (double v : s.values) top = std::max(top, v);
  }
  const std::size_t n = std::max<std::size_t>(categories.size(), 1);
  c.x_range(0, static_cast<double>(n));
  if (log_y) {
    c.y_range(0.5, std::pow(10.0, std::ceil(std::log10(std::max(top, 1.0)) + 1e-9)) * (top >= 1 && std::log10(top) == std::floor(std::log10(top)) ? 10 : 1), true);
  } else {
    const auto t = nice_ticks(0, std::max(top, 1.0));
    c.y_range(0, std::max(t.back(), top));
  }
  c.y_axis(y_title);
  const double slot = plot_w / static_cast<double>(n);
  const double bw = slot * 0.8 / static_cast<double>(std::max<std::size_t>(series.size(), 1));
  const std::size_t label_every = categories.size() > 24 ? (categories.size() + 23) / 24 : 1;
  for (std::size_t i = 0; i < categories.size(); ++i) {
    for (std::size_t s = 0; s < series.size(); ++s) {
      const double v = series[s].values[i];
      if (v <= 0) continue;
      const double x = m_left + slot * static_cast<double>(i) + slot * 0.1 + bw * static_cast<double>(s);
      const double y = c.py(v);
      c.rect(x, y, bw, m_top + plot_h - y, series[s].cls_each.empty() ? series[s].cls : series[s].cls_each[i], series[s].name + " " + categories[i] + ": " + tick_label(v));
    }
    if (i % label_every == 0) {
      c.text(m_left + slot * (static_cast<double>(i) + 0.5), m_top + plot_h + 18, categories[i], "middle");
    }
  }
  if (marker.position >= 0) {
    const double x = m_left + slot * marker.position;
    c.line(x, m_top, x, m_top + plot_h, "thr");
    c.text(x - 4, m_top + plot_h * 0.45, marker.label, "end");
  }
  if (series.size() > 1) {
    std::vector<std::pair<std::string, const char*>> items;
    for (const auto& s : series) items.emplace_back(s.name, s.cls);
    c.legend(items);
  }
  c.x_title(x_title);
}

// Horizontal bars with long labels (stages, sources).
void hbar_chart(std::string& out, std::string_view css, std::string_view title,
                const std::vector<std::pair<std::string, double>>& bars, std::string_view x_title,
                const char* cls, const std::function<std::string(double)>& value_label) {
  std::string svg;
  const double row = 22, left = 210, right = 90, top = 30, bottom = 46;
  const double h = top + bottom + row * static_cast<double>(std::max<std::size_t>(bars.size(), 1));
  const double w = chart_w;
  double max_v = 0;
  for (const auto& b : bars) max_v = std::max(max_v, b.second);
  const auto ticks = nice_ticks(0, std::max(max_v, 1e-9));
  const double hi = std::max(ticks.back(), max_v);
  auto px = [&](double v) { return left + v / (hi > 0 ? hi : 1) * (w - left - right); };
  out += "<svg class=\"chart " + esc(css) + "\" role=\"img\" viewBox=\"0 0 " + fmt("%.0f", w) + " " + fmt("%.0f", h) +
         "\" xmlns=\"http://www.w3.org/2000/svg\"><title>" + esc(title) + "</title>";
  out += "<text class=\"ctitle\" x=\"" + fmt("%.0f", w / 2) + "\" y=\"18\" text-anchor=\"middle\">" + esc(title) + "</text>";
  const double base = top + row * static_cast<double>(bars.size());
  for (double t : ticks) {
    out += "<line class=\"grid\" x1=\"" + fmt("%.1f", px(t)) + "\" y1=\"" + fmt("%.0f", top) + "\" x2=\"" + fmt("%.1f", px(t)) +
           "\" y2=\"" + fmt("%.1f", base) + "\"/>";
    out += "<text class=\"lbl\" x=\"" + fmt("%.1f", px(t)) + "\" y=\"" + fmt("%.1f", base + 16) + "\" text-anchor=\"middle\">" +
           esc(tick_label(t)) + "</text>";
  }
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const double y = top + row * static_cast<double>(i);
    std::string label = bars[i].first;
    if (label.size() > 34) label = "…" + label.substr(label.size() - 33);
    out += "<text class=\"lbl\" x=\"" + fmt("%.0f", left - 6) + "\" y=\"" + fmt("%.1f", y + 15) + "\" text-anchor=\"end\">" +
           esc(label) + "</text>";
    out += "<rect class=\"" + std::string(cls) + "\" x=\"" + fmt("%.0f", left) + "\" y=\"" + fmt("%.1f", y + 3) + "\" width=\"" +
           fmt("%.1f", std::max(px(bars[i].second) - left, 0.5)) + "\" height=\"" + fmt("%.0f", row - 6) + "\"><title>" +
           esc(bars[i].first) + ": " + esc(value_label(bars[i].second)) + "</title></rect>";
    out += "<text class=\"lbl\" x=\"" + fmt("%.1f", px(bars[i].second) + 4) + "\" y=\"" + fmt("%.1f", y + 15) + "\">" +
           esc(value_label(bars[i].second)) + "</text>";
  }
  out += "<line class=\"axis\" x1=\"" + fmt("%.0f", left) + "\" y1=\"" + fmt("%.0f", top) + "\" x2=\"" + fmt("%.0f", left) +
         "\" y2=\"" + fmt("%.1f", base) + "\"/>";
  out += "<text class=\"atitle\" x=\"" + fmt("%.0f", left + (w - left - right) / 2) + "\" y=\"" + fmt("%.1f", h - 8) +
         "\" text-anchor=\"middle\">" + esc(x_title) + "</text></svg>\n";
}

// ---------------------------------------------------------------- word diff

struct word {
  std::string_view text, space;  // the word and the whitespace after it
};
std::vector<word> split_words(std::string_view s, std::size_t max_words, bool& cut) {
  std::vector<word> out;
  std::size_t i = 0;
  auto is_space = [](char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; };
  while (i < s.size() && is_space(s[i])) ++i;
  cut = false;
  while (i < s.size()) {
    if (out.size() == max_words) {
      cut = true;
      break;
    }
    std::size_t j = i;
    while (j < s.size() && !is_space(s[j])) ++j;
    std::size_t k = j;
    while (k < s.size() && is_space(s[k])) ++k;
    out.push_back({s.substr(i, j - i), s.substr(j, k - j)});
    i = k;
  }
  return out;
}

// in_common[i] = word i of `a` is part of a longest common subsequence with `b`.
void common_words(const std::vector<word>& a, const std::vector<word>& b, std::vector<std::uint8_t>& in_a,
                  std::vector<std::uint8_t>& in_b) {
  const std::size_t n = a.size(), m = b.size();
  if ((n + 1) * (m + 1) > (std::size_t{1} << 22)) {
    // Too long for the quadratic table: mark the words missing from the other text.
    auto mark = [](const std::vector<word>& x, const std::vector<word>& y, std::vector<std::uint8_t>& in_x) {
      std::vector<std::string_view> ys;
      for (const word& w : y) ys.push_back(w.text);
      std::sort(ys.begin(), ys.end());
      in_x.resize(x.size());
      for (std::size_t i = 0; i < x.size(); ++i) in_x[i] = std::binary_search(ys.begin(), ys.end(), x[i].text) ? 1 : 0;
    };
    mark(a, b, in_a);
    mark(b, a, in_b);
    return;
  }
  std::vector<std::uint16_t> t((n + 1) * (m + 1), 0);
  auto at = [&](std::size_t i, std::size_t j) -> std::uint16_t& { return t[i * (m + 1) + j]; };
  for (std::size_t i = n; i-- > 0;) {
    for (std::size_t j = m; j-- > 0;) {
      at(i, j) = a[i].text == b[j].text ? static_cast<std::uint16_t>(at(i + 1, j + 1) + 1)
                                        : std::max(at(i + 1, j), at(i, j + 1));
    }
  }
  in_a.assign(n, 0);
  in_b.assign(m, 0);
  std::size_t i = 0, j = 0;
  while (i < n && j < m) {
    if (a[i].text == b[j].text) {
      in_a[i++] = 1;
      in_b[j++] = 1;
    } else if (at(i + 1, j) >= at(i, j + 1)) {
      ++i;
    } else {
      ++j;
    }
  }
}

void render_words(std::string& out, const std::vector<word>& w, const std::vector<std::uint8_t>& common, bool cut) {
  out += "<pre class=\"text\">";
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (!common[i]) out += "<mark>";
    escape(out, w[i].text);
    if (!common[i]) out += "</mark>";
    escape(out, w[i].space.find('\n') != std::string_view::npos ? std::string_view("\n") : std::string_view(" "));
  }
  if (cut) out += "<span class=\"cut\">[… cut]</span>";
  out += "</pre>";
}

// ---------------------------------------------------------------- the run

struct removal {
  std::size_t row;  // in evidence.tsv
  std::uint64_t doc, partner, kept;
  double similarity;
  bool exact;
};

struct source_row {
  std::string name, path;
  bool jsonl = true;
  std::uint64_t first_doc = 0, documents = 0, kept = 0, exact = 0, near = 0, removed_bytes = 0;
};

// Texts of the wanted documents, read again from their sources.
std::map<std::uint64_t, std::string> read_texts(const std::vector<source_row>& sources, std::vector<std::uint64_t> wanted,
                                                const io::record_options& records, std::vector<std::string>& problems) {
  std::map<std::uint64_t, std::string> texts;
  std::sort(wanted.begin(), wanted.end());
  wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
  std::size_t w = 0;
  for (const source_row& s : sources) {
    std::vector<std::uint64_t> here;
    while (w < wanted.size() && wanted[w] < s.first_doc + s.documents) here.push_back(wanted[w++] - s.first_doc);
    if (here.empty()) continue;
    std::vector<io::source_info> one(1);
    one[0].path = s.path;
    one[0].name = s.name;
    one[0].kind = s.jsonl ? io::source_kind::jsonl : io::source_kind::text_file;
    one[0].codec = io::compression_from_name(s.path);
    try {
      io::corpus_reader reader(one);
      io::input_chunk chunk;
      io::record_parser parser;
      std::uint64_t ordinal = 0;
      std::size_t next = 0;
      auto take = [&](const io::record& r) {
        texts[s.first_doc + ordinal] = r.status == io::record_status::ok ? std::string(r.text) : std::string(r.raw);
        ++next;
      };
      while (next < here.size() && reader.next(chunk)) {
        if (chunk.whole_file_document) {
          if (ordinal == here[next]) take(parser.parse_document(chunk));
          ++ordinal;
          continue;
        }
        // Only the wanted lines are parsed: the others are counted.
        io::for_each_line(chunk, [&](std::size_t begin, std::size_t end, std::uint64_t line) {
          if (next == here.size()) return;
          const std::string_view raw(chunk.data.data() + begin, end - begin);
          if (io::is_blank_record_line(raw, chunk.byte_offset + begin)) return;
          if (ordinal == here[next]) take(parser.parse_line(chunk, begin, end, line, records));
          ++ordinal;
        });
      }
    } catch (const std::exception& e) {
      problems.push_back(e.what());
    }
  }
  return texts;
}

const char* css = R"CSS(
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}header p{margin:4px 0 0;color:#c9d1e0}
main{max-width:1400px;margin:0 auto;padding:12px 28px 40px}
section{background:#fff;border:1px solid #dde1e8;border-radius:8px;margin:16px 0;padding:14px 18px}
h2{font-size:18px;margin:0 0 10px}h3{font-size:15px;margin:14px 0 6px}
.cards{display:flex;flex-wrap:wrap;gap:10px}.card{border:1px solid #dde1e8;border-radius:6px;padding:8px 14px;min-width:120px}
.card b{display:block;font-size:20px}.card span{color:#5b6475;font-size:12px}
.charts{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-start}.charts>div{max-width:560px}.chart{width:560px;max-width:100%;height:auto;background:#fff}
.ctitle{font-size:14px;font-weight:600;fill:#1d2330}.lbl{font-size:11px;fill:#333}.atitle{font-size:12px;fill:#333}
.axis{stroke:#333;stroke-width:1}.grid{stroke:#e3e6ec;stroke-width:1}.thr{stroke:#c0392b;stroke-width:1.5;stroke-dasharray:5 4}
.curve{fill:none;stroke:#2c6fbb;stroke-width:2.5}.dot{fill:#c0392b}
.b-kept{fill:#3b8d5a}.b-exact{fill:#8e6bbf}.b-near{fill:#d9822b}.b-bad{fill:#9aa3b2}.b-ver{fill:#2c6fbb}.b-rej{fill:#e0a030}.b-time{fill:#4a7fb5}.b-src{fill:#d9822b}
table{border-collapse:collapse;font-size:13px}td,th{border-bottom:1px solid #e3e6ec;padding:3px 10px;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.pair{border:1px solid #dde1e8;border-radius:6px;margin:10px 0;padding:8px 10px}
.pair.exact{padding:4px 10px;margin:4px 0}.pair .meta{font-size:13px;margin-bottom:6px}.cols{display:grid;grid-template-columns:1fr 1fr;gap:10px}
.doc h4{margin:0 0 4px;font-size:12px;color:#5b6475;font-weight:600;word-break:break-all}
pre.text{white-space:pre-wrap;word-wrap:break-word;font:12px/1.4 ui-monospace,Menlo,Consolas,monospace;background:#fafbfc;border:1px solid #e3e6ec;padding:6px;margin:0;max-height:320px;overflow:auto}
mark{background:#ffd98a}.cut{color:#8a93a3}.note{color:#5b6475;font-size:12.5px}.id{font-family:ui-monospace,Menlo,monospace}
.kind{display:inline-block;padding:0 6px;border-radius:4px;background:#eef1f6;font-size:12px}
)CSS";

class page {
 public:
  explicit page(std::string dir, const report_options& o) : dir_(std::move(dir)), o_(o) {}

  std::string render(report_summary* summary);

 private:
  void load();
  void at_a_glance(std::string& h);
  void s_curve(std::string& h);
  void similarity_histogram(std::string& h);
  void cluster_sizes(std::string& h);
  void examples(std::string& h);
  void by_source(std::string& h);
  void eval(std::string& h);
  void pair_view(std::string& h, std::uint64_t left, std::uint64_t right, const std::string& heading,
                 const std::string& left_title, const std::string& right_title);
  std::string id_of_row(std::size_t row, std::size_t col) const { return unescape_tsv(evidence_.at(row, col)); }
  std::string doc_label(std::uint64_t doc) const;

  std::string dir_;
  report_options o_;
  std::string stats_text_;
  dom::parser parser_;
  dom::element stats_;
  bool near_ = false;
  double threshold_ = 0;
  lsh_params lsh_{};
  tsv_table evidence_, misses_, false_merges_;
  // Exact Jaccard of two shown texts with the run's shingles ("" when the run's
  // options are unknown).
  std::string exact_jaccard_of(std::uint64_t a, std::uint64_t b);
  std::optional<shingler> shingler_;
  std::vector<removal> removed_;
  std::vector<source_row> sources_;
  std::map<std::uint64_t, std::string> ids_;    // doc -> id, for the documents shown
  std::map<std::uint64_t, std::string> texts_;
  std::vector<std::string> problems_;
  std::size_t texts_missing_ = 0;
  std::size_t shown_ = 0;
  // Pairs chosen for display: (heading html, left doc, right doc, titles).
  struct shown_pair {
    std::string section;  // the section's opening html; pairs of one section are consecutive
    std::string before;   // html before the pair (a cluster's heading)
    std::string heading, left_title, right_title;
    std::uint64_t left, right;
    bool with_exact_jaccard = false;  // appended to the heading once the texts are read
  };
  std::vector<shown_pair> pairs_;
};

void page::load() {
  stats_text_ = read_text_file(dir_ + "/stats.json", true);
  if (parser_.parse(stats_text_).get(stats_) != simdjson::SUCCESS) {
    throw std::runtime_error(dir_ + "/stats.json: not valid JSON");
  }
  near_ = json_string(stats_, "/command") == "dedup";
  threshold_ = std::clamp(json_number(stats_, "/parameters/threshold"), 0.0, 1.0);
  lsh_.bands = static_cast<std::uint32_t>(json_count(stats_, "/parameters/bands"));
  lsh_.rows = static_cast<std::uint32_t>(json_count(stats_, "/parameters/rows"));

  evidence_ = read_tsv(dir_ + "/evidence.tsv", 9, true);
  misses_ = read_tsv(dir_ + "/near_misses.tsv", 7, false);
  false_merges_ = read_tsv(dir_ + "/false_merges.tsv", 4, false);  // from eval
  removed_.reserve(evidence_.rows());
  for (std::size_t r = 0; r < evidence_.rows(); ++r) {
    removed_.push_back({r, to_u64(evidence_.at(r, 6)), to_u64(evidence_.at(r, 7)), to_u64(evidence_.at(r, 8)),
                        to_f64(evidence_.at(r, 4)), evidence_.at(r, 3) == "exact"});
  }
  const tsv_table src = read_tsv(dir_ + "/sources.tsv", 8, true);
  std::uint64_t first = 0;
  for (std::size_t r = 0; r < src.rows(); ++r) {
    source_row s;
    s.name = unescape_tsv(src.at(r, 0));
    s.path = unescape_tsv(src.at(r, 1));
    s.jsonl = src.at(r, 2) == "jsonl";
    s.first_doc = first;
    s.documents = to_u64(src.at(r, 3));
    s.kept = to_u64(src.at(r, 4));
    s.exact = to_u64(src.at(r, 5));
    s.near = to_u64(src.at(r, 6));
    s.removed_bytes = to_u64(src.at(r, 7));
    first += s.documents;
    sources_.push_back(std::move(s));
  }
}

std::string page::doc_label(std::uint64_t doc) const {
  const auto it = ids_.find(doc);
  return (it != ids_.end() ? it->second : std::string("?")) + " (document " + count(doc) + ")";
}

void card(std::string& h, const std::string& value, const std::string& label) {
  h += "<div class=\"card\"><b>" + esc(value) + "</b><span>" + esc(label) + "</span></div>";
}

void page::at_a_glance(std::string& h) {
  const std::uint64_t read = json_count(stats_, "/documents/read"), kept = json_count(stats_, "/documents/kept");
  const std::uint64_t exact = json_count(stats_, "/documents/removed_exact_duplicates");
  const std::uint64_t near = json_count(stats_, "/documents/removed_near_duplicates");
  const std::uint64_t bad = json_count(stats_, "/documents/skipped");
  std::uint64_t saved = 0;
  for (const auto& s : sources_) saved += s.removed_bytes;
  const double text_bytes = json_number(stats_, "/text_bytes");
  h += "<section id=\"glance\"><h2>The run at a glance</h2><div class=\"cards\">";
  card(h, count(read), "documents read");
  card(h, count(kept), "kept (" + percent(static_cast<double>(kept), static_cast<double>(read)) + ")");
  card(h, count(exact), "removed: exact duplicates");
  card(h, count(near), "removed: near duplicates");
  card(h, bytes(static_cast<double>(saved)), "text removed (" + percent(static_cast<double>(saved), text_bytes) + " of " +
                                                 bytes(text_bytes) + ")");
  card(h, count(bad), "bad records (kept as is)");
  card(h, count(json_count(stats_, "/clusters/with_duplicates")), "clusters with duplicates");
  card(h, fmt("%.2f s", json_number(stats_, "/seconds/total")), "total time");
  h += "</div><div class=\"charts\">";
  bar_chart(h, "docs", "Documents", {"read", "kept", "removed exact", "removed near", "bad records"},
            {{"documents", "b-kept", {static_cast<double>(read), static_cast<double>(kept), static_cast<double>(exact),
                                      static_cast<double>(near), static_cast<double>(bad)},
              {"b-time", "b-kept", "b-exact", "b-near", "b-bad"}}},
            false, "", "documents");
  std::vector<std::pair<std::string, double>> stages;
  for (const auto& [k, v] : json_fields(stats_, "/seconds")) {
    if (k != "total") stages.emplace_back(k, to_f64(v));
  }
  hbar_chart(h, "stages", "Seconds per stage", stages, "seconds", "b-time", [](double v) { return fmt("%.3f s", v); });
  h += "</div><div class=\"charts\"><div><h3>Bad records by reason</h3><table>";
  for (const auto& [k, v] : json_fields(stats_, "/documents/skipped_by_reason")) {
    h += "<tr><td>" + esc(k) + "</td><td class=\"n\">" + esc(v) + "</td></tr>";
  }
  for (const auto& [k, v] : json_fields(stats_, "/documents/repaired")) {
    h += "<tr><td>repaired: " + esc(k) + "</td><td class=\"n\">" + esc(v) + "</td></tr>";
  }
  for (const char* k : {"empty", "shorter_than_ngram", "duplicate_ids", "blank_lines"}) {
    h += "<tr><td>" + esc(k) + "</td><td class=\"n\">" + count(json_count(stats_, (std::string("/documents/") + k).c_str())) +
         "</td></tr>";
  }
  h += "</table></div><div><h3>Parameters</h3><table>";
  for (const auto& [k, v] : json_fields(stats_, "/parameters")) {
    h += "<tr><td>" + esc(k) + "</td><td>" + esc(v) + "</td></tr>";
  }
  h += "<tr><td>neardup version</td><td>" + esc(json_string(stats_, "/neardup_version")) + "</td></tr>";
  h += "</table></div></div></section>\n";
}

void page::s_curve(std::string& h) {
  h += "<section id=\"s-curve\"><h2>LSH S-curve</h2>";
  if (!near_ || lsh_.bands == 0) {
    h += "<p class=\"note\">Not a near-duplicate run: no LSH.</p></section>\n";
    return;
  }
  if (lsh_.rows == 0) {  // a damaged stats.json: the core rejects such a banding
    h += "<p class=\"note\">stats.json gives no valid banding (rows = 0).</p></section>\n";
    return;
  }
  const double p_at = candidate_probability(threshold_, lsh_);
  const double miss_band = threshold_ < 1 ? false_negative_area(threshold_, lsh_) / (1 - threshold_) : 1 - p_at;
  h += "<div class=\"charts\">";
  {
    svg_chart c(h, "s-curve", "P(candidate) of a pair against its Jaccard, b = " + std::to_string(lsh_.bands) +
                                  ", r = " + std::to_string(lsh_.rows));
    c.x_range(0, 1);
    c.y_range(0, 1);
    c.y_axis("P(candidate)");
    c.x_ticks(nice_ticks(0, 1));
    c.x_title("Jaccard similarity of a pair");
    std::string d = "<path class=\"curve\" d=\"";
    for (int i = 0; i <= 200; ++i) {
      const double j = i / 200.0;
      d += i == 0 ? 'M' : 'L';
      d += fmt("%.1f", c.px(j));
      d += ',';
      d += fmt("%.1f", c.py(candidate_probability(j, lsh_)));
    }
    c.raw(d + "\"/>");
    c.line(c.px(threshold_), m_top, c.px(threshold_), m_top + plot_h, "thr");
    c.raw("<circle class=\"dot\" cx=\"" + fmt("%.1f", c.px(threshold_)) + "\" cy=\"" + fmt("%.1f", c.py(p_at)) + "\" r=\"4\"/>");
    c.text(c.px(threshold_) - 6, m_top + 14, "threshold " + fmt("%g", threshold_), "end");
    c.text(c.px(threshold_) + 6, c.py(p_at) + 16, "P = " + fmt("%.4f", p_at), "start");
  }
  h += "<div><table>";
  h += "<tr><td>threshold</td><td class=\"n\">" + fmt("%g", threshold_) + "</td></tr>";
  h += "<tr><td>bands × rows</td><td class=\"n\">" + std::to_string(lsh_.bands) + " × " + std::to_string(lsh_.rows) + "</td></tr>";
  h += "<tr><td>P(candidate) at the threshold</td><td class=\"n\">" + fmt("%.4f", p_at) + "</td></tr>";
  h += "<tr><td>expected miss rate of a pair at the threshold</td><td class=\"n\">" + fmt("%.2f%%", 100 * (1 - p_at)) + "</td></tr>";
  h += "<tr><td>expected miss rate, pairs uniform in [threshold, 1]</td><td class=\"n\">" + fmt("%.3f%%", 100 * miss_band) +
       "</td></tr>";
  for (const auto& [k, v] : json_fields(stats_, "/lsh")) {
    h += "<tr><td>" + esc(k) + "</td><td class=\"n\">" + count(to_u64(v)) + "</td></tr>";
  }
  h += "</table><p class=\"note\">A pair is missed when none of its b bands agrees: 1 − (1 − J<sup>r</sup>)<sup>b</sup> is the "
       "chance it becomes a candidate. Verification (" +
       esc(json_string(stats_, "/parameters/verify")) + ") then decides.</p></div></div></section>\n";
}

void page::similarity_histogram(std::string& h) {
  h += "<section id=\"similarity\"><h2>Similarity of verified and rejected candidate pairs</h2>";
  if (!near_) {
    h += "<p class=\"note\">Not a near-duplicate run.</p></section>\n";
    return;
  }
  constexpr double width = 0.02;
  const double lo = std::max(0.0, std::floor((threshold_ - 0.3) / width) * width);
  const auto bins = static_cast<std::size_t>(std::lround((1 - lo) / width));
  std::vector<double> verified(bins, 0), rejected(bins, 0);
  std::uint64_t below_v = 0, below_r = 0, n_v = 0;
  auto bin = [&](double s) { return std::min(bins - 1, static_cast<std::size_t>((s - lo) / width + 1e-9)); };
  for (const removal& r : removed_) {
    if (r.exact) continue;
    ++n_v;
    if (r.similarity < lo) {
      ++below_v;
    } else {
      verified[bin(r.similarity)] += 1;
    }
  }
  std::string kind = "Jaccard";
  for (std::size_t r = 0; r < misses_.rows(); ++r) {
    const double s = to_f64(misses_.at(r, 3));
    if (misses_.at(r, 2) == "estimate") kind = "MinHash estimate";
    if (s < lo) {
      ++below_r;
    } else {
      rejected[bin(s)] += 1;
    }
  }
  for (const removal& r : removed_) {
    if (!r.exact && evidence_.at(r.row, 3) == "estimate") kind = "MinHash estimate";
  }
  std::vector<std::string> cats;
  for (std::size_t i = 0; i < bins; ++i) cats.push_back(fmt("%.2f", lo + width * static_cast<double>(i)));
  h += "<div class=\"charts\">";
  bar_chart(h, "similarity", "Pairs by " + kind + " (bins of 0.02, lower edge)", cats,
            {{"verified links (all)", "b-ver", verified}, {"rejected (sample)", "b-rej", rejected}}, false,
            kind + " of the pair", "pairs", {(threshold_ - lo) / width, "threshold " + fmt("%g", threshold_)});
  // The threshold as a marker under the chart's title.
  h += "<div><p class=\"note\">Verified: the link of every removed near duplicate (" + count(n_v) +
       (below_v ? ", " + count(below_v) + " below " + fmt("%.2f", lo) : std::string()) +
       "). Rejected: the " + count(misses_.rows()) + " distinct rejected pairs of near_misses.tsv (when there are more than its limit: the most similar of a seeded sample, so it leans towards the threshold; the run made " +
       count(json_count(stats_, "/lsh/rejected")) + " rejected verifications, and a pair may be rejected in several bands)" +
       (below_r ? " (" + count(below_r) + " below " + fmt("%.2f", lo) + ", not drawn)" : std::string()) +
       ". The threshold is " + fmt("%g", threshold_) + ": verified bars start at its bin, rejected bars end there. " +
       "A pile of rejected pairs just under the threshold means a slightly lower threshold would remove many more.</p></div>";
  h += "</div></section>\n";
}

void page::cluster_sizes(std::string& h) {
  h += "<section id=\"cluster-sizes\"><h2>Cluster sizes</h2><div class=\"charts\">";
  std::vector<std::pair<std::uint64_t, std::uint64_t>> hist;
  for (const auto& [k, v] : json_fields(stats_, "/clusters/size_histogram")) hist.emplace_back(to_u64(k), to_u64(v));
  // Power-of-two buckets: 1, 2, 3-4, 5-8, ...
  std::vector<std::string> cats;
  std::vector<double> counts;
  std::uint64_t lo = 1, hi = 1;
  const std::uint64_t largest = std::min<std::uint64_t>(hist.empty() ? 1 : hist.back().first, std::uint64_t{1} << 40);
  while (lo <= largest) {
    double c = 0;
    for (const auto& [size, n] : hist) c += size >= lo && size <= hi ? static_cast<double>(n) : 0;
    cats.push_back(lo == hi ? std::to_string(lo) : std::to_string(lo) + "–" + std::to_string(hi));
    counts.push_back(c);
    lo = hi + 1;
    hi = hi * 2;
  }
  bar_chart(h, "sizes", "Clusters by size (log scale)", cats, {{"clusters", "b-near", counts}}, true,
            "documents in the cluster", "clusters");
  h += "<div><table><tr><th class=\"n\">size</th><th class=\"n\">clusters</th></tr>";
  const std::size_t first = hist.size() > 12 ? hist.size() - 12 : 0;
  if (first > 0) h += "<tr><td colspan=\"2\" class=\"note\">the 12 largest sizes of " + count(hist.size()) + "</td></tr>";
  for (std::size_t i = first; i < hist.size(); ++i) {
    h += "<tr><td class=\"n\">" + count(hist[i].first) + "</td><td class=\"n\">" + count(hist[i].second) + "</td></tr>";
  }
  h += "</table></div></div></section>\n";
}

void page::pair_view(std::string& h, std::uint64_t left, std::uint64_t right, const std::string& heading,
                     const std::string& left_title, const std::string& right_title) {
  if (left_title.empty()) {  // an exact duplicate: the same text, nothing to compare
    h += "<div class=\"pair exact\"><div class=\"meta\">" + heading + " · same text after normalization</div></div>";
    return;
  }
  h += "<div class=\"pair\"><div class=\"meta\">" + heading + "</div><div class=\"cols\">";
  const auto lt = texts_.find(left), rt = texts_.find(right);
  if (lt == texts_.end() || rt == texts_.end()) {
    h += "<p class=\"note\">Text not available (the input could not be read again).</p></div></div>";
    return;
  }
  bool cut_l = false, cut_r = false;
  const auto wl = split_words(lt->second, o_.max_words_shown, cut_l);
  const auto wr = split_words(rt->second, o_.max_words_shown, cut_r);
  std::vector<std::uint8_t> cl, cr;
  common_words(wl, wr, cl, cr);
  h += "<div class=\"doc\"><h4>" + left_title + "</h4>";
  render_words(h, wl, cl, cut_l);
  h += "</div><div class=\"doc\"><h4>" + right_title + "</h4>";
  render_words(h, wr, cr, cut_r);
  h += "</div></div></div>";
  shown_ += 2;
}

std::string page::exact_jaccard_of(std::uint64_t a, std::uint64_t b) {
  const auto ta = texts_.find(a), tb = texts_.find(b);
  if (ta == texts_.end() || tb == texts_.end()) return {};
  if (!shingler_) {
    const auto kind = neardup::parse<token_kind>(json_string(stats_, "/parameters/tokens"));
    const std::uint64_t ngram = json_count(stats_, "/parameters/ngram");
    if (!kind || ngram < 1 || ngram > max_ngram) return {};
    shingler_.emplace(shingle_options{tokenize_options::for_kind(*kind), static_cast<std::size_t>(ngram),
                                      json_u64(stats_, "/parameters/seed", default_seed)});
  }
  std::vector<std::uint64_t> sa, sb;
  shingler_->shingles(ta->second, sa);
  shingler_->shingles(tb->second, sb);
  return " · <span class=\"kind\">exact Jaccard " + fmt("%.4f", neardup::exact_jaccard(sa, sb)) + "</span>";
}

void page::examples(std::string& h) {
  std::string current;
  for (const shown_pair& p : pairs_) {
    if (p.section != current) {
      if (!current.empty()) h += "</section>\n";
      current = p.section;
      h += p.section;
    }
    h += p.before;
    const std::string heading = p.with_exact_jaccard ? p.heading + exact_jaccard_of(p.left, p.right) : p.heading;
    pair_view(h, p.left, p.right, heading, p.left_title, p.right_title);
  }
  if (!current.empty()) h += "</section>\n";
}

void page::by_source(std::string& h) {
  h += "<section id=\"sources\"><h2>Removal by source</h2>";
  std::vector<const source_row*> order;
  for (const auto& s : sources_) order.push_back(&s);
  std::stable_sort(order.begin(), order.end(),
                   [](const source_row* a, const source_row* b) { return a->exact + a->near > b->exact + b->near; });
  const std::size_t shown = std::min(order.size(), o_.sources_shown);
  std::vector<std::pair<std::string, double>> bars;
  for (std::size_t i = 0; i < shown; ++i) {
    bars.emplace_back(order[i]->name, order[i]->documents ? static_cast<double>(order[i]->exact + order[i]->near) /
                                                                 static_cast<double>(order[i]->documents) * 100
                                                           : 0);
  }
  h += "<div class=\"charts\">";
  hbar_chart(h, "sources", "Share of documents removed, by source", bars, "% of the source's documents removed", "b-src",
             [](double v) { return fmt("%.1f%%", v); });
  h += "<div><table><tr><th>source</th><th class=\"n\">documents</th><th class=\"n\">removed exact</th><th class=\"n\">removed "
       "near</th><th class=\"n\">text removed</th></tr>";
  for (std::size_t i = 0; i < shown; ++i) {
    const source_row& s = *order[i];
    h += "<tr><td class=\"id\">" + esc(s.name) + "</td><td class=\"n\">" + count(s.documents) + "</td><td class=\"n\">" +
         count(s.exact) + "</td><td class=\"n\">" + count(s.near) + "</td><td class=\"n\">" +
         bytes(static_cast<double>(s.removed_bytes)) + "</td></tr>";
  }
  h += "</table>";
  if (shown < order.size()) {
    h += "<p class=\"note\">The " + count(shown) + " sources with the most removals of " + count(order.size()) +
         " (all in sources.tsv).</p>";
  }
  h += "</div></div></section>\n";
}

void page::eval(std::string& h) {
  const std::string text = read_text_file(dir_ + "/eval.json", false);
  if (text.empty()) return;
  dom::parser p;
  dom::element e;
  if (p.parse(text).get(e) != simdjson::SUCCESS) return;
  h += "<section id=\"eval\"><h2>Evaluation against exact Jaccard (eval.json)</h2><div class=\"cards\">";
  card(h, fmt("%.4f", json_number(e, "/precision")), "precision (documents)");
  card(h, fmt("%.4f", json_number(e, "/recall")), "recall (documents)");
  card(h, fmt("%.4f", json_number(e, "/f1")), "F1");
  card(h, fmt("%.4f", json_number(e, "/pair_recall")), "pair recall");
  card(h, count(json_count(e, "/false_merge_clusters")), "false merges (clusters)");
  card(h, count(json_count(e, "/false_merge_documents")), "documents in false merges");
  h += "</div>";
  if (false_merges_.rows() > 0) {
    h += "<p class=\"note\"><a href=\"#false-merges\">The falsely merged documents</a> are shown below, beside the "
         "document kept for them.</p>";
  }
  h += "<table>";
  for (const auto& [k, v] : json_fields(e, "")) h += "<tr><td>" + esc(k) + "</td><td class=\"n\">" + esc(v) + "</td></tr>";
  h += "</table></section>\n";
}

std::string page::render(report_summary* summary) {
  load();
  // ---- choose what to show ------------------------------------------------
  std::map<std::uint64_t, std::vector<const removal*>> members;  // kept doc -> removals (largest clusters only)
  std::vector<std::pair<std::uint64_t, std::uint64_t>> sizes;    // (size, kept)
  {
    std::vector<std::uint64_t> kept;
    kept.reserve(removed_.size());
    for (const removal& r : removed_) kept.push_back(r.kept);
    std::sort(kept.begin(), kept.end());
    for (std::size_t i = 0; i < kept.size();) {
      std::size_t j = i;
      while (j < kept.size() && kept[j] == kept[i]) ++j;
      sizes.emplace_back(j - i + 1, kept[i]);
      i = j;
    }
    std::sort(sizes.begin(), sizes.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    if (sizes.size() > o_.largest_clusters) sizes.resize(o_.largest_clusters);
  }
  for (const auto& [size, k] : sizes) members[k];
  for (const removal& r : removed_) {
    const auto it = members.find(r.kept);
    if (it != members.end()) it->second.push_back(&r);
  }
  std::vector<std::uint64_t> wanted;
  auto want_ids = [&](const removal& r) {
    ids_[r.doc] = id_of_row(r.row, 0);
    ids_[r.kept] = id_of_row(r.row, 1);
    ids_[r.partner] = id_of_row(r.row, 2);
  };
  auto kind_label = [&](const removal& r) {
    const std::string_view k = evidence_.at(r.row, 3);
    if (r.exact) return std::string("<span class=\"kind\">exact duplicate</span>");
    return "<span class=\"kind\">" + esc(k == "estimate" ? "MinHash estimate" : "exact Jaccard") + " " +
           fmt("%.4f", r.similarity) + "</span> band " + esc(evidence_.at(r.row, 5));
  };
  auto add_removal = [&](const std::string& section, const std::string& before, const removal& r) {
    want_ids(r);
    if (!r.exact) {
      wanted.push_back(r.doc);
      wanted.push_back(r.partner);
    }
    const std::string partner_role = r.partner == r.kept ? "kept" : "verified against (itself removed; cluster kept as " +
                                                                        esc(ids_[r.kept]) + ")";
    pairs_.push_back({section, before,
                      "removed <b class=\"id\">" + esc(ids_[r.doc]) + "</b> · " + kind_label(r) + " · against <b class=\"id\">" +
                          esc(ids_[r.partner]) + "</b>",
                      r.exact ? std::string() : "removed: " + esc(doc_label(r.doc)),
                      partner_role + ": " + esc(doc_label(r.partner)), r.doc, r.partner});
  };
  {
    const std::string section = "<section id=\"largest\"><h2>The largest clusters</h2><p class=\"note\">The " +
                          count(sizes.size()) + " largest clusters; in each, up to " + count(o_.members_shown) +
                          " removed documents (near duplicates first) beside the document they were verified against. "
                          "Highlighted: words not in the longest common word sequence of the two texts.</p>";
    for (const auto& [size, k] : sizes) {
      auto& m = members[k];
      std::stable_sort(m.begin(), m.end(), [](const removal* a, const removal* b) { return !a->exact && b->exact; });
      std::size_t exact = 0;
      for (const removal* r : m) exact += r->exact;
      ids_[k] = id_of_row(m.front()->row, 1);
      const std::string heading = "<h3>Cluster kept as <span class=\"id\">" + esc(ids_[k]) + "</span>: " + count(size) +
                      " documents (" + count(exact) + " exact, " + count(m.size() - exact) + " near duplicates removed)" +
                      (m.size() > o_.members_shown ? ", showing " + count(o_.members_shown) : std::string()) + "</h3>";
      for (std::size_t i = 0; i < std::min(m.size(), o_.members_shown); ++i) {
        add_removal(section, i == 0 ? heading : std::string(), *m[i]);
      }
    }
  }
  {
    std::vector<const removal*> near;
    for (const removal& r : removed_) {
      if (!r.exact) near.push_back(&r);
    }
    std::stable_sort(near.begin(), near.end(), [](const removal* a, const removal* b) { return a->similarity < b->similarity; });
    const std::size_t n = std::min(near.size(), o_.near_threshold_shown);
    const std::string section = "<section id=\"near-threshold\"><h2>Removals closest to the threshold</h2><p class=\"note\">The " +
                                count(n) + " removed near duplicates with the lowest similarity, of " + count(near.size()) +
                                " (all in evidence.tsv).</p>";
    for (std::size_t i = 0; i < n; ++i) add_removal(section, {}, *near[i]);
  }
  {
    std::vector<std::size_t> rows(misses_.rows());
    for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = i;
    std::stable_sort(rows.begin(), rows.end(),
                     [&](std::size_t a, std::size_t b) { return to_f64(misses_.at(a, 3)) > to_f64(misses_.at(b, 3)); });
    const std::size_t n = std::min(rows.size(), o_.near_misses_shown);
    const std::string section = "<section id=\"near-misses\"><h2>Near misses: rejected pairs just under the threshold</h2>"
                                "<p class=\"note\">The " + count(n) + " most similar of the " + count(misses_.rows()) +
                                " sampled rejected pairs (near_misses.tsv). Both documents were kept unless something else "
                                "removed them.</p>";
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t r = rows[i];
      const std::uint64_t a = to_u64(misses_.at(r, 5)), b = to_u64(misses_.at(r, 6));
      ids_[a] = unescape_tsv(misses_.at(r, 0));
      ids_[b] = unescape_tsv(misses_.at(r, 1));
      wanted.push_back(a);
      wanted.push_back(b);
      pairs_.push_back({section, {},
                        "rejected <b class=\"id\">" + esc(ids_[a]) + "</b> ~ <b class=\"id\">" + esc(ids_[b]) +
                            "</b> · <span class=\"kind\">" + esc(misses_.at(r, 2) == "estimate" ? "MinHash estimate" : "exact Jaccard") +
                            " " + fmt("%.4f", to_f64(misses_.at(r, 3))) + "</span> band " + esc(misses_.at(r, 4)),
                        esc(doc_label(a)), esc(doc_label(b)), a, b});
    }
  }
  {
    // eval: falsely merged documents beside the document kept for them.
    const std::size_t n = std::min(false_merges_.rows(), o_.false_merges_shown);
    const std::string section =
        "<section id=\"false-merges\"><h2>False merges (eval)</h2><p class=\"note\">The first " + count(n) + " of the " +
        count(false_merges_.rows()) +
        " documents in false_merges.tsv: each was put in a cluster whose kept document it is not connected to by any "
        "chain of pairs with exact Jaccard at or above the threshold. Shown beside the kept document, with their exact "
        "Jaccard and the link that removed it (evidence.tsv).</p>";
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t d = to_u64(false_merges_.at(i, 2)), k = to_u64(false_merges_.at(i, 3));
      ids_[d] = unescape_tsv(false_merges_.at(i, 0));
      ids_[k] = unescape_tsv(false_merges_.at(i, 1));
      wanted.push_back(d);
      wanted.push_back(k);
      std::string link;
      const auto it = std::find_if(removed_.begin(), removed_.end(), [d](const removal& r) { return r.doc == d; });
      if (it != removed_.end()) {
        want_ids(*it);
        link = " · removed by " + kind_label(*it) + " against <b class=\"id\">" + esc(ids_[it->partner]) + "</b>";
      }
      pairs_.push_back({section, {},
                        "falsely merged <b class=\"id\">" + esc(ids_[d]) + "</b> into the cluster of <b class=\"id\">" +
                            esc(ids_[k]) + "</b>" + link,
                        "removed: " + esc(doc_label(d)), "kept: " + esc(doc_label(k)), d, k, true});
    }
  }
  io::record_options records;
  records.text_field = json_string(stats_, "/parameters/text_field");
  records.id_field = json_string(stats_, "/parameters/id_field");
  if (records.text_field.empty()) records.text_field = "text";
  if (o_.read_texts) texts_ = read_texts(sources_, wanted, records, problems_);
  for (std::uint64_t d : wanted) texts_missing_ += texts_.count(d) ? 0 : 1;

  // ---- the page -----------------------------------------------------------
  std::string h;
  h.reserve(1 << 20);
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
       "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
       "<title>neardup report: ";
  escape(h, dir_);
  h += "</title><style>";
  h += css;
  h += "</style></head><body><header><h1>neardup " + esc(json_string(stats_, "/command")) + " report</h1><p>";
  escape(h, dir_);
  h += " · inputs: ";
  std::size_t listed = 0;
  for (const auto& s : sources_) {
    if (listed++ == 5) {
      h += ", … (" + count(sources_.size()) + " sources)";
      break;
    }
    if (listed > 1) h += ", ";
    escape(h, s.name);
  }
  h += " · made by neardup " + esc(version_string()) + "</p></header><main>";
  h += "<p class=\"note\">This page samples: it shows the largest clusters, the removals closest to the threshold and the "
       "most similar of a seeded sample of rejected pairs, and says how many there are in all. Every removal is listed in evidence.tsv.";
  if (texts_missing_ > 0) {
    h += " " + count(texts_missing_) + " texts could not be read again";
    for (const auto& p : problems_) h += " (" + esc(p) + ")";
    h += ".";
  }
  h += "</p>";
  at_a_glance(h);
  eval(h);
  s_curve(h);
  similarity_histogram(h);
  cluster_sizes(h);
  examples(h);
  by_source(h);
  h += "</main></body></html>\n";
  if (summary != nullptr) {
    summary->bytes = h.size();
    summary->documents_shown = shown_;
    summary->texts_missing = texts_missing_;
  }
  return h;
}

}  // namespace

std::string render_report(const std::string& run_dir, const report_options& options, report_summary* summary) {
  page p(run_dir, options);
  return p.render(summary);
}

report_summary write_report(const std::string& run_dir, const std::string& html_path, const report_options& options) {
  report_summary s;
  const std::string html = render_report(run_dir, options, &s);
  io::write_file_atomic(html_path, html);
  return s;
}

}  // namespace neardup::jobs
