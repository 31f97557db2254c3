#include "args.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>

namespace neardup_cli {

namespace {

// The bound as written by a person: 1e-09, 0.5, 1 (not "0.000000").
std::string shortest(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  for (int precision = 1; precision <= 17; ++precision) {
    char candidate[32];
    std::snprintf(candidate, sizeof candidate, "%.*g", precision, v);
    if (std::strtod(candidate, nullptr) == v) return candidate;
  }
  return buf;
}

}  // namespace

args::args(int argc, char** argv, int first, const std::vector<std::string>& value_options,
           const std::vector<std::string>& flag_options) {
  auto known = [](const std::vector<std::string>& list, std::string_view name) {
    return std::find(list.begin(), list.end(), name) != list.end();
  };
  bool only_positional = false;
  for (int i = first; i < argc; ++i) {
    std::string_view a = argv[i];
    if (only_positional || a.size() < 2 || a.substr(0, 2) != "--") {
      if (!only_positional && a.size() > 1 && a[0] == '-' && a != "-") {
        if (a == "-o") {
          if (i + 1 == argc) throw usage_error("option -o: missing value (-o OUTDIR)");
          values_.emplace("output", argv[++i]);
          continue;
        }
        throw usage_error("unknown option '" + std::string(a) + "'");
      }
      positional_.emplace_back(a);
      continue;
    }
    if (a == "--") {
      only_positional = true;
      continue;
    }
    std::string name(a.substr(2));
    std::optional<std::string> inline_value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name.resize(eq);
    }
    if (known(flag_options, name)) {
      if (inline_value) throw usage_error("option --" + name + " takes no value");
      flags_.push_back(name);
    } else if (known(value_options, name)) {
      if (inline_value) {
        values_.emplace(name, *inline_value);
      } else if (i + 1 < argc) {
        values_.emplace(name, argv[++i]);
      } else {
        throw usage_error("option --" + name + ": missing value");
      }
    } else {
      throw usage_error("unknown option --" + name);
    }
  }
}

bool args::flag(std::string_view name) const {
  return std::find(flags_.begin(), flags_.end(), name) != flags_.end();
}

std::optional<std::string> args::value(std::string_view name) const {
  auto [lo, hi] = values_.equal_range(name);
  if (lo == hi) return std::nullopt;
  return std::prev(hi)->second;  // the last one wins
}

std::vector<std::string> args::values(std::string_view name) const {
  std::vector<std::string> out;
  auto [lo, hi] = values_.equal_range(name);
  for (auto it = lo; it != hi; ++it) out.push_back(it->second);
  return out;
}

std::string args::get_string(std::string_view name, std::string fallback) const {
  auto v = value(name);
  return v ? *v : std::move(fallback);
}

double args::get_double(std::string_view name, double fallback, double min, double max) const {
  auto v = value(name);
  if (!v) return fallback;
  char* end = nullptr;
  const double d = std::strtod(v->c_str(), &end);
  if (v->empty() || end != v->c_str() + v->size() || !(d >= min && d <= max)) {
    throw usage_error("--" + std::string(name) + " must be a number in [" + shortest(min) + ", " + shortest(max) +
                      "], got '" + *v + "'");
  }
  return d;
}

std::uint64_t args::get_uint(std::string_view name, std::uint64_t fallback, std::uint64_t min,
                             std::uint64_t max) const {
  auto v = value(name);
  if (!v) return fallback;
  std::uint64_t x = 0;
  auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), x);
  if (v->empty() || ec != std::errc() || ptr != v->data() + v->size() || x < min || x > max) {
    throw usage_error("--" + std::string(name) + " must be an integer in [" + std::to_string(min) +
                      ", " + std::to_string(max) + "], got '" + *v + "'");
  }
  return x;
}

std::string args::get_choice(std::string_view name, std::string fallback,
                             const std::vector<std::string>& choices) const {
  auto v = value(name);
  if (!v) return fallback;
  if (std::find(choices.begin(), choices.end(), *v) == choices.end()) {
    std::string list;
    for (const auto& c : choices) list += (list.empty() ? "" : "|") + c;
    throw usage_error("--" + std::string(name) + " must be one of " + list + ", got '" + *v + "'");
  }
  return *v;
}

}  // namespace neardup_cli
