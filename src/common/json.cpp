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

}  // namespace dive
