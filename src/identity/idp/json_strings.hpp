#pragma once
// JSONB text columns holding arrays of strings (roles, acpCOI, amr, grant types, redirect URIs).
#include <string>
#include <vector>

namespace dive::identity::idp {

// The string members of a JSON array text; anything else (not JSON, not an array, non-strings) is skipped.
std::vector<std::string> json_strings(const std::string& text);

}  // namespace dive::identity::idp
