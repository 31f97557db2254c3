// The option table of the neardup executable: each option is declared once,
// with its name, value kind, help text, default and binding (a setter that
// writes the library's option struct). Parsing, --help text and error
// messages all come from the table, so they cannot disagree.
//
//   neardup::jobs::dedup_options o;
//   option_table t("dedup", "usage: neardup dedup INPUT... -o OUTDIR [options]\n");
//   t.add(real("threshold", "T", o.threshold, interval::open_closed(0, 1),
//              "Jaccard similarity of shingle sets that makes a duplicate"));   // help: [0.8]
//   const parsed p = t.parse(argc, argv);   // `--threshold 1.5` throws usage_error:
//                                           // "--threshold 1.5: must be in (0, 1]"
//
// A command accepts exactly the options of its table: an option of another
// command is rejected naming both ("--tokens is not used by 'neardup lines'").
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "neardup/enum_names.hpp"

namespace neardup_cli {

struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A closed or half-open range of real numbers, printed as in mathematics.
struct interval {
  double lo = 0, hi = 0;
  bool lo_open = false, hi_open = false;
  static interval closed(double lo, double hi) { return {lo, hi, false, false}; }
  static interval open_closed(double lo, double hi) { return {lo, hi, true, false}; }
  bool contains(double x) const;
  std::string to_string() const;  // "(0, 1]"
};

struct option {
  std::string name;          // spelled --name
  char short_name = 0;       // spelled -c as well ('o' for --output)
  std::string value_name;    // "T", "word|char|code"; empty for a flag
  std::string help;          // '\n' starts an indented continuation line
  std::string default_text;  // shown as [default_text] at the end of the help; empty: not shown
  std::string group;         // help section heading; "" = the command's own options
  bool positional = false;   // help only: describes positional arguments (value_name "INPUT...")
  // Stores the value (flags get ""); throws usage_error naming the option. A
  // value option given twice is applied twice: the last value wins, or a list
  // setter (--reference) collects both.
  std::function<void(const std::string& value)> apply;

  bool is_flag() const { return value_name.empty(); }
  // Replaces the default shown in --help (e.g. "all cores" for threads = 0).
  option&& shows_default(std::string text) && {
    default_text = std::move(text);
    return std::move(*this);
  }
  option&& in_group(std::string heading) && {
    group = std::move(heading);
    return std::move(*this);
  }
};

// ---- value kinds: each binds to a field and shows the field's value as the default

option flag(std::string name, std::string help, std::function<void()> set);
option text(std::string name, std::string value_name, std::string& target, std::string help);

// An unsigned integer in [lo, hi], stored as target = value * scale.
template <class T>
option integer(std::string name, std::string value_name, T& target, std::uint64_t lo, std::uint64_t hi,
               std::string help, std::uint64_t scale = 1);
// Same, into an optional (empty: unset; the help shows no default unless given).
template <class T>
option optional_integer(std::string name, std::string value_name, std::optional<T>& target, std::uint64_t lo,
                        std::uint64_t hi, std::string help, std::uint64_t scale = 1);
option real(std::string name, std::string value_name, double& target, interval range, std::string help);

// One of the spellings of a named enum (neardup::parse<E>/name/spellings),
// passed to `set`; the help shows `current` as the default.
template <neardup::named_enum E>
option choice(std::string name, E current, std::function<void(E)> set, std::string help) {
  option o;
  o.name = std::move(name);
  o.value_name = neardup::spellings<E>();
  o.help = std::move(help);
  o.default_text = std::string(neardup::name(current));
  o.apply = [set = std::move(set), self = o.name, values = o.value_name](const std::string& v) {
    const auto e = neardup::parse<E>(v);
    if (!e) throw usage_error("--" + self + " " + v + ": must be one of " + values);
    set(*e);
  };
  return o;
}
template <neardup::named_enum E>
option choice(std::string name, E& target, std::string help) {
  return choice<E>(std::move(name), target, [&target](E e) { target = e; }, std::move(help));
}

// What the command line held beyond the option values the table stored.
struct parsed {
  std::vector<std::string> positional;
  std::vector<std::string> given;  // option names seen, in order
  bool help = false;               // --help or -h: the help was printed, run nothing
  bool has(std::string_view name) const;
};

class option_table {
 public:
  // `intro`: the command's usage and description, printed first by --help.
  option_table(std::string command, std::string intro);

  void add(option o);
  const std::vector<option>& options() const { return options_; }
  const option* find(std::string_view name) const;

  // Parses argv[first..]; applies every value through the table; on --help
  // prints help() to stdout. Throws usage_error on an unknown or unused
  // option, a missing or bad value, or a repeated one.
  parsed parse(int argc, char** argv, int first = 2) const;

  // The --help text: intro, then each group's options with their defaults.
  std::string help() const;

  // Throws usage_error("--name is not used by 'neardup COMMAND' ...") when the
  // option `name` was given: for options a mode of the command ignores.
  void reject_if_given(const parsed& p, std::string_view name, std::string_view why) const;

 private:
  std::string command_, intro_;
  std::vector<option> options_;
};

// The commands that declare `--name`, for "not used by" messages ("dedup, pairs").
std::string commands_using(std::string_view name);

// ---- template definitions

// The value of --name as an integer in [lo, hi]; throws usage_error
// "--name VALUE: must be an integer in [lo, hi]".
std::uint64_t parse_uint(const std::string& name, const std::string& value, std::uint64_t lo, std::uint64_t hi);

template <class T>
option integer(std::string name, std::string value_name, T& target, std::uint64_t lo, std::uint64_t hi,
               std::string help, std::uint64_t scale) {
  option o;
  o.name = std::move(name);
  o.value_name = std::move(value_name);
  o.help = std::move(help);
  o.default_text = std::to_string(static_cast<std::uint64_t>(target) / scale);
  o.apply = [&target, lo, hi, scale, self = o.name](const std::string& v) {
    target = static_cast<T>(parse_uint(self, v, lo, hi) * scale);
  };
  return o;
}

template <class T>
option optional_integer(std::string name, std::string value_name, std::optional<T>& target, std::uint64_t lo,
                        std::uint64_t hi, std::string help, std::uint64_t scale) {
  option o;
  o.name = std::move(name);
  o.value_name = std::move(value_name);
  o.help = std::move(help);
  if (target) o.default_text = std::to_string(static_cast<std::uint64_t>(*target) / scale);
  o.apply = [&target, lo, hi, scale, self = o.name](const std::string& v) {
    target = static_cast<T>(parse_uint(self, v, lo, hi) * scale);
  };
  return o;
}

}  // namespace neardup_cli
