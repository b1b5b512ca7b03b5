#include "policy/input_parser.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace dive::policy {
namespace {

// Bytes a string can contain as they are: printable ASCII other than '"' and '\\'.
constexpr std::array<bool, 256> kPlain = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x80; ++c) t[c] = c != '"' && c != '\\';
  return t;
}();

// A strict, non-allocating JSON reader over the request text.
class Reader {
 public:
  explicit Reader(std::string_view text)
      : p_(text.data()), begin_(text.data()), end_(text.data() + text.size()) {
    if (p_ != end_ && static_cast<unsigned char>(*p_) == 0xEF) {  // UTF-8 byte order mark
      if (end_ - p_ < 3 || static_cast<unsigned char>(p_[1]) != 0xBB ||
          static_cast<unsigned char>(p_[2]) != 0xBF)
        fail();
      p_ += 3;
    }
  }

  [[noreturn]] void fail() const {
    throw InvalidInput("malformed JSON at byte " + std::to_string(p_ - begin_));
  }

  // The current position (after peek(), the first byte of the next value).
  const char* pos() const { return p_; }

  char peek() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
    return p_ == end_ ? '\0' : *p_;
  }

  void finish() {
    peek();
    if (p_ != end_) fail();
  }

  static void enter(int& depth) {
    if (++depth > kMaxDepth)
      throw InvalidInput("JSON nests deeper than " + std::to_string(kMaxDepth) + " levels");
  }

  // Calls on_member(key, depth) with the reader positioned at each member's value, which the
  // callback must consume.
  template <class Fn>
  void object(int depth, Fn&& on_member) {
    if (peek() != '{') fail();
    ++p_;
    enter(depth);
    if (peek() == '}') {
      ++p_;
      return;
    }
    std::string key;
    while (true) {
      if (peek() != '"') fail();
      key.clear();
      string(&key);
      if (peek() != ':') fail();
      ++p_;
      peek();
      on_member(std::string_view(key), depth);
      const char c = peek();
      ++p_;
      if (c == ',') continue;
      if (c == '}') return;
      --p_;
      fail();
    }
  }

  template <class Fn>
  void array(int depth, Fn&& on_element) {
    if (peek() != '[') fail();
    ++p_;
    enter(depth);
    if (peek() == ']') {
      ++p_;
      return;
    }
    while (true) {
      peek();
      on_element(depth);
      const char c = peek();
      ++p_;
      if (c == ',') continue;
      if (c == ']') return;
      --p_;
      fail();
    }
  }

  void skip_value(int depth) {
    switch (peek()) {
      case '{':
        object(depth, [this](std::string_view, int d) { skip_value(d); });
        return;
      case '[':
        array(depth, [this](int d) { skip_value(d); });
        return;
      case '"':
        string(nullptr);
        return;
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default:
        number(nullptr);
    }
  }

  void literal(std::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) fail();
    p_ += word.size();
  }

  // At '"'. Decodes into *out when given; validates either way (nlohmann's rules: no raw control
  // characters, well-formed UTF-8, escapes with paired surrogates).
  void string(std::string* out) {
    ++p_;
    while (true) {
      const char* run = p_;
      while (p_ != end_ && kPlain[static_cast<unsigned char>(*p_)]) ++p_;
      if (out) out->append(run, static_cast<size_t>(p_ - run));
      if (p_ == end_) fail();
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        ++p_;
        return;
      }
      if (c < 0x20) fail();
      if (c == '\\') {
        escape(out);
        continue;
      }
      utf8(out);
    }
  }

  // A JSON number; the value is stored when out is given.
  void number(Number* out) {
    const char* start = p_;
    bool integral = true;
    if (p_ != end_ && *p_ == '-') ++p_;
    if (p_ == end_) fail();
    if (*p_ == '0') {
      ++p_;
    } else if (*p_ >= '1' && *p_ <= '9') {
      while (p_ != end_ && digit(*p_)) ++p_;
    } else {
      fail();
    }
    if (p_ != end_ && *p_ == '.') {
      integral = false;
      ++p_;
      if (p_ == end_ || !digit(*p_)) fail();
      while (p_ != end_ && digit(*p_)) ++p_;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      integral = false;
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || !digit(*p_)) fail();
      while (p_ != end_ && digit(*p_)) ++p_;
    }
    Number n;
    if (integral) {
      if (*start == '-') {
        auto r = std::from_chars(start, p_, n.i);
        if (r.ec == std::errc() && r.ptr == p_) {
          if (out) *out = n;
          return;
        }
      } else {
        auto r = std::from_chars(start, p_, n.u);
        if (r.ec == std::errc() && r.ptr == p_) {
          n.type = Number::Type::kUint;
          if (out) *out = n;
          return;
        }
      }
    }
    // As nlohmann: strtod, and an infinite result (overflow) is an error.
    const std::string token(start, p_);
    n.type = Number::Type::kFloat;
    n.f = std::strtod(token.c_str(), nullptr);
    if (!std::isfinite(n.f)) fail();
    if (out) *out = n;
  }

 private:
  static bool digit(char c) { return c >= '0' && c <= '9'; }

  int hex4() {
    if (end_ - p_ < 4) fail();
    int v = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = *p_++;
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= c - '0';
      else if (c >= 'a' && c <= 'f')
        v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        v |= c - 'A' + 10;
      else
        fail();
    }
    return v;
  }

  void escape(std::string* out) {
    ++p_;  // backslash
    if (p_ == end_) fail();
    const char c = *p_++;
    char plain = 0;
    switch (c) {
      case '"':
        plain = '"';
        break;
      case '\\':
        plain = '\\';
        break;
      case '/':
        plain = '/';
        break;
      case 'b':
        plain = '\b';
        break;
      case 'f':
        plain = '\f';
        break;
      case 'n':
        plain = '\n';
        break;
      case 'r':
        plain = '\r';
        break;
      case 't':
        plain = '\t';
        break;
      case 'u': {
        uint32_t cp = static_cast<uint32_t>(hex4());
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') fail();
          p_ += 2;
          const auto lo = static_cast<uint32_t>(hex4());
          if (lo < 0xDC00 || lo > 0xDFFF) fail();
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          fail();
        }
        if (out) append_utf8(*out, cp);
        return;
      }
      default:
        --p_;
        fail();
    }
    if (out) *out += plain;
  }

  static void append_utf8(std::string& out, uint32_t c) {
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

  // One multi-byte UTF-8 sequence, checked against RFC 3629's table (as nlohmann's lexer does).
  void utf8(std::string* out) {
    const char* start = p_;
    const auto b0 = static_cast<unsigned char>(*p_++);
    auto in = [&](unsigned char lo, unsigned char hi) {
      if (p_ == end_) fail();
      const auto b = static_cast<unsigned char>(*p_);
      if (b < lo || b > hi) fail();
      ++p_;
    };
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      in(0x80, 0xBF);
    } else if (b0 == 0xE0) {
      in(0xA0, 0xBF), in(0x80, 0xBF);
    } else if ((b0 >= 0xE1 && b0 <= 0xEC) || b0 == 0xEE || b0 == 0xEF) {
      in(0x80, 0xBF), in(0x80, 0xBF);
    } else if (b0 == 0xED) {
      in(0x80, 0x9F), in(0x80, 0xBF);
    } else if (b0 == 0xF0) {
      in(0x90, 0xBF), in(0x80, 0xBF), in(0x80, 0xBF);
    } else if (b0 >= 0xF1 && b0 <= 0xF3) {
      in(0x80, 0xBF), in(0x80, 0xBF), in(0x80, 0xBF);
    } else if (b0 == 0xF4) {
      in(0x80, 0x8F), in(0x80, 0xBF), in(0x80, 0xBF);
    } else {
      --p_;
      fail();
    }
    if (out) out->append(start, static_cast<size_t>(p_ - start));
  }

  const char* p_;
  const char* begin_;
  const char* end_;
};

