#pragma once
// The decision input, reduced to the attributes the policy reads, with the distinctions the original's
// Rego semantics make: absent vs null vs false vs a value (`not x` is true for absent and false only;
// "", 0 and [] are present). Every attribute has a JSON type; a value of another type, an oversized
// string or array, or a malformed document is rejected with InvalidInput (HTTP 400), never evaluated.
// Attributes the policy does not read are accepted and ignored.
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

inline constexpr size_t kMaxArrayEntries = 1000;  // per array attribute
inline constexpr size_t kMaxStringBytes = 8192;   // per string attribute (and array entry)
inline constexpr int kMaxDepth = 64;              // JSON nesting
inline constexpr size_t kMaxBodyBytes = 1 << 20;  // request body

enum class Kind : uint8_t { kAbsent, kNull, kFalse, kTrue, kString, kNumber, kArray, kInvalid };

struct Number {
  enum class Type : uint8_t { kInt, kUint, kFloat };
  Type type = Type::kInt;
  int64_t i = 0;
  uint64_t u = 0;
  double f = 0;
  Json to_json() const;
  std::string go_text() const;  // as OPA's sprintf %v prints it
};

// One attribute of the input.
struct Field {
  enum class Problem : uint8_t { kNone, kType, kStringTooLong, kTooManyEntries };
  Kind kind = Kind::kAbsent;
  Problem problem = Problem::kNone;
  std::string str;                // kString
  std::vector<std::string> list;  // kArray (strings only)
  Number num;                     // kNumber

  bool defined() const { return kind != Kind::kAbsent; }
  bool truthy() const { return kind != Kind::kAbsent && kind != Kind::kFalse; }  // Rego: not undefined/false
  bool is_string() const { return kind == Kind::kString; }
  bool is_array() const { return kind == Kind::kArray; }
  bool is_true() const { return kind == Kind::kTrue; }
  bool equals(std::string_view s) const { return kind == Kind::kString && str == s; }
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
  // Per section: kAbsent, kTrue (an object) or kInvalid (present but not an object).
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
  uint8_t accepts;  // bit (1 << Kind)
  std::string_view expect;
};

const FieldSpec& spec(F id);
// The section an input key opens ("subject", "action", "resource", "context"); kCount otherwise.
Section section_for_key(std::string_view key);
// The attribute `key` names inside `section` (resource "ztdf" is a section, not a field), or nullptr.
const FieldSpec* field_for_key(Section section, std::string_view key);
std::string_view section_path(Section s);

// Assignment; a kind the attribute does not accept marks it invalid (reported by validate()).
void set_literal(Field& f, const FieldSpec& s, Kind kind);  // kNull, kFalse, kTrue
void set_string(Field& f, const FieldSpec& s, std::string&& value);
void set_number(Field& f, const FieldSpec& s, const Number& n);
void set_object(Field& f, const FieldSpec& s);
// Arrays: begin, then one push per element.
void begin_array(Field& f, const FieldSpec& s);
void push_string(Field& f, std::string&& value);
void push_other(Field& f);  // a non-string element

}  // namespace schema

// Throws InvalidInput for the first problem, in a fixed order (sections, then attributes).
void validate(const Input& in);

// From the value of "input" in a parsed request. Throws InvalidInput.
Input input_from_json(const Json& input);

}  // namespace dive::policy
