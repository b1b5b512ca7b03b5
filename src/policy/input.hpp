#pragma once
// The decision input, reduced to the attributes the policy reads, with the distinctions the original's
// Rego semantics make: absent vs null vs false vs a value (`not x` is true for absent and false only;
// "", 0 and [] are present). An attribute keeps whatever JSON type the request gives it, as in OPA:
// the checks apply Rego's semantics to each type (a comparison with another type is false, a string
// has no entries to iterate, count() of a string counts characters, ...; see docs/POLICY.md). Only a
// malformed document, or an array or object attribute with more than kMaxArrayEntries entries, is
// rejected with InvalidInput (HTTP 400). Attributes the policy does not read are accepted and ignored.
#include <array>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.hpp"

namespace dive::policy {

// Bad request input. The message is short, names the attribute, and never echoes input values.
class InvalidInput : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Entries of an array or object attribute the policy reads (the one limit the original did not have:
// docs/POLICY.md says why it stays).
inline constexpr size_t kMaxArrayEntries = 1000;
inline constexpr int kMaxDepth = 64;              // JSON nesting
inline constexpr size_t kMaxBodyBytes = 1 << 20;  // request body

// kInvalid: rejected (Field::problem says why); never evaluated.
enum class Kind : uint8_t { kAbsent, kNull, kFalse, kTrue, kString, kNumber, kArray, kObject, kInvalid };

struct Number {
  enum class Type : uint8_t { kInt, kUint, kFloat };
  Type type = Type::kInt;
  int64_t i = 0;
  uint64_t u = 0;
  double f = 0;
  Json to_json() const;
  std::string go_text() const;  // as OPA's sprintf %v prints it
};

// One attribute of the input: a JSON value of any type.
struct Field {
  enum class Problem : uint8_t { kNone, kTooManyEntries };
  Kind kind = Kind::kAbsent;
  Problem problem = Problem::kNone;
  // An object, or an array with an entry that is not a string: `list` entries carry a type tag.
  bool mixed = false;
  // kString: the value. When mixed: the whole value as canonical JSON text (nlohmann's dump: sorted
  // keys, the last of repeated keys).
  std::string str;
  // kArray: the entries; kObject: the values, in key order (what Rego's `some x in v` and `x in v`
  // see). Not mixed (an array of strings, the usual case): the strings as they are. Mixed: each entry
  // is a tag byte, kStringEntry then the string or kJsonEntry then the value's canonical JSON text.
  std::vector<std::string> list;
  Number num;  // kNumber

  static constexpr char kStringEntry = 's';
  static constexpr char kJsonEntry = 'j';

  bool defined() const { return kind != Kind::kAbsent; }
  bool truthy() const { return kind != Kind::kAbsent && kind != Kind::kFalse; }  // Rego: not undefined/false
  bool is_string() const { return kind == Kind::kString; }
  bool is_array() const { return kind == Kind::kArray; }
  bool is_object() const { return kind == Kind::kObject; }
  bool is_collection() const { return kind == Kind::kArray || kind == Kind::kObject; }
  bool is_true() const { return kind == Kind::kTrue; }
  bool equals(std::string_view s) const { return kind == Kind::kString && str == s; }
  // Entry i of an array or object: whether it is a string, and the string or its JSON text.
  bool string_entry(size_t i) const { return !mixed || list[i][0] == kStringEntry; }
  std::string_view entry(size_t i) const {
    return mixed ? std::string_view(list[i]).substr(1) : std::string_view(list[i]);
  }
  void reset();
};

enum class Section : uint8_t { kSubject, kAction, kResource, kContext, kZtdf, kCount };

enum class F : uint8_t {
  // subject
  kAuthenticated,
  kUniqueID,
  kClearance,
  kCountry,
  kAcpCOI,
  kClearanceOriginal,
  kClearanceCountry,
  kOrganizationType,
  kIssuer,
  // action
  kOperation,
  // resource
  kResourceId,
  kClassification,
  kReleasabilityTo,
  kCOI,
  kCoiOperator,
  kCaveats,
  kCreationDate,
  kEncrypted,
  kKasUrl,
  kReleasableToIndustry,
  kOriginalClassification,
  kOriginalCountry,
  // resource.ztdf
  kIntegrityValidated,
  kPolicyHash,
  kPayloadHash,
  // context
  kCurrentTime,
  kAcr,
  kAmr,
  kTenant,
  kStrictCoiCoherence,
  kCount
};
inline constexpr size_t kFieldCount = static_cast<size_t>(F::kCount);

struct Input {
  std::array<Field, kFieldCount> fields;
  // Per section: the type of its value (kAbsent, kObject, or the type of a section that is not an
  // object; its attributes are then all absent, as in Rego).
  std::array<Kind, static_cast<size_t>(Section::kCount)> sections{};

  const Field& operator[](F f) const { return fields[static_cast<size_t>(f)]; }
  Field& operator[](F f) { return fields[static_cast<size_t>(f)]; }
  Kind section(Section s) const { return sections[static_cast<size_t>(s)]; }
  void reset();
  void reset_section(Section s);  // a repeated key: the last occurrence wins, whole
};

// The schema shared by both readers (Json DOM and text).
namespace schema {

struct FieldSpec {
  F id;
  Section section;
  std::string_view key;
};

const FieldSpec& spec(F id);
// The section an input key opens ("subject", "action", "resource", "context"); kCount otherwise.
Section section_for_key(std::string_view key);
// The attribute `key` names inside `section` (resource "ztdf" is a section, not a field), or nullptr.
const FieldSpec* field_for_key(Section section, std::string_view key);
std::string_view section_path(Section s);

// Assignment of any JSON value. Too many entries mark the attribute invalid (reported by validate()).
void set_literal(Field& f, Kind kind);  // kNull, kFalse, kTrue
void set_string(Field& f, std::string&& value);
void set_number(Field& f, const Number& n);
// Arrays of strings, the usual case: begin, then one push per entry.
void begin_array(Field& f);
void push_string(Field& f, std::string&& value);
// Any value, from a parsed document: objects, and arrays with entries that are not strings.
void set_json(Field& f, const Json& value);
// The type of a JSON value.
Kind kind_of(const Json& value);

}  // namespace schema

// Throws InvalidInput for the first problem, in attribute order.
void validate(const Input& in);

// From the value of "input" in a parsed request. Throws InvalidInput.
Input input_from_json(const Json& input);

}  // namespace dive::policy