// The value text [begin, end), already validated by the reader, as a Json value (for the rare
// attribute that is an object or an array with entries other than strings).
Json parse_checked(const char* begin, const char* end) {
  try {
    return Json::parse(begin, end);
  } catch (const std::exception&) {
    throw InvalidInput("malformed JSON");  // unreachable: the reader accepts what nlohmann accepts
  }
}

void read_field(Reader& r, Field& f, int depth) {
  switch (r.peek()) {
    case '"': {
      std::string v;
      r.string(&v);
      schema::set_string(f, std::move(v));
      return;
    }
    case 't':
      r.literal("true");
      return schema::set_literal(f, Kind::kTrue);
    case 'f':
      r.literal("false");
      return schema::set_literal(f, Kind::kFalse);
    case 'n':
      r.literal("null");
      return schema::set_literal(f, Kind::kNull);
    case '{': {
      const char* begin = r.pos();
      r.skip_value(depth);
      return schema::set_json(f, parse_checked(begin, r.pos()));
    }
    case '[': {
      // Strings are read straight into the attribute; an array with any other entry is read again as
      // a Json value once the reader has checked it.
      const char* begin = r.pos();
      bool strings_only = true;
      schema::begin_array(f);
      r.array(depth, [&](int d) {
        if (strings_only && r.peek() == '"') {
          std::string v;
          r.string(&v);
          schema::push_string(f, std::move(v));
        } else {
          strings_only = false;
          r.skip_value(d);
        }
      });
      if (!strings_only) schema::set_json(f, parse_checked(begin, r.pos()));
      return;
    }
    default: {
      Number n;
      r.number(&n);
      return schema::set_number(f, n);
    }
  }
}

