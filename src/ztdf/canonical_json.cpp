#include "ztdf/canonical_json.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <system_error>
#include <vector>

#include "ztdf/error.hpp"

namespace dive::ztdf {

namespace {

constexpr int64_t kMaxExactInteger = int64_t{1} << 53;

// Decodes one UTF-8 sequence at s[i]; returns the code point and advances i, or -1 when malformed.
int32_t next_code_point(std::string_view s, size_t& i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) {
    ++i;
    return c;
  }
  int len = 0;
  int32_t cp = 0;
  int32_t min = 0;
  if ((c & 0xE0) == 0xC0) {
    len = 2, cp = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, cp = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return -1;
  }
  if (i + static_cast<size_t>(len) > s.size()) return -1;
  for (int k = 1; k < len; ++k) {
    unsigned char cc = byte(i + static_cast<size_t>(k));
    if ((cc & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  i += static_cast<size_t>(len);
  return cp;
}

// UTF-16 code units of a valid UTF-8 string (for member ordering).
std::u16string utf16(std::string_view s) {
  std::u16string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    int32_t cp = next_code_point(s, i);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out += static_cast<char16_t>(0xD800 + (cp >> 10));
      out += static_cast<char16_t>(0xDC00 + (cp & 0x3FF));
    } else {
      out += static_cast<char16_t>(cp);
    }
  }
  return out;
}

// The JSON pointer of a value, kept as a chain on the stack and rendered only when an error is thrown.
struct PathNode {
  const PathNode* parent = nullptr;
  const std::string* key = nullptr;  // member name, or nullptr for an array index
  size_t index = 0;

  std::string render() const {
    std::string head = parent ? parent->render() : std::string();
    if (!parent) return head;
    head += '/';
    if (!key) return head + std::to_string(index);
    for (char c : *key) {
      if (c == '~')
        head += "~0";
      else if (c == '/')
        head += "~1";
      else
        head += c;
    }
    return head;
  }
};

void write_string(std::string_view s, const PathNode& path, std::string& out) {
  if (!valid_utf8(s)) throw FormatError(path.render(), "string is not valid UTF-8");
  append_json_string(out, s);  // the escaping of RFC 8785 §3.2.2.2
}

void write_value(const Json& v, const PathNode& path, std::string& out) {
  switch (v.type()) {
    case Json::value_t::null:
      out += "null";
      return;
    case Json::value_t::boolean:
      out += v.get<bool>() ? "true" : "false";
      return;
    case Json::value_t::number_integer: {
      int64_t n = v.get<int64_t>();
      if (n > kMaxExactInteger || n < -kMaxExactInteger)
        throw FormatError(path.render(), "integer outside the exact IEEE-754 range (|n| > 2^53)");
      out += canonical_number(static_cast<double>(n));
      return;
    }
    case Json::value_t::number_unsigned: {
      uint64_t n = v.get<uint64_t>();
      if (n > static_cast<uint64_t>(kMaxExactInteger))
        throw FormatError(path.render(), "integer outside the exact IEEE-754 range (|n| > 2^53)");
      out += canonical_number(static_cast<double>(n));
      return;
    }
    case Json::value_t::number_float:
      try {
        out += canonical_number(v.get<double>());
      } catch (const FormatError&) {
        throw FormatError(path.render(), "number is not finite");
      }
      return;
    case Json::value_t::string:
      write_string(v.get_ref<const std::string&>(), path, out);
      return;
    case Json::value_t::array: {
      out += '[';
      size_t i = 0;
      for (const auto& item : v) {
        if (i > 0) out += ',';
        write_value(item, PathNode{&path, nullptr, i}, out);
        ++i;
      }
      out += ']';
      return;
    }
    case Json::value_t::object: {
      struct Member {
        std::u16string order;
        const std::string* key;
        const Json* value;
      };
      std::vector<Member> members;
      members.reserve(v.size());
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!valid_utf8(it.key())) throw FormatError(path.render(), "member name is not valid UTF-8");
        members.push_back({utf16(it.key()), &it.key(), &it.value()});
      }
      std::sort(members.begin(), members.end(),
                [](const Member& a, const Member& b) { return a.order < b.order; });
      out += '{';
      bool first = true;
      for (const Member& m : members) {
        if (!first) out += ',';
        first = false;
        write_string(*m.key, path, out);
        out += ':';
        write_value(*m.value, PathNode{&path, m.key, 0}, out);
      }
      out += '}';
      return;
    }
    case Json::value_t::binary:
    case Json::value_t::discarded:
      break;
  }
  throw FormatError(path.render(), "value has no JSON representation");
}

}  // namespace

bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    if (next_code_point(s, i) < 0) return false;
  }
  return true;
}

std::string canonical_number(double value) {
  if (!std::isfinite(value)) throw FormatError("", "number is not finite");
  if (value == 0) return "0";  // also -0
  // Shortest round-trip digits in scientific form: "d[.ddd]e±x".
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  if (res.ec != std::errc()) throw FormatError("", "number cannot be formatted");
  std::string_view sci(buf, static_cast<size_t>(res.ptr - buf));
  std::string out;
  if (sci.front() == '-') {
    out += '-';
    sci.remove_prefix(1);
  }
  size_t e = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e))
    if (c != '.') digits += c;
  int exp10 = 0;
  std::from_chars(sci.data() + e + (sci[e + 1] == '+' ? 2 : 1), sci.data() + sci.size(), exp10);
  // ECMA-262 Number::toString: value = 0.d1d2...dk × 10^n.
  const int k = static_cast<int>(digits.size());
  const int n = exp10 + 1;
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out += digits.substr(0, static_cast<size_t>(n));
    out += '.';
    out += digits.substr(static_cast<size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-n), '0');
    out += digits;
  } else {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out += digits.substr(1);
    }
    out += 'e';
    out += n - 1 >= 0 ? '+' : '-';
    out += std::to_string(std::abs(n - 1));
  }
  return out;
}

std::string canonical_json(const Json& value) {
  std::string out;
  write_value(value, PathNode{}, out);
  return out;
}

}  // namespace dive::ztdf
