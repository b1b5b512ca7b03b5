#pragma once
// Error texts from libpq and hiredis made fit for logs and exception messages: one line, and never a
// secret (a password in a malformed connection string can be echoed back by libpq).
#include <string>
#include <string_view>

namespace dive::store {

// Collapses newlines, tabs and runs of spaces into single spaces and trims the ends.
std::string one_line(std::string_view text);

// Replaces every occurrence of `secret` (when non-empty) with "***".
std::string redact(std::string text, std::string_view secret);

}  // namespace dive::store
