#include "ztdf/strict_json.hpp"

#include <algorithm>
#include <set>

#include "common/encoding.hpp"
#include "ztdf/canonical_json.hpp"
#include "ztdf/error.hpp"

namespace dive::ztdf::detail {

Json parse_strict(std::string_view text, int max_depth) {
  if (text.find('\0') != std::string_view::npos) throw FormatError("", "JSON text contains a NUL byte");
  bool too_deep = false;
  bool duplicate = false;
  std::vector<std::set<std::string>> names;  // one set per open object
  Json::parser_callback_t cb = [&](int depth, Json::parse_event_t ev, Json& parsed) {
    switch (ev) {
      case Json::parse_event_t::object_start:
        names.emplace_back();
        [[fallthrough]];
      case Json::parse_event_t::array_start:
        if (depth + 1 > max_depth) too_deep = true;
        break;
      case Json::parse_event_t::object_end:
        if (!names.empty()) names.pop_back();
        break;
      case Json::parse_event_t::key:
        if (!names.empty() && !names.back().insert(parsed.get<std::string>()).second) duplicate = true;
        break;
      default:
        break;
    }
    return !too_deep && !duplicate;
  };
  Json j;
  try {
    j = Json::parse(text.begin(), text.end(), cb, /*allow_exceptions=*/true, /*ignore_comments=*/false);
  } catch (const Json::parse_error& e) {
    if (too_deep) throw FormatError("", "JSON nests deeper than " + std::to_string(max_depth) + " levels");
    if (duplicate) throw FormatError("", "JSON has a duplicate member name");
    throw FormatError("", "malformed JSON at byte " + std::to_string(e.byte));
  } catch (const Json::exception&) {
    throw FormatError("", "malformed JSON (a number is out of range)");
  }
  if (too_deep) throw FormatError("", "JSON nests deeper than " + std::to_string(max_depth) + " levels");
  if (duplicate) throw FormatError("", "JSON has a duplicate member name");
  return j;
}

ObjectReader::ObjectReader(const Json& object, std::string path) : object_(object), path_(std::move(path)) {
  if (!object_.is_object()) throw FormatError(path_, "expected an object");
}

std::string ObjectReader::member_path(std::string_view key) const {
  return path_ + "/" + std::string(key);
}

const Json& ObjectReader::require(std::string_view key, Json::value_t type, const char* what) {
  auto it = object_.find(key);
  if (it == object_.end()) throw FormatError(member_path(key), "missing");
  bool ok = it->type() == type ||
            (type == Json::value_t::number_unsigned && it->type() == Json::value_t::number_integer);
  if (!ok) throw FormatError(member_path(key), std::string("expected ") + what);
  read_.emplace_back(key);
  return *it;
}

std::string ObjectReader::string(std::string_view key) {
  const auto& s = require(key, Json::value_t::string, "a string").get_ref<const std::string&>();
  if (!valid_utf8(s)) throw FormatError(member_path(key), "not valid UTF-8");
  return s;
}

std::optional<std::string> ObjectReader::optional_string(std::string_view key) {
  if (!object_.contains(key)) return std::nullopt;
  return string(key);
}

std::string ObjectReader::nonempty_string(std::string_view key, size_t max_bytes) {
  std::string s = string(key);
  if (s.empty()) throw FormatError(member_path(key), "must not be empty");
  if (s.size() > max_bytes)
    throw FormatError(member_path(key), "longer than " + std::to_string(max_bytes) + " bytes");
  return s;
}

bool ObjectReader::boolean(std::string_view key) {
  return require(key, Json::value_t::boolean, "a boolean").get<bool>();
}

uint64_t ObjectReader::unsigned_integer(std::string_view key, uint64_t max) {
  const Json& v = require(key, Json::value_t::number_unsigned, "a non-negative integer");
  // A Json built in code may hold a non-negative value as a signed integer; parsed text holds it unsigned.
  if (!v.is_number_unsigned() && v.get<int64_t>() < 0)
    throw FormatError(member_path(key), "expected a non-negative integer");
  uint64_t n = v.is_number_unsigned() ? v.get<uint64_t>() : static_cast<uint64_t>(v.get<int64_t>());
  if (n > max) throw FormatError(member_path(key), "larger than " + std::to_string(max));
  return n;
}

std::vector<std::string> ObjectReader::string_array(std::string_view key, size_t max_items) {
  const Json& a = require(key, Json::value_t::array, "an array of strings");
  if (a.size() > max_items)
    throw FormatError(member_path(key), "more than " + std::to_string(max_items) + " items");
  std::vector<std::string> out;
  out.reserve(a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    if (!a[i].is_string()) throw FormatError(member_path(key) + "/" + std::to_string(i), "expected a string");
    const auto& s = a[i].get_ref<const std::string&>();
    if (!valid_utf8(s)) throw FormatError(member_path(key) + "/" + std::to_string(i), "not valid UTF-8");
    out.push_back(s);
  }
  return out;
}

const Json& ObjectReader::object(std::string_view key) {
  return require(key, Json::value_t::object, "an object");
}

const Json& ObjectReader::array(std::string_view key) {
  return require(key, Json::value_t::array, "an array");
}

std::string ObjectReader::base64(std::string_view key, size_t exact, bool allow_empty) {
  const auto& s = require(key, Json::value_t::string, "a base64 string").get_ref<const std::string&>();
  if (s.size() % 4 != 0) throw FormatError(member_path(key), "not padded standard base64");
  auto bytes = base64_decode(s);
  if (!bytes) throw FormatError(member_path(key), "not valid base64");
  if (bytes->empty() && !allow_empty) throw FormatError(member_path(key), "must not be empty");
  if (exact != 0 && bytes->size() != exact)
    throw FormatError(member_path(key), "must decode to " + std::to_string(exact) + " bytes");
  return std::move(*bytes);
}

std::string ObjectReader::hex(std::string_view key, size_t hex_chars) {
  const auto& s = require(key, Json::value_t::string, "a hex string").get_ref<const std::string&>();
  bool ok = s.size() == hex_chars && std::all_of(s.begin(), s.end(), [](char c) {
              return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
            });
  if (!ok)
    throw FormatError(member_path(key), "expected " + std::to_string(hex_chars) + " lower-case hex digits");
  return s;
}

void ObjectReader::expect_string(std::string_view key, std::string_view expected) {
  if (string(key) != expected)
    throw FormatError(member_path(key), "unsupported value (expected \"" + std::string(expected) + "\")");
}

void ObjectReader::finish() const {
  for (auto it = object_.begin(); it != object_.end(); ++it) {
    const std::string& name = it.key();
    if (std::find(read_.begin(), read_.end(), name) != read_.end()) continue;
    // The name is echoed only when it is short and plain (it is attacker-chosen text).
    bool plain = name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
                   return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                          c == '_' || c == '-';
                 });
    throw FormatError(path_,
                      plain && !name.empty() ? "unknown member \"" + name + "\"" : "has an unknown member");
  }
}

}  // namespace dive::ztdf::detail
