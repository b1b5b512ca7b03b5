#include "common/json.hpp"

#include <stdexcept>

namespace dive {

Json parse_json_limited(std::string_view text, int max_depth) {
  int depth = 0;
  bool too_deep = false;
  Json::parser_callback_t cb = [&](int d, Json::parse_event_t ev, Json&) {
    if (ev == Json::parse_event_t::object_start || ev == Json::parse_event_t::array_start) {
      depth = d + 1;
      if (depth > max_depth) too_deep = true;
    }
    return !too_deep;
  };
  // nlohmann stops at a NUL byte and ignores the rest; JSON text never holds a raw NUL.
  if (auto nul = text.find('\0'); nul != std::string_view::npos)
    throw std::invalid_argument("malformed JSON at byte " + std::to_string(nul) + " (NUL byte)");
  Json j;
  try {
    j = Json::parse(text.begin(), text.end(), cb, /*allow_exceptions=*/true, /*ignore_comments=*/false);
  } catch (const Json::parse_error& e) {
    if (too_deep)
      throw std::invalid_argument("JSON nests deeper than " + std::to_string(max_depth) + " levels");
    throw std::invalid_argument(std::string("malformed JSON at byte ") + std::to_string(e.byte));
  } catch (const Json::out_of_range&) {
    throw std::invalid_argument("malformed JSON: a number is out of range");
  }
  if (too_deep)
    throw std::invalid_argument("JSON nests deeper than " + std::to_string(max_depth) + " levels");
  return j;
}

namespace {
constexpr char kHex[] = "0123456789abcdef";
}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  append_json_escaped(out, s);
  out += '"';
}

void append_json_escaped(std::string& out, std::string_view s) {
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
    }
  }
  out.append(s.data() + run, s.size() - run);
}

}  // namespace dive
