#include "options.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>

namespace neardup_cli {

namespace {

// %g: "0.8", "1", "1e-09": the number as a user would type it.
std::string short_number(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", x);
  return buf;
}

std::string label_of(const option& o) {
  if (o.positional) return o.value_name;
  std::string label = o.short_name ? std::string("-") + o.short_name + ", --" : "--";
  label += o.name;
  if (!o.is_flag()) label += " " + o.value_name;
  return label;
}

std::string spelled(const option& o, bool as_short) {
  return as_short ? std::string("-") + o.short_name : "--" + o.name;
}

}  // namespace

bool interval::contains(double x) const {
  return (lo_open ? x > lo : x >= lo) && (hi_open ? x < hi : x <= hi);
}

std::string interval::to_string() const {
  std::string s(1, lo_open ? '(' : '[');
  s += short_number(lo);
  s += ", ";
  s += short_number(hi);
  s += hi_open ? ')' : ']';
  return s;
}

std::uint64_t parse_uint(const std::string& name, const std::string& value, std::uint64_t lo, std::uint64_t hi) {
  std::uint64_t x = 0;
  const char* end = value.data() + value.size();
  auto [ptr, ec] = std::from_chars(value.data(), end, x);
  if (value.empty() || ec != std::errc() || ptr != end || x < lo || x > hi) {
    throw usage_error("--" + name + " " + value + ": must be an integer in [" + std::to_string(lo) + ", " +
                      std::to_string(hi) + "]");
  }
  return x;
}

option flag(std::string name, std::string help, std::function<void()> set) {
  option o;
  o.name = std::move(name);
  o.help = std::move(help);
  o.apply = [set = std::move(set)](const std::string&) { set(); };
  return o;
}

option text(std::string name, std::string value_name, std::string& target, std::string help) {
  option o;
  o.name = std::move(name);
  o.value_name = std::move(value_name);
  o.help = std::move(help);
  o.default_text = target;
  o.apply = [&target](const std::string& v) { target = v; };
  return o;
}

option real(std::string name, std::string value_name, double& target, interval range, std::string help) {
  option o;
  o.name = std::move(name);
  o.value_name = std::move(value_name);
  o.help = std::move(help);
  o.default_text = short_number(target);
  o.apply = [&target, range, self = o.name](const std::string& v) {
    char* end = nullptr;
    const double d = std::strtod(v.c_str(), &end);
    if (v.empty() || end != v.c_str() + v.size() || !range.contains(d)) {
      throw usage_error("--" + self + " " + v + ": must be " + (v.empty() || end != v.c_str() + v.size() ? "a number " : "") +
                        "in " + range.to_string());
    }
    target = d;
  };
  return o;
}

bool parsed::has(std::string_view name) const {
  return std::find(given.begin(), given.end(), name) != given.end();
}

option_table::option_table(std::string command, std::string intro)
    : command_(std::move(command)), intro_(std::move(intro)) {}

void option_table::add(option o) {
  if (!o.positional && find(o.name) != nullptr) throw std::logic_error("option --" + o.name + " declared twice");
  options_.push_back(std::move(o));
}

const option* option_table::find(std::string_view name) const {
  for (const auto& o : options_) {
    if (!o.positional && o.name == name) return &o;
  }
  return nullptr;
}

parsed option_table::parse(int argc, char** argv, int first) const {
  parsed p;
  bool only_positional = false;
  for (int i = first; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (only_positional || a.size() < 2 || a[0] != '-') {
      p.positional.emplace_back(a);
      continue;
    }
    if (a == "--") {
      only_positional = true;
      continue;
    }
    if (a == "--help" || a == "-h") {
      std::fputs(help().c_str(), stdout);
      p.help = true;
      return p;
    }
    const bool as_short = a[1] != '-';
    const option* o = nullptr;
    std::optional<std::string> inline_value;
    if (as_short) {
      for (const auto& c : options_) {
        if (a.size() == 2 && c.short_name == a[1]) o = &c;
      }
      if (o == nullptr) throw usage_error("unknown option " + std::string(a));
    } else {
      std::string name(a.substr(2));
      if (const auto eq = name.find('='); eq != std::string::npos) {
        inline_value = name.substr(eq + 1);
        name.resize(eq);
      }
      o = find(name);
      if (o == nullptr) {
        const std::string users = commands_using(name);
        if (users.empty()) throw usage_error("unknown option --" + name);
        throw usage_error("option --" + name + " is not used by 'neardup " + command_ + "' (it is an option of " +
                          users + ")");
      }
    }
    if (o->is_flag()) {
      if (inline_value) throw usage_error("option --" + o->name + " takes no value");
      o->apply("");
    } else if (inline_value) {
      o->apply(*inline_value);
    } else if (i + 1 < argc) {
      o->apply(argv[++i]);
    } else {
      throw usage_error(spelled(*o, as_short) + ": missing value (" + o->value_name + ")");
    }
    p.given.push_back(o->name);
  }
  return p;
}

std::string option_table::help() const {
  constexpr std::size_t kColumn = 25;  // where help text starts
  std::vector<std::string> groups;
  for (const auto& o : options_) {
    if (std::find(groups.begin(), groups.end(), o.group) == groups.end()) groups.push_back(o.group);
  }
  // The command's own options ("" group) come right after the intro.
  std::stable_partition(groups.begin(), groups.end(), [](const std::string& g) { return g.empty(); });
  std::string out = intro_;
  for (const auto& g : groups) {
    out += "\n";
    if (!g.empty()) out += g + ":\n";
    for (const auto& o : options_) {
      if (o.group != g) continue;
      std::string line = "  " + label_of(o);
      line += line.size() + 2 <= kColumn ? std::string(kColumn - line.size(), ' ') : "  ";
      std::string body = o.help;
      if (!o.default_text.empty()) body += " [" + o.default_text + "]";
      for (const char c : body) {
        line += c;
        if (c == '\n') line += std::string(kColumn, ' ');
      }
      out += line + "\n";
    }
  }
  return out;
}

void option_table::reject_if_given(const parsed& p, std::string_view name, std::string_view why) const {
  if (p.has(name)) {
    throw usage_error("option --" + std::string(name) + " is not used by 'neardup " + command_ + "' " +
                      std::string(why));
  }
}

}  // namespace neardup_cli
