#pragma once
// Rego's operations on an attribute of any JSON type, as the original's rules apply them (OPA's
// topdown): a builtin given an operand of the wrong type is undefined, a comparison of different
// types is false, only arrays, objects and sets have entries. The checks use these so that an
// attribute of an unexpected type gets the original's answer (docs/POLICY.md, "Input handling").
// Arrays of strings, the usual case, take the same paths as before, without allocating.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.hpp"
#include "policy/coi.hpp"
#include "policy/input.hpp"

namespace dive::policy::rego {

// The empty array, as object.get(section, key, []) gives for an absent attribute.
const Field& empty_array();

// The characters of a string (Go's len([]rune(s)) of valid UTF-8).
size_t rune_count(std::string_view s);
// count(x): characters of a string, entries of an array or object; undefined (nullopt) otherwise.
inline std::optional<size_t> count(const Field& f) {
  if (f.is_collection()) return f.list.size();
  if (f.is_string()) return rune_count(f.str);
  return std::nullopt;
}

// `s in x` for a string s: an entry of an array, a value of an object; false for anything else.
bool member_of_mixed(std::string_view s, const Field& collection);
inline bool member(std::string_view s, const Field& collection) {
  if (!collection.is_collection()) return false;
  return collection.mixed ? member_of_mixed(s, collection) : coi::contains(collection.list, s);
}
// `x in c` for any defined x.
bool member_other(const Field& x, const Field& collection);  // x not a string
inline bool member(const Field& x, const Field& collection) {
  return x.is_string() ? member(x.str, collection) : member_other(x, collection);
}
// x == [s]: an array with the single entry s.
inline bool is_single(const Field& f, std::string_view s) {
  return f.is_array() && f.list.size() == 1 && f.string_entry(0) && f.entry(0) == s;
}
// x[0] == s, undefined (nullopt) unless x is an array with an entry 0.
std::optional<bool> first_equals(const Field& f, std::string_view s);

// Set algebra over the entries of arrays and objects (`{c | some c in x}`; no entries otherwise).
// Every entry of `need` is an entry of `have`.
bool all_in(const Field& need, const Field& have);
// Some entry of `a` is an entry of `b`.
bool intersects(const Field& a, const Field& b);

// The value as Json (the attribute must be defined), and entry i of an array or object.
Json to_json(const Field& f);
Json entry_json(const Field& f, size_t i);

// sprintf's rendering of one argument for verb 's', 'v' or 'd': a string as it is, a number as Go's
// fmt prints the int, *big.Int or float64 OPA passes it as (%!s(int=5) for a number under %s), any
// other value in its Rego text form. The attribute must be defined.
std::string sprintf_arg(const Field& f, char verb);
std::string sprintf_arg(const Json& v, char verb);
// Entry i of an array or object as a sprintf argument.
std::string entry_sprintf_arg(const Field& f, size_t i, char verb);

// Rego's text form of a value (OPA's Term.String()): strings Go-quoted, arrays [a, b], objects
// {"k": v} in key order, numbers in canonical JSON form.
std::string text(const Json& v);
// A set of values in Rego's sort order (null < booleans < numbers < strings < arrays < objects),
// duplicates removed: {a, b}, or set() when empty.
std::string set_text(std::vector<Json> items);
// Rego's ordering of two values (<0, 0, >0).
int compare(const Json& a, const Json& b);

}  // namespace dive::policy::rego
