#pragma once
// Internal to dive_backup: big-endian integers in byte strings.
#include <cstdint>
#include <string>
#include <string_view>

namespace dive::backup::detail {

inline void put_be(std::string& s, uint64_t v, int bytes) {
  for (int shift = 8 * (bytes - 1); shift >= 0; shift -= 8)
    s.push_back(static_cast<char>((v >> shift) & 0xff));
}

inline uint64_t get_be(std::string_view s, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(s[at + static_cast<size_t>(i)]);
  return v;
}

}  // namespace dive::backup::detail
