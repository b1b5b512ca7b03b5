#include "policy/unicode.hpp"

#include <algorithm>
#include <cstdint>

namespace dive::policy::unicode {
namespace {

struct CaseMapping {
  uint32_t from;
  uint32_t to;
};
struct CodeRange {
  uint32_t lo;
  uint32_t hi;
};

#include "policy/unicode_tables.inc"

template <size_t N>
char32_t lookup(const CaseMapping (&table)[N], char32_t c) {
  const auto* end = table + N;
  const auto* it = std::lower_bound(table, end, static_cast<uint32_t>(c),
                                    [](const CaseMapping& m, uint32_t v) { return m.from < v; });
  return it != end && it->from == c ? static_cast<char32_t>(it->to) : c;
}

bool is_ascii(std::string_view s) {
  for (unsigned char ch : s)
    if (ch >= 0x80) return false;
  return true;
}

template <class AsciiFn, class RuneFn>
std::string map_runes(std::string_view s, AsciiFn ascii, RuneFn rune) {
  std::string out;
  out.reserve(s.size());
  if (is_ascii(s)) {
    for (char ch : s) out += ascii(ch);
    return out;
  }
  size_t i = 0;
  bool valid = true;
  while (i < s.size()) append_utf8(out, rune(decode(s, i, valid)));
  return out;
}

}  // namespace

char32_t decode(std::string_view s, size_t& i, bool& valid) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  valid = true;
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  auto cont = [&](size_t k) -> int {
    if (i + k >= s.size()) return -1;
    const auto b = static_cast<unsigned char>(s[i + k]);
    return (b & 0xC0) == 0x80 ? (b & 0x3F) : -1;
  };
  auto fail = [&]() -> char32_t {
    valid = false;
    ++i;
    return 0xFFFD;
  };
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    int c1 = cont(1);
    if (c1 < 0) return fail();
    i += 2;
    return static_cast<char32_t>(((b0 & 0x1F) << 6) | c1);
  }
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    int c1 = cont(1), c2 = cont(2);
    if (c1 < 0 || c2 < 0) return fail();
    char32_t c = static_cast<char32_t>(((b0 & 0x0F) << 12) | (c1 << 6) | c2);
    if (c < 0x800 || (c >= 0xD800 && c <= 0xDFFF)) return fail();
    i += 3;
    return c;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    int c1 = cont(1), c2 = cont(2), c3 = cont(3);
    if (c1 < 0 || c2 < 0 || c3 < 0) return fail();
    char32_t c = static_cast<char32_t>(((b0 & 0x07) << 18) | (c1 << 12) | (c2 << 6) | c3);
    if (c < 0x10000 || c > 0x10FFFF) return fail();
    i += 4;
    return c;
  }
  return fail();
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

char32_t to_upper(char32_t c) {
  if (c < 0x80) return c >= 'a' && c <= 'z' ? c - 0x20 : c;
  return lookup(kUpperMap, c);
}

char32_t to_lower(char32_t c) {
  if (c < 0x80) return c >= 'A' && c <= 'Z' ? c + 0x20 : c;
  return lookup(kLowerMap, c);
}

bool is_print(char32_t c) {
  if (c < 0x80) return c >= 0x20 && c < 0x7F;
  const auto* end = std::end(kPrintRanges);
  const auto* it = std::upper_bound(std::begin(kPrintRanges), end, static_cast<uint32_t>(c),
                                    [](uint32_t v, const CodeRange& r) { return v < r.lo; });
  if (it == std::begin(kPrintRanges)) return false;
  --it;
  return c <= it->hi;
}

std::string upper(std::string_view s) {
  return map_runes(
      s, [](char ch) { return ch >= 'a' && ch <= 'z' ? static_cast<char>(ch - 0x20) : ch; }, to_upper);
}

std::string lower(std::string_view s) {
  return map_runes(
      s, [](char ch) { return ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch + 0x20) : ch; }, to_lower);
}

}  // namespace dive::policy::unicode
