#pragma once
// Process-wide logging on spdlog. Plain text for people, or JSON lines for machines
// (`log.format: "json"` / DIVE_LOG_FORMAT=json). Never log tokens, passwords or key material.
#include <spdlog/spdlog.h>

#include <string>

namespace dive {

struct LogOptions {
  std::string service = "dive";  // shown in every line
  std::string level = "info";    // trace, debug, info, warn, error, critical, off
  bool json = false;
  std::string file;  // empty: stderr
};

void init_logging(const LogOptions& opts);
// Escapes a string for inclusion in a JSON string literal (used by the JSON formatter).
std::string json_escape(std::string_view s);
// Control characters (newline, CR, tab, ESC, ...) as \n, \r, \t, \xNN: what the text formatter writes, so
// that no client-controlled string forges a log line. Other bytes (UTF-8 included) are kept.
std::string text_escape(std::string_view s);

}  // namespace dive
