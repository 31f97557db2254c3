// neardup/detail/uninitialized.hpp — vectors whose resize() leaves new
// elements uninitialized.
//
//   neardup::detail::uninitialized_vector<std::uint64_t> buf;
//   buf.resize(text.size());   // no zero fill: pages are touched only when written
//
// For scratch buffers sized by an upper bound (one token hash per input
// byte, twice the input for normalized bytes): zero-filling them wrote, and
// kept resident, 10 bytes per byte of the largest document a tokenizer saw,
// where only the bytes written are needed. Only for trivially constructible
// element types; value-initialization (`resize(n, value)`, `T{}`) still
// initializes.
#pragma once

#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace neardup::detail {

template <class T, class Base = std::allocator<T>>
class default_init_allocator : public Base {
  using traits = std::allocator_traits<Base>;

 public:
  template <class U>
  struct rebind {
    using other = default_init_allocator<U, typename traits::template rebind_alloc<U>>;
  };
  using Base::Base;

  template <class U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;  // default-initialization: no zero fill
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    traits::construct(static_cast<Base&>(*this), p, std::forward<Args>(args)...);
  }
};

template <class T>
using uninitialized_vector = std::vector<T, default_init_allocator<T>>;

}  // namespace neardup::detail
