#pragma once
// Internal to dive_ztdf: strict JSON parsing and typed member access for the object reader.
// Every failure is a FormatError naming the member by JSON pointer; values are never echoed.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.hpp"

namespace dive::ztdf::detail {

// Parses untrusted text: nesting ≤ max_depth, no NUL bytes, no duplicate member names (a second value
// for a name is how one JSON text reads differently to two parsers). Throws FormatError.
Json parse_strict(std::string_view text, int max_depth = 32);

// Reads the members of one JSON object, each at most once, and refuses members it was not asked for.
class ObjectReader {
 public:
  ObjectReader(const Json& object, std::string path);  // throws unless `object` is an object

  const std::string& path() const { return path_; }
  std::string member_path(std::string_view key) const;

  std::string string(std::string_view key);                             // required
  std::optional<std::string> optional_string(std::string_view key);     // absent → nullopt
  std::string nonempty_string(std::string_view key, size_t max_bytes);  // required, 1..max bytes
  bool boolean(std::string_view key);
  uint64_t unsigned_integer(std::string_view key, uint64_t max);
  std::vector<std::string> string_array(std::string_view key, size_t max_items);
  // Raw access for nested objects and arrays; marks the member as read.
  const Json& object(std::string_view key);
  const Json& array(std::string_view key);
  // Bytes of a padded standard base64 member; `exact` (if non-zero) is the required decoded length.
  std::string base64(std::string_view key, size_t exact = 0, bool allow_empty = false);
  // A lower-case hex string of exactly `hex_chars` characters.
  std::string hex(std::string_view key, size_t hex_chars);
  // A string member that must equal `expected` (algorithm names, versions).
  void expect_string(std::string_view key, std::string_view expected);

  // Throws if the object has a member that was not read.
  void finish() const;

 private:
  const Json& require(std::string_view key, Json::value_t type, const char* what);

  const Json& object_;
  std::string path_;
  std::vector<std::string> read_;
};

}  // namespace dive::ztdf::detail