// The type of the value the reader is at (after peek()).
Kind kind_at(char c) {
  switch (c) {
    case '{':
      return Kind::kObject;
    case '[':
      return Kind::kArray;
    case '"':
      return Kind::kString;
    case 't':
      return Kind::kTrue;
    case 'f':
      return Kind::kFalse;
    case 'n':
      return Kind::kNull;
    default:
      return Kind::kNumber;
  }
}

void read_section(Reader& r, Input& in, Section section, int depth) {
  in.reset_section(section);
  const char c = r.peek();
  if (c != '{') {
    r.skip_value(depth);  // validates the value; its kind is recorded once it is known to be valid
    in.sections[static_cast<size_t>(section)] = kind_at(c);
    return;  // a section that is not an object has no attributes, as in Rego
  }
  in.sections[static_cast<size_t>(section)] = Kind::kObject;
  r.object(depth, [&](std::string_view key, int d) {
    if (section == Section::kResource && key == "ztdf") return read_section(r, in, Section::kZtdf, d);
    if (const auto* s = schema::field_for_key(section, key)) return read_field(r, in[s->id], d);
    r.skip_value(d);
  });
}

// The value of "input" (or of one batch entry). Returns false when it is not an object.
bool read_input(Reader& r, Input& in, int depth) {
  in.reset();
  if (r.peek() != '{') {
    r.skip_value(depth);
    return false;
  }
  r.object(depth, [&](std::string_view key, int d) {
    const Section s = schema::section_for_key(key);
    if (s == Section::kCount) return r.skip_value(d);
    read_section(r, in, s, d);
  });
  return true;
}

// Checks that precede parsing, as in parse_body(): the size limit, and no raw NUL byte (never valid
// JSON; nlohmann would take it for the end of the text).
void check_body(std::string_view body) {
  if (body.size() > kMaxBodyBytes) throw InvalidInput("request body is larger than 1 MiB");
  if (const size_t nul = body.find('\0'); nul != std::string_view::npos)
    throw InvalidInput("malformed JSON at byte " + std::to_string(nul));
}

}  // namespace

Input parse_request_text(std::string_view body) {
  check_body(body);
  Reader r(body);
  Input in;
  bool have_input = false, input_is_object = false;
  if (r.peek() != '{') {
    r.skip_value(0);
    r.finish();
    throw InvalidInput("request body must be a JSON object");
  }
  r.object(0, [&](std::string_view key, int d) {
    if (key != "input") return r.skip_value(d);
    have_input = true;
    input_is_object = read_input(r, in, d);
  });
  r.finish();
  if (!have_input) throw InvalidInput("request body has no input");
  if (!input_is_object) throw InvalidInput("input must be an object");
  validate(in);
  return in;
}

std::map<std::string, BatchEntry> parse_batch_text(std::string_view body) {
  check_body(body);
  Reader r(body);
  std::map<std::string, BatchEntry> entries;
  std::map<std::string, bool> is_object;
  bool have_inputs = false, inputs_is_object = false, too_many = false;
  if (r.peek() != '{') {
    r.skip_value(0);
    r.finish();
    throw InvalidInput("request body must be a JSON object");
  }
  r.object(0, [&](std::string_view key, int d) {
    if (key != "inputs") return r.skip_value(d);
    have_inputs = true;
    entries.clear();
    is_object.clear();
    too_many = false;
    if (r.peek() != '{') {
      inputs_is_object = false;
      return r.skip_value(d);
    }
    inputs_is_object = true;
    r.object(d, [&](std::string_view id, int d2) {
      if (too_many) return r.skip_value(d2);
      auto [it, inserted] = entries.try_emplace(std::string(id));
      if (inserted && entries.size() > kMaxBatchInputs) {
        too_many = true;  // reported once the whole body is known to be well-formed
        entries.clear();
        is_object.clear();
        return r.skip_value(d2);
      }
      is_object[it->first] = read_input(r, it->second.input, d2);
    });
  });
  r.finish();
  if (!have_inputs) throw InvalidInput("request body has no inputs");
  if (!inputs_is_object) throw InvalidInput("inputs must be an object");
  if (too_many) throw InvalidInput("batch has more than " + std::to_string(kMaxBatchInputs) + " inputs");
  for (auto& [id, entry] : entries) {
    if (!is_object[id]) {
      entry.error = "input must be an object";
      continue;
    }
    try {
      validate(entry.input);
    } catch (const InvalidInput& e) {
      entry.error = e.what();
    }
  }
  return entries;
}

}  // namespace dive::policy
