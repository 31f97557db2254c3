// The byte layout shared by the parts of jobs/parts.hpp (dedup, exact) and of
// jobs/decontaminate.hpp (scan_decontaminate_part): an 8-byte magic, u32
// version, u32 0, the fields written one by one in little-endian order, and
// the XXH3-64 (seed 0) of everything before it.
//
//   part_writer w(kMagic, kVersion);
//   w.num<std::uint64_t>(n); w.blob(text);
//   std::string bytes = w.take();
//   part_reader r(bytes, kMagic, kVersion);   // checks magic, checksum, version
//   n = r.num<std::uint64_t>(); text = r.blob();
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

#include "neardup/hash.hpp"

namespace neardup::jobs::detail {

// The fields are written one by one in little-endian order.
class part_writer {
 public:
  // Starts a part: magic, version, u32 0.
  part_writer(const char (&magic)[8], std::uint32_t version) {
    bytes(magic, sizeof(magic));
    num<std::uint32_t>(version);
    num<std::uint32_t>(0);
  }
  // Makes room for `n` more bytes of fields (and the checksum) at once, so
  // that a large part is written without regrowing (and copying) it.
  void reserve(std::size_t n) { out_.reserve(out_.size() + n + sizeof(std::uint64_t)); }
  void bytes(const void* p, std::size_t n) { out_.append(static_cast<const char*>(p), n); }
  template <class T>
  void num(T v) {
    unsigned char b[sizeof(T)];
    std::uint64_t u = 0;
    if constexpr (std::is_floating_point_v<T>) {
      std::memcpy(&u, &v, sizeof(T));
    } else {
      u = static_cast<std::uint64_t>(v);
    }
    for (std::size_t i = 0; i < sizeof(T); ++i) b[i] = static_cast<unsigned char>(u >> (8 * i));
    bytes(b, sizeof(T));
  }
  // Many u64 values, little-endian.
  void u64s(std::span<const std::uint64_t> v) {
    if constexpr (std::endian::native == std::endian::little) {
      bytes(v.data(), v.size() * sizeof(std::uint64_t));
    } else {
      for (const std::uint64_t x : v) num<std::uint64_t>(x);
    }
  }
  void blob(std::string_view s) {
    num<std::uint64_t>(s.size());
    bytes(s.data(), s.size());
  }
  std::string take() {
    num<std::uint64_t>(hash64(out_, 0));
    return std::move(out_);
  }

 private:
  std::string out_;
};

// Reads what part_writer wrote; never reads outside `in`. Errors throw
// std::runtime_error("neardup part: ...").
class part_reader {
 public:
  part_reader(std::string_view in, const char (&magic)[8], std::uint32_t expected_version) : in_(in) {
    if (in_.size() < sizeof(magic) + 16 || std::memcmp(in_.data(), magic, sizeof(magic)) != 0) {
      fail("not a neardup part of this kind");
    }
    const std::string_view body = in_.substr(0, in_.size() - 8);
    part_reader tail(in_.substr(in_.size() - 8), 0);
    if (tail.num<std::uint64_t>() != hash64(body, 0)) fail("checksum mismatch (damaged)");
    in_ = body;
    pos_ = sizeof(magic);
    const auto version = num<std::uint32_t>();
    if (version != expected_version) {
      fail("version " + std::to_string(version) + ", this neardup reads " + std::to_string(expected_version));
    }
    (void)num<std::uint32_t>();
  }
  template <class T>
  T num() {
    const std::string_view b = take(sizeof(T));
    std::uint64_t u = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) u |= std::uint64_t{static_cast<unsigned char>(b[i])} << (8 * i);
    if constexpr (std::is_floating_point_v<T>) {
      T v;
      std::memcpy(&v, &u, sizeof(T));
      return v;
    } else {
      return static_cast<T>(u);
    }
  }
  std::string_view blob() { return take(num<std::uint64_t>()); }
  std::string_view take(std::uint64_t n) {
    if (n > in_.size() - pos_) fail("truncated");
    const std::string_view s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  bool done() const noexcept { return pos_ == in_.size(); }
  [[noreturn]] static void fail(const std::string& what) { throw std::runtime_error("neardup part: " + what); }
  // Reads fields from bytes that have no magic, version or checksum of
  // their own (a span of a part already checked).
  static part_reader fields(std::string_view in) { return part_reader(in, 0); }

 private:
  part_reader(std::string_view in, int) : in_(in) {}
  std::string_view in_;
  std::size_t pos_ = 0;
};

// Checks that parts[i] of sources[part_sources[i]] cover the sources in input
// order (each source's parts consecutive); `what` names the caller in the
// std::invalid_argument thrown otherwise.
inline void check_part_order(const char* what, std::size_t sources, std::size_t parts,
                             std::span<const std::uint32_t> part_sources) {
  if (parts != part_sources.size()) {
    throw std::invalid_argument(std::string(what) + ": " + std::to_string(parts) + " parts but " +
                                std::to_string(part_sources.size()) + " part sources");
  }
  for (std::size_t i = 0; i < part_sources.size(); ++i) {
    const std::uint32_t expected = i == 0 ? 0 : part_sources[i - 1];
    if (part_sources[i] != expected && part_sources[i] != expected + 1) {
      throw std::invalid_argument(std::string(what) + ": the parts do not cover the sources in input order");
    }
  }
  if (part_sources.empty() ? sources != 0 : part_sources.back() + 1 != sources) {
    throw std::invalid_argument(std::string(what) + ": the parts do not cover every source");
  }
}

}  // namespace neardup::jobs::detail
