// Command-line parsing for the neardup executable: `--name value`,
// `--name=value`, boolean `--flag`, and positional arguments. Every error
// names the option and what it accepts.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace neardup_cli {

struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class args {
 public:
  // `value_options` take a value; `flag_options` do not. Unknown options are errors.
  args(int argc, char** argv, int first, const std::vector<std::string>& value_options,
       const std::vector<std::string>& flag_options);

  const std::vector<std::string>& positional() const { return positional_; }
  bool flag(std::string_view name) const;
  std::optional<std::string> value(std::string_view name) const;
  std::vector<std::string> values(std::string_view name) const;  // repeatable options

  std::string get_string(std::string_view name, std::string fallback) const;
  double get_double(std::string_view name, double fallback, double min, double max) const;
  std::uint64_t get_uint(std::string_view name, std::uint64_t fallback, std::uint64_t min,
                         std::uint64_t max) const;
  // One of `choices`, or `fallback` when absent.
  std::string get_choice(std::string_view name, std::string fallback,
                         const std::vector<std::string>& choices) const;

 private:
  std::vector<std::string> positional_;
  std::multimap<std::string, std::string, std::less<>> values_;
  std::vector<std::string> flags_;
};

}  // namespace neardup_cli
