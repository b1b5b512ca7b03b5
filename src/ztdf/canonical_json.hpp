#pragma once
// Canonical JSON for hashing and binding: the JSON Canonicalization Scheme of RFC 8785 (JCS).
//  - object members sorted by the UTF-16 code units of their names (RFC 8785 §3.2.3), no whitespace;
//  - strings as UTF-8, escaping only '"', '\\' and U+0000..U+001F (\b \t \n \f \r, else \u00xx lower-case);
//  - numbers as ECMAScript Number.prototype.toString of the IEEE-754 double (1e+21, 0.000001, 5e-324, -0 →
//  0).
// Stricter than JCS where JCS would silently lose information: an integer beyond ±2^53 (not exactly an
// IEEE-754 double), NaN/Infinity, and strings that are not valid UTF-8 throw FormatError.
#include <string>
#include <string_view>

#include "common/json.hpp"

namespace dive::ztdf {

// The canonical text of `value`. Throws FormatError (path = JSON pointer of the offending value).
std::string canonical_json(const Json& value);

// The ECMAScript rendering of a finite double (the number part of JCS). Throws FormatError for NaN/Inf.
std::string canonical_number(double value);

// True when `s` is well-formed UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF).
bool valid_utf8(std::string_view s);

}  // namespace dive::ztdf
