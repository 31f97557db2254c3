// Incremental LSH index: one hash table per band, key -> posting.
#include "neardup/index.hpp"

#include <absl/container/flat_hash_map.h>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace neardup {

namespace {
// A posting is either one doc id (the common case: most keys are unique) or,
// with the tag bit set, the index of a sorted overflow list. The table slot is
// 16 bytes either way.
constexpr std::uint64_t list_tag = std::uint64_t{1} << 63;
}  // namespace

struct lsh_index::impl {
  std::size_t bands;
  std::vector<absl::flat_hash_map<std::uint64_t, std::uint64_t>> tables;
  std::vector<std::vector<doc_id>> lists;
  std::vector<std::uint32_t> free_lists;
  absl::flat_hash_map<doc_id, std::uint32_t> rows;  // doc -> row of `keys`
  std::vector<std::uint64_t> keys;                  // row r = keys[r*bands, (r+1)*bands)
  std::vector<std::uint32_t> free_rows;

  explicit impl(std::size_t b) : bands(b), tables(b) {}

  void check_keys(std::span<const std::uint64_t> band_keys, const char* who) const {
    if (band_keys.size() != bands) {
      throw std::invalid_argument(std::string("lsh_index::") + who + ": " +
                                  std::to_string(band_keys.size()) + " band keys, index has " +
                                  std::to_string(bands) + " bands");
    }
  }

  std::uint32_t new_list() {
    if (!free_lists.empty()) {
      const std::uint32_t l = free_lists.back();
      free_lists.pop_back();
      return l;
    }
    lists.emplace_back();
    return static_cast<std::uint32_t>(lists.size() - 1);
  }

  void add(std::size_t band, std::uint64_t key, doc_id doc) {
    auto [it, inserted] = tables[band].try_emplace(key, doc);
    if (inserted) return;
    std::uint64_t& v = it->second;
    if (v & list_tag) {
      std::vector<doc_id>& l = lists[static_cast<std::uint32_t>(v)];
      l.insert(std::lower_bound(l.begin(), l.end(), doc), doc);
      return;
    }
    const doc_id other = static_cast<doc_id>(v);
    const std::uint32_t li = new_list();  // may reallocate `lists`; v is still valid
    lists[li] = other < doc ? std::vector<doc_id>{other, doc} : std::vector<doc_id>{doc, other};
    v = list_tag | li;
  }

  void drop(std::size_t band, std::uint64_t key, doc_id doc) {
    auto it = tables[band].find(key);
    if (it == tables[band].end()) return;
    std::uint64_t& v = it->second;
    if (!(v & list_tag)) {
      if (static_cast<doc_id>(v) == doc) tables[band].erase(it);
      return;
    }
    const std::uint32_t li = static_cast<std::uint32_t>(v);
    std::vector<doc_id>& l = lists[li];
    auto pos = std::lower_bound(l.begin(), l.end(), doc);
    if (pos != l.end() && *pos == doc) l.erase(pos);
    if (l.size() == 1) {  // back to the compact form
      v = l[0];
      std::vector<doc_id>().swap(l);
      free_lists.push_back(li);
    }
  }
};

lsh_index::lsh_index(std::size_t bands) {
  if (bands == 0) throw std::invalid_argument("lsh_index: bands is 0, must be >= 1");
  impl_ = std::make_unique<impl>(bands);
}
lsh_index::~lsh_index() = default;
lsh_index::lsh_index(lsh_index&&) noexcept = default;
lsh_index& lsh_index::operator=(lsh_index&&) noexcept = default;

std::size_t lsh_index::bands() const noexcept { return impl_->bands; }
std::size_t lsh_index::size() const noexcept { return impl_->rows.size(); }
bool lsh_index::contains(doc_id doc) const { return impl_->rows.contains(doc); }

void lsh_index::insert(doc_id doc, std::span<const std::uint64_t> band_keys) {
  impl& s = *impl_;
  s.check_keys(band_keys, "insert");
  if (s.rows.contains(doc)) {
    throw std::invalid_argument("lsh_index::insert: doc " + std::to_string(doc) +
                                " is already indexed");
  }
  std::uint32_t row;
  if (!s.free_rows.empty()) {
    row = s.free_rows.back();
    s.free_rows.pop_back();
  } else {
    row = static_cast<std::uint32_t>(s.keys.size() / s.bands);
    s.keys.resize(s.keys.size() + s.bands);
  }
  std::copy(band_keys.begin(), band_keys.end(), s.keys.begin() + std::ptrdiff_t(row * s.bands));
  s.rows.emplace(doc, row);
  for (std::size_t j = 0; j < s.bands; ++j) s.add(j, band_keys[j], doc);
}

void lsh_index::query(std::span<const std::uint64_t> band_keys, std::vector<doc_id>& out) const {
  const impl& s = *impl_;
  s.check_keys(band_keys, "query");
  out.clear();
  for (std::size_t j = 0; j < s.bands; ++j) {
    const auto it = s.tables[j].find(band_keys[j]);
    if (it == s.tables[j].end()) continue;
    const std::uint64_t v = it->second;
    if (v & list_tag) {
      const std::vector<doc_id>& l = s.lists[static_cast<std::uint32_t>(v)];
      out.insert(out.end(), l.begin(), l.end());
    } else {
      out.push_back(static_cast<doc_id>(v));
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
}

std::vector<doc_id> lsh_index::query(std::span<const std::uint64_t> band_keys) const {
  std::vector<doc_id> out;
  query(band_keys, out);
  return out;
}

bool lsh_index::remove(doc_id doc) {
  impl& s = *impl_;
  const auto it = s.rows.find(doc);
  if (it == s.rows.end()) return false;
  const std::uint32_t row = it->second;
  s.rows.erase(it);
  const std::uint64_t* k = s.keys.data() + std::size_t{row} * s.bands;
  for (std::size_t j = 0; j < s.bands; ++j) s.drop(j, k[j], doc);
  s.free_rows.push_back(row);
  return true;
}

}  // namespace neardup
