#pragma once
// Rendering of values the way OPA's sprintf does it, so that reason strings match the original byte
// for byte: a string argument prints as is, a non-string as its Rego text form — strings in arrays and
// sets are Go-quoted (strconv.Quote), arrays print as ["a", "b"], sets as {"a", "b"} in sorted order
// (set() when empty), numbers as Go's %v would.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dive::policy::opa {

// Go strconv.Quote: "..." with \" \\ \a \b \f \n \r \t \v, \xNN for other controls and invalid UTF-8
// bytes, \uNNNN / \UNNNNNNNN for non-printable code points; printable Unicode is kept.
void append_quoted(std::string& out, std::string_view s);
std::string quoted(std::string_view s);

// %v of an array of strings: ["USA", "GBR"] ([] when empty).
void append_array(std::string& out, const std::vector<std::string>& items);
std::string array(const std::vector<std::string>& items);

// %v of a set of strings: sorted, duplicates removed, {"A", "B"}; set() when empty.
std::string set(std::vector<std::string> items);

// Go's %v of a float64: strconv.FormatFloat(v, 'g', -1, 64), i.e. the shortest round-trip digits,
// in e-notation when the decimal exponent is < -4 or >= 6 (1e+06, 1.5, 1.234567e+06).
std::string go_float(double v);

}  // namespace dive::policy::opa
